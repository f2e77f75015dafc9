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
import select
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
    # The Unix socket on which the parent of ``--workers N`` deals this process its connections.
    parser.add_argument("--dealt-on", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    worker = None
    if not args.no_worker:
        worker = subprocess.Popen(
            [sys.executable, "-m", "papercrane.cli", "worker"], preexec_fn=_die_with_parent
        )
    try:
        if args.workers > 1 and sys.platform == "linux":  # Unix sockets of packets
            return _serve_in_processes(args.host, args.port, args.workers)
        return _serve_here(args.host, args.port, args.workers, dealt_on=args.dealt_on)
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)


def _serve_here(host: str, port: int, workers: int, *, dealt_on: int | None = None) -> int:
    """Run uvicorn in this process (``workers`` > 1, elsewhere than on Linux: uvicorn's own
    processes, sharing one socket), or on the connections dealt on the Unix socket
    ``dealt_on`` (by ``_serve_in_processes``)."""
    _setup_django()
    import uvicorn
    from django.conf import settings

    from papercrane.serving import DealtServer, WholeResponseProtocol

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "workers": workers,
        "proxy_headers": False,
        "server_header": False,
        "lifespan": "off",
        "http": WholeResponseProtocol,  # uvicorn's httptools, a response written in one go
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
    if dealt_on is None:
        uvicorn.run(APPLICATION, **options)  # exits with status 3 if it cannot start
        return 0
    DealtServer(uvicorn.Config(APPLICATION, **options), socket.socket(fileno=dealt_on)).run()
    return 0


# A server process that ends sooner than this after it started could not start (a setting
# or the code is wrong): starting it again would fail the same way, so they all stop.
MIN_SERVING_SECONDS = 60


def _serve_in_processes(host: str, port: int, workers: int) -> int:
    """``workers`` server processes behind this process's listening socket: each new
    connection is dealt to the next process in turn, over a Unix socket of its own (the
    connection's file descriptor passes, not its bytes), so each serves an equal share of
    the connections. The kernel's spreading (``SO_REUSEPORT``) hashes each connection's
    addresses instead: the 16 keep-alive connections of a proxy or a load test went 14 to
    one process and 2 to the other, as often as 8 and 8, and requests queued on the first
    while the second had time to spare. On one shared socket the first process to wake took
    them all. The listening socket is this process's, so a server that dies is replaced
    without losing the connections waiting there."""
    try:
        listening = _listening_socket(host, port)
    except OSError as error:
        print(f"papercrane serve: cannot listen on {host}:{port}: {error}", file=sys.stderr)
        return 1
    stopping: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda number, _frame: stopping.append(number))
    servers = [_start_dealt(host, port) for _ in range(workers)]
    status, turn = 0, 0
    while not stopping:
        turn = _deal(listening, [channel for _process, channel, _started in servers], turn)
        for i, (server, channel, started) in enumerate(servers):
            if server.poll() is None or stopping:
                continue
            channel.close()
            if time.monotonic() - started < MIN_SERVING_SECONDS:
                stopping.append(0)
                status = 1
            else:
                servers[i] = _start_dealt(host, port)
    # New connections are refused while the servers finish theirs; closing their channels
    # tells them to stop once they have taken what was dealt them.
    listening.close()
    for _server, channel, _started in servers:
        channel.close()
    _stop([server for server, _channel, _started in servers])
    return status


def _start_dealt(host: str, port: int) -> tuple[subprocess.Popen[bytes], socket.socket, float]:
    """A server process, the socket on which it is dealt connections, and when it started."""
    channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    serve = ["serve", "--host", host, "--port", str(port), "--workers", "1", "--no-worker"]
    command = [sys.executable, "-m", "papercrane.cli", *serve, "--dealt-on", str(theirs.fileno())]
    process = subprocess.Popen(  # noqa: S603 - our own command
        command, pass_fds=[theirs.fileno()], preexec_fn=_die_with_parent
    )
    theirs.close()
    channel.setblocking(False)
    return process, channel, time.monotonic()


DEAL_WAIT_SECONDS = 0.2  # how often the processes are checked on when no one connects
MAX_DEALT_AT_ONCE = 64  # then the processes are checked on (and a stop is heeded)
TAKE_WAIT_SECONDS = 5.0  # how long a connection waits for a process to take it


def _deal(listening: socket.socket, channels: list[socket.socket], turn: int) -> int:
    """Deal the connections waiting on ``listening`` (after waiting a little for one), each
    to the next of ``channels`` in turn that takes it; the turn to start from next time.
    A process that cannot take one (it is starting again, or its queue is full) is passed
    over; when none can, the connection waits for one that can, a few seconds at most."""
    ready, _, _ = select.select([listening], [], [], DEAL_WAIT_SECONDS)
    for _ in range(MAX_DEALT_AT_ONCE if ready else 0):
        try:
            connection, _address = listening.accept()
        except BlockingIOError:
            break
        except OSError as error:  # out of descriptors, or the client gave up: not fatal
            print(f"papercrane serve: cannot accept a connection: {error}", file=sys.stderr)
            time.sleep(DEAL_WAIT_SECONDS)
            break
        with connection:
            turn = _hand_over(connection, channels, turn)
    return turn % len(channels)


def _hand_over(connection: socket.socket, channels: list[socket.socket], turn: int) -> int:
    deadline = time.monotonic() + TAKE_WAIT_SECONDS
    while time.monotonic() < deadline:
        for _ in channels:
            channel, turn = channels[turn % len(channels)], turn + 1
            try:
                socket.send_fds(channel, [b"c"], [connection.fileno()])
                return turn
            except OSError:  # gone, or its queue is full: the next one
                continue
        select.select([], [c for c in channels if c.fileno() != -1], [], DEAL_WAIT_SECONDS)
    print("papercrane serve: no server process took a connection", file=sys.stderr)
    return turn


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)  # uvicorn's default backlog
    sock.setblocking(False)
    return sock


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
