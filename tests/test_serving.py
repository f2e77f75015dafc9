"""The transport every server process writes responses through (``serving.WholeResponses``):
what is written in one turn of the event loop leaves in one send, at the end of the turn, on
real sockets."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from papercrane.serving import HELD_BACK_BYTES, WholeResponses

Served = tuple[WholeResponses, socket.socket]


@asynccontextmanager
async def connection() -> AsyncIterator[Served]:
    """A server-side transport wrapped as the server wraps it, and the client's socket."""
    loop = asyncio.get_running_loop()
    made: asyncio.Future[asyncio.Transport] = loop.create_future()

    class Protocol(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            made.set_result(transport)  # type: ignore[arg-type]

    server = await loop.create_server(Protocol, "127.0.0.1", 0)
    client = socket.create_connection(server.sockets[0].getsockname()[:2])
    client.setblocking(False)
    try:
        yield WholeResponses(await made, loop), client
    finally:
        client.close()
        server.close()
        await server.wait_closed()


def received(client: socket.socket) -> bytes:
    """What the client can read now, without waiting."""
    try:
        return client.recv(1 << 20)
    except BlockingIOError:
        return b""


async def eventually(read: Callable[[], bytes], size: int) -> bytes:
    data = b""
    for _ in range(200):
        data += read()
        if len(data) >= size:
            return data
        await asyncio.sleep(0.005)
    return data


def run(test: Callable[[Served], Awaitable[None]]) -> None:
    async def main() -> None:
        async with connection() as served:
            await test(served)

    asyncio.run(main())


def test_what_is_written_in_one_turn_leaves_together_at_its_end() -> None:
    async def test(served: Served) -> None:
        transport, client = served
        transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        time.sleep(0.05)  # the turn goes on: on loopback, anything sent would have arrived
        assert received(client) == b""
        transport.write(b"{}")
        assert transport.get_write_buffer_size() == len(
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"
        )
        await asyncio.sleep(0)  # the turn ends
        assert await eventually(lambda: received(client), 40) == (
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"
        )
        assert transport.get_write_buffer_size() == 0

    run(test)


def test_a_long_response_is_sent_as_it_comes_not_gathered() -> None:
    async def test(served: Served) -> None:
        transport, client = served
        transport.write(b"x" * HELD_BACK_BYTES)  # reaches the threshold: written at once
        assert transport.get_write_buffer_size() < HELD_BACK_BYTES
        client.setblocking(True)
        client.settimeout(5)
        assert client.recv(1) == b"x"  # already on its way, in this very turn

    run(test)


def test_closing_sends_what_is_held_first_and_aborting_drops_it() -> None:
    async def closing(served: Served) -> None:
        transport, client = served
        transport.write(b"last words")
        transport.close()
        assert await eventually(lambda: received(client), 10) == b"last words"

    async def aborting(served: Served) -> None:
        transport, client = served
        transport.write(b"never sent")
        transport.abort()
        await asyncio.sleep(0.05)
        try:
            data = client.recv(100)
        except (BlockingIOError, ConnectionResetError):
            data = b""
        assert data == b""

    run(closing)
    run(aborting)
