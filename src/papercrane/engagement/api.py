"""Engagement API: like and collect notes, boards, comments with replies, likes and pins."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from papercrane.accounts import queries as account_queries
from papercrane.accounts.api import AuthorOut
from papercrane.accounts.models import Member
from papercrane.api.auth import AuthedRequest, member_auth, viewer_of
from papercrane.api.pagination import paginate
from papercrane.api.problems import Problem, not_found
from papercrane.engagement import queries, services
from papercrane.engagement.models import Board, Comment
from papercrane.notes.api import CardPage, CoverOut
from papercrane.notes.models import Note
from papercrane.notes.queries import cover_of

router = Router(tags=["engagement"])

Limit = Query(20, ge=1, le=100)


# --- Schemas --------------------------------------------------------------------------------------


class LikeOut(Schema):
    liked: bool
    count: int


class CollectOut(Schema):
    collected: bool
    count: int


class CollectIn(Schema):
    board_id: str | None = Field(None, max_length=30, description="default board when absent")


class CommentIn(Schema):
    body: str = Field(..., max_length=5000, description="1 to 500 characters, plain text")
    parent_id: str | None = Field(None, max_length=30, description="the comment answered")


class CommentPatch(Schema):
    body: str = Field(..., max_length=5000)


class ReplyToOut(Schema):
    username: str
    display_name: str

    @staticmethod
    def resolve_display_name(member: Member) -> str:
        return member.name


class CommentCounts(Schema):
    likes: int
    replies: int


class CommentViewer(Schema):
    liked: bool = False
    can_edit: bool = False
    can_delete: bool = False


class ReplyOut(Schema):
    id: str
    body: str
    language: str = Field(description='detected: "en", "zh-Hans", …; "" when it has none')
    author: AuthorOut
    created_at: datetime
    edited_at: datetime | None
    parent_id: str | None
    reply_to: ReplyToOut | None
    mentions: list[str]
    counts: CommentCounts
    pinned: bool
    viewer: CommentViewer

    @staticmethod
    def resolve_id(comment: Comment) -> str:
        return str(comment.pk)

    @staticmethod
    def resolve_parent_id(comment: Comment) -> str | None:
        return str(comment.parent_id) if comment.parent_id else None

    @staticmethod
    def resolve_mentions(comment: Comment) -> list[str]:
        names = getattr(comment, "mention_names", None)  # set by queries.decorate
        return names if names is not None else [m.username for m in comment.mentions.all()]

    @staticmethod
    def resolve_counts(comment: Comment) -> dict[str, int]:
        return {"likes": comment.like_count, "replies": comment.reply_count}

    @staticmethod
    def resolve_pinned(comment: Comment) -> bool:
        return comment.is_pinned

    @staticmethod
    def resolve_viewer(comment: Comment) -> dict[str, bool]:
        return getattr(comment, "viewer_state", {})


class CommentOut(ReplyOut):
    replies: list[ReplyOut] = Field(description="the thread's first 3 replies (none for replies)")

    @staticmethod
    def resolve_replies(comment: Comment) -> list[Comment]:
        return getattr(comment, "inline_replies", [])


class CommentPage(Schema):
    items: list[CommentOut]
    next_cursor: str | None


class ReplyPage(Schema):
    items: list[ReplyOut]
    next_cursor: str | None


class BoardCounts(Schema):
    notes: int


class BoardOut(Schema):
    id: str
    name: str
    description: str
    private: bool
    is_default: bool
    cover: CoverOut | None
    owner: AuthorOut
    counts: BoardCounts
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_id(board: Board) -> str:
        return str(board.pk)

    @staticmethod
    def resolve_name(board: Board) -> str:
        return board.name or _("Default board")

    @staticmethod
    def resolve_cover(board: Board) -> dict[str, Any] | None:
        note = getattr(board, "cover_note", None)
        return cover_of(note) if note is not None else None

    @staticmethod
    def resolve_counts(board: Board) -> dict[str, int]:
        return {"notes": getattr(board, "note_count", 0)}


class BoardPage(Schema):
    items: list[BoardOut]
    next_cursor: str | None


class BoardIn(Schema):
    name: str = Field(..., max_length=200)
    description: str = Field("", max_length=1000)
    private: bool = False


class BoardPatch(Schema):
    name: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=1000)
    private: bool | None = None


# --- Lookups --------------------------------------------------------------------------------------


def _note(viewer: Member | None, note_id: str) -> Note:
    note = queries.interactable_note(viewer, note_id)
    if note is None:
        raise not_found()
    return note


def _comment(viewer: Member | None, comment_id: str | int) -> Comment:
    comment = queries.visible_comment(viewer, comment_id)
    if comment is None:
        raise not_found()
    return comment


def _shaped(viewer: Member | None, comment_id: int) -> Comment:
    """The comment re-read as a viewer sees it, with inline replies and viewer flags."""
    comment = _comment(viewer, comment_id)
    queries.with_inline_replies(viewer, [comment])
    queries.decorate(viewer, [comment])
    return comment


def _own_board_field(member: Member, board_id: str | None) -> Board | None:
    """The member's board named in a body or query field; 422 for anyone else's or unknown."""
    if board_id is None:
        return None
    board = queries.own_board(member, board_id)
    if board is None:
        raise ValidationError({"board_id": [ValidationError(_("Unknown board."), code="unknown")]})
    return board


def _board(viewer: Member | None, board_id: str) -> Board:
    board = queries.visible_board(viewer, board_id)
    if board is None:
        raise not_found()
    return queries.with_covers([board])[0]


def _my_board(member: Member, board_id: str) -> Board:
    board = queries.own_board(member, board_id)
    if board is None:
        raise not_found()
    return board


def _board_page(boards: QuerySet[Board], cursor: str | None, limit: int) -> dict[str, Any]:
    rows, next_cursor = paginate(
        boards, cursor=cursor, limit=limit, ordering=("-is_default", "-pk")
    )
    return {"items": queries.with_covers(rows), "next_cursor": next_cursor}


def _notes_page(rows: list[Any], path: str, next_cursor: str | None) -> dict[str, Any]:
    """Cards from rows that point at notes (likes, board entries)."""
    items = []
    for row in rows:
        for name in path.split("__"):
            row = getattr(row, name)
        items.append(row)
    return {"items": items, "next_cursor": next_cursor}


# --- Likes and collects of notes ------------------------------------------------------------------


@router.post("/notes/{note_id}/like", response=LikeOut, auth=member_auth)
def like_note(request: AuthedRequest, note_id: str) -> dict[str, Any]:
    result = services.like_note(member=request.auth, note=_note(request.auth, note_id))
    return {"liked": result.active, "count": result.count}


@router.delete("/notes/{note_id}/like", response=LikeOut, auth=member_auth)
def unlike_note(request: AuthedRequest, note_id: str) -> dict[str, Any]:
    result = services.unlike_note(member=request.auth, note=_note(request.auth, note_id))
    return {"liked": result.active, "count": result.count}


@router.post("/notes/{note_id}/collect", response=CollectOut, auth=member_auth)
def collect_note(
    request: AuthedRequest, note_id: str, payload: CollectIn | None = None
) -> dict[str, Any]:
    note = _note(request.auth, note_id)
    board = _own_board_field(request.auth, payload.board_id if payload else None)
    result = services.collect_note(member=request.auth, note=note, board=board)
    return {"collected": result.active, "count": result.count}


@router.delete("/notes/{note_id}/collect", response=CollectOut, auth=member_auth)
def uncollect_note(
    request: AuthedRequest,
    note_id: str,
    payload: CollectIn | None = None,
    board_id: str | None = Query(None, max_length=30),
) -> dict[str, Any]:
    """Without ``board_id`` (in the body or the query) the note leaves every board."""
    note = _note(request.auth, note_id)
    board = _own_board_field(request.auth, (payload.board_id if payload else None) or board_id)
    result = services.uncollect_note(member=request.auth, note=note, board=board)
    return {"collected": result.active, "count": result.count}


# --- Comments -------------------------------------------------------------------------------------


@router.get("/notes/{note_id}/comments", response=CommentPage, auth=None)
def list_comments(
    request: HttpRequest,
    note_id: str,
    sort: Literal["relevance", "time"] = "relevance",
    cursor: str | None = None,
    limit: int = Limit,
) -> dict[str, Any]:
    """Top-level comments, each with its first replies. ``relevance``: pinned, then likes (and
    threads the note's author answered), then newest; ``time``: newest first."""
    viewer = viewer_of(request)
    note = _note(viewer, note_id)
    rows, next_cursor = paginate(
        queries.threads(viewer, note),
        cursor=cursor,
        limit=limit,
        ordering=queries.THREAD_ORDERINGS[sort],
    )
    queries.with_inline_replies(viewer, rows)
    queries.decorate(viewer, rows)
    return {"items": rows, "next_cursor": next_cursor}


@router.post("/notes/{note_id}/comments", response={201: CommentOut}, auth=member_auth)
def add_comment(request: AuthedRequest, note_id: str, payload: CommentIn) -> Status[Comment]:
    note = _note(request.auth, note_id)
    parent = None
    if payload.parent_id is not None:
        parent = queries.visible_comment(request.auth, payload.parent_id)
        if parent is None:
            message = _("Unknown comment.")
            raise ValidationError({"parent_id": [ValidationError(message, code="unknown")]})
    comment = services.add_comment(author=request.auth, note=note, body=payload.body, parent=parent)
    return Status(201, queries.shape_new(request.auth, comment, note))


@router.get("/comments/{comment_id}/replies", response=ReplyPage, auth=None)
def list_replies(
    request: HttpRequest, comment_id: str, cursor: str | None = None, limit: int = Limit
) -> dict[str, Any]:
    viewer = viewer_of(request)
    thread = _comment(viewer, comment_id)
    rows, next_cursor = paginate(
        queries.replies(viewer, thread), cursor=cursor, limit=limit, ordering=("pk",)
    )
    queries.decorate(viewer, rows)
    return {"items": rows, "next_cursor": next_cursor}


@router.get("/comments/{comment_id}", response=CommentOut, auth=None)
def comment_detail(request: HttpRequest, comment_id: str) -> Comment:
    viewer = viewer_of(request)
    return _shaped(viewer, _comment(viewer, comment_id).pk)


@router.patch("/comments/{comment_id}", response=CommentOut, auth=member_auth)
def edit_comment(request: AuthedRequest, comment_id: str, payload: CommentPatch) -> Comment:
    comment = _comment(request.auth, comment_id)
    if comment.author_id != request.auth.pk:
        raise not_found()
    try:
        services.edit_comment(comment=comment, body=payload.body)
    except services.EditWindowClosed as error:
        raise Problem(
            409,
            "edit-window-closed",
            _("This comment can no longer be edited"),
            _("Comments can be edited for 15 minutes after posting."),
        ) from error
    return _shaped(request.auth, comment.pk)


@router.delete("/comments/{comment_id}", response={204: None}, auth=member_auth)
def delete_comment(request: AuthedRequest, comment_id: str) -> Status[None]:
    comment = _comment(request.auth, comment_id)
    if not services.can_delete(request.auth, comment):
        raise not_found()
    services.delete_comment(comment=comment)
    return Status(204, None)


@router.post("/comments/{comment_id}/pin", response=CommentOut, auth=member_auth)
def pin_comment(request: AuthedRequest, comment_id: str) -> Comment:
    """The note's author pins one comment at a time; pinning another unpins the first."""
    comment = _comment(request.auth, comment_id)
    if not services.can_pin(request.auth, comment):
        raise not_found()
    services.pin_comment(comment=comment)
    return _shaped(request.auth, comment.pk)


@router.delete("/comments/{comment_id}/pin", response=CommentOut, auth=member_auth)
def unpin_comment(request: AuthedRequest, comment_id: str) -> Comment:
    comment = _comment(request.auth, comment_id)
    if not services.can_pin(request.auth, comment):
        raise not_found()
    services.unpin_comment(comment=comment)
    return _shaped(request.auth, comment.pk)


@router.post("/comments/{comment_id}/like", response=LikeOut, auth=member_auth)
def like_comment(request: AuthedRequest, comment_id: str) -> dict[str, Any]:
    comment = _comment(request.auth, comment_id)
    result = services.like_comment(member=request.auth, comment=comment)
    return {"liked": result.active, "count": result.count}


@router.delete("/comments/{comment_id}/like", response=LikeOut, auth=member_auth)
def unlike_comment(request: AuthedRequest, comment_id: str) -> dict[str, Any]:
    comment = _comment(request.auth, comment_id)
    result = services.unlike_comment(member=request.auth, comment=comment)
    return {"liked": result.active, "count": result.count}


# --- Boards ---------------------------------------------------------------------------------------


@router.get("/boards", response=BoardPage, auth=member_auth)
def my_boards(
    request: AuthedRequest, cursor: str | None = None, limit: int = Limit
) -> dict[str, Any]:
    """The member's boards, default first; the default board is made here if it is missing."""
    if not cursor:
        services.default_board(request.auth)
    return _board_page(queries.boards_of(request.auth, request.auth), cursor, limit)


@router.post("/boards", response={201: BoardOut}, auth=member_auth)
def create_board(request: AuthedRequest, payload: BoardIn) -> Status[Board]:
    board = services.create_board(owner=request.auth, **payload.dict())
    return Status(201, _board(request.auth, str(board.pk)))


@router.get("/boards/{board_id}", response=BoardOut, auth=None)
def board_detail(request: HttpRequest, board_id: str) -> Board:
    return _board(viewer_of(request), board_id)


@router.patch("/boards/{board_id}", response=BoardOut, auth=member_auth)
def edit_board(request: AuthedRequest, board_id: str, payload: BoardPatch) -> Board:
    board = _my_board(request.auth, board_id)
    services.update_board(board=board, **payload.dict(exclude_unset=True, exclude_none=True))
    return _board(request.auth, board_id)


@router.delete("/boards/{board_id}", response={204: None}, auth=member_auth)
def delete_board(request: AuthedRequest, board_id: str) -> Status[None]:
    board = _my_board(request.auth, board_id)
    try:
        services.delete_board(board=board)
    except services.DefaultBoardUndeletable as error:
        raise Problem(
            409,
            "default-board",
            _("The default board cannot be deleted"),
            _("You can rename it, empty it or make it private."),
        ) from error
    return Status(204, None)


@router.get("/boards/{board_id}/notes", response=CardPage, auth=None)
def board_notes(
    request: HttpRequest, board_id: str, cursor: str | None = None, limit: int = Limit
) -> dict[str, Any]:
    viewer = viewer_of(request)
    board = _board(viewer, board_id)
    rows, next_cursor = paginate(queries.board_entries(viewer, board), cursor=cursor, limit=limit)
    return _notes_page(rows, "collect__note", next_cursor)


def _member(viewer: Member | None, username: str) -> Member:
    member = account_queries.visible_member(viewer, username)
    if member is None:
        raise not_found()
    return member


@router.get("/accounts/{username}/boards", response=BoardPage, auth=None)
def member_boards(
    request: HttpRequest, username: str, cursor: str | None = None, limit: int = Limit
) -> dict[str, Any]:
    """A member's public boards; all of them when it is the viewer's own list."""
    viewer = viewer_of(request)
    owner = _member(viewer, username)
    return _board_page(queries.boards_of(viewer, owner), cursor, limit)


@router.get("/accounts/{username}/liked", response=CardPage, auth=None)
def member_likes(
    request: HttpRequest, username: str, cursor: str | None = None, limit: int = Limit
) -> dict[str, Any]:
    """Notes the member liked, most recent first, if they show their likes."""
    viewer = viewer_of(request)
    member = _member(viewer, username)
    if not queries.likes_public(member) and (viewer is None or viewer.pk != member.pk):
        raise Problem(
            403,
            "likes-private",
            _("This member keeps their likes private"),
        )
    rows, next_cursor = paginate(queries.liked(viewer, member), cursor=cursor, limit=limit)
    return _notes_page(rows, "note", next_cursor)
