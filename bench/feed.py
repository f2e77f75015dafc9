"""``papercrane bench feed``: Explore at scale, through HTTP, with concurrent clients.

Generates a community with power-law structure: ``--users`` members (creators' output and
members' activity both Zipfian), ``--notes`` published notes over the last 30 days, each under
a Zipfian primary #topic, follows drawn towards popular creators (about 20 per member), and
``--interactions`` (member, note) engagements: each member has two favourite topics and
engages mostly with popular notes in them, the rest with popular notes anywhere. Every
engagement is a like; 30 % are also collects. Rows are inserted in bulk (with the counters
set from them), not through the services: this measures reading, and the services' own
costs are measured by their benchmarks.

Then the precomputation runs as the jobs do (trending and fresh snapshots, the co-engagement
model over the newest interactions, the profiles of the members the load test uses, the
ranking model, and those members' ranked Explore, as the profile task stores it), a
server is started on the database (``papercrane serve``, one uvicorn process per core, no
task worker) and ``wrk`` requests ``GET /api/v1/feeds/explore`` as
``--tokens`` different members with ``--connections`` concurrent connections. Every request
is a new visit: it merges the member's stored ranking with what changed since and records
what it showed.

    papercrane bench feed --users 10000 --notes 100000 --interactions 1000000
    papercrane bench feed --users 100000 --notes 1000000 --interactions 10000000 --keep /tmp/feed

Prints one JSON line: load and precompute times, p50/p99 latency, requests per second and
the server's CPU time per request (the figure to compare on a machine shared with others).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench._django import database_settings, throwaway_database
from bench._server import Server, database_cpu_seconds, served

TOPICS = 2_000
FOLLOWS_PER_MEMBER = 20
FAVOURITE_SHARE = 0.7  # engagement within a member's favourite topics
COLLECT_SHARE = 0.3
SPAN_DAYS = 30
BATCH = 50_000


def _log(message: str) -> None:
    print(f"[bench feed {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _zipf_choice(rng: np.random.Generator, n: int, size: int, exponent: float = 1.1) -> np.ndarray:
    """Indices in [0, n) with P(i) ∝ 1 / (i + 1) ** exponent."""
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return np.searchsorted(np.cumsum(weights / weights.sum()), rng.random(size)).clip(0, n - 1)


def _insert(table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    from django.db import connection, transaction

    placeholders = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"  # noqa: S608
    for start in range(0, len(rows), BATCH):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows[start : start + BATCH])


def generate(rng: np.random.Generator, users: int, notes: int, interactions: int) -> None:
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone

    from papercrane.accounts.models import Member
    from papercrane.notes.models import Topic

    now = timezone.now()
    unusable = make_password(None)
    members = Member.objects.bulk_create(
        # Members let Explore remember what it showed them, so every request records it.
        (
            Member(username=f"feed_{n}", password=unusable, language="en", records_reading=True)
            for n in range(users)
        ),
        batch_size=5000,
    )
    member_ids = np.array([m.pk for m in members])
    topics = Topic.objects.bulk_create(
        (Topic(name=f"topic{n}", key=f"topic{n}") for n in range(TOPICS)), batch_size=2000
    )
    topic_ids = np.array([t.pk for t in topics])
    _log(f"{users} members, {TOPICS} topics")

    authors = member_ids[_zipf_choice(rng, users, notes, 1.0)]
    note_topics = _zipf_choice(rng, TOPICS, notes, 1.0)
    ages = rng.random(notes) * SPAN_DAYS * 86400
    languages = np.where(rng.random(notes) < 0.5, "zh-Hans", "en")
    first_id = _next_id("notes_note")
    rows = [
        (
            int(first_id + i), int(authors[i]), f"Note {i}", "", str(languages[i]), "published",
            "public", "", "", 0, 0, 0, 1, now - dt.timedelta(seconds=float(ages[i])),
            now, now - dt.timedelta(seconds=float(ages[i])), False, "", "",
        )
        for i in range(notes)
    ]  # fmt: skip
    _insert(
        "notes_note",
        [
            "id", "author_id", "title", "body", "language", "status", "visibility",
            "place_name", "place_city", "like_count", "collect_count", "comment_count",
            "version", "created_at", "updated_at", "published_at", "language_chosen",
            "moderation_rule", "moderation_state",
        ],
        rows,
    )  # fmt: skip
    note_ids = first_id + np.arange(notes)
    _insert(
        "notes_notetopic",
        ["note_id", "topic_id", "position"],
        [(int(note_ids[i]), int(topic_ids[note_topics[i]]), 0) for i in range(notes)],
    )
    _log(f"{notes} notes")

    # Follows: towards creators with many notes.
    creators = _zipf_choice(rng, users, users * FOLLOWS_PER_MEMBER, 1.0)
    followers = np.repeat(np.arange(users), FOLLOWS_PER_MEMBER)
    pairs = np.unique(np.stack([followers, creators], axis=1), axis=0)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    _insert(
        "accounts_follow",
        ["follower_id", "followee_id", "created_at"],
        [(int(member_ids[a]), int(member_ids[b]), now) for a, b in pairs.tolist()],
    )
    _log(f"{len(pairs)} follows")

    # Engagement: members' activity is Zipfian; popular notes within favourite topics.
    by_topic = np.argsort(note_topics, kind="stable")
    topic_start = np.searchsorted(note_topics[by_topic], np.arange(TOPICS + 1))
    actors = _zipf_choice(rng, users, interactions, 0.8)
    favourites = _zipf_choice(rng, TOPICS, users * 2, 1.0).reshape(users, 2)
    within = rng.random(interactions) < FAVOURITE_SHARE
    chosen_topic = favourites[actors, rng.integers(0, 2, interactions)]
    sizes = topic_start[chosen_topic + 1] - topic_start[chosen_topic]
    rank = np.floor(sizes * rng.random(interactions) ** 3).astype(np.int64)
    in_topic = by_topic[np.minimum(topic_start[chosen_topic] + rank, notes - 1)]
    anywhere = _zipf_choice(rng, notes, interactions, 0.9)
    targets = np.where(within & (sizes > 0), in_topic, anywhere)
    engaged = np.unique(actors.astype(np.int64) * notes + targets)
    actor_rows, note_rows = engaged // notes, engaged % notes
    times = [now - dt.timedelta(seconds=float(s)) for s in rng.random(len(engaged)) * 86400 * 7]
    order = rng.permutation(len(engaged))  # ids in time-ish random order, as likes arrive
    likes = [
        (int(member_ids[actor_rows[i]]), int(note_ids[note_rows[i]]), times[i])
        for i in order.tolist()
    ]
    _insert("engagement_like", ["member_id", "note_id", "created_at"], likes)
    collected = order[rng.random(len(order)) < COLLECT_SHARE]
    _insert(
        "engagement_collect",
        ["member_id", "note_id", "created_at"],
        [
            (int(member_ids[actor_rows[i]]), int(note_ids[note_rows[i]]), times[i])
            for i in collected
        ],
    )
    _log(f"{len(likes)} likes, {len(collected)} collects")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE notes_note SET like_count = (SELECT COUNT(*) FROM engagement_like l "
            "WHERE l.note_id = notes_note.id), collect_count = (SELECT COUNT(*) FROM "
            "engagement_collect c WHERE c.note_id = notes_note.id)"
        )
        cursor.execute(
            "UPDATE accounts_member SET follower_count = (SELECT COUNT(*) FROM accounts_follow "
            "f WHERE f.followee_id = accounts_member.id), following_count = (SELECT COUNT(*) "
            "FROM accounts_follow f WHERE f.follower_id = accounts_member.id)"
        )
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
    _log("counters set")


def _next_id(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608
        return int(cursor.fetchone()[0])


def forget_earlier_runs() -> None:
    """A kept database starts each run as generated: without the impressions (twenty a
    request) and the queued refreshes (no worker runs here) of the runs before, which would
    make every run slower than the last."""
    from django.db import connection
    from django_tasks_db.models import DBTaskResult

    from papercrane.feed.models import Impression, ShownDay

    tables = [model._meta.db_table for model in (ShownDay, Impression, DBTaskResult)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Emptied by TRUNCATE, whose tables PostgreSQL takes as of unknown size until
            # analysed. DELETE and then VACUUM ANALYZE recorded them as empty, and a statement
            # prepared in the first second of the run then read the member's seen lists by
            # scanning the whole table, which the run fills within a second: a plan a site
            # never keeps, as autovacuum analyses a table that grows (a test server may run
            # without autovacuum).
            cursor.execute(f"TRUNCATE {', '.join(tables)}")
            return
        for table in tables:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - model tables


def settle_after_precompute() -> None:
    """On PostgreSQL, what a site's background processes do after such writes, before the
    load test rather than during it: the precomputation rewrote the rankings, profiles and
    snapshots, so analyse them and reclaim their old rows (autovacuum would; a test server
    may run without it), and write the changed pages out (the checkpointer would, within
    minutes, in the middle of the run)."""
    from django.db import DatabaseError, connection

    from papercrane.feed.models import Neighbours, Profile, Ranking, Snapshot

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in (Ranking, Profile, Snapshot, Neighbours):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
        try:
            cursor.execute("CHECKPOINT")
        except DatabaseError:  # a role without pg_checkpoint: the run measures that too
            _log("CHECKPOINT refused: the checkpointer may write during the load test")


def precompute(sample: list[int]) -> dict[str, float]:
    from papercrane.feed import services

    timings = {}
    jobs = {
        "snapshots_s": services.refresh_snapshots,
        "neighbours_s": services.refresh_neighbours,
        "profiles_s": lambda: services.refresh_profiles(sample),
        "ranker_s": lambda: services.train_ranker(member_limit=500),
        "rankings_s": lambda: services.refresh_rankings(sample),
    }
    for name, job in jobs.items():
        started = time.perf_counter()
        job()
        timings[name] = round(time.perf_counter() - started, 1)
        _log(f"{name}: {timings[name]}")
    return timings


def tokens_for(member_ids: list[int]) -> list[str]:
    from papercrane.accounts import services
    from papercrane.accounts.models import Member

    return [
        services.issue_token(member=member, name="bench").secret
        for member in Member.objects.filter(pk__in=member_ids)
    ]


WRK_SCRIPT = """
local tokens = {}
for line in io.lines("%s") do tokens[#tokens + 1] = line end
local n = 0
request = function()
  n = n + 1
  local token = tokens[(n %% #tokens) + 1]
  local headers = {["Authorization"] = "Bearer " .. token}
  return wrk.format("GET", "/api/v1/feeds/explore?limit=20", headers)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%.3f %%.3f %%.3f\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, summary.duration, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.mean / 1000))
end
"""


def load_test(
    server: Server, tokens: list[str], connections: int, seconds: int, *, database: bool
) -> dict[str, Any]:
    """wrk's figures, and the server's CPU time per request (the machine may be shared, so
    throughput alone says little about the cost); ``database``: also the CPU time per
    request of a PostgreSQL server running on this machine (on the same cores)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("bench feed needs wrk (Debian package wrk)")
    with tempfile.TemporaryDirectory() as folder:
        token_file = Path(folder, "tokens.txt")
        token_file.write_text("\n".join(tokens))
        script = Path(folder, "explore.lua")
        script.write_text(WRK_SCRIPT % token_file)
        url = server.base_url
        command = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url]
        subprocess.run([*command[:3], "-d3s", *command[4:]], capture_output=True, check=True)
        cpu_before, database_before = server.cpu_seconds(), database_cpu_seconds()
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        cpu_s, database_after = server.cpu_seconds() - cpu_before, database_cpu_seconds()
    match = re.search(r"RESULT (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+)", output)
    if match is None:
        raise RuntimeError(output)
    requests, errors, micros = int(match[1]), int(match[2]), int(match[3])
    database_cpu = None
    if database and database_before is not None and database_after is not None:
        database_cpu = round((database_after - database_before) * 1000 / max(requests, 1), 2)
    return {
        "requests": requests,
        "errors": errors,
        "rps": round(requests / (micros / 1e6), 1),
        "p50_ms": float(match[4]),
        "p99_ms": float(match[5]),
        "mean_ms": float(match[6]),
        "server_cpu_ms_per_request": round(cpu_s * 1000 / max(requests, 1), 2),
        "database_cpu_ms_per_request": database_cpu,
        "connections": connections,
    }


