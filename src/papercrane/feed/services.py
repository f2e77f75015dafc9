"""Every write for feeds: members' controls (feedback, chosen topics), impressions, and the
background jobs that precompute what Explore reads (snapshots, co-engagement, profiles, the
ranking model).

Jobs schedule themselves: a request that finds a snapshot or model older than its period
enqueues its refresh (once, guarded by the cache), so no separate scheduler is needed.
"""

from __future__ import annotations

import atexit
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, overload

import numpy as np
import orjson
from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections, connection, transaction
from django.db.models import Count, Exists, F, Max, Min, OuterRef
from django.utils import timezone

from papercrane.accounts.models import Member
from papercrane.accounts.queries import signed_in
from papercrane.engagement.models import Collect, Comment, Like
from papercrane.feed import learning, queries, shown
from papercrane.feed.models import (
    ChosenTopic,
    Feedback,
    Impression,
    Neighbours,
    Profile,
    Ranking,
    ShownDay,
    Snapshot,
)
from papercrane.notes.models import Note, Topic, Visibility

TRENDING_DAYS = 30
TRENDING_SIZE = 1_000
FRESH_DAYS = 3
FRESH_SIZE = 300
GRAVITY = 1.2  # how fast trending forgets: engagement / (age in hours + 2) ** GRAVITY
MAX_CHOSEN_TOPICS = 20
MODEL_INTERACTIONS = 2_000_000  # newest engagements the co-engagement model learns from
TRAINING_MEMBERS = 600
MIN_TRAINING_MEMBERS = 20  # fewer, and the default ranking stays
HELD_OUT_SHARE = 0.2
# A stored ranking's columns for ``StoredRanking.engagement_ids``, in its order.
NEWEST_ENGAGEMENT = ("newest_like_id", "newest_collect_id", "newest_comment_id")
STALENESS_CHECK_SECONDS = 30
PROFILE_PERIOD = 3600  # seconds between two profile refreshes of a member who keeps visiting
PERIODS = {  # how often each job runs, in seconds
    "snapshots": 300,
    "model": 6 * 3600,
}


# --- Members' controls ------------------------------------------------------------------------


def give_feedback(*, member: Member, kind: str, target_id: int) -> bool:
    """ "Not interested" (a note) or "fewer like this" (a topic or author). Applied at once:
    the member's current visit is dropped, so the next page is ranked with it."""
    _, created = Feedback.objects.get_or_create(member=member, kind=kind, target_id=target_id)
    forget_visits(member)
    return created


def withdraw_feedback(*, member: Member, kind: str, target_id: int) -> bool:
    deleted, _ = Feedback.objects.filter(member=member, kind=kind, target_id=target_id).delete()
    forget_visits(member)
    return bool(deleted)


def forget_visits(member: Member) -> None:
    """Make the member's next Explore page rank afresh (visits are keyed by a version)."""
    key = f"feed:version:{member.pk}"
    if not cache.add(key, 1, None):
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, None)


def rank_afresh(member: Member) -> None:
    """Drop the member's stored ranking and current visit, so their next page is ranked
    anew: for a change the stored ranking cannot be corrected by as it is merged (topics
    picked anew, a creator no longer followed, the record of reading turned off)."""
    Ranking.objects.filter(member=member).delete()
    forget_visits(member)


def choose_topics(*, member: Member, topic_ids: list[int]) -> list[int]:
    """Replace the member's chosen (onboarding) topics; unknown ids are ignored."""
    wanted = list(
        Topic.objects.filter(pk__in=topic_ids[:MAX_CHOSEN_TOPICS]).values_list("pk", flat=True)
    )
    with transaction.atomic():
        ChosenTopic.objects.filter(member=member).exclude(topic_id__in=wanted).delete()
        ChosenTopic.objects.bulk_create(
            [ChosenTopic(member=member, topic_id=topic_id) for topic_id in wanted],
            ignore_conflicts=True,
        )
    rank_afresh(member)  # it started from the old topics
    return wanted


