"""Offline evaluation of a recommendation feed on HetRec 2011 Last.fm (``lastfm-2k``).

Members are Last.fm users, notes are artists, engagement is the listening count. This module
loads the data, splits the listening pairs into train and test (random or by date), scores any
feed with the same metrics, and fits well-tuned baselines a feed has to beat: popularity,
item-kNN, EASE and implicit ALS. Everything ranks the *whole* catalogue, never sampled
negatives, and never recommends what a member already listened to in train.

    data = load_lastfm(Path("../shared/data/lastfm-2k"))
    split = random_split(data, seed=1)
    figures = evaluate({user_id: [artist_id, ...], ...}, split)   # a feed's top 20 per member
    reference = baselines(split, seed=1)                           # {"ease": {...}, ...}

Hyper-parameters are tuned on a random validation holdout carved out of train
(:func:`validation_split`), then refitted on the whole train; test is touched once.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import scipy.linalg
import scipy.sparse as sp

log = logging.getLogger(__name__)

K = 20
MIN_ITEMS = 5  # members who listened to fewer artists keep them all in train and are not scored
# A few tag dates fall in 1956-1979, decades before Last.fm existed: they are typos, not history.
FIRST_PLAUSIBLE_DATE = date(2002, 1, 1)

Params = dict[str, Any]
Scorer = Callable[[np.ndarray], np.ndarray]  # member rows -> dense (rows × catalogue) scores


# --- Data -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plays:
    """Listening counts, one entry per (user, artist) pair, in file order."""

    user: np.ndarray
    artist: np.ndarray
    weight: np.ndarray


class TagAssignment(NamedTuple):
    """One user putting one tag on one artist, on a day (month-grained: the day is mostly 1)."""

    user: int
    artist: int
    tag: int
    date: date


@dataclass(frozen=True)
class LastFm:
    """The data set as published, ids untouched."""

    users: np.ndarray  # sorted ids of everyone who listens, tags or has a friend
    artists: dict[int, str]
    plays: Plays
    friends: np.ndarray  # (n, 2) user id pairs; the file lists each friendship both ways
    tags: dict[int, str]
    tagged: list[TagAssignment]
    undated_tag_rows: int  # tag assignments dropped because day/month/year is not a date


def load_lastfm(path: Path) -> LastFm:
    """Read the HetRec files as they are; only impossible calendar dates are dropped."""
    plays = _int_table(path / "user_artists.dat")
    friends = np.unique(_int_table(path / "user_friends.dat"), axis=0)
    tag_rows = _int_table(path / "user_taggedartists.dat")
    tagged = list(_tag_assignments(tag_rows))
    users = np.unique(np.concatenate([plays[:, 0], friends.ravel(), tag_rows[:, 0]]))
    return LastFm(
        users=users,
        artists=_names(path / "artists.dat", encoding="utf-8"),
        plays=Plays(user=plays[:, 0], artist=plays[:, 1], weight=plays[:, 2]),
        friends=friends,
        tags=_names(path / "tags.dat", encoding="latin-1"),
        tagged=tagged,
        undated_tag_rows=len(tag_rows) - len(tagged),
    )


def _int_table(path: Path) -> np.ndarray:
    return np.loadtxt(path, dtype=np.int64, delimiter="\t", skiprows=1, ndmin=2)


def _names(path: Path, encoding: str) -> dict[int, str]:
    """First two columns, id and name (artists.dat also carries URLs we do not need)."""
    lines = path.read_text(encoding=encoding).splitlines()[1:]
    return {int(fields[0]): fields[1] for fields in (line.split("\t") for line in lines if line)}


def _tag_assignments(rows: np.ndarray) -> Iterable[TagAssignment]:
    for user, artist, tag, day, month, year in rows.tolist():
        try:
            when = date(year, month, day)
        except ValueError:
            continue
        yield TagAssignment(user, artist, tag, when)


# --- Splits ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """Listening pairs in a contiguous index space: rows are members, columns artists.

    ``items`` is the whole catalogue, including artists nobody listens to in train, so that
    coverage and full-catalogue ranking are over every artist. ``test[row]`` holds the held-out
    column indices of that member (empty: the member is not scored).
    """

    users: np.ndarray
    items: np.ndarray
    train: sp.csr_matrix  # listening counts
    test: list[np.ndarray]

    def test_rows(self) -> np.ndarray:
        """The rows of the members who are scored."""
        return np.flatnonzero([len(held) > 0 for held in self.test])


def random_split(
    data: LastFm, seed: int, test_share: float = 0.2, min_items: int = MIN_ITEMS
) -> Split:
    """Hold out a random ``test_share`` of each member's artists (members with ≥ ``min_items``)."""
    users, items, plays = _play_matrix(data)
    held = _random_holdout(plays, np.random.default_rng(seed), test_share, min_items)
    return _separate(users, items, plays, held)


