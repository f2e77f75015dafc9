"""Read paths for notes: what a viewer may see, shaped once for the API and the web."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from papercrane.accounts.models import Block, Follow, Member
from papercrane.accounts.queries import signed_in
from papercrane.ids import parse_id
from papercrane.media import storage
from papercrane.media.models import Media
from papercrane.notes.models import HIDDEN_STATES, Note, Visibility


def not_suspended(prefix: str = "author__") -> Q:
    """Members whose account is not suspended now (a suspension that ended counts as none)."""
    return Q(**{f"{prefix}suspended_until__isnull": True}) | Q(
        **{f"{prefix}suspended_until__lte": timezone.now()}
    )


def visible_notes(viewer: Member | None) -> QuerySet[Note]:
    """Published notes ``viewer`` may see, plus their own drafts; never across a block.
    A private account's public notes are for its (approved) followers only. Notes held or
    removed by moderation, and those of suspended members, are seen by their author alone
    (who is told why)."""
    viewer = signed_in(viewer)
    published = (
        Q(status=Note.Status.PUBLISHED) & ~Q(moderation_state__in=HIDDEN_STATES) & not_suspended()
    )
    to_everyone = Q(visibility=Visibility.PUBLIC, author__is_private=False)
    if viewer is None:
        return Note.objects.filter(published, to_everyone, author__is_active=True)
    followed = Follow.objects.filter(follower=viewer).values("followee")
    audience = to_everyone | Q(
        visibility__in=[Visibility.PUBLIC, Visibility.FOLLOWERS], author__in=followed
    )
    blocked = Block.objects.filter(blocker=viewer).values("blocked")
    blockers = Block.objects.filter(blocked=viewer).values("blocker")
    return (
        Note.objects.filter(Q(author=viewer) | (published & audience), author__is_active=True)
        .exclude(author__in=blocked)
        .exclude(author__in=blockers)
    )


def with_details(notes: QuerySet[Note]) -> QuerySet[Note]:
    """Everything a note page or card renders, in a fixed number of queries."""
    return notes.select_related("author").prefetch_related(
        Prefetch("media", queryset=Media.objects.order_by("position", "pk")),
        "topics",
        "mentions",
    )


def for_cards(notes: QuerySet[Note]) -> QuerySet[Note]:
    """What a card renders (author, cover), in two queries: no topics or mentions."""
    return notes.select_related("author").prefetch_related(
        Prefetch("media", queryset=Media.objects.order_by("position", "pk"))
    )


def visible_note(viewer: Member | None, note_id: str | int) -> Note | None:
    pk = parse_id(note_id)
    return None if pk is None else with_details(visible_notes(viewer)).filter(pk=pk).first()


def editable_note(editor: Member, note_id: str | int) -> Note | None:
    """The editor's own note (drafts included); None for anyone else's."""
    pk = parse_id(note_id)
    return None if pk is None else with_details(Note.objects.filter(author=editor, pk=pk)).first()


def latest(viewer: Member | None) -> QuerySet[Note]:
    """Newest published notes first (the feed issue replaces this with ranking)."""
    return with_details(visible_notes(viewer).filter(status=Note.Status.PUBLISHED))


def by_author(viewer: Member | None, author: Member) -> QuerySet[Note]:
    return with_details(visible_notes(viewer).filter(author=author, status=Note.Status.PUBLISHED))


def engagement_received(author: Member) -> int:
    """Likes plus collects on the author's published notes (the profile's "liked & collected")."""
    notes = Note.objects.filter(author=author, status=Note.Status.PUBLISHED)
    totals = notes.exclude(moderation_state__in=HIDDEN_STATES).aggregate(
        likes=Sum("like_count"), collects=Sum("collect_count")
    )
    return int(totals["likes"] or 0) + int(totals["collects"] or 0)


def drafts(author: Member) -> QuerySet[Note]:
    return with_details(Note.objects.filter(author=author, status=Note.Status.DRAFT))


def cover(note: Note) -> Media | None:
    """The first image (a generated text cover for text-only notes), from the prefetched list."""
    media = list(note.media.all())
    return media[0] if media else None


CARD_WIDTH = 720


def variant_name(media: Media, width: int) -> str:
    """The narrowest variant at least ``width`` wide (else the widest), or the clean original
    while the variants are still being made."""
    fitting = [v for v in media.variants if v["width"] >= width] or media.variants[-1:]
    return str(fitting[0]["name"]) if fitting else media.original


def cover_of(note: Note) -> dict[str, Any] | None:
    """What a card needs to draw the cover without layout shift: URL, size, placeholder."""
    media = cover(note)
    if media is None:
        return None
    return {
        "url": storage.url(variant_name(media, CARD_WIDTH)),
        "width": media.width,
        "height": media.height,
        "blurhash": media.blurhash or None,
        "dominant_color": media.dominant_color or None,
        "placeholder": media.placeholder or None,
        "alt_text": media.alt_text,
    }


def srcset(media: Media) -> str:
    return ", ".join(f"{storage.url(v['name'])} {v['width']}w" for v in media.variants)


def photos(note: Note) -> list[Media]:
    """The note's images in order; a text-only note shows its generated cover."""
    media = list(note.media.all())
    real = [item for item in media if not item.is_text_cover]
    return real or media
