"""The notes Explore showed in this process and has not written yet.

A page records what it showed (``models.ShownDay``: the notes of a member's day, in order);
writing that in each request would cost every request a transaction. Pages add to this
buffer instead and ``services.flush_impressions`` writes it in one statement a second (and
at exit); the read path adds this process's pending notes to what the database says was
seen, so the next visit puts them last at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

_lock = threading.Lock()
# member -> day -> the notes shown, in order; by member, as each request reads its member's
_pending: dict[int, dict[date, list[int]]] = {}
_timer: threading.Timer | None = None


def add(member_id: int, note_ids: list[int], day: date) -> None:
    with _lock:
        _pending.setdefault(member_id, {}).setdefault(day, []).extend(note_ids)


def pending_for(member_id: int) -> set[int]:
    with _lock:
        return {note_id for notes in _pending.get(member_id, {}).values() for note_id in notes}


def take() -> dict[int, dict[date, list[int]]]:
    """Everything pending, emptying the buffer (what is added from now on gets a flush of
    its own, even while this one is being written)."""
    global _pending, _timer
    with _lock:
        taken, _pending, _timer = _pending, {}, None
    return taken


def restore(taken: dict[int, dict[date, list[int]]]) -> None:
    """Put back what could not be written, for the next flush (before what came since)."""
    with _lock:
        for member_id, days in taken.items():
            mine = _pending.setdefault(member_id, {})
            for day, notes in days.items():
                mine[day] = notes + mine.get(day, [])


def drop(member_id: int) -> None:
    """Forget what is pending for a member who turned the record off (or left)."""
    with _lock:
        _pending.pop(member_id, None)


def flush_later(seconds: float, flush: Callable[[], object]) -> None:
    """Run ``flush`` in ``seconds`` on a thread of its own, unless one is already due."""
    global _timer
    with _lock:
        if _timer is not None and _timer.is_alive():
            return
        _timer = threading.Timer(seconds, flush)
        _timer.daemon = True
        _timer.start()
