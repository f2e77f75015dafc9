"""The models Explore learns, as plain numerical functions (no database here).

Co-engagement: an item-to-item model over who engaged with what. We use EASE (Steck, 2019),
a closed-form linear autoencoder that learns, for each note, how strongly engaging with it
predicts engaging with every other note; on public benchmarks it beats neighbourhood and
matrix-factorisation models while needing one matrix inversion. Only the most engaged notes
enter the model (the inversion is cubic in their number); each keeps its strongest
``NEIGHBOURS`` weights, which is what a request needs.

Ranking: a weighted sum of a handful of features of (member, candidate), its weights chosen
to maximise NDCG@20 on what members went on to engage with (see ``services.train_ranker``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

NEIGHBOURS = 200  # weights kept per note (of largest magnitude)
MIN_ENGAGERS = 2  # a note engaged with by one member says nothing about co-engagement
MAX_MODEL_NOTES = 8_000  # the Gram matrix and its inverse: 2 × 256 MB, ~10 s on 2 cores
# EASE's L2 regularisation, in units of the mean squared engagement weight (so it does not
# depend on how weights are scaled); tuned on a validation holdout of Last.fm.
L2_UNITS = 100.0


@dataclass(frozen=True)
class Interactions:
    """Engagement as coordinate lists: member, note and weight per (member, note) pair."""

    members: np.ndarray
    notes: np.ndarray
    weights: np.ndarray


def model_notes(data: Interactions, limit: int = MAX_MODEL_NOTES) -> np.ndarray:
    """The notes the co-engagement model covers: those with at least ``MIN_ENGAGERS``
    engagers, the most engaged first, at most ``limit``."""
    ids, engagers = np.unique(data.notes, return_counts=True)
    keep = engagers >= MIN_ENGAGERS
    ids, engagers = ids[keep], engagers[keep]
    order = np.argsort(-engagers, kind="stable")[:limit]
    return np.sort(ids[order])


def co_engagement(
    data: Interactions, *, l2_units: float = L2_UNITS, neighbours: int = NEIGHBOURS
) -> dict[int, list[tuple[int, float]]]:
    """For each modelled note, its strongest positive EASE weights ``(note_id, weight)``."""
    notes = model_notes(data)
    if len(notes) < 2:
        return {}
    column = np.searchsorted(notes, data.notes)
    inside = (column < len(notes)) & (notes[np.minimum(column, len(notes) - 1)] == data.notes)
    members, member_rows = np.unique(data.members[inside], return_inverse=True)
    matrix = sparse.csr_matrix(
        (data.weights[inside], (member_rows, column[inside])), shape=(len(members), len(notes))
    )
    gram = (matrix.T @ matrix).toarray().astype(np.float32)
    diagonal = np.diag_indices_from(gram)
    gram[diagonal] += l2_units * float(np.mean(data.weights[inside] ** 2))
    weights = np.linalg.inv(gram)
    del gram
    weights /= -np.diag(weights).copy()
    weights[diagonal] = 0.0
    return _strongest(weights, notes, neighbours)


def _strongest(
    weights: np.ndarray, notes: np.ndarray, neighbours: int
) -> dict[int, list[tuple[int, float]]]:
    """The ``neighbours`` weights of largest magnitude per note, negative ones included:
    dropping them (a note that predicts *against* another) costs more accuracy than keeping
    fewer positive ones."""
    count = min(neighbours, len(notes) - 1)
    top = np.argpartition(-np.abs(weights), count - 1, axis=1)[:, :count]
    result: dict[int, list[tuple[int, float]]] = {}
    for row, columns in enumerate(top):
        values = weights[row, columns]
        order = np.argsort(-values)
        kept = [
            (int(notes[columns[i]]), round(float(values[i]), 6)) for i in order if values[i] != 0
        ]
        if kept:
            result[int(notes[row])] = kept
    return result


# What each kind of engagement counts for: collecting says more than liking.
LIKE, COLLECT, COMMENT = 1.0, 2.0, 1.5


def engagement_count(likes: float, collects: float, comments: float) -> float:
    """A note's weighted engagement (popularity and trending), or one member's part in it."""
    return LIKE * likes + COLLECT * collects + COMMENT * comments


def engagement_weight(likes: int, collects: int, comments: int, dwell_ms: int) -> float:
    """How much one member's engagement with one note says about their taste; a long read
    says a little."""
    weight = engagement_count(min(likes, 1), min(collects, 1), min(comments, 1))
    if dwell_ms >= 8_000:
        weight += 0.5
    return math.log1p(weight)


# --- Ranking ---------------------------------------------------------------------------------

FEATURES = (
    "co_engagement",  # the member's co-engagement score, relative to their best candidate
    "co_rank",  # 1 / (1 + rank) among the member's co-engagement candidates
    "topic",  # affinity with the note's topics
    "author",  # affinity with the note's author (engaged with their notes before)
    "followed",  # from someone the member follows
    "social",  # engaged with by people the member follows (log count)
    "popularity",  # log engagement, relative to the most engaged note
    "trending",  # recent engagement velocity, relative to the top trending note
    "freshness",  # exp(-age / week)
    "same_language",  # written in the member's language
    "small_creator",  # author with under SMALL_CREATOR_FOLLOWERS followers
)
# Before the first training run: co-engagement leads, then what the member follows.
DEFAULT_WEIGHTS = {
    "co_engagement": 3.0,
    "co_rank": 2.0,
    "topic": 1.5,
    "author": 1.0,
    "followed": 1.5,
    "social": 0.5,
    "popularity": 0.8,
    "trending": 0.8,
    "freshness": 0.5,
    "same_language": 0.3,
    "small_creator": 0.0,
}


class Ranker:
    """Scores candidates from their features: a weighted sum, its weights learned by
    ``fit_ranker`` (the defaults until there is enough to learn from)."""

    def __init__(self, weights: dict[str, float] | None = None) -> None:
        self.weights = dict(DEFAULT_WEIGHTS if weights is None else weights)

    def vector(self) -> np.ndarray:
        return np.array([self.weights.get(name, 0.0) for name in FEATURES])

    def scores(self, rows: np.ndarray) -> np.ndarray:
        return rows @ self.vector() if len(rows) else np.zeros(0)


SEARCH_STEPS = (-1.0, -0.5, -0.25, 0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0)


def ndcg_at(scores: np.ndarray, labels: np.ndarray, groups: Sequence[int], k: int = 20) -> float:
    """Mean NDCG@k over groups (one group of rows per member)."""
    discount = 1 / np.log2(np.arange(2, k + 2))
    total, start = 0.0, 0
    for size in groups:
        group_scores, group_labels = scores[start : start + size], labels[start : start + size]
        start += size
        top = np.argsort(-group_scores, kind="stable")[:k]
        ideal = discount[: min(k, int(group_labels.sum()))].sum()
        if ideal:
            total += float(group_labels[top] @ discount[: len(top)]) / ideal
    return total / max(1, len(groups))


def fit_ranker(
    rows: np.ndarray, labels: np.ndarray, groups: Sequence[int], passes: int = 2
) -> tuple[Ranker, float]:
    """Coordinate ascent on NDCG@20 over members' held-out engagement (the metric Explore
    is judged by, optimised directly; Metzler & Croft's method for linear rankers). It starts
    from co-engagement alone, so a signal earns weight only by improving the order."""
    weights = {name: 0.0 for name in FEATURES}
    weights["co_engagement"] = 1.0
    best = ndcg_at(rows @ Ranker(weights).vector(), labels, groups)
    for _ in range(passes):
        for name in FEATURES:
            if name == "co_engagement":
                continue
            for step in SEARCH_STEPS:
                trial = {**weights, name: step}
                quality = ndcg_at(rows @ Ranker(trial).vector(), labels, groups)
                if quality > best + 1e-4:
                    weights, best = trial, quality
    return Ranker(weights), round(best, 4)
