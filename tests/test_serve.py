"""``papercrane serve --workers N``: N server processes, dealt connections in turn."""

from __future__ import annotations

import http.client
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

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc to see who holds what")


def _listening_sockets(port: int) -> int:
    """Sockets listening on ``port`` (state 0A in /proc/net/tcp), whoever holds them."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(
        1 for row in rows if row.split()[1].endswith(f":{port:04X}") and row.split()[3] == "0A"
    )


def _healthy(port: int) -> bool:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
        return bool(response.status == 200)


def _established_by_process(port: int, pids: list[str]) -> list[int]:
    """How many connections to ``port`` each process holds open (by their sockets' inodes)."""
    rows = [row.split() for row in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    inodes = {row[9] for row in rows if row[1].endswith(f":{port:04X}") and row[3] == "01"}
    held = []
    for pid in pids:
        fds = Path(f"/proc/{pid}/fd")
        links = {os.readlink(fd) for fd in fds.iterdir()}
        held.append(sum(1 for inode in inodes if f"socket:[{inode}]" in links))
    return held


def test_connections_are_dealt_to_the_server_processes_in_turn_and_all_stop_together(
    tmp_path: Path,
) -> None:
    port = free_port()
    papercrane = str(Path(sys.executable).with_name("papercrane"))
    env = {**os.environ, "PAPERCRANE_DATA_DIR": str(tmp_path), "PAPERCRANE_LOG_LEVEL": "warning"}
    env.pop("DATABASE_URL", None)
    subprocess.run([papercrane, "migrate", "-v", "0"], env=env, check=True)
    command = [papercrane, "serve", "--port", str(port), "--workers", "2", "--no-worker"]
    server = subprocess.Popen(command, env=env)
    clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(8)]
    pids: list[str] = []
    try:
        wait_healthy(port, server, time.monotonic() + SERVER_START_SECONDS)
        assert _listening_sockets(port) == 1  # the parent's, which deals the connections
        for client in clients:  # eight keep-alive connections, open at once
            client.request("GET", "/healthz")
            response = client.getresponse()
            assert response.status == 200
            response.read()
        pids = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        assert len(pids) == 2
        # Each process serves half of them (spread by the kernel, hashing their addresses
        # with SO_REUSEPORT, a load test's 16 went 14 to one process and 2 to the other).
        assert _established_by_process(port, pids) == [4, 4]
    finally:
        for client in clients:
            client.close()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    assert server.returncode == 0
    assert _listening_sockets(port) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)


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
