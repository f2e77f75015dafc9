"""Explore's lean ASGI route (``asgi.ExploreRoute``), through a real ``papercrane serve``: it
answers as the Django route does, and leaves everything else to Django."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from papercrane.accounts.models import ApiToken, Member
from papercrane.accounts.services import issue_token, revoke_token
from papercrane.engagement import services as engagement
from papercrane.feed.api import ExploreCardOut, ExplorePage
from papercrane.notes.models import Note
from tests.servers import SERVER_START_SECONDS, database_env, free_port, wait_healthy

pytestmark = pytest.mark.django_db(transaction=True)

SAME_HEADERS = (
    "Content-Type",
    "Content-Language",
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
)


@pytest.fixture
def server(transactional_db: None) -> Iterator[str]:
    """A ``papercrane serve`` on the test database; its base URL."""
    papercrane = str(Path(sys.executable).with_name("papercrane"))
    with tempfile.TemporaryDirectory(prefix="papercrane-test-") as data_dir:
        env = {
            **os.environ,
            "PAPERCRANE_DATA_DIR": data_dir,
            "PAPERCRANE_LOG_LEVEL": "warning",
            **database_env(Path(data_dir)),
        }
        port = free_port()
        command = [papercrane, "serve", "--no-worker", "--port", str(port)]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
        try:
            wait_healthy(port, process, time.monotonic() + SERVER_START_SECONDS)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=10)


def fetch(url: str, **headers: str) -> tuple[int, Any, bytes]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture
def token(alice: Member, library: dict[str, Note]) -> str:
    # Alice's record of what she read is off: two visits then see the same list.
    Member.objects.filter(pk=alice.pk).update(records_reading=False)
    engagement.like_note(member=alice, note=library["trail"])
    return issue_token(member=alice, name="test").secret


def test_the_lean_route_answers_as_the_django_route(server: str, token: str) -> None:
    url = f"{server}/api/v1/feeds/explore?limit=3"
    bearer = {"Authorization": f"Bearer {token}"}
    status, lean_headers, lean = fetch(url, **bearer)
    # A cookie sends the same request through Django (sessions are its business).
    django_status, django_headers, body = fetch(url, **bearer, Cookie="papercrane_language=en")
    assert status == django_status == 200
    assert json.loads(lean)["items"] == json.loads(body)["items"]  # cursors name each visit
    assert "Cookie" not in lean_headers["Vary"] and "Cookie" in django_headers["Vary"]
    for header in SAME_HEADERS:
        assert lean_headers[header] == django_headers[header], header
    page = json.loads(lean)
    assert list(page) == list(ExplorePage.model_fields)  # the documented shape
    assert all(list(item) == list(ExploreCardOut.model_fields) for item in page["items"])
    assert page["items"][0]["why"]["kind"] == "liked" and page["items"][0]["reason"]
    _status, _headers, following = fetch(f"{url}&cursor={page['next_cursor']}", **bearer)
    second = {item["id"] for item in json.loads(following)["items"]}
    assert second and not second & {item["id"] for item in page["items"]}


def test_the_lean_route_leaves_errors_and_visitors_to_django(server: str, token: str) -> None:
    explore = f"{server}/api/v1/feeds/explore"
    status, headers, body = fetch(explore, Authorization="Bearer not-a-token")
    assert status == 401 and headers["Content-Type"] == "application/problem+json"
    assert headers["WWW-Authenticate"] == "Bearer"
    assert json.loads(body)["type"] == "urn:papercrane:problem:unauthorized"
    for query in ("limit=0", "limit=abc", "cursor=forged"):
        status, headers, body = fetch(f"{explore}?{query}", Authorization=f"Bearer {token}")
        assert status == 422 and headers["Content-Type"] == "application/problem+json", query
    status, _headers, body = fetch(explore)  # a visitor
    assert status == 200 and {item["why"]["kind"] for item in json.loads(body)["items"]} <= {
        "trending",
        "new_creator",
        "language",
    }


def test_a_revoked_token_is_refused_at_once(server: str, alice: Member) -> None:
    issued = issue_token(member=alice, name="soon gone")
    url = f"{server}/api/v1/feeds/explore"
    for _ in range(2):  # the second page uses the token as the process holds it
        assert fetch(url, Authorization=f"Bearer {issued.secret}")[0] == 200
    assert revoke_token(member=alice, token_id=issued.token.pk)
    assert fetch(url, Authorization=f"Bearer {issued.secret}")[0] == 401
    other = issue_token(member=alice, name="deleted")
    assert fetch(url, Authorization=f"Bearer {other.secret}")[0] == 200
    ApiToken.objects.filter(pk=other.token.pk).delete()
    assert fetch(url, Authorization=f"Bearer {other.secret}")[0] == 401


def test_settings_changed_anywhere_apply_at_the_next_page(server: str, token: str) -> None:
    url = f"{server}/api/v1/feeds/explore"
    status, headers, body = fetch(url, Authorization=f"Bearer {token}")
    assert status == 200 and headers["Content-Language"] == "en"
    assert "liked" in {item["why"]["kind"] for item in json.loads(body)["items"]}
    # As another process, or an operator, would: no service of this one is told.
    Member.objects.filter(username="alice").update(feed_personalized=False, language="zh-Hans")
    status, headers, body = fetch(url, Authorization=f"Bearer {token}")
    assert status == 200 and headers["Content-Language"] == "zh-hans"
    kinds = {item["why"]["kind"] for item in json.loads(body)["items"]}
    assert kinds <= {"trending", "new_creator", "language"}