def temporal_split(data: LastFm, test_share: float = 0.2, min_items: int = MIN_ITEMS) -> Split:
    """Hold out each member's most recently *discovered* artists.

    Listening counts carry no time, so a (member, artist) pair is dated by the first time that
    member tagged that artist: the earliest evidence that they knew it. Per member, the dated
    pairs are sorted by that date and the latest ``test_share`` of them (at least one) go to
    test. Dates are month-grained (the day is almost always 1), so pairs sharing the boundary
    month go to test too: every dated pair left in a member's train is strictly older than all
    of their test pairs. Undated pairs (about 4 in 5: members mostly tag other artists than
    the ones they play most) stay in train: they are the member's profile, with no date to
    leak. Members with fewer than ``min_items`` artists, no dated pair, or nothing left in
    train after the cut are not scored.

    Limits, stated rather than hidden: the boundary is per member, so other members' pairs
    dated later still shape the model (as they would for a feed retrained nightly); and the
    counts themselves are totals collected up to 2011.
    """
    users, items, plays = _play_matrix(data)
    return _separate(
        users,
        items,
        plays,
        _latest_holdout(plays, _pair_dates(data, users, items), test_share, min_items),
    )


def validation_split(
    split: Split, seed: int, share: float = 0.2, min_items: int = MIN_ITEMS
) -> Split:
    """A random holdout of ``split.train``, to tune hyper-parameters without seeing test."""
    held = _random_holdout(split.train, np.random.default_rng(seed), share, min_items)
    return _separate(split.users, split.items, split.train, held)


def _play_matrix(data: LastFm) -> tuple[np.ndarray, np.ndarray, sp.csr_matrix]:
    users = data.users
    items = np.union1d(np.fromiter(data.artists, dtype=np.int64), data.plays.artist)
    rows = np.searchsorted(users, data.plays.user)
    cols = np.searchsorted(items, data.plays.artist)
    weights = data.plays.weight.astype(np.float64)
    plays = sp.csr_matrix((weights, (rows, cols)), shape=(len(users), len(items)))
    plays.sum_duplicates()  # also sorts each row's column indices
    return users, items, plays


def _holdout_size(n: int, share: float) -> int:
    return max(1, math.floor(share * n + 0.5))


def _row_slices(matrix: sp.csr_matrix) -> Iterable[slice]:
    return (slice(a, b) for a, b in itertools.pairwise(matrix.indptr))


def _random_holdout(
    matrix: sp.csr_matrix, rng: np.random.Generator, share: float, min_items: int
) -> np.ndarray:
    """A mask over ``matrix``'s stored entries: which ones to hold out."""
    held = np.zeros(matrix.nnz, dtype=bool)
    for entries in _row_slices(matrix):
        n = entries.stop - entries.start
        if n >= min_items:
            held[entries.start + rng.choice(n, _holdout_size(n, share), replace=False)] = True
    return held


def _pair_dates(data: LastFm, users: np.ndarray, items: np.ndarray) -> dict[tuple[int, int], int]:
    """(row, column) -> ordinal of the first plausible date the member tagged the artist."""
    first: dict[tuple[int, int], int] = {}
    for user, artist, _, when in data.tagged:
        if when >= FIRST_PLAUSIBLE_DATE:
            key = (user, artist)
            first[key] = min(first.get(key, when.toordinal()), when.toordinal())
    user_row = {user: row for row, user in enumerate(users.tolist())}
    item_col = {item: col for col, item in enumerate(items.tolist())}
    return {
        (user_row[u], item_col[a]): day
        for (u, a), day in first.items()
        if u in user_row and a in item_col
    }


