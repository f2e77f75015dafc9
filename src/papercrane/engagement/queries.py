"""Read paths for engagement: what a viewer may see of comments, boards, likes and collects.

Every list is shaped here once (related rows, viewer flags, inline replies, board covers) so the
API and the web render the same thing in a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import RowNumber

from papercrane.accounts.models import Block, Follow, Member
from papercrane.accounts.queries import signed_in
from papercrane.engagement import services
from papercrane.engagement.models import (
    Board,
    BoardEntry,
    Collect,
    Comment,
    CommentLike,
    CommentMention,
    Like,
)
from papercrane.ids import parse_id
from papercrane.media.models import Media
from papercrane.notes import queries as note_queries
from papercrane.notes.models import HIDDEN_STATES, Note

INLINE_REPLIES = 3


def interactable_note(viewer: Member | None, note_id: str | int) -> Note | None:
    """The note if ``viewer`` may see it (so like, collect, comment on it), else None.

    The same rule as ``notes.queries.visible_note`` (blocks, audience, drafts, inactive
    authors) without loading the media and topics a like or a comment does not need."""
    pk = parse_id(note_id)
    return None if pk is None else note_queries.visible_notes(viewer).filter(pk=pk).first()


def viewer_flags(viewer: Member | None, note_id: int) -> dict[str, bool]:
    """Whether ``viewer`` liked and collected the note, in one query."""
    viewer = signed_in(viewer)
    if viewer is None:
        return {"liked": False, "collected": False}
    flags = (
        Member.objects.filter(pk=viewer.pk)
        .annotate(
            liked=Exists(Like.objects.filter(member=viewer, note_id=note_id)),
            collected=Exists(Collect.objects.filter(member=viewer, note_id=note_id)),
        )
        .values("liked", "collected")
        .first()
    )
    return {
        "liked": bool(flags and flags["liked"]),
        "collected": bool(flags and flags["collected"]),
    }


# --- Comments -------------------------------------------------------------------------------------


# What a comment shows of its author and of the member it answers. Loading only these columns
# makes a page of comments noticeably cheaper to build; reading another member field on a
# listed comment would cost a query per comment.
MEMBER_CARD_FIELDS = ("id", "username", "display_name", "avatar", "avatar_thumbnail")
_COMMENT_COLUMNS = [
    *(field.name for field in Comment._meta.concrete_fields),
    *(f"author__{name}" for name in MEMBER_CARD_FIELDS),
    *(f"reply_to__{name}" for name in MEMBER_CARD_FIELDS),
]


def _shown_to(viewer: Member | None) -> Q:
    """Comments held or removed by moderation, or by a suspended member, are shown to their
    author alone (who is told why)."""
    shown = ~Q(moderation_state__in=HIDDEN_STATES) & note_queries.not_suspended()
    return shown if viewer is None else shown | Q(author=viewer)


def _comments(viewer: Member | None) -> QuerySet[Comment]:
    """Comments by active members, never across a block, with what a comment renders."""
    viewer = signed_in(viewer)
    comments = (
        Comment.objects.filter(author__is_active=True)
        .filter(_shown_to(viewer))
        .select_related("author", "reply_to")
        .only(*_COMMENT_COLUMNS)
        .annotate(note_author_id=F("note__author_id"))
    )
    if viewer is None:
        return comments.annotate(viewer_liked=Value(False, output_field=BooleanField()))
    blocked = Block.objects.filter(blocker=viewer).values("blocked")
    blockers = Block.objects.filter(blocked=viewer).values("blocker")
    return (
        comments.exclude(author__in=blocked)
        .exclude(author__in=blockers)
        .annotate(
            viewer_liked=Exists(CommentLike.objects.filter(comment=OuterRef("pk"), member=viewer))
        )
    )


def visible_comment(viewer: Member | None, comment_id: str | int) -> Comment | None:
    """The comment if ``viewer`` may see it: its note is visible and no block stands between."""
    pk = parse_id(comment_id)
    if pk is None:
        return None
    notes = note_queries.visible_notes(viewer).values("pk")
    return _comments(viewer).filter(pk=pk, note__in=notes).first()


THREAD_ORDERINGS: dict[str, tuple[str, ...]] = {
    # pinned first, then likes (+ a bonus where the note's author replied), then newest
    "relevance": ("-is_pinned", "-score", "-pk"),
    "time": ("-pk",),
}


def threads(viewer: Member | None, note: Note) -> QuerySet[Comment]:
    """The note's top-level comments; order with ``THREAD_ORDERINGS``."""
    return _comments(viewer).filter(note=note, parent__isnull=True)


