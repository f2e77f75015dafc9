"""Shared fixtures: members, API clients and images made on the spot. No mocks of our own stack."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import caches

from papercrane.accounts import services
from papercrane.accounts.models import Member
from tests.helpers import PASSWORD, ApiClient


@pytest.fixture(autouse=True)
def _test_environment(settings: Any, tmp_path: Any) -> Iterator[None]:
    # Templates resolve static names without a collectstatic manifest; media go to a temp dir.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.MEDIA_ROOT = tmp_path / "media"
    # Embedding a note costs ~0.2 s of CPU: only the tests of semantic search turn it on.
    settings.SEMANTIC_SEARCH = False
    # What Explore showed is written at once, so a test reads what its requests recorded.
    settings.FEED_IMPRESSION_FLUSH_SECONDS = 0
    settings.CARD_SECONDS = 0  # and cards are read afresh (ids repeat across tests)
    settings.FEED_NEW_NOTES_SECONDS = 0  # a followed creator's new note shows at the next visit
    _clear_caches()  # rate-limit windows and visits must not leak between tests
    yield
    _clear_caches()


def _clear_caches() -> None:
    from papercrane.feed import queries as feed_queries
    from papercrane.feed import services as feed_services
    from papercrane.notes import discoverability

    for cache in caches.all():
        cache.clear()
    discoverability.reset()  # note ids repeat across tests
    feed_queries.forget_new_notes()
    feed_services.forget_staleness_check()


@pytest.fixture(autouse=True)
def _audit_log_emptied_after_transactional_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    """The audit log refuses deletes (a database trigger), which would stop Django emptying
    the tables after a transactional test on SQLite; lift the trigger for that alone."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or {
        "transactional_db",
        "live_server",
    } & set(request.fixturenames)
    if not transactional:
        yield
        return
    request.getfixturevalue("transactional_db")  # set up first, so this teardown runs first
    yield
    from django.db import connection

    if connection.vendor != "sqlite":
        return  # PostgreSQL empties tables with TRUNCATE, which row triggers do not see
    triggers = importlib.import_module("papercrane.moderation.migrations.0002_audit_append_only")

    with connection.cursor() as cursor:
        for statement in triggers.SQLITE_DROP:
            cursor.execute(statement)
        cursor.execute("DELETE FROM moderation_auditentry")
        for statement in triggers.SQLITE:
            cursor.execute(statement)


@pytest.fixture
def semantic_search(settings: Any) -> Iterator[None]:
    """Semantic search on, with each process's vector matrix loaded afresh."""
    from papercrane.search import semantic

    settings.SEMANTIC_SEARCH = True
    semantic.reset()
    yield
    semantic.reset()


@pytest.fixture
def api() -> ApiClient:
    return ApiClient()


@pytest.fixture
def make_member(db: None) -> Callable[..., Member]:
    def make(username: str, **fields: Any) -> Member:
        return services.create_member(username=username, password=PASSWORD, **fields)

    return make


@pytest.fixture
def alice(make_member: Callable[..., Member]) -> Member:
    return make_member("alice", display_name="Alice Wong")


@pytest.fixture
def bob(make_member: Callable[..., Member]) -> Member:
    return make_member("bob", display_name="小波", language="zh-Hans")


@pytest.fixture
def as_member() -> Callable[[Member], ApiClient]:
    def login(member: Member) -> ApiClient:
        return ApiClient(token=services.issue_token(member=member, name="tests").secret)

    return login