def _latest_holdout(
    plays: sp.csr_matrix, dates: Mapping[tuple[int, int], int], share: float, min_items: int
) -> np.ndarray:
    held = np.zeros(plays.nnz, dtype=bool)
    for row, entries in enumerate(_row_slices(plays)):
        n = entries.stop - entries.start
        day = np.array([dates.get((row, col), -1) for col in plays.indices[entries].tolist()])
        dated = np.sort(day[day >= 0])
        if n < min_items or not len(dated):
            continue
        boundary = dated[-_holdout_size(len(dated), share)]
        latest = day >= boundary
        if not latest.all():
            held[entries] = latest
    return held


def _separate(
    users: np.ndarray, items: np.ndarray, matrix: sp.csr_matrix, held: np.ndarray
) -> Split:
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    kept = ~held
    train = sp.csr_matrix(
        (matrix.data[kept], (rows[kept], matrix.indices[kept])), shape=matrix.shape
    )
    test = [matrix.indices[entries][held[entries]] for entries in _row_slices(matrix)]
    return Split(users=users, items=items, train=train, test=test)


# --- Metrics --------------------------------------------------------------------------------


def item_popularity(train: sp.csr_matrix) -> np.ndarray:
    """How many members engaged with each item in train."""
    return np.asarray((train > 0).sum(axis=0)).ravel()


def evaluate(
    recommended: Mapping[int, Sequence[int]],
    split: Split,
    k: int = K,
    train_popularity: np.ndarray | None = None,
) -> dict[str, float | int]:
    """Score a feed: ``recommended`` maps a user id to the artist ids it shows, best first.

    Every member with a test holdout counts; one missing from ``recommended`` scores zero. Lists
    are cut to ``k`` after dropping repeats; artist ids outside the catalogue count as misses.
    ``recall@20`` is hits / |test|; ``ndcg@20`` uses binary relevance, ideal DCG over
    min(|test|, k); ``coverage`` is distinct recommended artists / catalogue size;
    ``novelty`` is the mean self-information -log2(p) of the recommended artists (averaged
    per member, then over members), p being the share of members who played the artist in
    train, floored at one member so unseen artists score as the rarest seen ones.
    """
    popularity = item_popularity(split.train) if train_popularity is None else train_popularity
    surprise = -np.log2(np.maximum(popularity, 1) / split.train.shape[0])
    column = {artist: index for index, artist in enumerate(split.items.tolist())}
    discount = 1 / np.log2(np.arange(2, k + 2))
    recall, ndcg, novelty, shown = [], [], [], set()
    for row in split.test_rows():
        relevant = set(split.test[row].tolist())
        feed = list(dict.fromkeys(recommended.get(int(split.users[row]), ())))[:k]
        ranked = [column.get(int(artist), -1) for artist in feed]
        gains = np.array([index in relevant for index in ranked], dtype=float)
        recall.append(gains.sum() / len(relevant))
        ndcg.append(gains @ discount[: len(gains)] / discount[: min(len(relevant), k)].sum())
        known = [index for index in ranked if index >= 0]
        shown.update(known)
        if known:
            novelty.append(surprise[known].mean())
    return {
        f"recall@{k}": _mean(recall),
        f"ndcg@{k}": _mean(ndcg),
        "coverage": round(len(shown) / len(split.items), 4),
        "novelty": _mean(novelty),
        "users": len(recall),
    }


def _mean(values: list[float]) -> float:
    return round(float(np.mean(values)), 4) if values else 0.0


# --- Ranking --------------------------------------------------------------------------------


def recommend(scorer: Scorer, split: Split, k: int = K, batch: int = 256) -> dict[int, list[int]]:
    """Top-``k`` artist ids for each scored member, over the whole catalogue minus train."""
    rows = split.test_rows()
    feeds: dict[int, list[int]] = {}
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        for row, top in zip(chunk, _top_k(scorer(chunk), split.train[chunk], k), strict=True):
            feeds[int(split.users[row])] = split.items[top].tolist()
    return feeds


