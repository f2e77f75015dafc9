"""``/ws/live/{room_id}/``: a live room's chat, as JSON frames over a WebSocket.

In: ``{"type": "chat.send", "text": "…", "client_id": "…"}`` and ``{"type": "ping"}``.
Out: ``room.state`` on joining, then the last messages (or those after ``?after=ID``, for
a client that reconnects), then ``chat.message``, ``chat.deleted``, ``presence``,
``room.updated``, ``room.ended``, ``member.muted``, ``chat.ack`` and ``error`` frames.

Anyone may read; members signed in by session (the web page) or by an API token (an
``Authorization: Bearer`` header) may write. Refusals are ``error`` frames with a stable
``code``; a connection that must end is closed with a code that says why (CLOSE_CODES).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils import translation
from django.utils.translation import gettext as _

from papercrane.accounts import queries as account_queries
from papercrane.accounts.models import Member
from papercrane.ids import parse_id
from papercrane.live import queries, realtime, services
from papercrane.live.models import Room

MAX_FRAME_CHARS = 4096  # a chat.send with a full message fits several times over
FRAMES_PER_WINDOW = 30  # frames a client may send per window (chat itself is rate limited too)
FRAME_WINDOW_SECONDS = 10
MAX_LAG_SECONDS = 15  # a client this far behind the room is dropped (it reconnects and catches up)
CLOSE_CODES = {
    "unauthorized": 4401,  # an API token that is not (or no longer) valid
    "banned": services.BANNED_CLOSE_CODE,
    "not_found": 4404,
    "too_slow": 4408,
    "room_ended": 4410,
    "flood": 4429,
}

_TRAILING: set[asyncio.Task[None]] = set()  # held here so they run even after a disconnect


async def _trailing_presence(room_id: int) -> None:
    await asyncio.sleep(realtime.PRESENCE_EVERY_SECONDS)
    await database_sync_to_async(realtime.announce_presence)(room_id, trailing=True)


class LiveRoomConsumer(AsyncWebsocketConsumer):
    room_id: int
    member: Member | None
    language: str

    async def connect(self) -> None:
        self.member = None
        self.joined = False
        self.sent_frames: list[float] = []
        room_id = parse_id(self.scope["url_route"]["kwargs"].get("room_id"))
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        await self.accept()  # first, so that a refusal can say why in its close code
        if room_id is None:
            await self._close_with("not_found", _("There is no such room."))
            return
        self.room_id = room_id
        member, token_ok = await self._authenticate()
        if not token_ok:
            await self._close_with("unauthorized", _("Sign in again: this token is not valid."))
            return
        self.member = member
        self.language = realtime.reading_language(
            member.language if member is not None else (query.get("lang") or [""])[0]
        )
        after = parse_id((query.get("after") or [""])[0])
        opened = await database_sync_to_async(self._open)(after)
        if isinstance(opened, tuple):
            await self._close_with(*opened)
            return
        await self.channel_layer.group_add(realtime.room_group(room_id), self.channel_name)
        self.joined = True
        for frame in opened:
            await self.send(text_data=frame)
        self._announce_later(await database_sync_to_async(self._count_in)())

    async def _authenticate(self) -> tuple[Member | None, bool]:
        """The member behind the session or a bearer token; False for a token that fails."""
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            return user, True
        headers = dict(self.scope.get("headers") or [])
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _space, secret = authorization.partition(" ")
        if not authorization:
            return None, True
        if scheme.lower() != "bearer" or not secret:
            return None, False
        token = await database_sync_to_async(account_queries.token_for_secret)(secret.strip())
        return (token.member, True) if token is not None else (None, False)

    def _open(self, after: int | None) -> list[str] | tuple[str, str]:
        """The frames a joining client is sent, or why it may not join."""
        with translation.override(self.language):
            room = queries.room(self.member, self.room_id)
            if room is None:
                return "not_found", _("There is no such room.")
            if queries.is_banned(room, self.member):
                return "banned", _("The hosts removed you from this room.")
            state = queries.room_state(room)
            if room.status == Room.Status.ENDED:
                return "room_ended", _("This room has ended.")
            viewer = {
                "username": self.member.username if self.member else None,
                "role": queries.role_of(room, self.member),
                "language": self.language,
                "can_send": self.member is not None and room.status == Room.Status.LIVE,
            }
            frames = [realtime.frame("room.state", room=state, viewer=viewer)]
            messages = queries.history(room, after=after)
            role = queries.roles(room, {message.author_id for message in messages})
            frames += [
                queries.message_frame(message, message.author, role[message.author_id], lang)
                for message in messages
                for lang in [self.language if self.language in message.translations else None]
            ]
            return frames

    def _count_in(self) -> str:
        viewers = realtime.joined(self.room_id, self.language)
        services.note_viewers(self.room_id, viewers)
        return self._announce()

    def _count_out(self) -> str:
        realtime.left(self.room_id, self.language)
        return self._announce()

    def _announce(self) -> str:
        due = realtime.presence_due(self.room_id)
        if due == "now":
            realtime.announce_presence(self.room_id)
        return due

    def _announce_later(self, due: str) -> None:
        """Announce the count once the window closes, so the last joins and leaves show too."""
        if due == "later":
            task = asyncio.get_running_loop().create_task(_trailing_presence(self.room_id))
            _TRAILING.add(task)
            task.add_done_callback(_TRAILING.discard)

    async def disconnect(self, code: int) -> None:
        if self.joined:
            self.joined = False
            await self.channel_layer.group_discard(
                realtime.room_group(self.room_id), self.channel_name
            )
            self._announce_later(await database_sync_to_async(self._count_out)())

    # --- From the client ------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self._within_frame_rate():
            await self._close_with("flood", _("Too many frames: slow down and reconnect."))
            return
        content = self._parse(text_data)
        if isinstance(content, str):
            await self._error(content)
            return
        kind = content["type"]
        if kind == "ping":
            await self.send(text_data=realtime.frame("pong"))
        elif kind == "chat.send":
            await self._chat_send(content)
        else:
            await self._error("unknown_type")

    def _within_frame_rate(self) -> bool:
        now = time.monotonic()
        self.sent_frames = [t for t in self.sent_frames if now - t < FRAME_WINDOW_SECONDS]
        self.sent_frames.append(now)
        return len(self.sent_frames) <= FRAMES_PER_WINDOW

    @staticmethod
    def _parse(text_data: str | None) -> dict[str, Any] | str:
        """The frame as a dict with a string ``type``, else the error code to answer."""
        if text_data is None:
            return "malformed"
        if len(text_data) > MAX_FRAME_CHARS:
            return "too_large"
        try:
            content = json.loads(text_data)
        except ValueError:
            return "malformed"
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            return "malformed"
        return content

    async def _chat_send(self, content: dict[str, Any]) -> None:
        client_id = content.get("client_id")
        client_id = client_id if isinstance(client_id, str) and len(client_id) <= 64 else None
        if self.member is None:
            await self._error("read_only", client_id=client_id)
            return
        answer, ended = await database_sync_to_async(self._post)(content.get("text"), client_id)
        await self.send(text_data=answer)
        if ended:
            await self.close(code=CLOSE_CODES["room_ended"])

    def _post(self, body: object, client_id: str | None) -> tuple[str, bool]:
        """The answer to a chat.send (an ack or an error frame), and whether the room ended."""
        # Read afresh: a suspension, a ban or the room's end may have come since connecting.
        member = Member.objects.filter(pk=self.member.pk).first() if self.member else None
        room = queries.room_with_hosts(self.room_id)
        with translation.override(self.language):
            if member is None or room is None:
                return self._error_frame("read_only", client_id=client_id), False
            try:
                message = services.post_message(room=room, author=member, body=body)
            except services.LiveRefused as refused:
                frame = self._error_frame(
                    refused.code, refused.message, refused.retry_after, client_id
                )
                return frame, refused.code == "room_ended"
        return realtime.frame(
            "chat.ack",
            id=str(message.pk),
            client_id=client_id,
            held=message.moderation_state == "held",
        ), False

    # --- From the room --------------------------------------------------------------------------

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes stale database connections before every handler, in a hop to the
        # one shared sync thread: for a room's frames, which touch no database, that hop per
        # viewer per message is what would bound a big room's fan-out.
        if message["type"] == "live.frame":
            await self.live_frame(message)
        else:
            await super().dispatch(message)

    async def live_frame(self, event: dict[str, Any]) -> None:
        member = event.get("member")
        if member is not None and (self.member is None or member != self.member.pk):
            return
        if time.time() - event["at"] > MAX_LAG_SECONDS:
            await self._close_with("too_slow", _("Your connection fell behind: reconnecting."))
            return
        frames = event["frames"]
        # Straight to the ASGI send (what self.send ends in): this runs per viewer per message.
        await self.base_send(
            {"type": "websocket.send", "text": frames.get(self.language) or frames[""]}
        )

    async def live_kick(self, event: dict[str, Any]) -> None:
        if self.member is not None and event["member"] == self.member.pk:
            await self._close_with("banned", _("The hosts removed you from this room."))

    async def live_ended(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["frame"])
        await self.close(code=CLOSE_CODES["room_ended"])

    # --- Refusals -------------------------------------------------------------------------------

    def _error_frame(
        self,
        code: str,
        message: str = "",
        retry_after: int | None = None,
        client_id: str | None = None,
    ) -> str:
        fields: dict[str, Any] = {"code": code, "message": message or _error_messages()[code]}
        if retry_after is not None:
            fields["retry_after"] = retry_after
        if client_id is not None:
            fields["client_id"] = client_id
        return realtime.frame("error", **fields)

    async def _error(self, code: str, client_id: str | None = None) -> None:
        with translation.override(getattr(self, "language", None) or "en"):
            frame = self._error_frame(code, client_id=client_id)
        await self.send(text_data=frame)

    async def _close_with(self, reason: str, message: str) -> None:
        await self.send(text_data=realtime.frame("error", code=reason, message=message))
        await self.close(code=CLOSE_CODES[reason])


def _error_messages() -> dict[str, str]:
    return {
        "malformed": _("Send JSON objects with a type."),
        "too_large": _("This frame is too large."),
        "unknown_type": _("Unknown frame type."),
        "read_only": _("Sign in to chat."),
    }