def set_personalized(*, member: Member, personalized: bool) -> None:
    """Turn profiling on or off. Off drops what was learned about the member, too."""
    Member.objects.filter(pk=member.pk).update(feed_personalized=personalized)
    member.feed_personalized = personalized
    if not personalized:
        Profile.objects.filter(member=member).delete()
    rank_afresh(member)


def set_records_reading(*, member: Member, records: bool) -> None:
    """Turn the record of what Explore showed and how long the member read on or off. Off
    deletes what was recorded, too."""
    Member.objects.filter(pk=member.pk).update(records_reading=records)
    member.records_reading = records
    if not records:
        shown.drop(member.pk)
        ShownDay.objects.filter(member=member).delete()
        Impression.objects.filter(member=member).delete()
        rank_afresh(member)  # it was ordered by what was shown
    else:
        forget_visits(member)


def record_shown(*, member: Member, note_ids: list[int]) -> None:
    """Record the notes a page showed (so they are not shown again for ``SEEN_DAYS``), if the
    member lets Explore remember what they read. Buffered in the process and written within
    ``FEED_IMPRESSION_FLUSH_SECONDS`` (at once when that is 0), so a page costs no write;
    the next visit already counts them as seen."""
    if not note_ids or not member.records_reading:
        return
    shown.add(member.pk, note_ids, timezone.now().date())
    delay = settings.FEED_IMPRESSION_FLUSH_SECONDS
    if delay <= 0:
        flush_impressions()
    else:
        shown.flush_later(delay, _flush_in_thread)


# The buffered rows go to the database as one JSON array of [member, day, [note ids]],
# unpacked there (the ids' array "[12,345]" becoming the list "12,345,"): a statement per row
# held the interpreter's lock once per row, and a second's impressions of a busy process
# stalled its pages. Only the unpacking differs between the databases.
_SHOWN_ROWS = {
    "sqlite": (
        "SELECT json_extract(value, '$[0]') AS member_id, json_extract(value, '$[1]') AS day, "
        "replace(substr(json_extract(value, '$[2]'), 2), ']', ',') AS note_ids "
        "FROM json_each(%s)"
    ),
    "postgresql": (
        "SELECT (e->>0)::bigint AS member_id, (e->>1)::date AS day, "
        "replace(substr(e->>2, 2), ']', ',') AS note_ids "
        "FROM json_array_elements(%s::json) AS e"
    ),
}
# A part of a day's list (``ShownDay``) takes the flushes that find it shorter than this (some
# 140 notes, seven pages); the next flush starts the next part. A flush rewrites each part it
# appends to: bounded so, and under PostgreSQL's 2 KB threshold for compressing a value, each
# append costs the same however much the member read that day.
SHOWN_PART_CHARS = 1_000
# A day's list stops growing at this many parts (some 9,000 notes): a client asking for pages
# all day must not grow it without end. Notes shown after it may be shown again.
MAX_SHOWN_PARTS = 64


def flush_impressions() -> int:
    """Write what the pages of this process showed, in one statement: each member's notes
    appended to their day's list, for members who still let Explore remember. Returns
    the number of notes written."""
    pending = shown.take()
    try:
        return _write_shown(pending)
    except BaseException:
        shown.restore(pending)  # kept for the next flush, not lost
        raise


