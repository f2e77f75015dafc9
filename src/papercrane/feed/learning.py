"""The models Explore learns, as plain numerical functions (no database here).

Co-engagement: an item-to-item model over who engaged with what. We use EASE (Steck, 2019),
a closed-form linear autoencoder that learns, for each note, how strongly engaging with it
predicts engaging with every other note; on public benchmarks it beats neighbourhood and
matrix-factorisation models while needing one matrix inversion. Only the most engaged notes
enter the model (the inversion is cubic in their number); each keeps its strongest
``NEIGHBOURS`` weights, which is what a request needs.

Ranking: gradient-boosted trees trained to rank (LambdaMART) over a handful of features of
(member, candidate), fitted on what members went on to engage with (see
``services.train_ranker``); a linear default until there is enough to learn from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

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


def engagement_weight(likes: int, collects: int, comments: int, dwell_ms: int) -> float:
    """How much one member's engagement with one note says about their taste: collecting
    says more than liking; a long read says a little."""
    weight = 1.0 * min(likes, 1) + 2.0 * min(collects, 1) + 1.5 * min(comments, 1)
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
    """Scores candidates from their features: a linear default until the first training run,
    then gradient-boosted trees trained to rank (LambdaMART, optimising NDCG@20 per member)."""

    def __init__(self, weights: dict[str, float] | None = None, trees: str = "") -> None:
        self.weights = weights or dict(DEFAULT_WEIGHTS)
        self.trees = trees
        self._booster: Any = None
        if trees:
            import lightgbm

            self._booster = lightgbm.Booster(model_str=trees)

    def scores(self, rows: np.ndarray) -> np.ndarray:
        if not len(rows):
            return np.zeros(0)
        if self._booster is not None:
            return np.asarray(self._booster.predict(rows, num_threads=1))
        return rows @ np.array([self.weights.get(name, 0.0) for name in FEATURES])


def fit_ranker(rows: np.ndarray, labels: np.ndarray, groups: list[int], seed: int = 0) -> Ranker:
    """LambdaMART over (member, candidate) rows, grouped by member: what matters is the order
    within each member's candidates, not a calibrated probability."""
    import lightgbm

    model = lightgbm.LGBMRanker(
        objective="lambdarank",
        n_estimators=150,
        learning_rate=0.05,
        num_leaves=15,
        min_child_samples=50,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.9,
        lambdarank_truncation_level=20,
        random_state=seed,
        n_jobs=1,
        verbose=-1,
    )
    model.fit(rows, labels, group=groups)
    return Ranker(trees=model.booster_.model_to_string())
