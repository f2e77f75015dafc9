"""Read paths for media."""

from __future__ import annotations

from papercrane.accounts.models import Member
from papercrane.ids import parse_id
from papercrane.media.models import Media


def own_media(owner: Member, media_id: str | int) -> Media | None:
    """The member's own media by id; None for someone else's, a missing or a malformed id."""
    pk = parse_id(media_id)
    return None if pk is None else Media.objects.filter(pk=pk, owner=owner).first()
