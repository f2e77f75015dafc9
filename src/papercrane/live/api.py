"""Live rooms API: open, run and end a room, its co-hosts, its chat transcript and who may
not take part. The chat itself travels over the room's WebSocket (``/ws/live/{id}/``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, ParamSpec, TypeVar

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import AuthenticationError

from papercrane.accounts import queries as account_queries
from papercrane.accounts.models import Member
from papercrane.api.auth import AuthedRequest, member_auth, viewer_of
from papercrane.api.pagination import paginate
from papercrane.api.problems import Problem, not_found
from papercrane.ids import parse_id
from papercrane.language import queries as language_queries
from papercrane.live import queries, realtime, services
from papercrane.live.models import CoHost, Message, Restriction, Room

router = Router(tags=["live"])

Limit = Query(20, ge=1, le=100)
ROOMS = "/live/rooms"
ROOM = "/live/rooms/{room_id}"

P = ParamSpec("P")
R = TypeVar("R")

# How a refusal (services.LiveRefused) answers: its HTTP status by code.
REFUSAL_STATUS = {
    "not_host": 403,
    "banned": 403,
    "muted": 403,
    "suspended": 403,
    "not_scheduled": 409,
    "room_ended": 409,
    "not_live": 409,
    "not_invited": 409,
    "rate_limited": 429,
    "slow_mode": 429,
    "invalid": 422,
    "empty": 422,
    "too_long": 422,
}


def refusal_problem(refused: services.LiveRefused) -> Problem:
    """A refusal as problem+json: ``urn:papercrane:problem:live-<code>``, the reason as detail."""
    status = REFUSAL_STATUS.get(refused.code, 409)
    titles = {
        403: _("Not allowed in this room"),
        409: _("Not possible in this room now"),
        422: _("Some fields need attention"),
        429: _("Too many requests"),
    }
    headers = {}
    if status == 429 and refused.retry_after is not None:
        headers["Retry-After"] = str(refused.retry_after)
    kind = "live-" + refused.code.replace("_", "-")
    return Problem(status, kind, titles[status], refused.message, headers=headers)


def answers_refusals(view: Callable[P, R]) -> Callable[P, R]:
    """Turn the services' refusals into problem answers."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return view(*args, **kwargs)
        except services.LiveRefused as refused:
            raise refusal_problem(refused) from refused

    return wrapper


# --- Schemas ------------------------------------------------------------------------------------


class PersonOut(Schema):
    username: str
    name: str
    role: str = Field(description="host, cohost or viewer")


class TranslationOut(Schema):
    language: str
    text: str


class MessageOut(Schema):
    id: str
    author: PersonOut
    text: str
    language: str
    translation: TranslationOut | None = Field(
        description="the message in your reading language, when it was translated as it was sent"
    )
    created_at: datetime


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: str | None


class RoomOut(Schema):
    id: str
    title: str
    topic: str
    language: str
    stream_url: str
    status: str = Field(description="scheduled, live or ended")
    host: PersonOut
    cohosts: list[PersonOut]
    invited: list[str] = Field(description="usernames invited to co-host who have not answered")
    slow_mode_seconds: int
    pinned: MessageOut | None
    viewers: int
    peak_viewers: int
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None


class RoomPage(Schema):
    items: list[RoomOut]
    next_cursor: str | None


class RoomIn(Schema):
    title: str = Field(..., max_length=1000, description="1 to 80 characters")
    topic: str | None = Field(None, max_length=200, description="a #topic, without the #")
    language: str | None = Field(None, max_length=16, description="detected when absent")
    stream_url: str | None = Field(
        None, max_length=2000, description="the https address of an HLS stream (.m3u8)"
    )


class RoomPatch(Schema):
    title: str | None = Field(None, max_length=1000)
    stream_url: str | None = Field(None, max_length=2000, description='"" removes it')
    slow_mode_seconds: int | None = Field(None, description="0, 3, 10, 30, 60 or 300")
    pinned_message_id: str | None = Field(
        None, max_length=30, description="a message of the room; null unpins"
    )


