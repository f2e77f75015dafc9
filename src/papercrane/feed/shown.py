"""The notes Explore showed in this process and has not written yet.

A page records what it showed (``models.ShownDay``: the notes of a member's day, in order);
writing that in each request would cost every request a transaction. Pages add to this
buffer instead and ``services.flush_impressions`` writes it in one statement a second (and
at exit), on a thread the process keeps for it; the read path adds this process's pending
notes to what the database says was seen, so the next visit puts them last at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import date

logger = logging.getLogger(__name__)

_lock = threading.Lock()
# member -> day -> the notes shown, in order; by member, as each request reads its member's
_pending: dict[int, dict[date, list[int]]] = {}
# The flushing thread (``flush_later``), and what it is to run how long after something is due.
_due = threading.Event()  # set when something was added since the thread last took it all
_flusher: threading.Thread | None = None
_flush: Callable[[], object]  # set before the thread starts
_seconds = 1.0
POLL_SECONDS = 0.1  # how soon a shorter delay given meanwhile is seen


def add(member_id: int, note_ids: list[int], day: date) -> None:
    with _lock:
        _pending.setdefault(member_id, {}).setdefault(day, []).extend(note_ids)


def pending_for(member_id: int) -> set[int]:
    with _lock:
        return {note_id for notes in _pending.get(member_id, {}).values() for note_id in notes}


def take() -> dict[int, dict[date, list[int]]]:
    """Everything pending, emptying the buffer (what is added from now on gets a flush of
    its own, even while this one is being written)."""
    global _pending
    with _lock:
        taken, _pending = _pending, {}
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
    """Have ``flush`` run within ``seconds`` (both as last given), on the process's flushing
    thread, started at the first call.

    One thread for the life of the process, keeping its database connection, rather than a
    new thread and connection for every flush: making and closing them every second added
    half again to the flush (a busy second's flush on SQLite: 55 to 59 ms so, 31 to 39 ms on
    a connection kept)."""
    global _flusher, _flush, _seconds
    with _lock:
        _flush, _seconds = flush, seconds
        if _flusher is None or not _flusher.is_alive():
            _flusher = threading.Thread(target=_flushing, name="shown-flush", daemon=True)
            _flusher.start()
    _due.set()


def _flushing() -> None:
    while True:
        _due.wait()
        since = time.monotonic()
        while (left := since + _seconds - time.monotonic()) > 0:  # a second's pages, at once
            time.sleep(min(left, POLL_SECONDS))
        _due.clear()  # what is added from now on is taken now or sets it again
        try:
            _flush()
        except Exception:  # kept by the buffer for the next flush (``restore``)
            logger.exception("Explore's impressions could not be written; trying again")
            _due.set()
