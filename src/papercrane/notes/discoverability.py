"""Which notes everyone may discover, kept in each process between pages of Explore.

Every card of every page is checked against the visibility rules (``queries.discoverable_ids``).
Asked of the database for each page, that check was a statement of its own, and on
PostgreSQL each statement costs about as much as the rest of the page. Most cards are public
notes of public members, whom everyone may see. So each process keeps which notes everyone
may discover, with their authors (a block still hides them from the member blocked), and
asks the rules again, for the viewer, only about the notes it does not hold and those only
some may see (followers-only notes, private accounts, moderated or deleted notes).

What it holds is forgotten as soon as its note or author changes, whichever process or
statement changed it: the database logs every change that can change who sees a note
(``models.VisibilityChange``, written by triggers), and Explore's visit reads the log since
its last read in its own statement (``since_ms`` and ``forget``) before checking its page.
A change is read again for ``SLACK_MS`` after its stamp, as the transaction that made it may
commit after a read that started later; and nothing is held longer than ``HELD_SECONDS``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from papercrane.accounts.models import Member
from papercrane.notes import queries

HELD_SECONDS = 600.0
SIZE = 200_000  # notes held; past this the process starts afresh
SLACK_MS = 5_000
CHANGES_READ = 1_000  # changes read at once; a full read forgets everything
NOT_YET = 2**62  # no log read yet: ask for nothing, learn the database's clock

_lock = threading.Lock()
_held: dict[int, tuple[float, int | None]] = {}  # note -> (when read, author if for everyone)
_by_author: dict[int, set[int]] = {}
_since_ms = NOT_YET
_forgotten = 0  # counts the forgetting, so a read that raced one is not kept


def since_ms() -> int:
    """Where the next read of the log starts (the database's clock, in ms)."""
    return _since_ms


def forget(notes: Iterable[int], authors: Iterable[int], clock_ms: int, *, full: bool) -> None:
    """Apply a read of the log: forget the notes that changed and those of the members who
    did; ``full``: the read stopped at ``CHANGES_READ``, so forget everything. ``clock_ms``
    is the database's clock at the read."""
    global _since_ms, _forgotten
    notes, authors = set(notes), set(authors)
    with _lock:
        if full:
            _held.clear()
            _by_author.clear()
        for author_id in authors:
            notes |= _by_author.pop(author_id, set())
        for note_id in notes:
            _drop(note_id)
        if full or notes:
            _forgotten += 1
        _since_ms = clock_ms - SLACK_MS


def _drop(note_id: int) -> None:
    held = _held.pop(note_id, None)
    if held is not None and held[1] is not None:
        _by_author.get(held[1], set()).discard(note_id)


def reset() -> None:
    """Forget everything and read the log afresh (a new database, as in tests)."""
    global _since_ms
    with _lock:
        _held.clear()
        _by_author.clear()
        _since_ms = NOT_YET


def among(
    viewer: Member,
    note_ids: list[int],
    blocked: set[int],
    *,
    upcoming: Iterable[int] = (),
    read_ahead: int = 0,
) -> set[int]:
    """``queries.discoverable_ids(viewer, note_ids)`` as of the last read of the log, for a
    viewer whose ``blocked`` authors (either way) were read with it. ``upcoming``: notes
    likely asked about next (the rest of a visit); when some of ``note_ids`` must be read,
    up to ``read_ahead`` of those not held are read with them, so that a new process soon
    holds what its pages show rather than reading a few notes for each."""
    now = time.monotonic()
    found: dict[int, int | None] = {}
    missing = []
    for note_id in note_ids:
        held = _held.get(note_id)
        if held is not None and now - held[0] < HELD_SECONDS:
            found[note_id] = held[1]
        else:
            missing.append(note_id)
    if missing:
        wanted = dict.fromkeys(missing)
        for note_id in upcoming:
            if len(wanted) >= len(missing) + read_ahead:
                break
            if note_id not in _held:
                wanted[note_id] = None
        read = _read(list(wanted), now)
        found.update({note_id: read[note_id] for note_id in missing})
    visible = {n for n, author in found.items() if author is not None and author not in blocked}
    only_some = [note_id for note_id, author in found.items() if author is None]
    if only_some:
        visible |= queries.discoverable_ids(viewer, only_some)
    return visible


def _read(note_ids: list[int], now: float) -> dict[int, int | None]:
    """Whether everyone may discover each note (its author if so), kept for the next pages
    unless the log was applied meanwhile (what was read may predate that change)."""
    forgotten = _forgotten
    for_everyone = queries.discoverable_authors(None, note_ids)
    read = {note_id: for_everyone.get(note_id) for note_id in note_ids}
    with _lock:
        if forgotten != _forgotten:
            return read
        if len(_held) > SIZE:
            _held.clear()
            _by_author.clear()
        for note_id, author in read.items():
            _drop(note_id)
            _held[note_id] = (now, author)
            if author is not None:
                _by_author.setdefault(author, set()).add(note_id)
    return read
