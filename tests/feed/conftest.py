"""Notes and engagement for feed tests, made through the real services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from papercrane.accounts.models import Member
from papercrane.notes import services as note_services
from papercrane.notes.models import Note


@pytest.fixture
def post() -> Callable[..., Note]:
    def make(author: Member, title: str, **fields: Any) -> Note:
        return note_services.create_note(
            author=author, fields=note_services.NoteFields(title=title, **fields)
        )

    return make


@pytest.fixture
def crowd(make_member: Callable[..., Member]) -> list[Member]:
    """Members whose engagement teaches the co-engagement model."""
    return [make_member(f"fan{n}") for n in range(6)]
