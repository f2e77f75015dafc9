"""``papercrane eval explore``: the Explore pipeline against strong baselines on Last.fm.

HetRec 2011 Last.fm is loaded into a throwaway database: users become members, artists
notes (one creator member per artist), friendships follows, tags topics (each artist's five
most used tags, counting only tag assignments whose listening pair is in train) and the
training listening pairs engagement: every pair a like, and pairs a member played at least
as often as their median also a collect. Follows, likes and collects go through the real
services. Then the pipeline's own jobs run (``feed.services.train``: snapshots, co-engagement
model, member profiles, ranking model) and the production Explore (``feed.queries.explore``,
first page of 20) is asked for every member with a test holdout.

The baselines (popularity, ItemKNN, EASE, implicit ALS; each tuned on a validation holdout of
train and ranking the full catalogue) run on the same split in the same process.

    papercrane eval explore --dataset ../shared/data/lastfm-2k --split random --seed 1
    papercrane eval explore --dataset ../shared/data/lastfm-2k --split temporal

Prints one JSON line: ``{"pipeline": {...}, "baselines": {...}, ...}``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from bench import _recsys as recsys
from bench._django import throwaway_database

K = 20
TOPICS_PER_NOTE = 5


def _log(message: str) -> None:
    print(f"[eval explore {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _artist_topics(data: recsys.LastFm) -> dict[int, list[str]]:
    """Each artist's most used tags, from members who do not listen to it. A member's tags
    on artists they listen to say what *they* listen to: as the artist's topics they would
    leak held-out listening into topic affinity (for the ranker's training and the test)."""
    listened = set(zip(data.plays.user.tolist(), data.plays.artist.tolist(), strict=True))
    counts: dict[int, Counter[int]] = defaultdict(Counter)
    for row in data.tagged:
        if (row.user, row.artist) not in listened:
            counts[row.artist][row.tag] += 1
    return {
        artist: [
            data.tags[tag] for tag, _n in tags.most_common(TOPICS_PER_NOTE) if tag in data.tags
        ]
        for artist, tags in counts.items()
    }


def load(
    data: recsys.LastFm, split: recsys.Split, seed: int
) -> tuple[dict[int, Any], dict[int, int]]:
    """Members by Last.fm user id, and note id -> artist id."""
    from django.contrib.auth.hashers import make_password

    from papercrane.accounts import services as accounts
    from papercrane.accounts.models import Member
    from papercrane.notes.models import Note, NoteTopic, Topic
    from papercrane.notes.text import normalize_topic

    unusable = make_password(None)
    members = {
        int(user): member
        for user, member in zip(
            split.users.tolist(),
            Member.objects.bulk_create(
                Member(username=f"lastfm_{user}", password=unusable, language="en")
                for user in split.users.tolist()
            ),
            strict=True,
        )
    }
    artists = split.items.tolist()
    creators = Member.objects.bulk_create(
        Member(username=f"artist_{artist}", password=unusable, language="en") for artist in artists
    )
    notes = Note.objects.bulk_create(
        (
            Note(
                author=creator,
                title=(data.artists.get(artist) or str(artist))[:80],
                language="en",
                status=Note.Status.PUBLISHED,
                published_at=creator.date_joined,
            )
            for artist, creator in zip(artists, creators, strict=True)
        ),
        batch_size=2000,
    )
    note_of = {artist: note for artist, note in zip(artists, notes, strict=True)}
    topics_of = _artist_topics(data)
    topic_rows: dict[str, Topic] = {}
    for names in topics_of.values():
        for name in names:
            key = normalize_topic(name[:30])
            if key and key not in topic_rows:
                topic_rows[key] = Topic(name=name[:30], key=key)
    Topic.objects.bulk_create(topic_rows.values(), batch_size=2000)
    links = []
    for artist, names in topics_of.items():
        if artist not in note_of:  # tagged, but not in the catalogue
            continue
        keys = list(dict.fromkeys(normalize_topic(name[:30]) for name in names))
        for position, key in enumerate(k for k in keys if k in topic_rows):
            links.append(NoteTopic(note=note_of[artist], topic=topic_rows[key], position=position))
    NoteTopic.objects.bulk_create(links, batch_size=5000)
    _log(f"{len(members)} members, {len(notes)} notes, {len(topic_rows)} topics")

    started = time.perf_counter()
    for user, friend in data.friends.tolist():
        if user in members and friend in members:
            accounts.follow(member=members[user], target=members[friend])
    _log(f"follows in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    _engage(split, members, note_of, seed)
    _log(f"engagement in {time.perf_counter() - started:.0f} s")
    return members, {note.pk: artist for artist, note in note_of.items()}


def loaded() -> tuple[dict[int, Any], dict[int, int]] | None:
    """Members and note -> artist of a kept database loaded by an earlier run, if any."""
    from papercrane.accounts.models import Member
    from papercrane.notes.models import Note

    members = {
        int(member.username.removeprefix("lastfm_")): member
        for member in Member.objects.filter(username__startswith="lastfm_")
    }
    if not members:
        return None
    notes = Note.objects.filter(author__username__startswith="artist_").values_list(
        "pk", "author__username"
    )
    return members, {pk: int(name.removeprefix("artist_")) for pk, name in notes}


def _engage(
    split: recsys.Split, members: dict[int, Any], note_of: dict[int, Any], seed: int
) -> None:
    """Likes for every training pair, collects (into the default board) for the pairs a
    member played at least as often as their median, inserted in bulk with the counters set
    from the rows: through ``engagement.services`` each one would also notify the artist's
    creator, and loading would take the better part of an hour."""
    from django.db import connection, transaction

    from papercrane.engagement import services as engagement
    from papercrane.engagement.models import BoardEntry, Collect, Like

    artists = split.items.tolist()
    train = split.train.tocsr()
    likes, collects = [], []
    for row, user in enumerate(split.users.tolist()):
        columns = train.indices[train.indptr[row] : train.indptr[row + 1]]
        counts = train.data[train.indptr[row] : train.indptr[row + 1]]
        if not len(columns):
            continue
        median = float(np.median(counts))
        for column, count in zip(columns.tolist(), counts.tolist(), strict=True):
            note_id = note_of[artists[column]].pk
            likes.append(Like(member=members[user], note_id=note_id))
            if count >= median:
                collects.append(Collect(member=members[user], note_id=note_id))
    # Listening has no time: engagement arrives in random order, so "newest" means nothing.
    order = np.random.default_rng(seed).permutation(len(likes))
    likes = [likes[i] for i in order]
    with transaction.atomic():
        Like.objects.bulk_create(likes, batch_size=5000)
        Collect.objects.bulk_create(collects, batch_size=5000)
        boards = {m.pk: engagement.default_board(m).pk for m in members.values()}
        BoardEntry.objects.bulk_create(
            (BoardEntry(board_id=boards[c.member.pk], collect=c) for c in collects),
            batch_size=5000,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE notes_note SET like_count = (SELECT COUNT(*) FROM engagement_like l "
                "WHERE l.note_id = notes_note.id), collect_count = (SELECT COUNT(*) FROM "
                "engagement_collect c WHERE c.note_id = notes_note.id)"
            )


def pipeline_feeds(
    split: recsys.Split, members: dict[int, Any], artist_of: dict[int, int]
) -> dict[int, list[int]]:
    """The first Explore page of every member with a test holdout, as artist ids."""
    from papercrane.feed import queries

    feeds = {}
    for row in split.test_rows().tolist():
        user = int(split.users[row])
        page = queries.explore(members[user], limit=K)
        feeds[user] = [artist_of[note_id] for note_id in page.note_ids]
    return feeds


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="papercrane eval explore")
    parser.add_argument("--dataset", type=Path, default=Path("../shared/data/lastfm-2k"))
    parser.add_argument("--split", choices=["random", "temporal"], default="random")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", help="a PostgreSQL server to use instead of SQLite")
    parser.add_argument("--no-baselines", action="store_true", help="evaluate the pipeline only")
    parser.add_argument(
        "--keep",
        metavar="NAME",
        help="keep the loaded database (SQLite: this data directory; PostgreSQL: this database "
        "name) and reuse it on the next run with the same split",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    data = recsys.load_lastfm(args.dataset)
    split = (
        recsys.random_split(data, args.seed)
        if args.split == "random"
        else recsys.temporal_split(data)
    )
    # Last.fm's notes are artist names: nothing to embed, so the embedding-based bridge is off.
    os.environ["PAPERCRANE_SEMANTIC_SEARCH"] = "false"
    with throwaway_database(args.database_url, args.keep):
        from django.db import connection

        from papercrane.feed import services

        started = time.perf_counter()
        reused = loaded()
        members, artist_of = reused or load(data, split, args.seed)
        load_s = None if reused else round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        timings = services.train()
        train_s = time.perf_counter() - started
        _log(f"trained in {train_s:.1f} s: {timings}")
        started = time.perf_counter()
        feeds = pipeline_feeds(split, members, artist_of)
        feed_s = time.perf_counter() - started
        pipeline = recsys.evaluate(feeds, split, K)
        _log(f"pipeline: {pipeline}")
        vendor = connection.vendor
    result: dict[str, Any] = {
        "evaluation": "explore",
        "dataset": args.dataset.name,
        "split": args.split,
        "seed": args.seed if args.split == "random" else None,
        "database": vendor,
        "pipeline": {
            **pipeline,
            "train_s": round(train_s, 1),
            "train_parts_s": timings,
            "feed_mean_ms": round(feed_s * 1000 / max(1, len(feeds)), 1),
        },
        "load_s": load_s,
    }
    if not args.no_baselines:
        result["baselines"] = recsys.baselines(split, args.seed, K)
    print(json.dumps(result, ensure_ascii=False))
    return 0
