"""A uvicorn server for the connections another process deals it (``papercrane serve
--workers N``): the parent accepts each connection and passes it on over a Unix socket, and
this process serves it as uvicorn serves the connections it accepts itself."""

from __future__ import annotations

import asyncio
import logging
import socket

import uvicorn

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
