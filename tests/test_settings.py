"""The embedded defaults: SQLite in WAL mode with immediate transactions, a private secret key."""

from __future__ import annotations

import stat

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


def test_production_defaults_are_safe() -> None:
    assert settings.DEBUG is False
    assert "*" not in settings.ALLOWED_HOSTS
    assert settings.PASSWORD_HASHERS == ["papercrane.accounts.hashers.Argon2idHasher"]
