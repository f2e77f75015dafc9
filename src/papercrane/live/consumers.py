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
from typing import Any, NamedTuple
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.db import connections
from django.utils import translation
from django.utils.translation import gettext as _

from papercrane.accounts import queries as account_queries
from papercrane.accounts.models import Member
from papercrane.ids import parse_id
from papercrane.live import hub, queries, realtime, services
from papercrane.live.models import Room

MAX_FRAME_CHARS = 4096  # a chat.send with a full message fits several times over
FRAMES_PER_WINDOW = 30  # frames a client may send per window (chat itself is rate limited too)
FRAME_WINDOW_SECONDS = 10
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


def _translate_and_send(message_id: int, languages: list[str]) -> None:
    try:
        services.translate_and_send(message_id, languages)
    finally:
        # This runs on a pool thread of its own: hand its connection back rather than keep
        # one open per thread.
        connections.close_all()


class Refusal(NamedTuple):
    reason: str  # a key of CLOSE_CODES
    message: str


def _message_id(frame: str) -> int:
    """The id in a chat.message frame (0 for other frames)."""
    if not frame.startswith('{"type":"chat.message"'):
        return 0
    return int(json.loads(frame)["id"])


class LiveRoomConsumer(AsyncWebsocketConsumer):
    room_id: int
    member: Member | None
    language: str

    async def connect(self) -> None:
        self.member = None
        self.joined = False
        self.counted = False  # in the room's viewer count
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
        # Into the room before reading what was said, so that nothing falls in between; what
        # arrives meanwhile waits in ``early`` and follows the history.
        self.outbox = hub.Outbox(self.base_send, self._fell_behind)
        self.early: list[dict[str, Any]] | None = []
        await hub.join(room_id, self)
        self.joined = True
        opened = await database_sync_to_async(self._open)(after)
        if isinstance(opened, Refusal):
            await self._leave()
            await self._close_with(opened.reason, opened.message)
            return
        frames, last_id = opened
        for frame in frames:
            self.outbox.put(frame)
        early, self.early = self.early or [], None
        for event in early:
            self._deliver_now(event, shown_up_to=last_id)
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

    def _open(self, after: int | None) -> tuple[list[str], int] | Refusal:
        """The frames a joining client is sent and the last message id among them, or why it
        may not join."""
        with translation.override(self.language):
            room = queries.room(self.member, self.room_id)
            if room is None:
                return Refusal("not_found", _("There is no such room."))
            if queries.is_banned(room, self.member):
                return Refusal("banned", _("The hosts removed you from this room."))
            state = queries.room_state(room)
            if room.status == Room.Status.ENDED:
                return Refusal("room_ended", _("This room has ended."))
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
                queries.message_frame(
                    message, message.author, role[message.author_id], self.language
                )
                for message in messages
            ]
            return frames, messages[-1].pk if messages else 0

    def _count_in(self) -> str:
        self.counted = True
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

    async def _leave(self) -> None:
        if self.joined:
            self.joined = False
            await hub.leave(self.room_id, self)
            self.outbox.stop()

    async def disconnect(self, code: int) -> None:
        await self._leave()
        if self.counted:
            self.counted = False
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
        answer, ended, untranslated = await database_sync_to_async(self._post)(
            content.get("text"), client_id
        )
        await self.send(text_data=answer)
        if ended:
            await self.close(code=CLOSE_CODES["room_ended"])
        elif untranslated is not None:
            # Off the thread all consumers share: a translation provider may take seconds,
            # and that must hold back no one else's messages.
            translate = database_sync_to_async(_translate_and_send, thread_sensitive=False)
            await translate(*untranslated)

    def _post(
        self, body: object, client_id: str | None
    ) -> tuple[str, bool, tuple[int, list[str]] | None]:
        """The answer to a chat.send (an ack or an error frame), whether the room ended, and
        the message and languages still to translate it into, if any."""
        # Read afresh: a suspension, a ban or the room's end may have come since connecting.
        member = Member.objects.filter(pk=self.member.pk).first() if self.member else None
        room = queries.room_with_hosts(self.room_id)
        with translation.override(self.language):
            if member is None or room is None:
                return self._error_frame("read_only", client_id=client_id), False, None
            try:
                message = services.post_message(
                    room=room, author=member, body=body, translate_later=True
                )
            except services.LiveRefused as refused:
                frame = self._error_frame(
                    refused.code, refused.message, refused.retry_after, client_id
                )
                return frame, refused.code == "room_ended", None
        ack = realtime.frame(
            "chat.ack",
            id=str(message.pk),
            client_id=client_id,
            held=message.moderation_state == "held",
        )
        untranslated = message.untranslated
        return ack, False, (message.pk, untranslated) if untranslated else None

    # --- From the room --------------------------------------------------------------------------

    def deliver(self, event: dict[str, Any]) -> None:
        """An event of the room (called by the hub, once per connection in this process)."""
        if self.early is not None:
            self.early.append(event)
        else:
            self._deliver_now(event)

    def _deliver_now(self, event: dict[str, Any], shown_up_to: int = 0) -> None:
        kind = event["type"]
        member = event.get("member")
        mine = self.member is not None and member == self.member.pk
        if kind == "live.frame":
            if member is not None and not mine:
                return
            frames = event["frames"]
            frame = frames.get(self.language) or frames[""]
            if shown_up_to and _message_id(frame) <= shown_up_to:
                return  # already in the history this connection was sent
            self.outbox.put(frame)
        elif kind == "live.kick" and mine:
            with translation.override(self.language):
                self._refuse_later("banned", _("The hosts removed you from this room."))
        elif kind == "live.ended":
            self.outbox.put(event["frame"])
            self.outbox.close(CLOSE_CODES["room_ended"])

    def _fell_behind(self) -> None:
        """The socket stopped taking frames: drop the connection rather than hold them."""
        with translation.override(self.language):
            self._refuse_later("too_slow", _("Your connection fell behind: reconnecting."))

    def _refuse_later(self, reason: str, message: str) -> None:
        """Say why and close, after what is already on its way to the client."""
        self.outbox.put(realtime.frame("error", code=reason, message=message))
        self.outbox.close(CLOSE_CODES[reason])

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