def _write_shown(pending: dict[int, dict[date, list[int]]]) -> int:
    # The ids as they are, and dates, written by orjson: building a busy second's payload
    # holds the interpreter's lock, which the pages being served in the process wait for
    # (writing each id out as text in Python took 3 to 5 ms of it: a page waited twice that).
    rows = sorted(
        (member_id, day, notes)
        for member_id, days in pending.items()
        for day, notes in days.items()
        if notes
    )
    if not rows:
        return 0
    table, member = ShownDay._meta.db_table, Member._meta.db_table
    # Portable upsert; the WHERE also resolves SQLite's INSERT … SELECT … ON CONFLICT
    # ambiguity. Each (member, day) is in the batch once (the buffer keeps them together),
    # and goes to the day's last part, or to a new one if that is full (read by the unique
    # index, newest part first). Rows are written in one order, the same in every process:
    # two processes' flushes share members (a member's pages go to any process) and, each
    # locking its rows in its own order, deadlocked on PostgreSQL (one waited a second, then
    # failed and wrote again). Two flushes that pick the same part both append to it.
    sql = (
        f"INSERT INTO {table} (member_id, day, part, note_ids) "  # noqa: S608
        "SELECT member_id, day, part, note_ids FROM ("
        f"SELECT m.id AS member_id, r.day AS day, r.note_ids AS note_ids, COALESCE(("
        f"SELECT CASE WHEN LENGTH(s.note_ids) < %s THEN s.part ELSE s.part + 1 END FROM {table} s "
        "WHERE s.member_id = m.id AND s.day = r.day ORDER BY s.part DESC LIMIT 1), 0) AS part "
        f"FROM ({_SHOWN_ROWS[connection.vendor]}) r "
        f"JOIN {member} m ON m.id = r.member_id WHERE m.records_reading) AS due "
        "WHERE part < %s ORDER BY member_id, day "
        "ON CONFLICT (member_id, day, part) DO UPDATE "
        f"SET note_ids = {table}.note_ids || excluded.note_ids"
    )
    params: list[int | str] = [SHOWN_PART_CHARS, orjson.dumps(rows).decode(), MAX_SHOWN_PARTS]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return sum(len(notes) for days in pending.values() for notes in days.values())


def _flush_in_thread() -> None:
    try:
        flush_impressions()
    finally:
        # What Django does after a request: this thread's connection is kept for its next
        # flush (as the server's own are), or closed if it failed or is past its age.
        close_old_connections()


atexit.register(flush_impressions)


def record_dwell(*, member: Member, note_id: int, dwell_ms: int) -> None:
    """Add reading time to today's row for a note (kept per day, capped per report), if
    the member lets Explore remember what they read."""
    if not member.records_reading:
        return
    dwell_ms = max(0, min(dwell_ms, 10 * 60 * 1000))
    day = timezone.now().date()
    updated = Impression.objects.filter(member=member, note_id=note_id, day=day).update(
        dwell_ms=F("dwell_ms") + dwell_ms
    )
    if not updated:
        Impression.objects.bulk_create(
            [Impression(member=member, note_id=note_id, day=day, dwell_ms=dwell_ms)],
            ignore_conflicts=True,
        )


def expire_impressions(now: datetime | None = None) -> int:
    """Delete what Explore showed and the reading time of days older than
    ``FEED_IMPRESSION_DAYS`` (declared retention); returns the rows deleted."""
    cutoff = (now or timezone.now()).date() - timedelta(days=settings.FEED_IMPRESSION_DAYS)
    shown_days, _ = ShownDay.objects.filter(day__lt=cutoff).delete()
    impressions, _ = Impression.objects.filter(day__lt=cutoff).delete()
    return shown_days + impressions


ORPHAN_BATCH = 50_000  # impression ids a statement reads: no write waits long on it


def forget_orphan_impressions() -> int:
    """Delete the reading time of notes deleted since, and what was written for members as
    they were deleted, which the tables have no constraints to cascade: the retention
    sweep's, reading each table in ranges of ids."""
    note_gone = ~Exists(Note.objects.filter(pk=OuterRef("note_id")))
    member_gone = ~Exists(Member.objects.filter(pk=OuterRef("member_id")))
    deleted = 0
    for rows, gone in (
        (Impression.objects, note_gone | member_gone),
        (ShownDay.objects, member_gone),
    ):
        bounds = rows.aggregate(first=Min("pk"), last=Max("pk"))
        if bounds["first"] is None:
            continue
        for start in range(bounds["first"], bounds["last"] + 1, ORPHAN_BATCH):
            batch = rows.filter(pk__gte=start, pk__lt=start + ORPHAN_BATCH)
            deleted += batch.filter(gone).delete()[0]
    return deleted


