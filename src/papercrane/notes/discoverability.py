"""Which notes everyone may discover, kept in each process between visits to Explore.

Every card of every page is checked against the visibility rules (``queries.discoverable_ids``).
Asked of the database for each page, that check was a statement of its own, and on
PostgreSQL each statement costs about as much as the rest of the page. Most cards are public
notes of public members, whom everyone may see. So each process keeps which notes everyone
may discover, with their authors (a block still hides them from the member blocked). The
first page of a visit reads from the database only the notes the process does not hold
(everyone's rules), and then, for the viewer's own rules, those that are not for everyone
(followers-only notes, private accounts, moderated or deleted notes).

What it holds is forgotten as soon as its note or author changes, whichever process or
statement changed it: the database logs every change that can change who sees a note
(``models.VisibilityChange``, written by triggers), and the visit reads the log from where
the process last read it, in its own statement (``log_position`` and ``forget``), before
checking its page. Where it goes on from is exact whatever order transactions commit in
(see ``VisibilityChange.seq``). A server restored from a dump without its triggers' rows
must be restarted; nothing is held longer than ``HELD_SECONDS`` anyway.

The log also names members whose tokens or Explore settings changed: what the process read
of a member before a read of the log named them is out of date (``mark`` and
``changed_since``), which lets Explore's first pages use a token the process checked before
(``api.auth.held_token``) and confirm it with the page's own read of the log.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from papercrane.accounts.models import Member
from papercrane.memo import with_upcoming
from papercrane.notes import queries

HELD_SECONDS = 600.0
SIZE = 200_000  # notes held; past this the process starts afresh
CHANGES_READ = 1_000  # changes read at once; a full read forgets everything
NOT_YET = 2**62  # no log read yet: ask for nothing, learn where the log stands

_lock = threading.Lock()
_held: dict[int, tuple[float, int | None]] = {}  # note -> (when read, author if for everyone)
_by_author: dict[int, set[int]] = {}
_position = NOT_YET
_forgotten = 0  # counts the reads of the log applied: a read that raced one is not kept
# The members the log named (their notes' audience, their settings or tokens changed), with
# the count of the read that last named them; and the count of the last read that forgot
# everything. What was read of a member before then is out of date (``changed_since``).
_members_named: dict[int, int] = {}
_everything_forgotten = 0
MEMBERS_NAMED = 100_000  # past this, the next read that names one forgets them all


def mark() -> int:
    """Where the process stands in the log's reads: what is read of a member after this
    is out of date once ``changed_since(member, mark)``."""
    return _forgotten


def changed_since(member_id: int, mark: int) -> bool:
    """Whether a read of the log applied after ``mark`` named the member (or everything)."""
    return _everything_forgotten > mark or _members_named.get(member_id, 0) > mark


def log_position() -> int:
    """Where the next read of the log starts (``VisibilityChange.seq``)."""
    return _position


def forget(
    notes: Iterable[int], authors: Iterable[int], *, read_from: int, next_from: int, full: bool
) -> None:
    """Apply a read of the log that started at ``read_from``: forget the notes that changed
    and those of the members who did; everything if the read was ``full`` (it stopped at
    ``CHANGES_READ``, or a table was emptied) or was the process's first (what it holds may
    have been read meanwhile by another thread, before changes this read does not see).
    ``next_from``: where the log stood for this read."""
    global _position, _forgotten, _everything_forgotten
    notes, authors = set(notes), set(authors)
    with _lock:
        _forgotten += 1
        if full or read_from == NOT_YET or len(_members_named) > MEMBERS_NAMED:
            _held.clear()
            _by_author.clear()
            _members_named.clear()
            _everything_forgotten = _forgotten
        for author_id in authors:
            notes |= _by_author.pop(author_id, set())
            _members_named[author_id] = _forgotten
        for note_id in notes:
            _drop(note_id)
        _position = next_from


def _drop(note_id: int) -> None:
    held = _held.pop(note_id, None)
    if held is None or held[1] is None:
        return
    notes = _by_author.get(held[1])
    if notes is not None:
        notes.discard(note_id)
        if not notes:
            del _by_author[held[1]]


def reset() -> None:
    """Forget everything and read the log afresh (a new database, as in tests)."""
    global _position, _forgotten, _everything_forgotten
    with _lock:
        _held.clear()
        _by_author.clear()
        _members_named.clear()
        _position = NOT_YET
        _forgotten += 1
        _everything_forgotten = _forgotten


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
    likely asked about next (those after this page, which the member's next visit starts
    from); when some of ``note_ids`` must be read, up to ``read_ahead`` of those not held
    are read with them, so that a new process soon holds what its pages show rather than
    reading a few notes for each visit."""
    now = time.monotonic()

    def fresh(note_id: int) -> bool:
        held = _held.get(note_id)
        return held is not None and now - held[0] < HELD_SECONDS

    found: dict[int, int | None] = {}
    missing = []
    for note_id in note_ids:
        held = _held.get(note_id)  # once: another thread may forget it meanwhile
        if held is not None and now - held[0] < HELD_SECONDS:
            found[note_id] = held[1]
        else:
            missing.append(note_id)
    if missing:
        read = _read(with_upcoming(missing, upcoming, read_ahead, fresh), now)
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
