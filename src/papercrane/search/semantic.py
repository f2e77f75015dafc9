"""The semantic retriever: notes nearest a query in multilingual embedding space.

Each process keeps the notes' vectors in one float32 matrix and refreshes it with the rows
changed since it last looked (``NoteVector.updated_at``), at most every few seconds; a query is
one matrix-vector product. Deleted or hidden notes may linger in the matrix until the process
restarts: visibility is applied to the fused ranking afterwards, so they are never shown.

Brute force is right for the communities the embedded mode serves (100,000 notes: 150 MB and
~10 ms a query); far larger indexes want an approximate nearest-neighbour index instead.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import numpy as np
from django.conf import settings

from papercrane.language import embedding
from papercrane.search.models import NoteVector

REFRESH_SECONDS = 5.0
# Notes further than this below the best match are not kept. e5's similarities sit in a narrow
# band whose level depends on the languages (on XQuAD answers score ~0.90 within Chinese, ~0.79
# from Chinese questions to English notes), so no absolute floor works; this margin keeps
# 99.6% of the answers and drops the long tail (25 notes of 240 in the median).
SIMILARITY_MARGIN = 0.05


class VectorIndex:
    def __init__(self) -> None:
        self.ids = np.zeros(0, dtype=np.int64)
        self.matrix = np.zeros((0, embedding.DIMENSIONS), dtype=np.float32)
        self.rows: dict[int, int] = {}
        self.seen_until: dt.datetime | None = None
        self.checked_at = 0.0
        self.lock = threading.Lock()

    def refresh(self) -> None:
        """Fold in the vectors written since the last refresh."""
        if time.monotonic() - self.checked_at < REFRESH_SECONDS:
            return
        with self.lock:
            self.checked_at = time.monotonic()
            changed = NoteVector.objects.order_by("updated_at")
            if self.seen_until is not None:
                changed = changed.filter(updated_at__gte=self.seen_until)
            rows = [
                (note_id, bytes(vector), updated)
                for note_id, vector, updated in changed.values_list(
                    "note_id", "vector", "updated_at"
                )
            ]
            if rows:
                self._apply(rows)

    def _apply(self, rows: list[tuple[int, bytes, dt.datetime]]) -> None:
        new_ids = [note_id for note_id, _, _ in rows if note_id not in self.rows]
        if new_ids:
            start = len(self.ids)
            self.ids = np.concatenate([self.ids, np.asarray(new_ids, dtype=np.int64)])
            grown = np.zeros((len(self.ids), embedding.DIMENSIONS), dtype=np.float32)
            grown[:start] = self.matrix
            self.matrix = grown
            self.rows.update({note_id: start + i for i, note_id in enumerate(new_ids)})
        for note_id, vector, _ in rows:
            self.matrix[self.rows[note_id]] = embedding.from_bytes(vector)
        self.seen_until = rows[-1][2]

    def nearest(
        self,
        vector: np.ndarray,
        limit: int,
        leave_out: frozenset[int] = frozenset(),
        margin: float | None = SIMILARITY_MARGIN,
    ) -> list[tuple[int, float]]:
        """The ``limit`` nearest notes, best first; with ``margin``, only those within it of
        the best."""
        if not len(self.ids):
            return []
        scores = self.matrix @ vector
        for note_id in leave_out:
            if note_id in self.rows:
                scores[self.rows[note_id]] = -np.inf
        count = min(limit, len(scores))
        top = np.argpartition(-scores, count - 1)[:count]
        top = top[np.argsort(-scores[top], kind="stable")]
        floor = scores[top[0]] - margin if margin is not None else -np.inf
        return [
            (int(self.ids[i]), float(scores[i]))
            for i in top
            if scores[i] >= floor and np.isfinite(scores[i])
        ]


_INDEX = VectorIndex()


def reset() -> None:
    """Forget the loaded vectors; the next query reloads them all (tests, a restored backup)."""
    global _INDEX
    _INDEX = VectorIndex()


def like_notes(note_ids: list[int], limit: int) -> list[int]:
    """Ids of the notes nearest the average of these notes' embeddings (those not embedded
    are skipped), best first, the notes themselves left out. No margin: e5 rates notes in the
    notes' own language a little closer, and the other languages' nearest are wanted too."""
    if not settings.SEMANTIC_SEARCH or not note_ids:
        return []
    _INDEX.refresh()
    rows = [_INDEX.rows[note_id] for note_id in note_ids if note_id in _INDEX.rows]
    if not rows:
        return []
    centre = _INDEX.matrix[rows].mean(axis=0)
    centre /= np.linalg.norm(centre) or 1.0
    nearest = _INDEX.nearest(centre, limit, leave_out=frozenset(note_ids), margin=None)
    return [note_id for note_id, _ in nearest]


def nearest_notes(text: str, limit: int) -> list[tuple[int, float]]:
    """(note id, closeness) of the notes nearest ``text``, best first: 1 for the nearest,
    falling to 0 at ``SIMILARITY_MARGIN`` below it."""
    if not settings.SEMANTIC_SEARCH or not text.strip():
        return []
    _INDEX.refresh()
    if not len(_INDEX.ids):
        return []  # nothing embedded yet: spare the query's embedding
    nearest = _INDEX.nearest(embedding.query(text), limit)
    if not nearest:
        return []
    floor = nearest[0][1] - SIMILARITY_MARGIN
    return [(note_id, (score - floor) / SIMILARITY_MARGIN) for note_id, score in nearest]
