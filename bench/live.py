"""``papercrane bench live``: chat fan-out in one big live room, across two server processes.

Prepares a throwaway database (SQLite in a temporary data dir, or a fresh PostgreSQL database
with ``--database-url``) and a Redis database (``REDIS_URL``, default
``redis://127.0.0.1:6379/7``, flushed first), a host, ``--senders`` members old enough to be
past the new-account throttle and a live room. Starts two ``papercrane serve --no-worker``
processes on them, opens ``--clients`` WebSockets (split evenly across both; the senders
sign in with API tokens, the others read signed out, half in English, half in Chinese),
measures the servers' memory per idle connection, then sends chat at ``--rate`` messages
per second for ``--seconds`` seconds, each sender within the real per-member limit (20 a
minute), and times every ``chat.message`` frame from send to receipt.

    papercrane bench live --clients 1000
    papercrane bench live --clients 1000 --rate 25 --seconds 20
    papercrane bench live --clients 1000 --database-url postgres://postgres@127.0.0.1:5432/test

Prints one JSON line. The clients run in this process, on the same cores as the servers:
``client_cpu_s`` and ``server_cpu_s`` say how the CPU was shared during the send phase.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import math
import os
import random
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._django import _postgres_database
from bench._server import _free_port, _wait_until_healthy

SERVERS = 2
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/7"
PER_SENDER_PER_MINUTE = 18  # under the real limit of 20 a minute, with a margin
CONNECTING_AT_ONCE = 50
DRAIN_SECONDS = 5  # how long to wait for the last deliveries after the send phase
WORDS = (
    "hotpot",
    "tonight",
    "spicy",
    "broth",
    "noodles",
    "chengdu",
    "market",
    "tea",
    "dumplings",
    "pepper",
    "street",
    "lantern",
    "river",
    "bridge",
    "rain",
    "autumn",
    "music",
    "stage",
    "guitar",
    "drum",
    "crowd",
    "friends",
    "cheers",
    "recipe",
    "garlic",
    "ginger",
    "sesame",
    "chilli",
    "tofu",
    "mushroom",
    "lotus",
    "bamboo",
    "pickled",
    "smoky",
    "sweet",
    "sour",
    "crispy",
    "steamed",
    "noodle",
    "bowl",
    "table",
    "window",
    "evening",
    "morning",
    "weekend",
)
NONCE = re.compile(r"zq(\d+)")


def _log(message: str) -> None:
    print(f"[bench live {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- Data ---------------------------------------------------------------------------------------


@dataclass
class Fixture:
    room_id: int
    sender_tokens: list[str]


def prepare(senders: int) -> Fixture:
    """Migrate, then make the host, the senders (with API tokens) and a live room."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.contrib.auth.hashers import make_password
    from django.db import connections
    from django.utils import timezone

    from papercrane.accounts.models import Member
    from papercrane.accounts.services import issue_token
    from papercrane.live import services

    joined = timezone.now() - dt.timedelta(days=30)  # past the new-account throttle
    unusable = make_password(None)
    host = Member.objects.create(
        username="live_host", password=unusable, language="en", date_joined=joined
    )
    members = Member.objects.bulk_create(
        Member(
            username=f"live_sender_{n}",
            password=unusable,
            language="en" if n % 2 else "zh-Hans",
            date_joined=joined,
        )
        for n in range(senders)
    )
    tokens = [issue_token(member=m, name="bench").secret for m in members]
    room = services.create_room(host=host, title="Bench night", topic="bench")
    room = services.start_room(room=room, by=host)
    connections.close_all()
    return Fixture(room_id=room.pk, sender_tokens=tokens)


