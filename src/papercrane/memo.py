"""Values read from the database and kept in the process for a while, by key.

The same few thousand notes fill most pages of Explore and search: reading their cards (or
the titles a reason names) for every page costs more than the rest of the page. A memo keeps
what it read for ``seconds`` (a function, so settings changed at run time apply), reads only
what it does not hold, and starts afresh when it holds ``size`` values. Whether something may
be shown at all is never kept here: callers decide that on every request.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def with_upcoming(
    missing: list[K], upcoming: Iterable[K], read_ahead: int, held: Callable[[K], bool]
) -> list[K]:
    """What to read when ``missing`` must be read: those, then up to ``read_ahead`` of
    ``upcoming`` (the keys of the next pages) that are not ``held``, in the same read."""
    wanted = dict.fromkeys(missing)
    for key in upcoming:
        if len(wanted) >= len(missing) + read_ahead:
            break
        if not held(key):
            wanted[key] = None
    return list(wanted)


class Memo(Generic[K, V]):
    def __init__(self, seconds: Callable[[], float], size: int) -> None:
        self.seconds = seconds
        self.size = size
        self._held: dict[K, tuple[float, V]] = {}  # key -> (when read, value)

    def get_many(
        self,
        keys: Iterable[K],
        read: Callable[[list[K]], dict[K, V]],
        *,
        upcoming: Iterable[K] = (),
        read_ahead: int = 0,
    ) -> dict[K, V]:
        """The values of ``keys`` (those ``read`` finds), reading those not held or too old.
        ``upcoming``: keys likely asked for next (the rest of a list being paged through);
        when some of ``keys`` must be read, up to ``read_ahead`` of these that are not held
        are read with them: one read for the next pages, not one for each."""
        now, seconds = time.monotonic(), self.seconds()
        found: dict[K, V] = {}
        missing = []
        for key in keys:
            held = self._held.get(key)
            if held is not None and now - held[0] < seconds:
                found[key] = held[1]
            else:
                missing.append(key)
        if not missing:
            return found

        def fresh(key: K) -> bool:
            held = self._held.get(key)
            return held is not None and now - held[0] < seconds

        wanted = with_upcoming(missing, upcoming, read_ahead, fresh)
        if len(self._held) > self.size:
            self._held.clear()
        asked = set(missing)
        for key, value in read(wanted).items():
            self._held[key] = (now, value)
            if key in asked:
                found[key] = value
        return found