# --- Snapshots: trending and fresh ---------------------------------------------------------------


def _public_published() -> Any:
    return Note.objects.filter(
        status=Note.Status.PUBLISHED,
        visibility=Visibility.PUBLIC,
        author__is_private=False,
        author__is_active=True,
    )


def _scored_rows(notes: Any, limit: int) -> list[dict[str, Any]]:
    """Notes scored by engagement velocity: weighted engagement over age, with gravity."""
    now = timezone.now()
    rows = list(notes.order_by("-published_at").values(*FACTS)[:50_000])
    scored = []
    for row in rows:
        hours = max(0.0, (now - row["published_at"]).total_seconds() / 3600)
        engagement = learning.engagement_count(
            row["like_count"], row["collect_count"], row["comment_count"]
        )
        score = (engagement + 1) / (hours + 2) ** GRAVITY
        scored.append((score, row))
    scored.sort(key=lambda pair: (-pair[0], -pair[1]["pk"]))
    return _snapshot_rows(scored[:limit])


# What a snapshot row carries of each note, so a request needs no query for it.
FACTS = (
    "pk",
    "language",
    "author_id",
    "published_at",
    "like_count",
    "collect_count",
    "comment_count",
    "author__follower_count",
)


def _snapshot_rows(scored: list[tuple[float, dict[str, Any]]]) -> list[dict[str, Any]]:
    topics = queries.topics_of([row["pk"] for _score, row in scored])
    return [
        {
            "id": row["pk"],
            "score": round(score, 8),
            "language": row["language"],
            "author": row["author_id"],
            "followers": row["author__follower_count"],
            "published": row["published_at"].timestamp(),
            "engagement": learning.engagement_count(
                row["like_count"], row["collect_count"], row["comment_count"]
            ),
            "topics": topics.get(row["pk"], []),
        }
        for score, row in scored
    ]


def refresh_snapshots() -> None:
    """Trending (last ``TRENDING_DAYS``; all time when that is too quiet) and the fresh
    notes of small creators (exploration)."""
    public = _public_published()
    since = timezone.now() - timedelta(days=TRENDING_DAYS)
    recent = public.filter(published_at__gte=since)
    trending = _scored_rows(recent, TRENDING_SIZE)
    if len(trending) < TRENDING_SIZE // 10:
        trending = _popular_rows(public, TRENDING_SIZE)
    small = public.filter(
        author__follower_count__lt=queries.SMALL_CREATOR_FOLLOWERS,
        published_at__gte=timezone.now() - timedelta(days=FRESH_DAYS),
    )
    _save(queries.TRENDING, {"notes": trending})
    _save(queries.FRESH, {"notes": _scored_rows(small, FRESH_SIZE)})


def _popular_rows(notes: Any, limit: int) -> list[dict[str, Any]]:
    engagement = (
        learning.LIKE * F("like_count")
        + learning.COLLECT * F("collect_count")
        + learning.COMMENT * F("comment_count")
    )
    rows = list(
        notes.annotate(engagement=engagement)
        .order_by("-engagement", "-pk")
        .values(*FACTS, "engagement")[:limit]
    )
    return _snapshot_rows([(float(row["engagement"]), row) for row in rows])


def _save(name: str, data: dict[str, Any]) -> None:
    data["version"] = time.time()  # processes rebuild what they derive from it
    Snapshot.objects.update_or_create(name=name, defaults={"data": data})
    cache.delete(f"feed:snapshot:{name}")
    queries.forget_snapshot(name)


# --- Co-engagement model and member profiles --------------------------------------------------


