"""A throwaway Papercrane database for in-process benchmarks and evaluations.

SQLite in a temporary data directory by default; with ``database_url`` (PostgreSQL), a fresh
database is created on that server for the run and dropped afterwards. With ``keep``, the
database is kept instead (SQLite: in the data directory ``keep``; PostgreSQL: the database
named ``keep``) and a later run given the same ``keep`` opens it again, so query changes can
be measured without loading a large corpus each time.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


@contextmanager
def throwaway_database(database_url: str | None = None, keep: str | None = None) -> Iterator[None]:
    with _data_dir(None if database_url else keep) as data_dir:
        os.environ["PAPERCRANE_DATA_DIR"] = data_dir
        os.environ["PAPERCRANE_RATELIMIT_ENABLED"] = "false"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "papercrane.settings")
        os.environ.pop("REDIS_URL", None)
        if database_url:
            with _postgres_database(database_url, keep) as url:
                os.environ["DATABASE_URL"] = url
                yield from _migrated()
        else:
            os.environ.pop("DATABASE_URL", None)
            yield from _migrated()


@contextmanager
def _data_dir(keep: str | None) -> Iterator[str]:
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        yield str(Path(keep).resolve())
        return
    with tempfile.TemporaryDirectory(prefix="papercrane-bench-") as data_dir:
        yield data_dir


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
def _postgres_database(server_url: str, keep: str | None) -> Iterator[str]:
    import psycopg

    if keep and not re.fullmatch(r"[a-z_][a-z0-9_]*", keep):
        raise ValueError("a kept PostgreSQL database needs a plain lower-case name")
    name = keep or f"papercrane_bench_{os.getpid()}"
    parts = urlsplit(server_url)
    with psycopg.connect(server_url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not keep:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if not (keep and exists):
            admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        if not keep:
            with psycopg.connect(server_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_settings() -> dict[str, str]:
    """What the figures ran on, as the database reports it: its version and, on PostgreSQL,
    the memory settings query times depend on."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            return {"version": str(cursor.fetchone()[0])}
        found = {}
        for name in ("server_version", "shared_buffers", "work_mem", "effective_cache_size"):
            cursor.execute(f"SHOW {name}")  # names from the tuple above
            found[name] = str(cursor.fetchone()[0])
        return found