def replies(viewer: Member | None, thread: Comment) -> QuerySet[Comment]:
    """Replies in a thread, oldest first (a conversation reads top to bottom)."""
    return _comments(viewer).filter(parent_id=thread.parent_id or thread.pk)


def with_inline_replies(viewer: Member | None, comments: list[Comment]) -> list[Comment]:
    """Attach the first ``INLINE_REPLIES`` replies of each thread, in one query."""
    thread_ids = [comment.pk for comment in comments if comment.parent_id is None]
    by_thread: dict[int, list[Comment]] = {pk: [] for pk in thread_ids}
    if thread_ids:
        ranked = (
            _comments(viewer)
            .filter(parent_id__in=thread_ids)
            .annotate(rank=Window(RowNumber(), partition_by=F("parent_id"), order_by=F("pk").asc()))
            .filter(rank__lte=INLINE_REPLIES)
            .order_by("pk")
        )
        for reply in ranked:
            by_thread[reply.parent_id].append(reply)  # type: ignore[index]
    for comment in comments:
        comment.inline_replies = by_thread.get(comment.pk, [])  # type: ignore[attr-defined]
    return comments


def viewer_state(viewer: Member | None, comment: Comment) -> dict[str, bool]:
    """What the viewer did and may do with a comment (for its ``viewer`` field)."""
    viewer = signed_in(viewer)
    return {
        "liked": bool(getattr(comment, "viewer_liked", False)),
        "can_edit": services.can_edit(viewer, comment),
        "can_delete": services.can_delete(viewer, comment),
    }


def shape_new(viewer: Member, comment: Comment, note: Note) -> Comment:
    """A comment ``viewer`` just posted, shaped like a listed one without reading it back:
    nobody can have liked or answered it yet."""
    comment.note_author_id = note.author_id  # type: ignore[attr-defined]
    comment.viewer_liked = False  # type: ignore[attr-defined]
    comment.inline_replies = []  # type: ignore[attr-defined]
    decorate(viewer, [comment])
    return comment


def _flatten(comments: Iterable[Comment]) -> list[Comment]:
    flat: list[Comment] = []
    for comment in comments:
        flat += [comment, *getattr(comment, "inline_replies", [])]
    return flat


def decorate(viewer: Member | None, comments: Iterable[Comment]) -> None:
    """Set ``viewer_state`` and ``mention_names`` on comments and their inline replies, for
    the serialiser: one query for the mentions of the whole page."""
    flat = _flatten(comments)
    mentions: dict[int, list[str]] = {comment.pk: [] for comment in flat}
    rows = CommentMention.objects.filter(comment_id__in=list(mentions)).order_by("pk")
    for comment_id, username in rows.values_list("comment_id", "member__username"):
        mentions[comment_id].append(username)
    for comment in flat:
        comment.viewer_state = viewer_state(viewer, comment)  # type: ignore[attr-defined]
        comment.mention_names = mentions[comment.pk]  # type: ignore[attr-defined]


# --- Boards ---------------------------------------------------------------------------------------


def _with_notes(entries: QuerySet[Any], path: str) -> QuerySet[Any]:
    """Rows pointing at notes (``path``), with what a card renders in a fixed number of queries."""
    return entries.select_related(f"{path}__author").prefetch_related(
        Prefetch(f"{path}__media", queryset=Media.objects.order_by("position", "pk"))
    )


def _boards(viewer: Member | None) -> QuerySet[Board]:
    """Boards with their note count and the id of their newest note ``viewer`` may see."""
    visible = note_queries.visible_notes(viewer).values("pk")
    newest = (
        BoardEntry.objects.filter(board=OuterRef("pk"), collect__note__in=visible)
        .order_by("-pk")
        .values("collect__note_id")[:1]
    )
    return (
        Board.objects.select_related("owner")
        .filter(owner__is_active=True)
        .annotate(note_count=Count("entries"), cover_note_id=Subquery(newest))
    )