def interactions(limit: int = MODEL_INTERACTIONS) -> learning.Interactions:
    """The newest likes, collects and comments, one weighted row per (member, note)."""
    counts: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    sources = [
        Like.objects.values_list("member_id", "note_id"),
        Collect.objects.values_list("member_id", "note_id"),
        Comment.objects.values_list("author_id", "note_id"),
    ]
    for position, rows in enumerate(sources):
        for pair in rows.order_by("-id")[:limit]:
            counts[pair][position] = 1
    if not counts:
        return learning.Interactions(np.array([]), np.array([]), np.array([]))
    pairs = np.array(list(counts), dtype=np.int64)
    weights = np.array(
        [
            learning.engagement_weight(likes, collects, comments, 0)
            for likes, collects, comments in counts.values()
        ],
        dtype=np.float64,
    )
    return learning.Interactions(pairs[:, 0], pairs[:, 1], weights)


def refresh_neighbours() -> int:
    """Learn the co-engagement weights and store each note's strongest neighbours."""
    neighbours = learning.co_engagement(interactions())
    with transaction.atomic():
        Neighbours.objects.all().delete()
        Neighbours.objects.bulk_create(
            [Neighbours(note_id=note_id, items=items) for note_id, items in neighbours.items()],
            batch_size=2000,
        )
    return len(neighbours)


def refresh_profile(member_id: int) -> None:
    """Recompute what Explore knows of one member (nothing when personalization is off)."""
    member = Member.objects.filter(pk=member_id, is_active=True).first()
    if member is None or not member.feed_personalized:
        Profile.objects.filter(member_id=member_id).delete()
        return
    started = timezone.now()
    engaged = queries.engagement_of(member_id)
    Profile.objects.update_or_create(
        member_id=member_id,
        defaults={
            "candidates": [list(row) for row in queries.co_engagement_candidates(engaged.weights)],
            "topics": queries.topic_affinity(engaged.weights),
            "authors": queries.author_affinity(engaged.weights),
            "engaged": engaged.kinds,
            "computed_at": started,
        },
    )


def refresh_profiles(member_ids: list[int] | None = None) -> int:
    """Recompute the profiles of the given members (default: everyone who has one)."""
    if member_ids is None:
        member_ids = list(Profile.objects.values_list("member_id", flat=True))
    for member_id in member_ids:
        refresh_profile(member_id)
    return len(member_ids)


def save_ranking(*, member: Member, ranking: queries.StoredRanking) -> None:
    """Store a member's ranked Explore, for their next visits to merge into."""
    if not member.feed_personalized:
        return
    Ranking.objects.update_or_create(
        member_id=member.pk,
        defaults={
            "items": queries.items_json(ranking.items).decode(),
            **dict(zip(NEWEST_ENGAGEMENT, ranking.engagement_ids, strict=True)),
            "model_version": ranking.model_version,
            "computed_at": ranking.computed_at,
        },
    )


def refresh_ranking(member_id: int) -> None:
    """Rank a member's Explore ahead of their next visit (none when personalization is off)."""
    member = Member.objects.filter(pk=member_id, is_active=True).first()
    if member is None or not member.feed_personalized:
        Ranking.objects.filter(member_id=member_id).delete()
        return
    save_ranking(member=member, ranking=queries.rank_for_storage(member))


def refresh_rankings(member_ids: list[int]) -> int:
    for member_id in member_ids:
        refresh_ranking(member_id)
    return len(member_ids)


@overload
def explore_page(
    viewer: Member | None, *, cursor: str | None = None, limit: int = 20, confirm: None = None
) -> queries.Page: ...
@overload
def explore_page(
    viewer: Member | None,
    *,
    cursor: str | None = None,
    limit: int = 20,
    confirm: Callable[[], bool],
) -> queries.Page | None: ...
def explore_page(
    viewer: Member | None,
    *,
    cursor: str | None = None,
    limit: int = 20,
    confirm: Callable[[], bool] | None = None,
) -> queries.Page | None:
    """A page of Explore as a visit sees it (web and API alike): the page itself, plus the
    bookkeeping around it: the periodic jobs kept running, the ranking stored when the visit
    had to rank (and the member's profile and ranking then recomputed in the background, as
    when the stored ranking is due), and what was shown recorded. A visit served from a
    fresh stored ranking writes nothing. ``confirm``: asked once the page is read, before
    anything is recorded, whether ``viewer`` is still who signed in (a token the process
    held, checked by the page's own read of the log of changes); if not, None, and nothing
    recorded. Raises ``queries.InvalidCursor``."""
    viewer = signed_in(viewer)
    refresh_if_stale()
    page = queries.explore(viewer, cursor=cursor, limit=limit)
    if confirm is not None and not confirm():
        return None
    if viewer is not None:
        if page.ranked is not None:
            save_ranking(member=viewer, ranking=page.ranked)
            keep_profile_fresh(viewer)
        elif page.due:
            keep_profile_fresh(viewer, ranking_due=True)
        record_shown(member=viewer, note_ids=page.newly_shown())
    return page


