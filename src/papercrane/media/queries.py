"""Read paths for media."""

from __future__ import annotations

from papercrane.accounts.models import Member
from papercrane.media.models import Media


def own_media(owner: Member, media_id: str | int) -> Media | None:
    """The member's own media by id; None for someone else's, a missing or a malformed id."""
    if not str(media_id).isdigit():
        return None
    return Media.objects.filter(pk=int(media_id), owner=owner).first()
