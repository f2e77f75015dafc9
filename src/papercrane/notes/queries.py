"""Read paths for notes: what a viewer may see, shaped once for the API and the web."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Now

from papercrane import compiled
from papercrane.accounts.models import Block, Follow, Member
from papercrane.accounts.queries import signed_in
from papercrane.ids import parse_id
from papercrane.media import storage
from papercrane.media.models import Media
from papercrane.notes.models import HIDDEN_STATES, UNDISCOVERABLE_STATES, Note, Visibility


def not_suspended(prefix: str = "author__") -> Q:
    """Members whose account is not suspended now (a suspension that ended counts as none).
    "Now" is the database's, so the SQL stays the same from one call to the next."""
    return Q(**{f"{prefix}suspended_until__isnull": True}) | Q(
        **{f"{prefix}suspended_until__lte": Now()}
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


def discoverable_ids(viewer: Member | None, note_ids: list[int]) -> set[int]:
    """The published notes among ``note_ids`` that ``viewer`` may see and that moderation
    leaves in search and Explore (a ``limited`` note stays visible at its link only).
    Compiled once (``compiled``): pages of search and Explore check every note."""
    return set(discoverable_authors(viewer, note_ids))


def discoverable_authors(viewer: Member | None, note_ids: list[int]) -> dict[int, int]:
    """``discoverable_ids``, each with its author's id."""
    viewer = signed_in(viewer)

    def build(ids: list[int], viewer_id: int | None) -> QuerySet[Any]:
        who = None if viewer_id is None else Member(pk=viewer_id)
        # One pass: each note is looked up by its key with its author (a correlated EXISTS
        # over ``visible_notes`` looked each note up twice: a third more of the database's
        # reads). The list is one parameter, so both databases plan lookups by key even
        # in a plan made once for any list.
        visible = visible_notes(who).filter(pk__in=ids, status=Note.Status.PUBLISHED)
        discoverable = visible.exclude(moderation_state__in=UNDISCOVERABLE_STATES)
        return discoverable.values_list("pk", "author_id")

    subject = viewer.pk if viewer else None
    return dict(compiled.rows("discoverable notes", note_ids, build, subject=subject))


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


def cards_in_order(note_ids: list[int]) -> list[Note]:
    """The notes of a page, in its order, with what a card renders (visibility is the
    caller's to have checked)."""
    notes = for_cards(Note.objects.filter(pk__in=note_ids)).in_bulk()
    return [notes[note_id] for note_id in note_ids if note_id in notes]


CARD_FIELDS = ("id", "title", "language", "like_count", "collect_count", "comment_count")
AUTHOR_FIELDS = ("id", "username", "display_name", "avatar", "avatar_thumbnail")
COVER_FIELDS = (
    "original", "variants", "width", "height", "blurhash", "dominant_color", "placeholder",
    "alt_text",
)  # fmt: skip


def card_parts(note_ids: list[int]) -> list[tuple[Note, Member, Media | None]]:
    """Each note's card as ``for_cards`` gives it (note, author and cover), in no order, read
    with two statements compiled once: the API's cards, which are read by the page. The
    instances hold only these fields (any other is read from the database when touched)."""
    author = [f"author__{name}" for name in AUTHOR_FIELDS]

    def build_notes(ids: list[int], _subject: int | None) -> QuerySet[Any]:
        return Note.objects.filter(pk__in=ids).values_list(*CARD_FIELDS, *author)

    def build_covers(ids: list[int], _subject: int | None) -> QuerySet[Any]:
        media = Media.objects.filter(note_id__in=ids).order_by("note_id", "position", "pk")
        return media.values_list("note_id", *COVER_FIELDS)

    covers: dict[int, Media] = {}
    for note_id, *values in compiled.rows("card covers", note_ids, build_covers):
        if note_id not in covers:  # the first in order is the cover
            covers[note_id] = compiled.instance(Media, COVER_FIELDS, values)
    parts = []
    for row in compiled.rows("cards", note_ids, build_notes):
        note = compiled.instance(Note, CARD_FIELDS, row[: len(CARD_FIELDS)])
        member = compiled.instance(Member, AUTHOR_FIELDS, row[len(CARD_FIELDS) :])
        parts.append((note, member, covers.get(note.pk)))
    return parts


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
    return cover_fields(cover(note))


def cover_fields(media: Media | None) -> dict[str, Any] | None:
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
