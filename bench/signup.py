"""``papercrane bench signup``: signups per second through the HTTP API with concurrent clients.

Argon2id dominates a signup, so the ceiling on this machine is cores / single-hash time. The
benchmark prints that limit, and the rate the hasher reaches with one thread per core (Argon2 is
memory-bound, so that is lower), beside the measured rate. Without ``--url`` it starts its own
server (fresh SQLite data dir, rate limits off, since every request comes from one address).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import time
from typing import Any

import httpx

from bench._server import running_server

PASSWORD = "bench-crane-flies-2026"  # noqa: S105 - the password of throwaway bench accounts


def hasher_ms(samples: int = 30) -> float:
    """Median time of one hash with the project's own password hasher, in this process."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "papercrane.settings")
    from papercrane.accounts.hashers import Argon2idHasher

    hasher = Argon2idHasher()
    timings = []
    for _ in range(samples):
        start = time.perf_counter()
        hasher.encode(PASSWORD, hasher.salt())
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def parallel_hashes_per_s(threads: int, seconds: float = 3.0) -> float:
    """Hashes per second with one hashing thread per core: Argon2 is memory-bound, so two at
    once are each slower than one alone; this is the ceiling a server can really reach."""
    from concurrent.futures import ThreadPoolExecutor

    from papercrane.accounts.hashers import Argon2idHasher

    hasher = Argon2idHasher()
    deadline = time.perf_counter() + seconds

    def hash_until_deadline() -> int:
        count = 0
        while time.perf_counter() < deadline:
            hasher.encode(PASSWORD, hasher.salt())
            count += 1
        return count

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        total = sum(pool.map(lambda _: hash_until_deadline(), range(threads)))
    return total / (time.perf_counter() - started)


async def _drive(base_url: str, clients: int, total: int) -> tuple[list[float], int, float]:
    prefix = secrets.token_hex(3)
    counter = iter(range(total))
    latencies: list[float] = []
    errors = 0

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal errors
        for number in counter:
            body = {"username": f"b{prefix}_{number}", "password": PASSWORD}
            start = time.perf_counter()
            response = await client.post("/api/v1/accounts", json=body)
            latencies.append((time.perf_counter() - start) * 1000)
            errors += response.status_code != 201

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return latencies, errors, elapsed


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure(base_url: str, clients: int, total: int, warmup: int) -> dict[str, Any]:
    asyncio.run(_drive(base_url, clients, warmup))
    latencies, errors, elapsed = asyncio.run(_drive(base_url, clients, total))
    return {
        "per_s": round(total / elapsed, 1),
        "p50_ms": round(_percentile(latencies, 0.50), 1),
        "p99_ms": round(_percentile(latencies, 0.99), 1),
        "errors": errors,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="papercrane bench signup")
    parser.add_argument("--url", help="a running server (its signup rate limit must allow this)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--requests", type=int, default=600, help="signups to time")
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--workers", type=int, default=1, help="server processes (own server)")
    args = parser.parse_args(argv)

    hash_ms = hasher_ms()
    cores = os.cpu_count() or 1
    parallel_limit = parallel_hashes_per_s(cores)
    if args.url:
        figures = measure(args.url, args.clients, args.requests, args.warmup)
    else:
        with running_server(workers=args.workers, env={"PAPERCRANE_RATELIMIT_ENABLED": "0"}) as url:
            figures = measure(url, args.clients, args.requests, args.warmup)
    limit = cores / (hash_ms / 1000)
    result = {
        "benchmark": "signup",
        "clients": args.clients,
        "requests": args.requests,
        "server_workers": None if args.url else args.workers,
        **figures,
        "hash_ms": round(hash_ms, 2),
        "cores": cores,
        "limit_per_s": round(limit, 1),
        "share_of_limit": round(figures["per_s"] / limit, 3),
        "parallel_hash_per_s": round(parallel_limit, 1),
        "share_of_parallel_hash": round(figures["per_s"] / parallel_limit, 3),
    }
    print(json.dumps(result))
    return 0
