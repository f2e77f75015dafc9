"""Start a throwaway Papercrane server for a benchmark: fresh data dir, migrated, on a free port."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    base_url: str
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server and its worker processes."""
        return sum(_cpu_seconds(pid) for pid in _process_tree(self.pid))


def _process_tree(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
    tree, frontier = [root], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        tree += children
        frontier = children
    return tree


def database_cpu_seconds() -> float | None:
    """CPU time (user + system) used so far by this machine's PostgreSQL processes (its
    backends do a share of every request's work there), or None when none runs here."""
    pids = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        with contextlib.suppress(OSError):
            if comm.read_text().strip() == "postgres":
                pids.append(int(comm.parent.name))
    return sum(_cpu_seconds(pid) for pid in pids) if pids else None


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def running_server(
    *, workers: int = 1, env: dict[str, str] | None = None, fresh: bool = True
) -> Iterator[str]:
    """Yield the base URL of a server started like ``make demo`` does, stopped afterwards.
    ``fresh``: in a new data dir; otherwise on the database ``env`` points at."""
    with served(workers=workers, env=env, fresh=fresh) as server:
        yield server.base_url


@contextlib.contextmanager
def served(
    *, workers: int = 1, env: dict[str, str] | None = None, fresh: bool = True
) -> Iterator[Server]:
    """``running_server``, yielding the server's address and process (for its CPU time)."""
    papercrane = str(Path(sys.executable).with_name("papercrane"))
    with tempfile.TemporaryDirectory(prefix="papercrane-bench-") as data_dir:
        child_env = {**os.environ, "PAPERCRANE_DATA_DIR": data_dir, **(env or {})}
        if fresh:
            subprocess.run(
                [papercrane, "migrate", "--noinput", "-v", "0"], env=child_env, check=True
            )
        port = _free_port()
        command = [
            papercrane,
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-worker",
        ]
        process = subprocess.Popen(
            command,
            env={**child_env, "PAPERCRANE_LOG_LEVEL": "warning"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_healthy(base_url, process)
            yield Server(base_url, process.pid)
        finally:
            process.terminate()
            process.wait(timeout=30)


def _wait_until_healthy(
    base_url: str, process: subprocess.Popen[bytes], seconds: float = 30
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited before it was healthy")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not become healthy in time")
