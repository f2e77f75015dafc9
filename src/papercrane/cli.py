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
import subprocess
import sys

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
    args = parser.parse_args(argv)
    _setup_django()
    import uvicorn

    worker = None
    if not args.no_worker:
        worker = subprocess.Popen(
            [sys.executable, "-m", "papercrane.cli", "worker"], preexec_fn=_die_with_parent
        )
    try:
        uvicorn.run(
            "papercrane.asgi:application",
            host=args.host,
            port=args.port,
            workers=args.workers,
            proxy_headers=False,
            server_header=False,
            lifespan="off",
            # WebSockets: the sans-I/O implementation (the lightest per idle connection), no
            # compression (it halves a live room's fan-out rate and doubles the memory per
            # connection: frames are small JSON), and frames bounded well above the largest
            # a client may send (live chat's MAX_FRAME_CHARS).
            ws="websockets-sansio",
            ws_per_message_deflate=False,
            ws_max_size=64 * 1024,
            log_level=os.environ.get("PAPERCRANE_LOG_LEVEL", "info").lower(),
        )
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
    return 0


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
