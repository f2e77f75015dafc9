"""The learned parts: co-engagement weights and the ranking model."""

from __future__ import annotations

import numpy as np

from papercrane.feed import learning


def test_co_engagement_links_notes_engaged_together() -> None:
    # Members 0-3 engage with notes 10 and 11; members 4-7 with 20 and 21; 30 is alone.
    pairs = [(m, n) for m in range(4) for n in (10, 11)] + [
        (m, n) for m in range(4, 8) for n in (20, 21)
    ]
    pairs.append((0, 30))
    members, notes = np.array(pairs).T
    weights = learning.co_engagement(learning.Interactions(members, notes, np.ones(len(pairs))))
    assert weights[10][0][0] == 11 and weights[20][0][0] == 21
    assert 30 not in weights  # one engager: not in the model
    assert all(note != 10 for note, _w in weights[10])


def test_ranker_learns_which_feature_orders_what_members_engage_with() -> None:
    rng = np.random.default_rng(0)
    topic = learning.FEATURES.index("topic")
    rows = rng.random((3000, len(learning.FEATURES)))
    labels = (rows[:, topic] > 0.8).astype(int)  # members engage with what matches their topics
    model, quality = learning.fit_ranker(rows, labels, groups=[100] * 30)
    assert model.weights["topic"] > 0 and quality > 0.9
    fresh = rng.random((200, len(learning.FEATURES)))
    best = np.argsort(-model.scores(fresh))[:20]
    assert (fresh[best, topic] > 0.8).mean() > 0.9
    assert learning.Ranker().scores(fresh).shape == (200,)  # the default before training