def _top_k(scores: np.ndarray, seen: sp.csr_matrix, k: int) -> list[np.ndarray]:
    """Column indices of each row's ``k`` best scores, best first, skipping what was seen."""
    scores = np.array(scores, dtype=np.float64)  # a copy: we overwrite what the member has seen
    scores[seen.nonzero()] = -np.inf
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)
    return [best[np.isfinite(row[best])] for best, row in zip(top, scores, strict=True)]


WEIGHTINGS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "binary": np.ones_like,
    "log": np.log1p,
}


def _weigh(counts: sp.csr_matrix, weighting: str) -> sp.csr_matrix:
    """Tame heavy-tailed play counts (1 to 352,698 plays): ``binary``, or ``log`` = log(1+count)."""
    weighted = counts.astype(np.float64)  # a copy
    weighted.data = WEIGHTINGS[weighting](weighted.data)
    return weighted


# --- Baselines ------------------------------------------------------------------------------


def fit_popularity(train: sp.csr_matrix, params: Params, seed: int) -> Scorer:
    """Everyone gets the artists most members play."""
    popularity = item_popularity(train).astype(np.float64)
    return lambda rows: np.broadcast_to(popularity, (len(rows), len(popularity)))


def fit_itemknn(train: sp.csr_matrix, params: Params, seed: int) -> Scorer:
    """Item-item cosine similarity with shrinkage, each artist keeping its closest neighbours.

    sim(i, j) = xᵢ·xⱼ / (|xᵢ||xⱼ| + shrink) discounts similarities that rest on one or two shared
    listeners, which abound here (most artists have a single listener), so ``shrink`` matters
    more than ``neighbours``. It is in units of the mean squared input value, like EASE's
    ``l2``. A member's score for an artist sums its similarities to the artists they played,
    weighted as in the input.
    """
    x = _weigh(train, params["weighting"])
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0)).ravel())
    overlap = (x.T @ x).tocoo()  # stored entries only where both norms are positive
    denominator = norms[overlap.row] * norms[overlap.col] + params["shrink"] * np.mean(x.data**2)
    similarity = sp.csr_matrix(
        (overlap.data / denominator, (overlap.row, overlap.col)), shape=overlap.shape
    )
    similarity.setdiag(0)
    similarity = _keep_largest_per_row(similarity, params["neighbours"])
    return lambda rows: (x[rows] @ similarity).toarray()


def _keep_largest_per_row(matrix: sp.csr_matrix, n: int) -> sp.csr_matrix:
    """Zero all but the ``n`` largest stored values of each row (explicit zeros dropped first)."""
    matrix.eliminate_zeros()
    keep = np.zeros(matrix.nnz, dtype=bool)
    for entries in _row_slices(matrix):
        values = matrix.data[entries]
        if len(values) <= n:
            keep[entries] = True
        else:
            keep[entries.start + np.argpartition(-values, n)[:n]] = True
    pruned = matrix.copy()
    pruned.data = np.where(keep, pruned.data, 0)
    pruned.eliminate_zeros()
    return pruned


def fit_ease(train: sp.csr_matrix, params: Params, seed: int) -> Scorer:
    """EASE (Steck 2019): B = I - P·diag(1/diag(P)), P = (XᵀX + λI)⁻¹, diag(B) = 0.

    Inverting the Gram matrix costs n³: minutes for all 17,632 artists on one core, about 8 s
    for the ~6,000 that at least two members play in train. So it covers artists with at least
    ``min_users`` members in train; the others (more than half the catalogue, but under a sixth
    of the plays, and resting on a single listener's co-occurrences) score 0 but stay in the
    catalogue. ``l2`` is in units of the mean squared input value, so one grid fits both
    weightings.
    """
    x = _weigh(train, params["weighting"])
    gram_items = np.flatnonzero(item_popularity(train) >= params["min_users"])
    xg = x[:, gram_items]
    gram = (xg.T @ xg).toarray()
    gram[np.diag_indices_from(gram)] += params["l2"] * np.mean(x.data**2)
    p = _inverse_spd(gram)
    weights = -p / np.diag(p)
    np.fill_diagonal(weights, 0.0)

    def scores(rows: np.ndarray) -> np.ndarray:
        full = np.zeros((len(rows), train.shape[1]))
        full[:, gram_items] = xg[rows] @ weights
        return full

    return scores


