"""``papercrane serve --workers N``: N server processes, each on a socket of its own."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.servers import SERVER_START_SECONDS, free_port, wait_healthy

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="SO_REUSEPORT spreading: Linux")


def _listening_sockets(port: int) -> int:
    """Sockets listening on ``port`` (state 0A in /proc/net/tcp), whoever holds them."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(
        1 for row in rows if row.split()[1].endswith(f":{port:04X}") and row.split()[3] == "0A"
    )


def _healthy(port: int) -> bool:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
        return bool(response.status == 200)


def test_each_server_process_listens_on_its_own_socket_and_all_stop_together(
    tmp_path: Path,
) -> None:
    port = free_port()
    papercrane = str(Path(sys.executable).with_name("papercrane"))
    env = {**os.environ, "PAPERCRANE_DATA_DIR": str(tmp_path), "PAPERCRANE_LOG_LEVEL": "warning"}
    env.pop("DATABASE_URL", None)
    subprocess.run([papercrane, "migrate", "-v", "0"], env=env, check=True)
    command = [papercrane, "serve", "--port", str(port), "--workers", "2", "--no-worker"]
    server = subprocess.Popen(command, env=env)
    try:
        wait_healthy(port, server, time.monotonic() + SERVER_START_SECONDS)
        # A socket for each process (one shared socket is a single entry): the kernel
        # spreads new connections over them.
        assert _listening_sockets(port) == 2
        for _ in range(10):
            assert _healthy(port)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    assert server.returncode == 0
    assert _listening_sockets(port) == 0


def test_a_port_already_taken_stops_the_server(tmp_path: Path) -> None:
    papercrane = str(Path(sys.executable).with_name("papercrane"))
    env = {**os.environ, "PAPERCRANE_DATA_DIR": str(tmp_path), "PAPERCRANE_LOG_LEVEL": "critical"}
    env.pop("DATABASE_URL", None)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [papercrane, "serve", "--port", str(port), "--workers", "2", "--no-worker"]
        result = subprocess.run(command, env=env, timeout=SERVER_START_SECONDS, capture_output=True)
    assert result.returncode == 1


def test_servers_that_cannot_start_are_not_started_again_and_again(tmp_path: Path) -> None:
    papercrane = str(Path(sys.executable).with_name("papercrane"))
    env = {**os.environ, "PAPERCRANE_DATA_DIR": str(tmp_path), "PAPERCRANE_LOG_LEVEL": "critical"}
    env["DATABASE_URL"] = "nonsense://nowhere"  # every server process fails at start-up
    command = [papercrane, "serve", "--port", str(free_port()), "--workers", "2", "--no-worker"]
    result = subprocess.run(command, env=env, timeout=SERVER_START_SECONDS, capture_output=True)
    assert result.returncode == 1


@pytest.mark.parametrize("asked", [False, True])
def test_requests_are_logged_with_the_clients_address_only_when_asked(
    tmp_path: Path, asked: bool
) -> None:
    port = free_port()
    papercrane = str(Path(sys.executable).with_name("papercrane"))
    env = {**os.environ, "PAPERCRANE_DATA_DIR": str(tmp_path), "PAPERCRANE_LOG_LEVEL": "info"}
    env.pop("DATABASE_URL", None)
    env.pop("PAPERCRANE_ACCESS_LOG", None)
    if asked:
        env["PAPERCRANE_ACCESS_LOG"] = "true"
    subprocess.run([papercrane, "migrate", "-v", "0"], env=env, check=True)
    log = tmp_path / "server.log"
    with log.open("w") as output:
        command = [papercrane, "serve", "--port", str(port), "--no-worker"]
        server = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            wait_healthy(port, server, time.monotonic() + SERVER_START_SECONDS)
            assert _healthy(port)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    logged = log.read_text()
    assert "Started server process" in logged  # the server's own log is kept either way
    assert ("127.0.0.1:" in logged and '"GET /healthz' in logged) is asked
