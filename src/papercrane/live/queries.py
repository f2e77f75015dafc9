"""Reads for live rooms: who hosts, who may not take part, the chat as each viewer reads it."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from papercrane.accounts import queries as account_queries
from papercrane.accounts.models import Member
from papercrane.ids import parse_id
from papercrane.live import realtime
from papercrane.live.models import CoHost, Message, Restriction, Room
from papercrane.notes.models import HIDDEN_STATES
from papercrane.notes.queries import not_suspended

HISTORY = 50  # messages a (re)connecting client is sent
TRANSCRIPT_PAGE = 200  # messages of an ended room's transcript shown on its page at a time


def _rooms() -> QuerySet[Room]:
    cohosts = CoHost.objects.select_related("member").order_by("invited_at", "pk")
    return Room.objects.select_related("host", "pinned_message__author").prefetch_related(
        Prefetch("cohosts", queryset=cohosts, to_attr="cohost_rows")
    )


def room(viewer: Member | None, room_id: object) -> Room | None:
    """The room, if ``viewer`` may see it: not across a block with its host, and not one
    whose host is suspended (unless it is the viewer's own)."""
    pk = parse_id(room_id)
    if pk is None:
        return None
    found = _rooms().filter(pk=pk).first()
    if found is None:
        return None
    if viewer is not None and viewer.pk == found.host_id:
        return found
    if not Member.objects.filter(not_suspended(""), pk=found.host_id, is_active=True).exists():
        return None
    if viewer is not None and _blocked_either_way(viewer.pk, found.host_id):
        return None
    return found


def room_with_hosts(room_id: int) -> Room | None:
    return _rooms().filter(pk=room_id).first()


def _blocked_either_way(a: int, b: int) -> bool:
    return (
        account_queries.blocked_ids(a).filter(blocked_id=b).exists()
        or account_queries.blocker_ids(a).filter(blocker_id=b).exists()
    )


def live_rooms(viewer: Member | None) -> QuerySet[Room]:
    """Rooms live now, the newest first, without those of suspended hosts or across a block."""
    rooms = _rooms().filter(status=Room.Status.LIVE, host__is_active=True)
    rooms = rooms.filter(not_suspended("host__")).order_by("-started_at", "-pk")
    if viewer is not None:
        rooms = rooms.exclude(host_id__in=account_queries.blocked_ids(viewer)).exclude(
            host_id__in=account_queries.blocker_ids(viewer)
        )
    return rooms


def rooms_of(member: Member) -> QuerySet[Room]:
    """The rooms a member hosts or co-hosts, the latest first."""
    cohosting = CoHost.objects.filter(member=member, status=CoHost.Status.ACCEPTED)
    return (
        _rooms()
        .filter(Q(host=member) | Q(pk__in=cohosting.values("room_id")))
        .order_by("-created_at", "-pk")
    )


def invitations(member: Member) -> QuerySet[CoHost]:
    """Open invitations to co-host a room that has not ended."""
    return (
        CoHost.objects.filter(member=member, status=CoHost.Status.INVITED)
        .exclude(room__status=Room.Status.ENDED)
        .select_related("room__host")
        .order_by("-invited_at")
    )


def cohosts(room: Room) -> list[CoHost]:
    rows = getattr(room, "cohost_rows", None)
    if rows is None:
        rows = list(room.cohosts.select_related("member").order_by("invited_at", "pk"))
    return rows


def is_host(room: Room, member: Member | None) -> bool:
    """The host or an accepted co-host."""
    return role_of(room, member) in {"host", "cohost"}


def role_of(room: Room, member: Member | None) -> str:
    if member is None or not member.is_authenticated:
        return "viewer"
    return roles(room, {member.pk})[member.pk]


def restriction(room: Room, member: Member) -> Restriction | None:
    """The member's ban in the room, else their mute if it still runs."""
    now = timezone.now()
    rows = Restriction.objects.filter(room=room, member=member).filter(
        Q(until__isnull=True) | Q(until__gt=now)
    )
    found = {row.kind: row for row in rows}
    return found.get(Restriction.Kind.BAN) or found.get(Restriction.Kind.MUTE)


def across_block(room: Room, member: Member) -> bool:
    """Whether ``member`` and the room's host block one another (either way)."""
    return member.pk != room.host_id and _blocked_either_way(member.pk, room.host_id)


def is_banned(room: Room, member: Member | None) -> bool:
    if member is None or not member.is_authenticated:
        return False
    if across_block(room, member):
        return True  # blocked by the host, or blocking them: the room is not for them
    found = restriction(room, member)
    return found is not None and found.kind == Restriction.Kind.BAN


def seconds_left(found: Restriction) -> int | None:
    if found.until is None:
        return None
    return max(1, int((found.until - timezone.now()).total_seconds()))


def restrictions(room: Room) -> QuerySet[Restriction]:
    now = timezone.now()
    return (
        Restriction.objects.filter(room=room)
        .filter(Q(until__isnull=True) | Q(until__gt=now))
        .select_related("member")
        .order_by("-created_at")
    )


def shown_messages(room: Room) -> QuerySet[Message]:
    """The room's messages everyone sees: not deleted, not hidden by moderation, by members
    who are not suspended."""
    return (
        Message.objects.filter(room=room, deleted_at__isnull=True)
        .exclude(moderation_state__in=HIDDEN_STATES)
        .filter(not_suspended("author__"), author__is_active=True)
    )


def history(room: Room, *, after: int | None = None, limit: int = HISTORY) -> list[Message]:
    """What a connecting client is sent: the messages after ``after`` (a reconnecting
    client's last), else the last ``limit``; oldest first."""
    messages = shown_messages(room).select_related("author")
    if after is not None:
        return list(messages.filter(pk__gt=after).order_by("pk")[:limit])
    return list(reversed(messages.order_by("-pk")[:limit]))


def visible_message(viewer: Member, message_id: object) -> Message | None:
    """A message ``viewer`` can see (to report it)."""
    pk = parse_id(message_id)
    found = Message.objects.filter(pk=pk).select_related("room").first() if pk else None
    if found is None or room(viewer, found.room_id) is None:
        return None
    if is_banned(found.room, viewer):  # the room is not for them, nor its messages
        return None
    return shown_messages(found.room).filter(pk=found.pk).first()


def roles(room: Room, author_ids: set[int]) -> dict[int, str]:
    """Each author's role in the room, for a page of messages."""
    accepted = {row.member_id for row in cohosts(room) if row.status == CoHost.Status.ACCEPTED}
    return {
        pk: "host" if pk == room.host_id else "cohost" if pk in accepted else "viewer"
        for pk in author_ids
    }


def author_fields(author: Member, role: str) -> dict[str, str]:
    return {"username": author.username, "name": author.name, "role": role}


def message_fields(
    message: Message, author: Member, role: str, language: str | None
) -> dict[str, Any]:
    """A message as clients see it; with its translation into ``language`` when it has one."""
    translated = message.translations.get(language) if language else None
    return {
        "id": str(message.pk),
        "author": author_fields(author, role),
        "text": message.text,
        "language": message.language,
        "translation": {"language": language, "text": translated} if translated else None,
        "created_at": message.created_at.isoformat(),
    }


def message_frame(message: Message, author: Member, role: str, language: str | None) -> str:
    return realtime.frame("chat.message", **message_fields(message, author, role, language))


def shown_pin(found: Room) -> Message | None:
    """The room's pinned message, unless it was deleted or hidden by moderation since."""
    pinned = found.pinned_message
    if pinned is None or pinned.deleted_at is not None:
        return None
    return None if pinned.moderation_state in HIDDEN_STATES else pinned


def room_states(rooms: list[Room]) -> list[dict[str, Any]]:
    """``room_state`` of each room, with their viewer counts read at once."""
    live = [found.pk for found in rooms if found.status == Room.Status.LIVE]
    viewers = realtime.viewer_counts(live) if live else {}
    return [room_state(found, viewers.get(found.pk, 0)) for found in rooms]


def room_state(found: Room, viewers: int | None = None) -> dict[str, Any]:
    """What a client needs to draw the room (also the API's room body); ``viewers`` when
    the caller has read them already."""
    pinned = shown_pin(found)
    if viewers is None:
        viewers = realtime.viewer_count(found.pk) if found.status == Room.Status.LIVE else 0
    rows = cohosts(found)
    return {
        "id": str(found.pk),
        "title": found.title,
        "topic": found.topic,
        "language": found.language,
        "stream_url": found.stream_url,
        "status": found.status,
        "host": author_fields(found.host, "host"),
        "cohosts": [
            author_fields(row.member, "cohost")
            for row in rows
            if row.status == CoHost.Status.ACCEPTED
        ],
        "invited": [row.member.username for row in rows if row.status == CoHost.Status.INVITED],
        "slow_mode_seconds": found.slow_mode_seconds,
        "pinned": (
            message_fields(pinned, pinned.author, role_of(found, pinned.author), None)
            if pinned is not None
            else None
        ),
        "viewers": viewers,
        "peak_viewers": found.peak_viewers,
        "created_at": found.created_at.isoformat(),
        "started_at": found.started_at.isoformat() if found.started_at else None,
        "ended_at": found.ended_at.isoformat() if found.ended_at else None,
    }


def transcript(room: Room) -> QuerySet[Message]:
    """The room's messages oldest first, for its replay (with the translations stored on each)."""
    return shown_messages(room).select_related("author").order_by("pk")


def transcript_page(
    room: Room, *, after: int | None = None, limit: int | None = None
) -> tuple[list[Message], int | None]:
    """One page of the transcript (the messages after ``after``, oldest first) and the id to
    continue after, when there are more."""
    limit = limit or TRANSCRIPT_PAGE
    messages = transcript(room)
    if after is not None:
        messages = messages.filter(pk__gt=after)
    found = list(messages[: limit + 1])
    if len(found) <= limit:
        return found, None
    return found[:limit], found[limit - 1].pk


def banned_room_ids(member: Member | None, room_ids: list[int]) -> set[int]:
    """Which of the rooms ban ``member`` (for a list of rooms, in one query)."""
    if member is None or not member.is_authenticated or not room_ids:
        return set()
    return set(
        Restriction.objects.filter(member=member, kind=Restriction.Kind.BAN, room_id__in=room_ids)
        .filter(Q(until__isnull=True) | Q(until__gt=timezone.now()))
        .values_list("room_id", flat=True)
    )
