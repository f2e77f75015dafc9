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
APPLICATION = "papercrane.asgi:application"


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
    parser.add_argument("--fd", type=int, help=argparse.SUPPRESS)  # a socket to serve on
    args = parser.parse_args(argv)
    worker = None
    if not args.no_worker:
        worker = subprocess.Popen(
            [sys.executable, "-m", "papercrane.cli", "worker"], preexec_fn=_die_with_parent
        )
    try:
        if args.workers > 1 and hasattr(socket, "SO_REUSEPORT") and sys.platform == "linux":
            return _serve_in_processes(args.host, args.port, args.workers)
        return _serve_here(args.host, args.port, args.workers, fd=args.fd)
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)


def _serve_here(host: str, port: int, workers: int, *, fd: int | None = None) -> int:
    """Run uvicorn in this process (``workers`` > 1: uvicorn's own processes, sharing one
    socket), or on the listening socket ``fd`` (one of ``_serve_in_processes``')."""
    _setup_django()
    import uvicorn
    from django.conf import settings

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
        "access_log": settings.ACCESS_LOG,
    }
    if fd is None:
        uvicorn.run(APPLICATION, **options)  # exits with status 3 if it cannot start
        return 0
    server = uvicorn.Server(uvicorn.Config(APPLICATION, **options))
    server.run(sockets=[socket.socket(fileno=fd)])
    return 0


# A server process that ends sooner than this after it started could not start (a setting
# or the code is wrong): starting it again would fail the same way, so they all stop.
MIN_SERVING_SECONDS = 60


def _serve_in_processes(host: str, port: int, workers: int) -> int:
    """``workers`` server processes, each on a listening socket of its own on the same port
    (``SO_REUSEPORT``), so that the kernel spreads connections over them evenly. On one shared
    socket the first process to wake takes every waiting connection: a proxy's or a client's
    keep-alive connections, opened together, all went to one process while the other idled.
    The sockets are this process's, so a server that dies is replaced on its socket without
    losing the connections waiting there."""
    try:
        sockets = _listening_sockets(host, port, workers)
    except OSError as error:
        print(f"papercrane serve: cannot listen on {host}:{port}: {error}", file=sys.stderr)
        return 1
    stopping: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda number, _frame: stopping.append(number))

    def start(sock: socket.socket) -> tuple[subprocess.Popen[bytes], float]:
        fd = str(sock.fileno())
        command = [sys.executable, "-m", "papercrane.cli", "serve", "--host", host, "--port",
                   str(port), "--workers", "1", "--no-worker", "--fd", fd]  # fmt: skip
        process = subprocess.Popen(  # noqa: S603 - our own command
            command, pass_fds=[sock.fileno()], preexec_fn=_die_with_parent
        )
        return process, time.monotonic()

    servers = [start(sock) for sock in sockets]
    status = 0
    while not stopping:
        time.sleep(0.2)
        for i, (server, started) in enumerate(servers):
            if server.poll() is None or stopping:
                continue
            if time.monotonic() - started < MIN_SERVING_SECONDS:
                stopping.append(0)
                status = 1
            else:
                servers[i] = start(sockets[i])
    _stop([server for server, _started in servers])
    return status


def _listening_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` sockets bound to the port with ``SO_REUSEPORT``, once it is known that no
    one else listens there (a plain socket binds only to a port nobody holds, even one whose
    holders share it with ``SO_REUSEPORT``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    sockets = []
    for _ in range(count):
        sock = socket.socket(family)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(2048)  # uvicorn's default backlog
        sock.set_inheritable(True)
        sockets.append(sock)
    return sockets


def _stop(processes: list[subprocess.Popen[bytes]], seconds: float = 30) -> None:
    """Ask each process to finish what it is serving; end those still running after that."""
    for process in processes:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + seconds
    for process in processes:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
