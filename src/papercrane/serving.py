"""A uvicorn server for the connections another process deals it (``papercrane serve
--workers N``): the parent accepts each connection and passes it on over a Unix socket, and
this process serves it as uvicorn serves the connections it accepts itself. And the HTTP
protocol every server process speaks: uvicorn's, writing each response at once."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_TAKEN_AT_ONCE = 64  # connections taken from the dealer in one go (a message each)
logger = logging.getLogger(__name__)


class DealtServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, dealt_on: socket.socket) -> None:
        super().__init__(config)
        self.dealt_on = dealt_on
        self.starting: set[asyncio.Task[object]] = set()  # connections being set up

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])  # no socket of its own to accept on
        if self.should_exit:
            return
        self.dealt_on.setblocking(False)
        asyncio.get_running_loop().add_reader(self.dealt_on.fileno(), self._take_dealt)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.dealt_on.fileno() != -1:
            self._take_dealt()  # what was dealt before the stop is served, not dropped
        self._stop_taking()
        await super().shutdown(sockets)

    def _take_dealt(self) -> None:
        """Serve the connections dealt since last time; stop when the dealer is gone."""
        for _ in range(MAX_TAKEN_AT_ONCE):
            try:
                message, fds, _flags, _address = socket.recv_fds(
                    self.dealt_on, 1, 1, socket.MSG_CMSG_CLOEXEC
                )
            except BlockingIOError:
                return
            if not message and not fds:  # the parent closed its end: it is stopping
                self._stop_taking()
                self.should_exit = True
                return
            for fd in fds:
                self._serve_dealt(socket.socket(fileno=fd))

    def _serve_dealt(self, connection: socket.socket) -> None:
        connection.setblocking(False)
        loop = asyncio.get_running_loop()
        task = loop.create_task(loop.connect_accepted_socket(self._protocol, connection))
        self.starting.add(task)

        def started(task: asyncio.Task[object]) -> None:
            self.starting.discard(task)
            error = None if task.cancelled() else task.exception()
            if task.cancelled() or error is not None:
                logger.warning("a dealt connection could not be served", exc_info=error)
                connection.close()

        task.add_done_callback(started)

    def _protocol(self) -> asyncio.Protocol:
        """A connection's protocol, as uvicorn makes it for those it accepts."""
        protocol: asyncio.Protocol = self.config.http_protocol_class(  # type: ignore[call-arg]
            config=self.config, server_state=self.server_state, app_state=self.lifespan.state
        )
        return protocol

    def _stop_taking(self) -> None:
        if self.dealt_on.fileno() == -1:
            return
        try:
            asyncio.get_running_loop().remove_reader(self.dealt_on.fileno())
        finally:
            self.dealt_on.close()


# Past this much, what a connection holds back is written at once: a long response is sent
# as it comes, under the transport's own flow control, rather than gathered in memory.
HELD_BACK_BYTES = 64 * 1024


class WholeResponses:
    """A connection's transport that writes what is written in one turn of the event loop
    with one system call, at the end of the turn.

    uvicorn writes a response's status line and headers as soon as the application starts
    it, and its body when that comes, usually in the same turn: two sends, so two TCP
    segments and two wake-ups of the client (measured on Explore: a twentieth more pages a
    second, and a p99 latency 5 ms lower). Everything else is the transport's own."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []
        self._held_bytes = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._held:
            self._loop.call_soon(self.flush)
        self._held.append(bytes(data))
        self._held_bytes += len(data)
        if self._held_bytes >= HELD_BACK_BYTES:
            self.flush()

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def flush(self) -> None:
        """Write what is held back (at the end of the turn, and before closing)."""
        if not self._held:
            return
        held, self._held, self._held_bytes = self._held, [], 0
        if not self._transport.is_closing():
            self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._held, self._held_bytes = [], 0
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._held_bytes + self._transport.get_write_buffer_size()

    def __getattr__(self, name: str) -> Any:  # the rest is the transport's
        return getattr(self._transport, name)


class WholeResponseProtocol(HttpToolsProtocol):
    """uvicorn's HTTP protocol (httptools) on a ``WholeResponses`` transport; a connection
    upgraded to a WebSocket keeps it."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        whole = WholeResponses(transport, self.loop)
        super().connection_made(whole)  # type: ignore[arg-type]
