"""A live room across two real server processes sharing the database and Redis.

Runs only with ``REDIS_URL`` (the channel layer two processes share); the servers are
``papercrane serve`` processes on the test database, so the rows made here are committed.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from papercrane.accounts.models import Member
from papercrane.accounts.services import issue_token
from papercrane.live.models import Room
from tests.live.conftest import aged
from tests.servers import SERVER_START_SECONDS, database_env, free_port, wait_healthy

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL"),
]


@pytest.fixture
def two_servers(transactional_db: None) -> Iterator[list[int]]:
    """Two ``papercrane serve`` processes on the test database; their ports."""
    papercrane = str(Path(sys.executable).with_name("papercrane"))
    with tempfile.TemporaryDirectory(prefix="papercrane-test-") as data_dir:
        env = {
            **os.environ,
            "PAPERCRANE_DATA_DIR": data_dir,
            "PAPERCRANE_LOG_LEVEL": "warning",
            **database_env(Path(data_dir)),
        }
        ports = [free_port(), free_port()]
        processes = [
            subprocess.Popen(
                [papercrane, "serve", "--no-worker", "--port", str(port)],
                env=env,
                stdout=subprocess.DEVNULL,
            )
            for port in ports
        ]
        try:
            deadline = time.monotonic() + SERVER_START_SECONDS
            for port, process in zip(ports, processes, strict=True):
                wait_healthy(port, process, deadline)
            yield ports
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


async def _until(socket: Any, kind: str, timeout: float = 15) -> dict[str, Any]:
    """The next frame of type ``kind`` (frames of other types are skipped)."""
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await socket.recv())
            if frame["type"] == kind:
                return frame


def test_a_message_sent_through_one_process_reaches_the_other(
    two_servers: list[int], live_room: Room, bob: Member
) -> None:
    from websockets.asyncio.client import connect

    token = issue_token(member=aged(bob), name="test").secret
    speaker_port, reader_port = two_servers

    def url(port: int, query: str = "lang=en") -> str:
        return f"ws://127.0.0.1:{port}/ws/live/{live_room.pk}/?{query}"

    def origin(port: int) -> Any:
        return f"http://127.0.0.1:{port}"

    async def scenario() -> None:
        reader = await connect(url(reader_port), origin=origin(reader_port))
        speaker = await connect(
            url(speaker_port),
            origin=origin(speaker_port),
            additional_headers={"Authorization": f"Bearer {token}"},
        )
        assert (await _until(reader, "room.state"))["room"]["id"] == str(live_room.pk)
        assert (await _until(speaker, "room.state"))["viewer"]["can_send"] is True

        await speaker.send(json.dumps({"type": "chat.send", "text": "hello from one"}))
        first = await _until(reader, "chat.message", timeout=30)  # the first loads the models
        assert first["text"] == "hello from one"
        assert first["author"]["username"] == "bob"
        await reader.close()

        # What the reader misses while away, it gets on reconnecting with ?after=.
        await speaker.send(
            json.dumps({"type": "chat.send", "text": "while you were away", "client_id": "c2"})
        )
        ack = await _until(speaker, "chat.ack")
        while ack["client_id"] != "c2":  # the first message's ack came first
            ack = await _until(speaker, "chat.ack")
        assert ack["held"] is False
        async with connect(
            url(reader_port, f"lang=en&after={first['id']}"), origin=origin(reader_port)
        ) as back:
            await _until(back, "room.state")
            missed = await _until(back, "chat.message")
            assert missed["id"] == ack["id"]
            assert missed["text"] == "while you were away"
        await speaker.close()

    asyncio.run(scenario())
