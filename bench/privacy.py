"""``papercrane bench privacy``: a data export and an account erasure of a prolific member,
and what they do to the site's latency meanwhile.

The member has ``--notes`` published notes (indexed for search) carrying ``--photos`` photos:
small real JPEGs made with Pillow, each stored in media storage with one variant, their rows
bulk-inserted (the upload path would spend the run re-encoding). Other members post notes
for Explore and like and comment on the member's notes. Then:

* Explore (``GET /api/v1/feeds/explore``, through the Django test client in a second thread)
  is timed alone, for ``--requests`` requests;
* ``build_export`` and ``erase_member`` run one after the other while that thread keeps
  requesting Explore;

and one JSON line gives the export's seconds and zip size, the erasure's seconds, and the
Explore ``p50_ms`` / ``p99_ms`` before and during.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import multiprocessing
import os
import random
import threading
import time
import urllib.request
from typing import Any

from bench._django import throwaway_database
from bench._server import running_server

PASSWORD = "bench-crane-flies-2026"  # noqa: S105 - the password of throwaway bench accounts


def _percentile(sorted_ms: list[float], fraction: float) -> float | None:
    if not sorted_ms:
        return None
    return round(sorted_ms[min(len(sorted_ms) - 1, int(len(sorted_ms) * fraction))], 2)


def _figures(times: list[float]) -> dict[str, Any]:
    ordered = sorted(times)
    return {
        "requests": len(ordered),
        "p50_ms": _percentile(ordered, 0.5),
        "p99_ms": _percentile(ordered, 0.99),
    }


def _jpeg(rng: random.Random) -> tuple[bytes, bytes]:
    """A small photo with some structure (so each is distinct and compresses like one) and
    its 32-pixel WebP variant."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (96, 72), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        left, right = sorted(rng.randrange(96) for _ in range(2))
        top, bottom = sorted(rng.randrange(72) for _ in range(2))
        draw.rectangle((left, top, right, bottom), fill=tuple(rng.randrange(256) for _ in range(3)))
    original, variant = io.BytesIO(), io.BytesIO()
    image.save(original, format="JPEG", quality=85)
    image.resize((32, 24)).save(variant, format="WEBP", quality=80)
    return original.getvalue(), variant.getvalue()


