"""Notes for search tests: posted through the notes service, indexed by the real worker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from papercrane.accounts.models import Member
from papercrane.cli import worker
from papercrane.notes import services as note_services
from papercrane.notes.models import Note


@pytest.fixture
def post() -> Callable[..., Note]:
    """Publish a text note as ``author``; ``index=False`` leaves the indexing task queued."""

    def make(author: Member, title: str, body: str = "", index: bool = True, **fields: Any) -> Note:
        note = note_services.create_note(
            author=author, fields=note_services.NoteFields(title=title, body=body, **fields)
        )
        if index:
            worker(["--batch"])
        return note

    return make