def _inverse_spd(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix via Cholesky: about twice as fast as LU."""
    factor, info = scipy.linalg.lapack.dpotrf(matrix, lower=True)
    inverse, info2 = scipy.linalg.lapack.dpotri(factor, lower=True)
    if info or info2:
        raise np.linalg.LinAlgError("Gram matrix is not positive definite")
    return np.tril(inverse) + np.tril(inverse, -1).T


def fit_als(train: sp.csr_matrix, params: Params, seed: int) -> Scorer:
    """Implicit ALS (Hu, Koren, Volinsky 2008) with confidence 1 + α·log(1 + count).

    ``implicit`` takes the confidence itself as the matrix value, so its own ``alpha`` stays 1.
    """
    from implicit.cpu.als import AlternatingLeastSquares

    confidence = _weigh(train, "log")
    confidence.data = 1 + params["alpha"] * confidence.data
    model = AlternatingLeastSquares(
        factors=params["factors"],
        regularization=params["regularization"],
        iterations=params["iterations"],
        random_state=seed,
    )
    model.fit(confidence.astype(np.float32), show_progress=False)
    users, items = model.user_factors, model.item_factors
    return lambda rows: users[rows] @ items.T


@dataclass(frozen=True)
class Baseline:
    fit: Callable[[sp.csr_matrix, Params, int], Scorer]
    grid: list[Params]


def _grid(**axes: Sequence[Any]) -> list[Params]:
    return [dict(zip(axes, values, strict=True)) for values in itertools.product(*axes.values())]


# Grids found by widening each axis until the best validation point sat inside it (random split,
# seed 1). ItemKNN barely needs pruning once similarities are shrunk. ALS's best points lie on a
# ridge where regularisation grows with α (about 25·α); 256 factors add under 0.001 nDCG.
BASELINES: dict[str, Baseline] = {
    "popularity": Baseline(fit_popularity, [{}]),
    "itemknn": Baseline(
        fit_itemknn,
        _grid(weighting=["binary", "log"], shrink=[0, 1, 3, 10], neighbours=[100, 400, 1600]),
    ),
    "ease": Baseline(
        fit_ease, _grid(weighting=["binary", "log"], min_users=[2], l2=[20, 50, 100, 200, 500])
    ),
    "als": Baseline(
        fit_als,
        _grid(
            factors=[32, 64, 128],
            alpha=[2.0, 5.0],
            regularization=[25.0, 50.0, 100.0, 200.0],
            iterations=[15],
        ),
    ),
}


def baselines(
    split: Split, seed: int, k: int = K, names: Sequence[str] = tuple(BASELINES)
) -> dict[str, dict[str, Any]]:
    """Tune each baseline on a validation holdout of train, refit on train, score on test.

    Each entry holds the test metrics, the chosen ``params``, ``fit_s`` (the final fit alone)
    and ``tune_s`` (the whole search).
    """
    validation = validation_split(split, seed)
    return {name: _run(BASELINES[name], split, validation, seed, k) for name in names}


def _run(baseline: Baseline, split: Split, validation: Split, seed: int, k: int) -> dict[str, Any]:
    started = time.perf_counter()
    params = _tune(baseline, validation, seed, k)
    tune_s = time.perf_counter() - started
    started = time.perf_counter()
    scorer = baseline.fit(split.train, params, seed)
    fit_s = time.perf_counter() - started
    metrics = evaluate(recommend(scorer, split, k), split, k)
    return {**metrics, "params": params, "fit_s": round(fit_s, 2), "tune_s": round(tune_s, 2)}


def _tune(baseline: Baseline, validation: Split, seed: int, k: int) -> Params:
    """The grid point with the best validation nDCG@k (the first of equals)."""
    if len(baseline.grid) == 1:
        return baseline.grid[0]
    ndcg = []
    for params in baseline.grid:
        scorer = baseline.fit(validation.train, params, seed)
        ndcg.append(evaluate(recommend(scorer, validation, k), validation, k)[f"ndcg@{k}"])
        log.info("%s %s validation ndcg@%d %.4f", baseline.fit.__name__, params, k, ndcg[-1])
    return baseline.grid[int(np.argmax(ndcg))]