def generate(notes: int, photos: int, others: int, seed: int) -> dict[str, Any]:
    """The member, their notes and photos, and other members around them."""
    from django.utils import timezone

    from papercrane.accounts import services as account_services
    from papercrane.engagement.models import Comment, Like
    from papercrane.media import storage
    from papercrane.media.models import Media
    from papercrane.notes.models import Note, NoteTopic, Topic
    from papercrane.search import services as search_services

    rng = random.Random(seed)
    member = account_services.create_member(
        username="prolific", password=PASSWORD, display_name="Prolific Poster"
    )
    crowd = [
        account_services.create_member(username=f"reader_{n}", password=PASSWORD)
        for n in range(others)
    ]
    now = timezone.now()
    topic = Topic.objects.create(name="harbour", key="harbour", note_count=notes)
    authored = Note.objects.bulk_create(
        [
            Note(
                author=member,
                title=f"Harbour walk {n}",
                body=f"Photos from walk number {n} along the harbour #harbour",
                language="en",
                published_at=now,
            )
            for n in range(notes)
        ],
        batch_size=500,
    )
    NoteTopic.objects.bulk_create(
        [NoteTopic(note=note, topic=topic) for note in authored], batch_size=500
    )
    Note.objects.bulk_create(
        [
            Note(
                author=crowd[n % len(crowd)],
                title=f"Another view {n}",
                body="A different harbour",
                language="en",
                published_at=now,
            )
            for n in range(max(200, notes // 5))
        ],
        batch_size=500,
    )
    rows = []
    for n in range(photos):
        original, variant = _jpeg(rng)
        sha256 = hashlib.sha256(original).hexdigest()
        name = storage.store(storage.original_name(sha256, "jpg"), original)
        variant_name = storage.store(storage.variant_name(sha256, 32), variant)
        rows.append(
            Media(
                owner=member,
                note=authored[n % len(authored)] if authored else None,
                position=n // max(1, len(authored)),
                status=Media.Status.READY,
                original=name,
                sha256=sha256,
                mime_type="image/jpeg",
                width=96,
                height=72,
                variants=[{"name": variant_name, "width": 32, "height": 24, "format": "webp"}],
            )
        )
    Media.objects.bulk_create(rows, batch_size=500)
    Like.objects.bulk_create(
        [Like(member=reader, note=note) for reader in crowd for note in authored[:50]],
        batch_size=500,
    )
    Comment.objects.bulk_create(
        [Comment(note=note, author=crowd[0], body="Lovely") for note in authored[:100]],
        batch_size=500,
    )
    search_services.reindex_all()
    token = account_services.issue_token(member=crowd[0], name="bench").secret
    return {"member_id": member.pk, "token": token}


def _explore(base_url: str, token: str, stop: threading.Event | None, count: int) -> list[float]:
    """Explore requests to the server one after another (until ``stop``, or ``count``)."""
    request = urllib.request.Request(  # noqa: S310 - the bench's own server on the loopback
        f"{base_url}/api/v1/feeds/explore?limit=20", headers={"Authorization": f"Bearer {token}"}
    )
    times: list[float] = []
    while (stop is None and len(times) < count) or (stop is not None and not stop.is_set()):
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            response.read()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _export_and_erase(member_id: int, results: Any) -> None:
    """In a process of its own at the worker's CPU priority, as ``papercrane worker`` runs
    them: build the member's export, then erase the member."""
    import django

    django.setup()
    from django.conf import settings

    os.nice(settings.WORKER_NICE)
    from django.core.files.storage import default_storage

    from papercrane.accounts.models import Member
    from papercrane.privacy import erasure, export
    from papercrane.privacy.models import ExportRequest

    member = Member.objects.get(pk=member_id)
    job = ExportRequest.objects.create(member=member, created_at=member.date_joined)
    results.put("ready")  # the site is timed from here: not while this process starts up
    started = time.perf_counter()
    export.build_export(job.pk)
    export_s = time.perf_counter() - started
    job.refresh_from_db()
    if not job.file_name:
        raise RuntimeError(f"the export failed: {job.failure_reason}")
    size = default_storage.size(job.file_name)
    started = time.perf_counter()
    erasure.erase_member(member.pk)
    results.put({"export_s": export_s, "size": size, "erase_s": time.perf_counter() - started})


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="papercrane bench privacy")
    parser.add_argument("--notes", type=int, default=1_000)
    parser.add_argument("--photos", type=int, default=5_000)
    parser.add_argument("--others", type=int, default=20, help="other members")
    parser.add_argument("--requests", type=int, default=200, help="Explore requests timed alone")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", help="a PostgreSQL server to use instead of SQLite")
    args = parser.parse_args(argv)

    os.environ["PAPERCRANE_SEMANTIC_SEARCH"] = "false"
    began = time.perf_counter()
    with throwaway_database(args.database_url):
        from django.db import connection

        started = time.perf_counter()
        fixture = generate(args.notes, args.photos, args.others, args.seed)
        load_s = round(time.perf_counter() - started, 1)
        vendor = connection.vendor
        connection.close()
        # The site as it runs: a server process (its worker left out: the job below plays it).
        env = {"PAPERCRANE_DATA_DIR": os.environ["PAPERCRANE_DATA_DIR"]}
        with running_server(env=env, fresh=False) as base_url:
            _explore(base_url, fixture["token"], None, 10)  # warm up: snapshots, caches, imports
            before = _explore(base_url, fixture["token"], None, args.requests)
            during: list[float] = []
            stop = threading.Event()
            reader = threading.Thread(
                target=lambda: during.extend(_explore(base_url, fixture["token"], stop, 0)),
                daemon=True,
            )
            spawn = multiprocessing.get_context("spawn")
            results = spawn.Queue()
            job = spawn.Process(target=_export_and_erase, args=(fixture["member_id"], results))
            job.start()
            try:
                if results.get(timeout=600) != "ready":
                    raise RuntimeError("the export and erasure process did not start")
                reader.start()
                figures = results.get(timeout=3600)
                job.join()
            finally:
                stop.set()
                if reader.ident is not None:
                    reader.join()
    result = {
        "benchmark": "privacy",
        "database": vendor,
        "notes": args.notes,
        "photos": args.photos,
        "load_s": load_s,
        "export_s": round(figures["export_s"], 2),
        "export_zip_mb": round(figures["size"] / 1_000_000, 2),
        "erase_s": round(figures["erase_s"], 2),
        "explore_before": _figures(before),
        "explore_during": _figures(during),
        "total_s": round(time.perf_counter() - began, 1),
    }
    print(json.dumps(result))
    return 0
