"""Fixtures for engagement: a published note by Alice and a recorder for notifications."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from papercrane.accounts.models import Member
from papercrane.notes import services as note_services
from papercrane.notes.models import Note
from tests.helpers import ApiClient


@pytest.fixture
def make_note() -> Callable[..., Note]:
    def make(author: Member, title: str = "成都三日 citywalk", **fields: Any) -> Note:
        return note_services.create_note(
            author=author, fields=note_services.NoteFields(title=title, **fields)
        )

    return make


@pytest.fixture
def note(alice: Member, make_note: Callable[..., Note]) -> Note:
    return make_note(alice)


@pytest.fixture
def alices(alice: Member, as_member: Callable[[Member], ApiClient]) -> ApiClient:
    return as_member(alice)


@pytest.fixture
def bobs(bob: Member, as_member: Callable[[Member], ApiClient]) -> ApiClient:
    return as_member(bob)


@pytest.fixture
def notified(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Events handed to ``notifications.services.notify``, and comments handed to its
    ``discard_comment`` (both replaced by a recorder)."""
    from papercrane.notifications import services as notifications

    events: list[dict[str, Any]] = []

    def record(**event: Any) -> None:
        events.append(event)

    def discard(comment_id: int) -> None:
        events.append({"verb": "discarded", "comment_id": comment_id})

    monkeypatch.setattr(notifications, "notify", record, raising=False)
    monkeypatch.setattr(notifications, "discard_comment", discard, raising=False)
    return events
