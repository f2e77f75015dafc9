"""``papercrane bench engagement``: likes, collects and comments under a mixed concurrent load.

Setup goes through the HTTP API like a client would: members sign up and take tokens, and each
posts text-only notes (a few threads get a first comment). Then ``--clients`` keep-alive clients
run a fixed number of operations drawn at random (seeded) from the mix below, each as a random
member on a random note, and the benchmark prints one JSON line: throughput, latency overall
and per operation, and the p99 of the writes (like/unlike, collect/uncollect, comment).

    get_note 40%   like 20% (like or unlike)   collect 15% (collect or uncollect)
    get_comments 15%   comment 10%

Without ``--url`` it starts its own server (fresh SQLite data dir, or the PostgreSQL database
given with ``--database-url``, which must exist and be empty; rate limits off, since one
address and a few members make every request).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench._server import running_server

PASSWORD = "bench-crane-flies-2026"  # noqa: S105 - the password of throwaway bench accounts
MIX = {"get_note": 40, "like": 20, "collect": 15, "get_comments": 15, "comment": 10}
WRITES = frozenset({"like", "collect", "comment"})
BODIES = (
    "好看！收藏了",
    "Where is this?",
    "求地址 @",
    "太美了吧",
    "Saving this for my trip #travel",
)


@dataclass
class Fixture:
    tokens: list[str] = field(default_factory=list)
    note_ids: list[str] = field(default_factory=list)


def _ok(response: httpx.Response, *expected: int) -> httpx.Response:
    if response.status_code not in expected:
        raise RuntimeError(f"setup: {response.request.url} -> {response.status_code}")
    return response


async def _member(client: httpx.AsyncClient, name: str) -> str:
    await client.post("/api/v1/accounts", json={"username": name, "password": PASSWORD})
    response = await client.post(
        "/api/v1/auth/token", json={"username": name, "password": PASSWORD}
    )
    return str(_ok(response, 200).json()["access_token"])


async def _note(client: httpx.AsyncClient, token: str, number: int) -> str:
    headers = {"Authorization": f"Bearer {token}"}
    body = {"title": f"Bench note {number}", "body": f"第 {number} 篇 #bench"}
    note_id = str(
        _ok(await client.post("/api/v1/notes", json=body, headers=headers), 201).json()["id"]
    )
    if number % 4 == 0:
        comment = {"body": "first!"}
        path = f"/api/v1/notes/{note_id}/comments"
        _ok(await client.post(path, json=comment, headers=headers), 201)
    return note_id


async def setup(base_url: str, members: int, notes: int) -> Fixture:
    """Members, tokens and notes through the API, eight requests at a time."""
    prefix = secrets.token_hex(3)
    gate = asyncio.Semaphore(8)

    async def limited(coroutine: Any) -> Any:
        async with gate:
            return await coroutine

    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        tokens = await asyncio.gather(
            *(limited(_member(client, f"e{prefix}_{n}")) for n in range(members))
        )
        note_ids = await asyncio.gather(
            *(limited(_note(client, tokens[n % members], n)) for n in range(notes))
        )
    return Fixture(tokens=list(tokens), note_ids=list(note_ids))


def _request(kind: str, note_id: str, rng: random.Random) -> tuple[str, str, Any]:
    """Method, path and JSON body of one operation."""
    path = f"/api/v1/notes/{note_id}"
    if kind == "get_note":
        return "GET", path, None
    if kind == "get_comments":
        return "GET", f"{path}/comments", None
    if kind == "like":
        return rng.choice(("POST", "DELETE")), f"{path}/like", None
    if kind == "collect":
        return rng.choice(("POST", "DELETE")), f"{path}/collect", {}
    return "POST", f"{path}/comments", {"body": rng.choice(BODIES)}


def plan(fixture: Fixture, total: int, seed: int) -> list[tuple[str, str, str, str, Any]]:
    """``total`` operations drawn from ``MIX``: (kind, token, method, path, body)."""
    rng = random.Random(seed)
    kinds = rng.choices(list(MIX), weights=list(MIX.values()), k=total)
    operations = []
    for kind in kinds:
        token = rng.choice(fixture.tokens)
        method, path, body = _request(kind, rng.choice(fixture.note_ids), rng)
        operations.append((kind, token, method, path, body))
    return operations


async def drive(
    base_url: str, operations: list[tuple[str, str, str, str, Any]], clients: int
) -> tuple[list[tuple[str, float]], int, float]:
    """Run ``operations`` with ``clients`` concurrent keep-alive clients: the (kind, ms) of each,
    the number of failed responses and the elapsed seconds."""
    queue = iter(operations)
    samples: list[tuple[str, float]] = []
    errors = 0

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal errors
        for kind, token, method, path, body in queue:
            headers = {"Authorization": f"Bearer {token}"}
            start = time.perf_counter()
            response = await client.request(method, path, json=body, headers=headers)
            samples.append((kind, (time.perf_counter() - start) * 1000))
            errors += response.status_code >= 400

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return samples, errors, elapsed


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 1)


def figures(samples: list[tuple[str, float]], errors: int, elapsed: float) -> dict[str, Any]:
    latencies = [ms for _kind, ms in samples]
    by_operation = {
        kind: {
            "count": len(values),
            "p50_ms": _percentile(values, 0.50),
            "p99_ms": _percentile(values, 0.99),
        }
        for kind in MIX
        if (values := [ms for name, ms in samples if name == kind])
    }
    writes = [ms for kind, ms in samples if kind in WRITES]
    return {
        "operations": len(samples),
        "per_s": round(len(samples) / elapsed, 1),
        "p50_ms": _percentile(latencies, 0.50),
        "p99_ms": _percentile(latencies, 0.99),
        "errors": errors,
        "by_operation": by_operation,
        "writes_p99_ms": _percentile(writes, 0.99) if writes else None,
    }


def _server_pids(port: int) -> list[int]:
    """The local server process listening on ``port`` and its workers (Linux /proc), if any."""
    proc = Path("/proc")
    parents: dict[int, int] = {}
    master = None
    for entry in proc.iterdir() if proc.is_dir() else []:
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            parents[int(entry.name)] = int(
                (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
            )
        except (OSError, IndexError, ValueError):
            continue
        if b"serve" in argv and b"--port" in argv and str(port).encode() in argv:
            master = int(entry.name)
    if master is None:
        return []
    return [master, *(pid for pid, parent in parents.items() if parent == master)]


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of ``pids`` so far."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def measure(base_url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Set up, warm up, then time the operations; with the server's and this client's CPU time
    per operation (both share this machine's cores, so the client's share is not the server's)."""
    fixture = asyncio.run(setup(base_url, args.members, args.notes))
    warmup = plan(fixture, args.warmup, seed=args.seed + 1)
    asyncio.run(drive(base_url, warmup, args.clients))
    operations = plan(fixture, args.operations, args.seed)
    pids = _server_pids(httpx.URL(base_url).port or 80)
    server_before, client_before = _cpu_seconds(pids), time.process_time()
    result = figures(*asyncio.run(drive(base_url, operations, args.clients)))
    server_cpu, client_cpu = _cpu_seconds(pids) - server_before, time.process_time() - client_before
    return {
        **result,
        "server_cpu_ms_per_op": round(server_cpu * 1000 / len(operations), 2) if pids else None,
        "client_cpu_ms_per_op": round(client_cpu * 1000 / len(operations), 2),
        "cores": os.cpu_count(),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="papercrane bench engagement")
    parser.add_argument("--url", help="a running server (with rate limits off)")
    parser.add_argument("--database-url", help="run the own server on this (empty) PostgreSQL db")
    parser.add_argument(
        "--database", default=None, help="label for --url runs (sqlite or postgresql)"
    )
    parser.add_argument("--clients", type=int, default=32, help="concurrent HTTP clients")
    parser.add_argument("--operations", type=int, default=4000, help="operations to time")
    parser.add_argument("--warmup", type=int, default=400)
    parser.add_argument("--members", type=int, default=40)
    parser.add_argument("--notes", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="server processes (own server)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)

    if args.url:
        database = args.database or "unknown"
        result = measure(args.url, args)
    else:
        env = {"PAPERCRANE_RATELIMIT_ENABLED": "0"}
        if args.database_url:
            env["DATABASE_URL"] = args.database_url
        database = "postgresql" if args.database_url else "sqlite"
        with running_server(workers=args.workers, env=env) as url:
            result = measure(url, args)
    print(
        json.dumps(
            {
                "benchmark": "engagement",
                "database": database,
                "clients": args.clients,
                "server_workers": None if args.url else args.workers,
                **result,
            }
        )
    )
    return 0
