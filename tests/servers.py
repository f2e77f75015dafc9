"""For tests that start real ``papercrane serve`` processes: a free port, the environment
that points a server at the test's database, and waiting until it answers."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

from django.db import connection

# A server starts in about 8 s (the learners' dictionary, the models); several times that on a
# machine busy with other work.
SERVER_START_SECONDS = 180


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_env(data_dir: Path) -> dict[str, str]:
    """The environment that points a server at this test's database."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        (data_dir / "papercrane.sqlite3").symlink_to(Path(settings["NAME"]).resolve())
        return {"DATABASE_URL": ""}
    user = quote(settings["USER"] or "", safe="")
    password = f":{quote(settings['PASSWORD'], safe='')}" if settings["PASSWORD"] else ""
    address = f"{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
    return {"DATABASE_URL": f"postgres://{user}{password}@{address}/{settings['NAME']}"}


def wait_healthy(port: int, process: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("a server exited before it was healthy")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("a server did not become healthy in time")