def own_board(owner: Member, board_id: str | int | None) -> Board | None:
    pk = parse_id(board_id)
    return None if pk is None else Board.objects.filter(owner=owner, pk=pk).first()


def _shown_by(viewer: Member | None, member: str) -> Q:
    """Rows whose ``member`` shows them to ``viewer``: their own, else those of active members
    with no block either way; a private account's only to its followers."""
    viewer = signed_in(viewer)
    if viewer is None:
        return Q(**{f"{member}__is_active": True, f"{member}__is_private": False})
    followed = Follow.objects.filter(follower=viewer).values("followee")
    blocked = Block.objects.filter(blocker=viewer).values("blocked")
    blockers = Block.objects.filter(blocked=viewer).values("blocker")
    others = (
        Q(**{f"{member}__is_active": True})
        & (Q(**{f"{member}__is_private": False}) | Q(**{f"{member}__in": followed}))
        & ~Q(**{f"{member}__in": blocked})
        & ~Q(**{f"{member}__in": blockers})
    )
    return Q(**{member: viewer}) | others


def _shown_boards(viewer: Member | None) -> QuerySet[Board]:
    """Boards the viewer may open: their own, and other members' public boards."""
    viewer = signed_in(viewer)
    mine = Q(owner=viewer) if viewer is not None else Q(pk__in=[])
    return _boards(viewer).filter(mine | (Q(private=False) & _shown_by(viewer, "owner")))


def visible_board(viewer: Member | None, board_id: str | int) -> Board | None:
    pk = parse_id(board_id)
    return None if pk is None else _shown_boards(viewer).filter(pk=pk).first()


def boards_of(viewer: Member | None, owner: Member) -> QuerySet[Board]:
    """The owner's boards as ``viewer`` may list them: all for the owner, else public ones."""
    return _shown_boards(viewer).filter(owner=owner)


def with_covers(boards: list[Board]) -> list[Board]:
    """Attach each board's cover note (its newest visible note), in one query for the page."""
    ids = {board.cover_note_id for board in boards if board.cover_note_id}  # type: ignore[attr-defined]
    media = Prefetch("media", queryset=Media.objects.order_by("position", "pk"))
    notes = {note.pk: note for note in Note.objects.filter(pk__in=ids).prefetch_related(media)}
    for board in boards:
        board.cover_note = notes.get(board.cover_note_id)  # type: ignore[attr-defined]
    return boards


def board_entries(viewer: Member | None, board: Board) -> QuerySet[BoardEntry]:
    """The board's notes the viewer may see, newest entry first (order by ``-pk``)."""
    visible = note_queries.visible_notes(viewer).values("pk")
    return _with_notes(
        BoardEntry.objects.filter(board=board, collect__note__in=visible), "collect__note"
    )


def liked(viewer: Member | None, member: Member) -> QuerySet[Like]:
    """Notes ``member`` liked that the viewer may see, most recent like first (``-pk``)."""
    visible = note_queries.visible_notes(viewer).values("pk")
    likes = Like.objects.filter(_shown_by(viewer, "member"), member=member, note__in=visible)
    return _with_notes(likes, "note")


def likes_public(member: Member) -> bool:
    """Whether the member shows their likes (a setting the accounts app may add)."""
    return bool(getattr(member, "likes_public", True))


def viewer_flags_for(viewer: Member | None, note_ids: list[int]) -> dict[int, dict[str, bool]]:
    """``viewer_flags`` for a whole grid of cards, in two queries."""
    viewer = signed_in(viewer)
    if viewer is None or not note_ids:
        return {}
    liked = set(
        Like.objects.filter(member=viewer, note_id__in=note_ids).values_list("note_id", flat=True)
    )
    collected = set(
        Collect.objects.filter(member=viewer, note_id__in=note_ids).values_list(
            "note_id", flat=True
        )
    )
    return {pk: {"liked": pk in liked, "collected": pk in collected} for pk in note_ids}
