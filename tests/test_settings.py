"""The embedded defaults: SQLite in WAL mode with immediate transactions, a private secret key."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode_with_immediate_transactions() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("embedded mode only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone()[0] == 1
    assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_generated_secret_key_is_kept_private() -> None:
    key_file = settings.DATA_DIR / "secret_key"
    if not key_file.exists():
        pytest.skip("PAPERCRANE_SECRET_KEY is set")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().strip() == settings.SECRET_KEY
    assert len(settings.SECRET_KEY) >= 50


# Waits for a moment given on the command line, then reads the settings (which make the key).
READ_KEY_AT = """
import importlib, sys, time
import django.conf, secrets
time.sleep(max(0.0, float(sys.argv[1]) - time.time()))
print(importlib.import_module("papercrane.settings").SECRET_KEY)
"""


def test_processes_starting_together_share_one_whole_key(tmp_path: Path) -> None:
    """Servers started at once on a new data dir must all read the same, complete key."""
    env = {k: v for k, v in os.environ.items() if k != "PAPERCRANE_SECRET_KEY"}
    env["PAPERCRANE_DATA_DIR"] = str(tmp_path)
    at = str(time.time() + 3)  # after every process has started and imported what it needs
    starting = [
        subprocess.Popen(
            [sys.executable, "-c", READ_KEY_AT, at], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(12)
    ]
    keys = {process.communicate(timeout=120)[0].strip() for process in starting}
    assert len(keys) == 1 and len(keys.pop()) >= 50
    assert [path.name for path in tmp_path.glob("secret_key*")] == ["secret_key"]


def test_production_defaults_are_safe() -> None:
    assert settings.DEBUG is False
    assert "*" not in settings.ALLOWED_HOSTS
    assert settings.PASSWORD_HASHERS == ["papercrane.accounts.hashers.Argon2idHasher"]
