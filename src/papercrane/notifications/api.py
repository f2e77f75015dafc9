"""Notifications API: the grouped list, the unread count and marking read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from papercrane.accounts.api import AuthorOut
from papercrane.api.auth import AuthedRequest, member_auth
from papercrane.api.pagination import paginate
from papercrane.api.problems import validation_problem
from papercrane.ids import parse_id
from papercrane.notes import queries as note_queries
from papercrane.notes.api import CoverOut
from papercrane.notifications import queries, services

router = Router(tags=["notifications"])


class NoteRef(Schema):
    id: str
    title: str
    cover: CoverOut | None


class CommentRef(Schema):
    id: str
    body: str


class RoomRef(Schema):
    id: str
    title: str
    status: str = Field(description="scheduled, live or ended")


class NotificationOut(Schema):
    id: str
    verb: str
    actors: list[AuthorOut]
    actor_count: int
    note: NoteRef | None
    comment: CommentRef | None
    room: RoomRef | None = Field(None, description="for live_started and cohost_invite: the room")
    created_at: datetime
    read: bool
    decision_id: str | None = Field(
        None, description="for decision, appeal_decided and report_outcome: the decision"
    )

    @staticmethod
    def resolve_id(item: queries.Item) -> str:
        return str(item.id)

    @staticmethod
    def resolve_decision_id(item: queries.Item) -> str | None:
        return str(item.decision_id) if item.decision_id else None

    @staticmethod
    def resolve_room(item: queries.Item) -> dict[str, str] | None:
        if item.room is None:
            return None
        return {"id": str(item.room.pk), "title": item.room.title, "status": item.room.status}

    @staticmethod
    def resolve_note(item: queries.Item) -> dict[str, Any] | None:
        if item.note is None:
            return None
        cover = note_queries.cover_of(item.note)
        return {"id": str(item.note.pk), "title": item.note.title, "cover": cover}


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_cursor: str | None


class UnreadOut(Schema):
    unread: int


class ReadIn(Schema):
    ids: list[str] | None = Field(None, max_length=100)


@router.get("/notifications", response=NotificationPage, auth=member_auth)
def notifications(
    request: AuthedRequest, cursor: str | None = None, limit: int = Query(20, ge=1, le=100)
) -> dict[str, Any]:
    heads, next_cursor = paginate(queries.heads(request.auth), cursor=cursor, limit=limit)
    return {"items": queries.items(request.auth, heads), "next_cursor": next_cursor}


@router.get("/notifications/unread-count", response=UnreadOut, auth=member_auth)
def unread_count(request: AuthedRequest) -> dict[str, int]:
    return {"unread": queries.unread_count(request.auth)}


@router.post("/notifications/read", response=UnreadOut, auth=member_auth)
def mark_read(request: AuthedRequest, payload: ReadIn | None = None) -> dict[str, int]:
    """Mark the listed items read (ids of other members' items are ignored), or all of them."""
    ids = None if payload is None or payload.ids is None else _parse_ids(payload.ids)
    services.mark_read(member=request.auth, ids=ids)
    return {"unread": queries.unread_count(request.auth)}


def _parse_ids(raw: list[str]) -> list[int]:
    parsed = [parse_id(value) for value in raw]
    if any(pk is None for pk in parsed):
        message = _("Use the ids of notifications from the list.")
        raise validation_problem([{"field": "ids", "message": message, "code": "invalid"}])
    return [pk for pk in parsed if pk is not None]
