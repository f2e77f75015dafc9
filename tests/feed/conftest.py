"""Notes and engagement for feed tests, made through the real services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from papercrane.accounts import services as account_services
from papercrane.accounts.models import Member
from papercrane.engagement import services as engagement
from papercrane.feed import services
from papercrane.notes import services as note_services
from papercrane.notes.models import Note


@pytest.fixture
def alice(make_member: Callable[..., Member]) -> Member:
    """Alice lets Explore remember what it showed her and how long she read (off by default),
    so these tests see her impressions and reading time."""
    member = make_member("alice", display_name="Alice Wong")
    return account_services.update_profile(member=member, records_reading=True)


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


@pytest.fixture
def library(
    make_member: Callable[..., Member], post: Callable[..., Note], crowd: list[Member]
) -> dict[str, Note]:
    """Hiking notes engaged together, cooking notes engaged together, one note alone."""
    hiker, camper, cook = make_member("hiker"), make_member("camper"), make_member("cook")
    notes = {
        "trail": post(hiker, "Ridge trail at dawn", topics=["hiking"]),
        "boots": post(hiker, "Boots that lasted 1000 km", topics=["hiking"]),
        "tent": post(camper, "A tent for two", topics=["camping"]),
        "noodles": post(cook, "Hand-pulled noodles", topics=["cooking"]),
        "dumplings": post(cook, "Dumplings for a crowd", topics=["cooking"]),
        "lonely": post(cook, "Nobody reads this", topics=["misc"]),
    }
    for fan in crowd[:5]:
        for name in ("trail", "boots", "tent"):
            engagement.like_note(member=fan, note=notes[name])
    for fan in crowd[3:]:
        for name in ("noodles", "dumplings"):
            engagement.like_note(member=fan, note=notes[name])
    services.train()
    return notes