def _on_this_machine(host: str) -> bool:
    """Whether the database server at ``host`` (as Django connects to it) is this machine's,
    over loopback or its Unix socket (a directory); its processes' CPU is then measured."""
    return host in {"", "localhost", "127.0.0.1", "::1"} or host.startswith("/")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="papercrane bench feed")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--notes", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=10_000_000)
    parser.add_argument("--tokens", type=int, default=1_000, help="distinct members requesting")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", help="a PostgreSQL server to use instead of SQLite")
    parser.add_argument(
        "--keep", metavar="NAME", help="keep the database and reuse it (see search)"
    )
    args = parser.parse_args(argv)

    began = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    # Generated notes have no real text to embed: the embedding-based bridge stays off.
    os.environ["PAPERCRANE_SEMANTIC_SEARCH"] = "false"
    with throwaway_database(args.database_url, args.keep):
        from django.conf import settings
        from django.db import connection

        from papercrane.accounts.models import Member

        load_s = None
        if not Member.objects.filter(username__startswith="feed_").exists():
            started = time.perf_counter()
            generate(rng, args.users, args.notes, args.interactions)
            load_s = round(time.perf_counter() - started, 1)
        active = list(
            Member.objects.filter(username__startswith="feed_", following_count__gt=0)
            .order_by("?")
            .values_list("pk", flat=True)[: args.tokens]
        )
        forget_earlier_runs()
        timings = precompute(active)
        settle_after_precompute()
        tokens = tokens_for(active)
        vendor, host = connection.vendor, connection.settings_dict["HOST"]
        database = database_settings()
        env = {
            "PAPERCRANE_DATA_DIR": str(settings.DATA_DIR),
            "PAPERCRANE_RATELIMIT_ENABLED": "false",
        }
        if os.environ.get("DATABASE_URL"):
            env["DATABASE_URL"] = os.environ["DATABASE_URL"]
        connection.close()
        with served(workers=os.cpu_count() or 1, env=env, fresh=False) as server:
            local = vendor == "postgresql" and _on_this_machine(host)
            figures = load_test(server, tokens, args.connections, args.seconds, database=local)
    result = {
        "benchmark": "feed",
        "database": vendor,
        "database_settings": database,
        "users": args.users,
        "notes": args.notes,
        "interactions": args.interactions,
        "load_s": load_s,
        "precompute_s": round(sum(timings.values()), 1),
        "precompute_parts_s": timings,
        **figures,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cores": os.cpu_count(),
        "total_s": round(time.perf_counter() - began, 1),
    }
    print(json.dumps(result))
    return 0
