"""The Last.fm evaluation kit: loading, splits, metrics and baselines, on tiny made-up data."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from bench import _recsys as recsys

# --- Fixtures -------------------------------------------------------------------------------


def make_data(
    plays: dict[int, dict[int, int]],
    tagged: Sequence[tuple[int, int, date]] = (),
    extra_artists: tuple[int, ...] = (),
) -> recsys.LastFm:
    """Data from {user: {artist: count}}; artists nobody plays can join the catalogue."""
    rows = [(u, a, w) for u, counts in plays.items() for a, w in counts.items()]
    user, artist, weight = (np.array(column, dtype=np.int64) for column in zip(*rows, strict=True))
    artists = {a: f"artist {a}" for a in sorted({*artist.tolist(), *extra_artists})}
    return recsys.LastFm(
        users=np.array(sorted(plays), dtype=np.int64),
        artists=artists,
        plays=recsys.Plays(user=user, artist=artist, weight=weight),
        friends=np.zeros((0, 2), dtype=np.int64),
        tags={1: "rock"},
        tagged=[recsys.TagAssignment(u, a, 1, when) for u, a, when in tagged],
        undated_tag_rows=0,
    )


def random_data(seed: int = 0, n_users: int = 40, n_artists: int = 60) -> recsys.LastFm:
    rng = np.random.default_rng(seed)
    plays = {
        user: {
            int(a): int(rng.integers(1, 5000))
            for a in rng.choice(n_artists, rng.integers(2, 25), replace=False) + 1
        }
        for user in range(1, n_users + 1)
    }
    return make_data(plays, extra_artists=(n_artists + 1,))


def toy_split(
    train: dict[int, list[int]], test: dict[int, list[int]], n_items: int
) -> recsys.Split:
    """A split given column indices per user row; user ids are row + 1, artist ids 10·(col + 1)."""
    n_users = len(train)
    matrix = sp.lil_matrix((n_users, n_items))
    for row, cols in train.items():
        matrix[row, cols] = 1.0
    return recsys.Split(
        users=np.arange(1, n_users + 1),
        items=10 * np.arange(1, n_items + 1),
        train=matrix.tocsr(),
        test=[np.array(test.get(row, []), dtype=np.int64) for row in range(n_users)],
    )


# --- Loading --------------------------------------------------------------------------------


def write(path: Path, header: str, rows: list[str], encoding: str = "utf-8") -> None:
    path.write_text("\n".join([header, *rows]) + "\n", encoding=encoding)


def test_load_reads_every_file_and_skips_impossible_dates(tmp_path: Path) -> None:
    write(tmp_path / "artists.dat", "id\tname\turl\tpictureURL", ["1\tBjörk\tu\tp", "2\tMúm\tu\tp"])
    write(tmp_path / "tags.dat", "tagID\ttagValue", ["7\tfußball", "8\ttropicália"], "latin-1")
    write(tmp_path / "user_artists.dat", "userID\tartistID\tweight", ["2\t1\t300", "3\t2\t5"])
    write(tmp_path / "user_friends.dat", "userID\tfriendID", ["2\t3", "3\t2", "2\t3"])
    write(
        tmp_path / "user_taggedartists.dat",
        "userID\tartistID\ttagID\tday\tmonth\tyear",
        ["2\t1\t7\t1\t4\t2009", "3\t2\t8\t31\t2\t2010"],
    )

    data = recsys.load_lastfm(tmp_path)

    assert data.users.tolist() == [2, 3]
    assert data.artists == {1: "Björk", 2: "Múm"}
    assert data.tags == {7: "fußball", 8: "tropicália"}
    assert data.plays.user.tolist() == [2, 3]
    assert data.plays.weight.tolist() == [300, 5]
    assert data.friends.tolist() == [[2, 3], [3, 2]]
    assert data.tagged == [recsys.TagAssignment(2, 1, 7, date(2009, 4, 1))]
    assert data.undated_tag_rows == 1


# --- Splits ---------------------------------------------------------------------------------


def test_random_split_is_disjoint_and_covers_every_members_artists() -> None:
    data = random_data()
    split = recsys.random_split(data, seed=3)

    assert split.items.tolist() == sorted(data.artists)  # artist 61 has no plays but is ranked
    assert split.train.shape == (len(data.users), len(data.artists))
    for row, user in enumerate(split.users.tolist()):
        train, test = set(split.train[row].indices.tolist()), set(split.test[row].tolist())
        played = set(np.searchsorted(split.items, data.plays.artist[data.plays.user == user]))
        assert not train & test
        assert train | test == played
        if len(played) < recsys.MIN_ITEMS:
            assert not test
        else:
            assert len(test) == max(1, round(0.2 * len(played)))


def test_random_split_keeps_counts_and_depends_only_on_the_seed() -> None:
    data = make_data({1: {10: 7, 20: 3, 30: 1, 40: 9, 50: 2}})
    split = recsys.random_split(data, seed=5)

    assert split.train.sum() + data.plays.weight[split.test[0]].sum() == 22
    assert recsys.random_split(data, seed=5).test[0].tolist() == split.test[0].tolist()


def test_temporal_split_holds_out_the_latest_discoveries() -> None:
    data = make_data(
        {1: {a: 1 for a in range(1, 12)}},
        tagged=[
            (1, 1, date(2007, 1, 1)),
            (1, 2, date(2008, 1, 1)),
            (1, 3, date(2009, 1, 1)),
            (1, 4, date(2010, 3, 1)),
            (1, 4, date(2006, 1, 1)),  # tagged again later: the first date counts
            (1, 5, date(2010, 6, 1)),
            (1, 6, date(2010, 6, 1)),  # shares the boundary month with artist 5
            (1, 7, date(1956, 6, 1)),  # a typo: treated as undated
        ],
    )
    split = recsys.temporal_split(data)

    # 7 dated pairs, 20 % is one, but the boundary month June 2010 holds two.
    assert split.items[split.test[0]].tolist() == [5, 6]
    assert sorted(split.items[split.train[0].indices].tolist()) == [1, 2, 3, 4, 7, 8, 9, 10, 11]


def test_temporal_split_leaves_no_later_pair_in_a_members_train() -> None:
    rng = np.random.default_rng(1)
    plain = random_data(seed=1)
    pairs = zip(plain.plays.user.tolist(), plain.plays.artist.tolist(), strict=True)
    when = {
        (u, a): date(int(rng.integers(2005, 2011)), int(rng.integers(1, 13)), 1)
        for u, a in pairs
        if rng.random() < 0.5
    }
    data = replace(plain, tagged=[recsys.TagAssignment(u, a, 1, d) for (u, a), d in when.items()])
    split = recsys.temporal_split(data)

    assert len(split.test_rows()) > 10
    for row in split.test_rows():
        user = int(split.users[row])
        test_dates = [when[user, int(a)] for a in split.items[split.test[row]]]
        train_dates = [when.get((user, int(a))) for a in split.items[split.train[row].indices]]
        assert split.train[row].nnz > 0
        assert all(d < min(test_dates) for d in train_dates if d is not None)


def test_members_without_dated_pairs_are_not_scored_in_the_temporal_split() -> None:
    data = make_data({1: {a: 1 for a in range(1, 8)}, 2: {a: 1 for a in range(1, 8)}})
    split = recsys.temporal_split(data)
    assert split.test_rows().tolist() == []
    assert split.train.nnz == 14


def test_validation_split_carves_only_from_train() -> None:
    split = recsys.random_split(random_data(), seed=1)
    validation = recsys.validation_split(split, seed=2)

    assert validation.items is split.items
    for row in range(len(split.users)):
        carved = set(validation.test[row].tolist())
        kept = set(validation.train[row].indices.tolist())
        assert not carved & kept
        assert carved | kept == set(split.train[row].indices.tolist())
        assert not carved & set(split.test[row].tolist())


# --- Metrics --------------------------------------------------------------------------------


@pytest.fixture
def four_members() -> recsys.Split:
    # Train popularity of the five artists 10..50: 4, 2, 1, 0, 0 members (of 4).
    return toy_split(
        train={0: [0], 1: [0, 1], 2: [0, 1], 3: [0, 2]},
        test={0: [1, 3], 1: [2]},
        n_items=5,
    )


def test_metrics_by_hand(four_members: recsys.Split) -> None:
    figures = recsys.evaluate({1: [20, 50, 40], 2: [50, 40]}, four_members, k=3)

    # Member 1 hits at ranks 1 and 3 of 2 relevant: DCG 1 + 1/2, ideal 1 + 1/log2(3).
    ndcg_1 = 1.5 / (1 + 1 / math.log2(3))
    # Self-information -log2(p): artist 20 -> 1 bit; 40 and 50, never played, floor at 1/4 -> 2.
    novelty = (np.mean([1, 2, 2]) + 2) / 2
    assert figures == {
        "recall@3": 0.5,
        "ndcg@3": round(ndcg_1 / 2, 4),
        "coverage": 0.6,  # 20, 40 and 50 of five artists
        "novelty": round(novelty, 4),
        "users": 2,
    }


def test_feeds_are_cut_to_k_and_forgive_nothing(four_members: recsys.Split) -> None:
    # Repeats are dropped before the cut, unknown ids are misses, a missing member scores zero.
    figures = recsys.evaluate({1: [99, 20, 20, 40]}, four_members, k=2)

    assert figures["recall@2"] == 0.25
    assert figures["ndcg@2"] == round((1 / math.log2(3)) / (1 + 1 / math.log2(3)) / 2, 4)
    assert figures["coverage"] == 0.2
    assert figures["users"] == 2


def test_ideal_dcg_counts_no_more_than_k_relevant_items() -> None:
    split = toy_split(train={0: [0]}, test={0: [1, 2, 3]}, n_items=4)
    figures = recsys.evaluate({1: [30, 20]}, split, k=2)
    assert figures["ndcg@2"] == 1.0
    assert figures["recall@2"] == round(2 / 3, 4)


def test_twenty_is_the_default_cut(four_members: recsys.Split) -> None:
    assert set(recsys.evaluate({}, four_members)) == {
        "recall@20",
        "ndcg@20",
        "coverage",
        "novelty",
        "users",
    }


# --- Baselines ------------------------------------------------------------------------------


def co_listened() -> recsys.Split:
    """Artists 0 and 1 are always played together, 2 and 3 too; member 0 has only artist 0."""
    pairs = {row: [0, 1] if row % 2 else [2, 3] for row in range(1, 21)}
    return toy_split(train={0: [0], **pairs, 21: [4]}, test={0: [1]}, n_items=8)


def test_ease_recovers_an_obvious_co_occurrence_and_skips_what_was_played() -> None:
    split = co_listened()
    scorer = recsys.fit_ease(split.train, {"weighting": "binary", "min_users": 2, "l2": 1}, 0)

    scores = scorer(np.array([0]))
    assert scores.shape == (1, 8)  # artists outside the Gram matrix stay in the catalogue
    feed = recsys.recommend(scorer, split, k=3)[1]
    assert feed[0] == 20
    assert 10 not in feed
    assert recsys.evaluate({1: feed}, split, k=3)["recall@3"] == 1.0


@pytest.mark.parametrize(
    ("fit", "params"),
    [
        (recsys.fit_popularity, {}),
        (recsys.fit_itemknn, {"weighting": "log", "shrink": 1, "neighbours": 2}),
        (recsys.fit_ease, {"weighting": "log", "min_users": 2, "l2": 10}),
    ],
)
def test_no_baseline_recommends_what_a_member_already_played(
    fit: Callable[..., recsys.Scorer], params: recsys.Params
) -> None:
    split = recsys.random_split(random_data(), seed=1)
    scorer = fit(split.train, params, 0)
    for user, feed in recsys.recommend(scorer, split, k=10).items():
        row = int(np.searchsorted(split.users, user))
        assert len(feed) == 10
        assert not set(np.searchsorted(split.items, feed)) & set(split.train[row].indices)


def test_itemknn_follows_co_occurrence() -> None:
    split = co_listened()
    scorer = recsys.fit_itemknn(
        split.train, {"weighting": "binary", "shrink": 0, "neighbours": 1}, 0
    )
    assert recsys.recommend(scorer, split, k=1) == {1: [20]}


def test_als_follows_co_occurrence() -> None:
    pytest.importorskip("implicit")
    split = co_listened()
    params = {"factors": 4, "regularization": 0.1, "alpha": 2.0, "iterations": 10}
    scorer = recsys.fit_als(split.train, params, 0)
    assert recsys.recommend(scorer, split, k=1) == {1: [20]}


def test_baselines_report_metrics_params_and_timing() -> None:
    split = recsys.random_split(random_data(), seed=1)
    report = recsys.baselines(split, seed=1, k=5, names=("popularity", "itemknn"))

    assert set(report) == {"popularity", "itemknn"}
    assert report["itemknn"]["params"] in recsys.BASELINES["itemknn"].grid
    assert {"recall@5", "ndcg@5", "coverage", "novelty", "users", "fit_s"} <= set(report["itemknn"])
    assert report["popularity"]["users"] == len(split.test_rows())
