"""A throwaway Papercrane database for in-process benchmarks and evaluations.

SQLite in a temporary data directory by default; with ``database_url`` (PostgreSQL), a fresh
database is created on that server for the run and dropped afterwards.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit


@contextmanager
def throwaway_database(database_url: str | None = None) -> Iterator[None]:
    with tempfile.TemporaryDirectory(prefix="papercrane-bench-") as data_dir:
        os.environ["PAPERCRANE_DATA_DIR"] = data_dir
        os.environ["PAPERCRANE_RATELIMIT_ENABLED"] = "false"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "papercrane.settings")
        os.environ.pop("REDIS_URL", None)
        if database_url:
            with _postgres_database(database_url) as url:
                os.environ["DATABASE_URL"] = url
                yield from _migrated()
        else:
            os.environ.pop("DATABASE_URL", None)
            yield from _migrated()


def _migrated() -> Iterator[None]:
    import django
    from django.core.management import call_command
    from django.db import connections

    django.setup()
    call_command("migrate", verbosity=0)
    try:
        yield
    finally:
        connections.close_all()


@contextmanager
def _postgres_database(server_url: str) -> Iterator[str]:
    import psycopg

    name = f"papercrane_bench_{os.getpid()}"
    parts = urlsplit(server_url)
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
