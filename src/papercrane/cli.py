"""The ``papercrane`` command.

``papercrane serve`` runs the site (HTTP and WebSocket in one ASGI process, with a background
worker beside it), ``papercrane worker`` runs background tasks, ``papercrane bench NAME`` runs a
benchmark and ``papercrane eval NAME`` an offline evaluation from ``bench/``. Everything else
is a Django management command, and dashes may stand for underscores: ``papercrane migrate``,
``papercrane seed-demo``, ``papercrane reindex``, ``papercrane grant-moderator``.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

SETTINGS_MODULE = "papercrane.settings"


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    import django

    django.setup()


def _die_with_parent() -> None:
    """Ask Linux to stop the worker when the server exits, however it exits: uvicorn re-raises
    SIGTERM after its graceful shutdown, which ends the process before any ``finally`` runs."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="papercrane serve")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "1")))
    parser.add_argument(
        "--no-worker", action="store_true", help="do not start a background-task worker beside it"
    )
    parser.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    worker = None
    if not args.no_worker:
        worker = subprocess.Popen(
            [sys.executable, "-m", "papercrane.cli", "worker"], preexec_fn=_die_with_parent
        )
    try:
        if args.workers > 1 and hasattr(socket, "SO_REUSEPORT") and sys.platform == "linux":
            return _serve_in_processes(args.host, args.port, args.workers)
        return _serve_here(args.host, args.port, args.workers, reuse_port=args.reuse_port)
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)


def _serve_here(host: str, port: int, workers: int, *, reuse_port: bool = False) -> int:
    """Run uvicorn in this process (``workers`` > 1: uvicorn's own processes, sharing one
    socket). ``reuse_port``: on a socket of this process's own (``_serve_in_processes``)."""
    _setup_django()
    import uvicorn

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "workers": workers,
        "proxy_headers": False,
        "server_header": False,
        "lifespan": "off",
        # WebSockets: the sans-I/O implementation (the lightest per idle connection), no
        # compression (it halves a live room's fan-out rate and doubles the memory per
        # connection: frames are small JSON), and frames bounded well above the largest
        # a client may send (live chat's MAX_FRAME_CHARS).
        "ws": "websockets-sansio",
        "ws_per_message_deflate": False,
        "ws_max_size": 64 * 1024,
        "log_level": os.environ.get("PAPERCRANE_LOG_LEVEL", "info").lower(),
    }
    if not reuse_port:
        uvicorn.run(APPLICATION, **options)  # exits with STARTUP_FAILURE if it cannot start
        return 0
    try:
        sock = _reused_port(host, port)
    except OSError as error:
        print(f"papercrane serve: cannot listen on {host}:{port}: {error}", file=sys.stderr)
        return STARTUP_FAILURE
    server = uvicorn.Server(uvicorn.Config(APPLICATION, **options))
    server.run(sockets=[sock])
    return 0 if server.started else STARTUP_FAILURE


APPLICATION = "papercrane.asgi:application"
STARTUP_FAILURE = 3  # uvicorn's exit status when it could not start


def _reused_port(host: str, port: int) -> socket.socket:
    """A listening socket of this process's own on a port other processes listen on too."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _serve_in_processes(host: str, port: int, workers: int) -> int:
    """``workers`` server processes, each listening on its own socket of the same port
    (``SO_REUSEPORT``), so that the kernel spreads connections over them evenly. On one shared
    socket the first process to wake takes every waiting connection: a proxy's or a client's
    keep-alive connections, opened together, all went to one process while the other idled.
    A server that dies is replaced; one that cannot start (the port is taken) stops them all.
    """
    command = [sys.executable, "-m", "papercrane.cli", "serve", "--host", host, "--port",
               str(port), "--workers", "1", "--no-worker", "--reuse-port"]  # fmt: skip
    stopping: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda number, _frame: stopping.append(number))

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(command, preexec_fn=_die_with_parent)  # noqa: S603 - our own command

    servers = [start() for _ in range(workers)]
    status = 0
    while not stopping:
        for i, server in enumerate(servers):
            code = server.poll()
            if code == STARTUP_FAILURE:
                stopping.append(0)
                status = 1
            elif code is not None:
                servers[i] = start()
        time.sleep(0.2)
    for server in servers:
        server.send_signal(signal.SIGTERM)
    for server in servers:
        server.wait(timeout=30)
    return status


def worker(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="papercrane worker")
    parser.add_argument("--batch", action="store_true", help="run what is queued, then exit")
    args = parser.parse_args(argv)
    _setup_django()
    from django.conf import settings
    from django.core.management import call_command

    # Background work (exports, erasures, image variants, model training) yields the CPU to
    # the server answering people on the same machine.
    os.nice(settings.WORKER_NICE)
    if settings.REDIS_URL:
        # SimpleWorker runs jobs in this process: RQ's default forks a child per job, and
        # libvips (image processing) cannot run in a child forked from a process using it.
        call_command(
            "rqworker",
            "default",
            job_class="django_tasks_rq.Job",
            worker_class="rq.worker.worker_classes.SimpleWorker",
            burst=args.batch,
        )
    else:
        options = {"queue_name": "*", "batch": args.batch, "reload": False, "startup_delay": False}
        call_command("db_worker", **options)
    return 0


def _run_from_bench(command: str, prefix: str, argv: list[str]) -> int:
    """Run ``bench/<prefix><name>.py`` from the checkout; each prints one JSON line."""
    import importlib
    from pathlib import Path

    source_root = Path(__file__).resolve().parents[2]
    names = sorted(
        p.stem.removeprefix(prefix)
        for p in (source_root / "bench").glob(f"{prefix}[a-z]*.py")
        if prefix or not p.stem.startswith("eval_")
    )
    if not argv or argv[0] not in names:
        print(f"usage: papercrane {command} {{{','.join(names)}}} [options]", file=sys.stderr)
        return 2
    sys.path.insert(0, str(source_root))
    module = importlib.import_module(f"bench.{prefix}{argv[0]}")
    return int(module.main(argv[1:]))


def bench(argv: list[str]) -> int:
    """Run a benchmark from ``bench/``."""
    return _run_from_bench("bench", "", argv)


def evaluate(argv: list[str]) -> int:
    """Run an offline evaluation from ``bench/eval_*.py``."""
    return _run_from_bench("eval", "eval_", argv)


COMMANDS = {"serve": serve, "worker": worker, "bench": bench, "eval": evaluate}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in COMMANDS:
        return COMMANDS[args[0]](args[1:])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    from django.core.management import execute_from_command_line

    if args and not args[0].startswith("-"):
        args[0] = args[0].replace("-", "_")
    execute_from_command_line(["papercrane", *args])
    return 0


if __name__ == "__main__":
    sys.exit(main())