# --- The ranking model --------------------------------------------------------------------------


@dataclass
class HeldOut:
    history: dict[int, float]  # note id -> weight: what the member engaged with before
    held: dict[int, float]  # note id -> what their later engagement added to its count


def _held_out(member_ids: list[int], seed: int) -> dict[int, HeldOut]:
    """Per member: a random ``HELD_OUT_SHARE`` of their engagement hidden, the rest kept as
    history. Random rather than the newest: engagement imported or made in bursts shares
    its times, and the newest would then be whatever was written last."""
    rng = np.random.default_rng(seed)
    split = {}
    for member_id in member_ids:
        engaged = queries.engagement_of(member_id)
        ordered = [int(n) for n in rng.permutation(list(engaged.weights))]
        held = ordered[: max(1, int(len(ordered) * HELD_OUT_SHARE))]
        history = {k: v for k, v in engaged.weights.items() if k not in held}
        if len(history) >= 2:
            split[member_id] = HeldOut(history, {k: engaged.counted[k] for k in held})
    return split


def _as_before(
    facts: dict[int, queries.NoteFacts], scale: queries.Scale, held: dict[int, float]
) -> None:
    """Take the member's own later engagement out of the counts of the notes they engaged
    with later: the model must learn from what a request would have seen, and a note's
    count including the very engagement it is asked to predict is the strongest of leaks."""
    for note_id, added in held.items():
        fact = facts.get(note_id)
        if fact is None:
            continue
        before = max(0.0, fact.engagement - added)
        trending = scale.trending.get(note_id)
        if trending:
            scale.trending[note_id] = trending * (before + 1) / (fact.engagement + 1)
        facts[note_id] = replace(fact, engagement=before)


def _without(data: learning.Interactions, hidden: set[tuple[int, int]]) -> learning.Interactions:
    keep = np.array(
        [
            (m, n) not in hidden
            for m, n in zip(data.members.tolist(), data.notes.tolist(), strict=True)
        ],
        dtype=bool,
    )
    return learning.Interactions(data.members[keep], data.notes[keep], data.weights[keep])