class CohostIn(Schema):
    username: str = Field(..., max_length=150)


class CohostOut(Schema):
    username: str
    status: str = Field(description="invited, accepted or declined")


class RestrictionIn(Schema):
    username: str = Field(..., max_length=150)
    kind: Literal["mute", "ban"]
    minutes: int | None = Field(None, description="1 to 10080; absent: until the room ends")


class RestrictionOut(Schema):
    username: str
    name: str
    kind: str
    until: datetime | None
    created_at: datetime


# --- Lookups and shapes -------------------------------------------------------------------------


def _room(viewer: Member | None, room_id: str) -> Room:
    room = queries.room(viewer, room_id)
    if room is None:
        raise not_found()
    return room


def _state(room: Room) -> dict[str, Any]:
    """The room as it is now, co-hosts and pin included."""
    fresh = queries.room_with_hosts(room.pk)
    return queries.room_state(fresh if fresh is not None else room)


def _field_error(field: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({field: [ValidationError(message, code=code)]})


def _member_field(viewer: Member, username: str) -> Member:
    """The member named in a body field; a 422 on ``username`` for anyone unknown."""
    member = account_queries.visible_member(viewer, username)
    if member is None:
        raise _field_error("username", _("There is no member with this username."), "unknown")
    return member


def _member_path(viewer: Member, username: str) -> Member:
    member = account_queries.visible_member(viewer, username)
    if member is None:
        raise not_found()
    return member


def _cohost(cohost: CoHost, member: Member) -> dict[str, str]:
    return {"username": member.username, "status": cohost.status}


def _restriction(row: Restriction) -> dict[str, Any]:
    return {
        "username": row.member.username,
        "name": row.member.name,
        "kind": row.kind,
        "until": row.until,
        "created_at": row.created_at,
    }


# --- Rooms --------------------------------------------------------------------------------------


@router.post(ROOMS, response={201: RoomOut}, auth=member_auth, summary="Open a live room")
def create_room(request: AuthedRequest, payload: RoomIn) -> Status[dict[str, Any]]:
    """The room starts as ``scheduled``: invite co-hosts, then start it."""
    room = services.create_room(
        host=request.auth,
        title=payload.title,
        topic=payload.topic or "",
        language=payload.language or "",
        stream_url=payload.stream_url or "",
    )
    return Status(201, _state(room))


@router.get(ROOMS, response=RoomPage, auth=None, summary="Rooms live now, or your own")
def list_rooms(
    request: HttpRequest,
    status: Literal["live", "mine"] = "live",
    cursor: str | None = None,
    limit: int = Limit,
) -> dict[str, Any]:
    """``live``: rooms live now, the latest started first. ``mine``: the rooms you host or
    co-host, the newest first (sign in first)."""
    viewer = viewer_of(request)
    if status == "mine":
        if viewer is None:
            raise AuthenticationError()
        rows, next_cursor = paginate(
            queries.rooms_of(viewer), cursor=cursor, limit=limit, ordering=("-created_at", "-pk")
        )
    else:
        rows, next_cursor = paginate(
            queries.live_rooms(viewer),
            cursor=cursor,
            limit=limit,
            ordering=("-started_at", "-pk"),
        )
    banned = queries.banned_room_ids(viewer, [room.pk for room in rows])
    states = queries.room_states(rows)
    items = [_seen_by(state, room.pk in banned) for state, room in zip(states, rows, strict=True)]
    return {"items": items, "next_cursor": next_cursor}


def _seen_by(state: dict[str, Any], banned: bool) -> dict[str, Any]:
    """A room's state as a viewer banned from it sees it: not a word of its chat."""
    return {**state, "pinned": None} if banned else state


@router.get(ROOM, response=RoomOut, auth=None, summary="A room")
def room_detail(request: HttpRequest, room_id: str) -> dict[str, Any]:
    viewer = viewer_of(request)
    room = _room(viewer, room_id)
    return _seen_by(queries.room_state(room), queries.is_banned(room, viewer))


@router.patch(ROOM, response=RoomOut, auth=member_auth, summary="Change a room (its hosts)")
@answers_refusals
def edit_room(request: AuthedRequest, room_id: str, payload: RoomPatch) -> dict[str, Any]:
    room = _room(request.auth, room_id)
    changes = payload.model_fields_set
    pinned_message_id = None
    unpin = "pinned_message_id" in changes and payload.pinned_message_id is None
    if payload.pinned_message_id is not None:
        pinned_message_id = parse_id(payload.pinned_message_id)
        if pinned_message_id is None:
            raise _field_error("pinned_message_id", _("Pin a message of this room."))
    services.update_room(
        room=room,
        by=request.auth,
        title=payload.title,
        stream_url=payload.stream_url,
        slow_mode_seconds=payload.slow_mode_seconds,
        pinned_message_id=pinned_message_id,
        unpin=unpin,
    )
    return _state(room)


@router.post(f"{ROOM}/start", response=RoomOut, auth=member_auth, summary="Go live")
@answers_refusals
def start_room(request: AuthedRequest, room_id: str) -> dict[str, Any]:
    """The host's followers are told the room is live."""
    room = services.start_room(room=_room(request.auth, room_id), by=request.auth)
    return _state(room)


@router.post(f"{ROOM}/end", response=RoomOut, auth=member_auth, summary="End the room")
@answers_refusals
def end_room(request: AuthedRequest, room_id: str) -> dict[str, Any]:
    """Open connections close; the transcript stays readable."""
    room = services.end_room(room=_room(request.auth, room_id), by=request.auth)
    return _state(room)


# --- Co-hosts -----------------------------------------------------------------------------------


@router.post(
    f"{ROOM}/cohosts", response={201: CohostOut}, auth=member_auth, summary="Invite a co-host"
)
@answers_refusals
def invite_cohost(
    request: AuthedRequest, room_id: str, payload: CohostIn
) -> Status[dict[str, str]]:
    room = _room(request.auth, room_id)
    invitee = _member_field(request.auth, payload.username)
    cohost = services.invite_cohost(room=room, by=request.auth, invitee=invitee)
    return Status(201, _cohost(cohost, invitee))


def _answer(request: AuthedRequest, room_id: str, accept: bool) -> dict[str, str]:
    room = _room(request.auth, room_id)
    cohost = services.answer_invite(room=room, member=request.auth, accept=accept)
    return _cohost(cohost, request.auth)


def _remove_cohost(request: AuthedRequest, room_id: str, username: str) -> Status[None]:
    room = _room(request.auth, room_id)
    member = _member_path(request.auth, username)
    services.remove_cohost(room=room, by=request.auth, member=member)
    return Status(204, None)


@router.post(
    f"{ROOM}/cohosts/accept",
    response=CohostOut,
    auth=member_auth,
    summary="Accept an invitation to co-host",
)
@answers_refusals
def accept_invite(request: AuthedRequest, room_id: str) -> dict[str, str]:
    return _answer(request, room_id, accept=True)


@router.post(
    f"{ROOM}/cohosts/decline",
    response=CohostOut,
    auth=member_auth,
    summary="Decline an invitation to co-host",
)
@answers_refusals
def decline_invite(request: AuthedRequest, room_id: str) -> dict[str, str]:
    return _answer(request, room_id, accept=False)


# Members may be called "accept" or "decline": their paths are taken by the answers above, so
# removing them is routed here.
@router.delete(
    f"{ROOM}/cohosts/accept", response={204: None}, auth=member_auth, include_in_schema=False
)
@answers_refusals
def remove_cohost_accept(request: AuthedRequest, room_id: str) -> Status[None]:
    return _remove_cohost(request, room_id, "accept")


@router.delete(
    f"{ROOM}/cohosts/decline", response={204: None}, auth=member_auth, include_in_schema=False
)
@answers_refusals
def remove_cohost_decline(request: AuthedRequest, room_id: str) -> Status[None]:
    return _remove_cohost(request, room_id, "decline")


@router.delete(
    f"{ROOM}/cohosts/{{username}}",
    response={204: None},
    auth=member_auth,
    summary="Remove a co-host or an invitation (a co-host may step down)",
)
@answers_refusals
def remove_cohost(request: AuthedRequest, room_id: str, username: str) -> Status[None]:
    return _remove_cohost(request, room_id, username)


# --- Chat transcript ----------------------------------------------------------------------------


@router.get(f"{ROOM}/messages", response=MessagePage, auth=None, summary="The chat, oldest first")
@answers_refusals
def list_messages(
    request: HttpRequest, room_id: str, cursor: str | None = None, limit: int = Limit
) -> dict[str, Any]:
    """Each message with its translation into your reading language, when it has one."""
    viewer = viewer_of(request)
    room = _room(viewer, room_id)
    if queries.is_banned(room, viewer):
        raise services.LiveRefused("banned", _("The hosts removed you from this room."))
    rows, next_cursor = paginate(
        queries.transcript(room), cursor=cursor, limit=limit, ordering=("pk",)
    )
    language = realtime.reading_language(language_queries.reader_language(viewer))
    roles = queries.roles(room, {message.author_id for message in rows})
    items = [
        queries.message_fields(message, message.author, roles[message.author_id], language)
        for message in rows
    ]
    return {"items": items, "next_cursor": next_cursor}


@router.delete(
    f"{ROOM}/messages/{{message_id}}",
    response={204: None},
    auth=member_auth,
    summary="Delete a message (its author, or the room's hosts)",
)
@answers_refusals
def delete_message(request: AuthedRequest, room_id: str, message_id: str) -> Status[None]:
    room = _room(request.auth, room_id)
    pk = parse_id(message_id)
    message: Message | None = (
        queries.shown_messages(room).filter(pk=pk).first() if pk is not None else None
    )
    if message is None:
        raise not_found()
    message.room = room
    services.delete_message(message=message, by=request.auth)
    return Status(204, None)


# --- Who may not take part ----------------------------------------------------------------------


def _hosted_room(member: Member, room_id: str) -> Room:
    room = _room(member, room_id)
    if not queries.is_host(room, member):
        raise services.LiveRefused("not_host", _("Only the room's hosts can do that."))
    return room


@router.get(
    f"{ROOM}/restrictions",
    response=list[RestrictionOut],
    auth=member_auth,
    summary="Who is muted or banned in the room (its hosts)",
)
@answers_refusals
def list_restrictions(request: AuthedRequest, room_id: str) -> list[dict[str, Any]]:
    room = _hosted_room(request.auth, room_id)
    return [_restriction(row) for row in queries.restrictions(room)]


@router.post(
    f"{ROOM}/restrictions",
    response={201: RestrictionOut},
    auth=member_auth,
    summary="Mute or ban someone in the room",
)
@answers_refusals
def add_restriction(
    request: AuthedRequest, room_id: str, payload: RestrictionIn
) -> Status[dict[str, Any]]:
    room = _room(request.auth, room_id)
    member = _member_field(request.auth, payload.username)
    row = services.restrict(
        room=room, by=request.auth, member=member, kind=payload.kind, minutes=payload.minutes
    )
    row.member = member
    return Status(201, _restriction(row))


@router.delete(
    f"{ROOM}/restrictions/{{kind}}/{{username}}",
    response={204: None},
    auth=member_auth,
    summary="Lift a mute or a ban",
)
@answers_refusals
def lift_restriction(
    request: AuthedRequest, room_id: str, kind: Literal["mute", "ban"], username: str
) -> Status[None]:
    room = _room(request.auth, room_id)
    member = _member_path(request.auth, username)
    services.lift_restriction(room=room, by=request.auth, member=member, kind=kind)
    return Status(204, None)