@contextlib.contextmanager
def environment(database_url: str | None, redis_url: str) -> Iterator[dict[str, str]]:
    """A data dir, a database and a flushed Redis db; yields the servers' environment."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    with tempfile.TemporaryDirectory(prefix="papercrane-bench-") as data_dir:
        env = {
            "PAPERCRANE_DATA_DIR": data_dir,
            "REDIS_URL": redis_url,
            "DJANGO_SETTINGS_MODULE": "papercrane.settings",
            "PAPERCRANE_LOG_LEVEL": "warning",
        }
        os.environ.update(env)
        if database_url:
            with _postgres_database(database_url, None) as url:
                os.environ["DATABASE_URL"] = url
                yield {**env, "DATABASE_URL": url}
        else:
            os.environ.pop("DATABASE_URL", None)
            yield env
    redis.Redis.from_url(redis_url).flushdb()


# --- Servers ------------------------------------------------------------------------------------


@contextlib.contextmanager
def servers(env: dict[str, str]) -> Iterator[list[tuple[int, subprocess.Popen[bytes]]]]:
    """Start the servers (their logs go to the data dir); stop them however the run ends."""
    papercrane = str(Path(sys.executable).with_name("papercrane"))
    started: list[tuple[int, subprocess.Popen[bytes]]] = []
    try:
        for n in range(SERVERS):
            port = _free_port()
            log = Path(env["PAPERCRANE_DATA_DIR"], f"server-{n}.log").open("wb")  # noqa: SIM115
            process = subprocess.Popen(
                [papercrane, "serve", "--no-worker", "--port", str(port)],
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            log.close()
            started.append((port, process))
        for port, process in started:
            _wait_until_healthy(f"http://127.0.0.1:{port}", process, seconds=60)
        yield started
    finally:
        for _port, process in started:
            if process.poll() is None:
                process.terminate()
        for _port, process in started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _status_kb(pid: int, field_name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- Clients ------------------------------------------------------------------------------------


@dataclass
class Tally:
    sent_at: dict[int, float] = field(default_factory=dict)
    held: set[int] = field(default_factory=set)
    refused: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    deliveries: int = 0
    joined: int = 0
    warm: int = 0
    recording: bool = False


async def client(
    url: str, token: str | None, tally: Tally, ready: asyncio.Event, sockets: list[Any], n: int
) -> None:
    from websockets.asyncio.client import connect
    from websockets.typing import Origin

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    origin = Origin(url.replace("ws://", "http://").split("/ws/", 1)[0])
    async with connect(
        url, additional_headers=headers, origin=origin, max_queue=None, open_timeout=60
    ) as socket:
        sockets[n] = socket
        ready.set()
        monotonic = time.monotonic
        sent_at = tally.sent_at
        latencies = tally.latencies_ms
        async for raw in socket:
            if not isinstance(raw, str):
                continue
            if raw.startswith('{"type":"chat.message"'):
                if not tally.recording:
                    tally.warm += 1
                else:
                    found = NONCE.search(raw)
                    if found is not None:
                        at = sent_at.get(int(found.group(1)))
                        if at is not None:
                            latencies.append((monotonic() - at) * 1000)
                            tally.deliveries += 1
            elif raw.startswith('{"type":"room.state"'):
                tally.joined += 1
            elif raw.startswith('{"type":"chat.ack"') and '"held":true' in raw:
                tally.held.add(int(json.loads(raw)["client_id"]))
            elif raw.startswith('{"type":"error"'):
                code = json.loads(raw).get("code", "?")
                tally.refused[code] = tally.refused.get(code, 0) + 1


async def open_clients(
    urls: list[str], tokens: list[str | None], tally: Tally
) -> tuple[list[asyncio.Task[None]], list[Any]]:
    """Open one WebSocket per token (None: signed out), the n-th on ``urls[n % len(urls)]``."""
    gate = asyncio.Semaphore(CONNECTING_AT_ONCE)
    sockets: list[Any] = [None] * len(tokens)
    tasks = []

    async def one(n: int, token: str | None) -> None:
        ready = asyncio.Event()
        url = urls[n % len(urls)]
        async with gate:
            task = asyncio.create_task(client(url, token, tally, ready, sockets, n))
            tasks.append(task)
            waiter = asyncio.create_task(ready.wait())
            await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
            if task.done():
                task.result()  # a connection that failed to open fails the run

    await asyncio.gather(*(one(n, token) for n, token in enumerate(tokens)))
    return tasks, sockets


def _text(rng: random.Random, nonce: int) -> str:
    return " ".join(rng.sample(WORDS, 6)) + f" zq{nonce}"


async def send_chat(senders: list[Any], tally: Tally, rate: float, seconds: float) -> int:
    """``rate`` messages a second for ``seconds``, sender after sender; how many were sent."""
    rng = random.Random(7)
    count = int(rate * seconds)
    interval = 1 / rate
    started = time.monotonic()
    for n in range(count):
        delay = started + n * interval - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        frame = json.dumps({"type": "chat.send", "text": _text(rng, n), "client_id": str(n)})
        tally.sent_at[n] = time.monotonic()
        await senders[n % len(senders)].send(frame)
    return count


async def run_clients(
    ports: list[int], fixture: Fixture, args: argparse.Namespace, pids: list[int]
) -> dict[str, Any]:
    tally = Tally()
    viewers = args.clients - len(fixture.sender_tokens)
    urls = {
        lang: [f"ws://127.0.0.1:{port}/ws/live/{fixture.room_id}/?lang={lang}" for port in ports]
        for lang in ("en", "zh-hans")
    }
    rss_before = sum(_status_kb(pid, "VmRSS") for pid in pids)
    started = time.monotonic()
    sender_tasks, senders = await open_clients(urls["en"], list(fixture.sender_tokens), tally)
    half = viewers // 2
    en_tasks, _ = await open_clients(urls["en"], [None] * half, tally)
    zh_tasks, _ = await open_clients(urls["zh-hans"], [None] * (viewers - half), tally)
    tasks = sender_tasks + en_tasks + zh_tasks
    deadline = time.monotonic() + 60
    while tally.joined < args.clients and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    if tally.joined < args.clients:
        raise RuntimeError(f"only {tally.joined} of {args.clients} clients joined the room")
    _log(f"{args.clients} clients in the room in {time.monotonic() - started:.1f} s")
    await asyncio.sleep(2)  # let the servers settle (presence updates, garbage)
    rss_after = sum(_status_kb(pid, "VmRSS") for pid in pids)

    # One message through each server first: the first chat a process screens loads the
    # moderation models, which is start-up cost, not fan-out.
    for n in range(len(ports)):
        await senders[n].send(json.dumps({"type": "chat.send", "text": f"hello {n}"}))
    while tally.warm < len(ports) * args.clients and time.monotonic() < deadline + 60:
        await asyncio.sleep(0.1)
    _log("servers warmed up")

    load_before = os.getloadavg()[0]
    client_cpu = resource.getrusage(resource.RUSAGE_SELF)
    server_cpu = sum(_cpu_seconds(pid) for pid in pids)
    tally.recording = True
    _log(f"sending {args.rate}/s for {args.seconds} s from {len(senders)} senders")
    sent = await send_chat(senders, tally, args.rate, args.seconds)
    send_done = time.monotonic()
    expected = lambda: (sent - len(tally.held)) * args.clients  # noqa: E731
    while tally.deliveries < expected() and time.monotonic() < send_done + DRAIN_SECONDS:
        await asyncio.sleep(0.05)
    elapsed = time.monotonic() - (send_done - args.seconds)
    client_after = resource.getrusage(resource.RUSAGE_SELF)
    server_cpu = sum(_cpu_seconds(pid) for pid in pids) - server_cpu
    peak_rss_kb = sum(_status_kb(pid, "VmHWM") for pid in pids)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    latencies = sorted(tally.latencies_ms)

    def percentile(fraction: float) -> float | None:
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * fraction))], 1)

    return {
        "messages_sent": sent,
        "held": len(tally.held),
        "refused": tally.refused,
        "deliveries": tally.deliveries,
        "deliveries_per_s": round(tally.deliveries / elapsed),
        "delivery_p50_ms": percentile(0.5),
        "delivery_p99_ms": percentile(0.99),
        "missing": expected() - tally.deliveries,
        "kb_per_idle_connection": round((rss_after - rss_before) / args.clients, 1),
        "peak_rss_mb": round(peak_rss_kb / 1024, 1),
        "client_cpu_s": round(
            client_after.ru_utime
            + client_after.ru_stime
            - client_cpu.ru_utime
            - client_cpu.ru_stime,
            2,
        ),
        "server_cpu_s": round(server_cpu, 2),
        "server_cpu_us_per_delivery": round(server_cpu / max(1, tally.deliveries) * 1e6, 1),
        "loadavg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def _layer_name() -> str:
    from django.conf import settings

    return str(settings.CHANNEL_LAYERS["default"]["BACKEND"]).rsplit(".", 1)[-1]


def _run(coroutine: Any) -> Any:
    """Run the clients on uvloop when it is installed (as the servers do)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="papercrane bench live")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=25, help="chat messages per second")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument(
        "--senders", type=int, default=0, help="members sending (default: enough for the rate)"
    )
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server to use")
    args = parser.parse_args(argv)
    needed = math.ceil(args.rate * 60 / PER_SENDER_PER_MINUTE)
    args.senders = args.senders or needed
    if args.senders < needed:
        parser.error(f"--rate {args.rate} needs at least {needed} senders (20 messages a minute)")
    if args.senders > args.clients:
        parser.error("--clients must be at least --senders")
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL

    def interrupted(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    with environment(args.database_url, redis_url) as env:
        _log("preparing the database")
        fixture = prepare(args.senders)
        layer = _layer_name()
        with servers(env) as started:
            ports = [port for port, _ in started]
            pids = [process.pid for _, process in started]
            _log(f"servers on ports {ports} ({layer})")
            figures = _run(run_clients(ports, fixture, args, pids))
    result = {
        "benchmark": "live",
        "clients": args.clients,
        "servers": SERVERS,
        "layer": layer,
        "rate": args.rate,
        "seconds": args.seconds,
        "senders": args.senders,
        **figures,
        "cores": os.cpu_count(),
        "database": "postgresql" if args.database_url else "sqlite",
    }
    print(json.dumps(result), flush=True)
    return 0