def training_rows(member_ids: list[int], seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Features and labels: for each member, a random ``HELD_OUT_SHARE`` of their engagement
    is hidden, and a co-engagement model is learned without those pairs (or it would
    already know them); candidates are then generated and featurised from the rest as a
    request would, and a candidate is positive when the member engaged with it later."""
    split = _held_out(member_ids, seed)
    hidden = {(member_id, note_id) for member_id, part in split.items() for note_id in part.held}
    model = learning.co_engagement(_without(interactions(), hidden))
    rows: list[list[float]] = []
    labels: list[int] = []
    groups: list[int] = []
    members = Member.objects.in_bulk(list(split))
    for member_id, part in split.items():
        member = members[member_id]
        context, candidates = queries.training_candidates(member, part.history, model)
        facts = queries.candidate_facts(member, candidates, context)
        if not any(note_id in part.held for note_id in facts):
            continue  # nothing to learn the order from
        facts = dict(facts)  # the snapshot's facts are shared: change copies only
        scale = queries.feature_scale(candidates, facts)
        _as_before(facts, scale, part.held)
        for note_id, fact in facts.items():
            rows.append(queries.features(candidates[note_id], fact, context, scale))
            labels.append(1 if note_id in part.held else 0)
        groups.append(len(facts))
    return np.array(rows, dtype=np.float64), np.array(labels, dtype=np.int64), groups


def train_ranker(member_limit: int = TRAINING_MEMBERS, seed: int = 0) -> dict[str, Any]:
    """Fit the ranking model on a sample of members with enough engagement; keep the
    default ranking when there is too little to learn from."""
    eligible = list(
        Like.objects.values("member_id")
        .annotate(n=Count("id"))
        .filter(n__gte=5)
        .values_list("member_id", flat=True)
    )
    rng = np.random.default_rng(seed)
    sample = [int(m) for m in rng.permutation(eligible)[:member_limit]] if eligible else []
    rows, labels, groups = training_rows(sample, seed)
    data: dict[str, Any] = {"rows": len(labels), "members": len(groups)}
    if len(groups) >= MIN_TRAINING_MEMBERS:
        model, quality = learning.fit_ranker(rows, labels, groups)
        data.update(weights=model.weights, training_ndcg=quality, positives=int(labels.sum()))
    _save(queries.RANKER, data)
    return data


def train() -> dict[str, float]:
    """The whole refresh: snapshots, co-engagement, profiles, ranking model. Seconds each."""
    timings = {}
    for name, job in (
        ("snapshots_s", refresh_snapshots),
        ("neighbours_s", refresh_neighbours),
        ("profiles_s", refresh_profiles),
        ("ranker_s", train_ranker),
    ):
        started = time.perf_counter()
        job()
        timings[name] = round(time.perf_counter() - started, 2)
    return timings


def keep_profile_fresh(member: Member | None, *, ranking_due: bool = False) -> None:
    """Recompute a visiting member's profile and ranking in the background, at most once
    per ``PROFILE_PERIOD`` (requests fold in only what is newer than it, so the more current
    it is, the less a request reads), or sooner when the stored ranking is due."""
    if member is None or not member.feed_personalized:
        return
    from papercrane.feed import tasks

    key, period = f"feed:profile-job:{member.pk}", PROFILE_PERIOD
    if ranking_due:
        key, period = f"feed:ranking-job:{member.pk}", queries.RANKING_REFRESH_SECONDS
    if cache.add(key, 1, period):
        member_id = member.pk
        transaction.on_commit(lambda: tasks.refresh_profile.enqueue(member_id), robust=True)


# When this process next asks the shared cache whether the jobs were checked: asking it on
# every page cost a page a cache round trip (a network one on Redis) to learn, nearly always,
# that another page had asked first.
_next_staleness_check = 0.0  # time.monotonic()


def refresh_if_stale() -> None:
    """Enqueue the jobs whose last run is older than their period (once per period, and
    asked at most once per ``STALENESS_CHECK_SECONDS`` in each process). The very first
    snapshots are computed at once."""
    from papercrane.feed import tasks

    global _next_staleness_check
    if time.monotonic() < _next_staleness_check:
        return
    _next_staleness_check = time.monotonic() + STALENESS_CHECK_SECONDS
    if not cache.add("feed:checked", 1, STALENESS_CHECK_SECONDS):
        return
    computed = dict(Snapshot.objects.values_list("name", "computed_at"))
    if queries.TRENDING not in computed:  # a new site: Explore must not start empty
        refresh_snapshots()
        computed[queries.TRENDING] = timezone.now()
    now = timezone.now()
    jobs = {
        "snapshots": (queries.TRENDING, tasks.refresh_snapshots),
        "model": (queries.RANKER, tasks.train_model),
    }
    for job, (snapshot, task) in jobs.items():
        last = computed.get(snapshot)
        period = PERIODS[job]
        if last is not None and (now - last).total_seconds() < period:
            continue
        if cache.add(f"feed:job:{job}", 1, period):
            transaction.on_commit(task.enqueue, robust=True)


def forget_staleness_check() -> None:
    """Let the next page in this process check the jobs again (as after a cache clear)."""
    global _next_staleness_check
    _next_staleness_check = 0.0
