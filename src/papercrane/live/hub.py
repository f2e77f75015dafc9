"""One subscription per room and server process, fanning the room's events out to the
process's connections.

Channels would give every connection its own subscription to the room's group: each message
then wakes a thousand receive loops, each decoding the event on its own. Here a process
receives a room's event once and hands each connection its frame, which the connection's
writer sends as soon as its socket takes it. A connection whose socket stops taking frames
fills its outbox; past OUTBOX_LIMIT it is closed, so one slow reader never holds memory
or the room back (the client reconnects and catches up with ``?after=``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections import deque
from typing import Any, Protocol

from channels.layers import get_channel_layer

from papercrane.live import realtime

logger = logging.getLogger(__name__)
OUTBOX_LIMIT = 300  # frames waiting for one connection's socket (seconds of a busy room)


class Connection(Protocol):
    """What the hub needs of a connection (the room's WebSocket consumer)."""

    def deliver(self, event: dict[str, Any]) -> None: ...


class Outbox:
    """Frames for one socket, sent in order by one writer task; a close code ends it."""

    def __init__(self, send: Any, on_overflow: Any) -> None:
        self.items: deque[str | int] = deque()
        self.ready = asyncio.Event()
        self.closing = False
        self.send = send
        self.on_overflow = on_overflow
        self.task = asyncio.get_running_loop().create_task(self._write())

    def put(self, frame: str) -> None:
        if self.closing:
            return
        if len(self.items) >= OUTBOX_LIMIT:
            self.items.clear()
            self.on_overflow()
            return
        self.items.append(frame)
        self.ready.set()

    def close(self, code: int) -> None:
        """Close the socket with ``code`` once what is queued before it has gone."""
        if not self.closing:
            self.closing = True
            self.items.append(code)
            self.ready.set()

    async def _write(self) -> None:
        while True:
            await self.ready.wait()
            self.ready.clear()
            while self.items:
                item = self.items.popleft()
                if isinstance(item, int):
                    await self.send({"type": "websocket.close", "code": item})
                    return
                await self.send({"type": "websocket.send", "text": item})

    def stop(self) -> None:
        self.task.cancel()


class RoomHub:
    def __init__(self, room_id: int) -> None:
        self.room_id = room_id
        self.connections: set[Connection] = set()
        self.channel = ""
        self.pump: asyncio.Task[None] | None = None

    async def start(self) -> None:
        layer = get_channel_layer()
        self.channel = await layer.new_channel(prefix="live-hub.")
        await layer.group_add(realtime.room_group(self.room_id), self.channel)
        self.pump = asyncio.get_running_loop().create_task(self._receive())

    async def stop(self) -> None:
        layer = get_channel_layer()
        await layer.group_discard(realtime.room_group(self.room_id), self.channel)
        if self.pump is not None:
            self.pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.pump

    async def _receive(self) -> None:
        layer = get_channel_layer()
        while True:
            event = await layer.receive(self.channel)
            for connection in list(self.connections):
                try:
                    connection.deliver(event)
                except Exception:  # one broken connection must not stop the room
                    logger.exception("could not deliver a live event")


class _Hubs:
    """The hubs of one event loop (a server process has one; tests start several)."""

    def __init__(self) -> None:
        self.rooms: dict[int, RoomHub] = {}
        self.lock = asyncio.Lock()


_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Hubs] = weakref.WeakKeyDictionary()


def _hubs() -> _Hubs:
    loop = asyncio.get_running_loop()
    hubs = _by_loop.get(loop)
    if hubs is None:
        hubs = _by_loop[loop] = _Hubs()
    return hubs


async def join(room_id: int, connection: Connection) -> None:
    """Start receiving the room's events for ``connection``."""
    hubs = _hubs()
    async with hubs.lock:
        hub = hubs.rooms.get(room_id)
        if hub is None:
            hub = RoomHub(room_id)
            await hub.start()
            hubs.rooms[room_id] = hub
        hub.connections.add(connection)


async def leave(room_id: int, connection: Connection) -> None:
    hubs = _hubs()
    async with hubs.lock:
        hub = hubs.rooms.get(room_id)
        if hub is None:
            return
        hub.connections.discard(connection)
        if not hub.connections:
            del hubs.rooms[room_id]
            await hub.stop()
