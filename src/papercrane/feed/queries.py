"""Read paths for feeds: Explore (candidates → ranking → re-ranking), Following and Nearby.

Explore for a signed-in member with personalization on:

1. **Candidates** from several sources: co-engagement ("collected together", precomputed per
   member in ``Profile`` and topped up with engagement newer than it), recent notes of
   followed creators, notes people they follow engaged with, trending notes in their topics
   and overall, fresh notes of small creators (exploration) and popular notes in the other
   language (the bridge).
2. **Ranking** by the learned model (``learning.Ranker``) over features of each candidate.
3. **Re-ranking**: no two notes of one author within ``AUTHOR_WINDOW`` cards, repeated topics
   within ``TOPIC_WINDOW`` cards cost score, shares kept for small creators and the other
   language; what the member saw, engaged with, hid, blocked or muted never shows.

Logged-out visitors and members who turned personalization off get trending and fresh notes,
with nothing about them read or used. Each card says why it is there (``Reason``).

Ranking costs tens of milliseconds, so it is done ahead: a member's ranked Explore is stored
(``Ranking``, by a task or by the visit that found none) and a visit only merges into it what
changed since and which notes the member has seen, read with it in one query
(``stored_visit``):
new notes of followed creators first, then the rest with what the member hid, blocked or
muted dropped, and "fewer like this" and notes already seen moved down. Engagement since the
ranking makes the visit rank afresh, so Explore adapts at the next page. Explore without
personalization is the same for every reader of a language and is ranked once per process a
minute.
The list of a visit is kept in the cache, so paging through it is stable.
"""

from __future__ import annotations

import functools
import math
import re
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

import numpy as np
import orjson
from django.conf import settings
from django.core.cache import cache, caches
from django.db import connection
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from papercrane import compiled
from papercrane.accounts.models import Block, Follow, Member, Mute
from papercrane.accounts.queries import muted_ids, signed_in
from papercrane.engagement.models import Collect, Comment, Like
from papercrane.feed import learning, shown
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
from papercrane.ids import parse_id
from papercrane.language import detection
from papercrane.memo import Memo
from papercrane.notes import discoverability
from papercrane.notes import queries as note_queries
from papercrane.notes.models import (
    UNDISCOVERABLE_STATES,
    Note,
    NoteTopic,
    Topic,
    Visibility,
    VisibilityChange,
)
from papercrane.notes.text import normalize_topic
from papercrane.search import semantic

SMALL_CREATOR_FOLLOWERS = 1_000
FOLLOWING_DAYS = 14
SEEN_DAYS = 7  # a note shown this recently comes after every note not shown yet
SEEN_COST = 2.0
SESSION_SECONDS = 30 * 60
FEED_DEPTH = 200  # cards ranked per visit; the next visit ranks afresh
AUTHOR_WINDOW = 4
TOPIC_WINDOW = 3
TOPIC_REPEAT_COST = 0.002  # score (a share of the ranking) lost per recent card sharing a topic
RERANK_WINDOW = 60  # how far down the ranking the next card may come from
SMALL_CREATOR_SHARE = 0.25  # at least this share of each page, when there are such notes
BRIDGE_SHARE = 0.1  # and this share in the other language
RECENT_ENGAGEMENT = 300  # engagements read to build or top up a member's profile
CO_ENGAGEMENT_CANDIDATES = 200
SOCIAL_FOLLOWEES = 50  # whose recent likes count (the most recently followed)
FEWER_LIKE_THIS_COST = 1.0  # a topic or creator the member wants fewer of: after the rest
SUPPORTED_LANGUAGES = ("en", "zh-Hans", "zh-Hant")
# Notes that read like the member's latest engagement (multilingual embeddings, so in any
# language): what the bridge share draws on first.
SIMILAR_FROM = 20
SIMILAR_CANDIDATES = 200
RANKING_REFRESH_SECONDS = 600  # a stored ranking this old is served and recomputed by a task
RANKING_MAX_SECONDS = 3600  # one older than this is not served: the visit ranks afresh
NEW_FOLLOWED = 20  # notes of followed creators newer than the ranking, merged in first
GENERIC_MEMO_SECONDS = 60
READ_AHEAD = 100  # cards of the next pages read with those a page must read

TRENDING = "trending"
FRESH = "fresh"
RANKER = "ranker"


class Reason(NamedTuple):
    """Why a card is in Explore. ``kind`` is stable (the API's ``reason.kind``); the rest
    names what it refers to. A tuple: a page makes and looks up a score of them."""

    kind: str  # liked | collected | commented | following | friends | topic | trending |
    #            new_creator | language | chosen | similar | similar_language
    note_id: int | None = None
    note_title: str = ""
    topic: str = ""
    language: str = ""


@dataclass
class Candidate:
    note_id: int
    sources: set[str] = field(default_factory=set)
    co_score: float = 0.0
    co_rank: int | None = None
    because: int | None = None  # the engaged note that brought it
    social: int = 0


@dataclass
class Ranked:
    note_id: int
    score: float
    author_id: int
    topics: list[int]
    small_creator: bool
    other_language: bool
    candidate: Candidate
    facts: NoteFacts


class Item(NamedTuple):
    """A card of a ranked Explore: the note, what merging needs of it, and why it is there
    (``Reason``'s fields). A tuple: a stored ranking is read back as hundreds of them."""

    note_id: int
    author_id: int
    topics: list[int]
    kind: str
    because: int | None = None
    topic: str = ""
    language: str = ""

    @classmethod
    def of(cls, note_id: int, author_id: int, topics: list[int], reason: Reason) -> Item:
        return cls(note_id, author_id, topics, reason.kind, reason.note_id, reason.topic,
                   reason.language)  # fmt: skip


# A card as a visit handles it: an ``Item``, or a row of one as stored (a JSON list). A visit
# sorts a couple of hundred cards read from their JSON, so it keeps them as the rows they
# are read as (``Item``s cost 35 µs to make and writing them back out three times as long
# as rows) and reads the few fields it sorts by by position; a page's own cards become
# ``Item``s (``_item``).
Card = Sequence[Any]
NOTE_ID, AUTHOR_ID, TOPICS, BECAUSE = 0, 1, 2, 4  # ``Item``'s fields

# An ``Item`` from a stored row, as ``Item._make`` makes it but without a Python call.
_item = functools.partial(tuple.__new__, Item)


def items_json(items: Sequence[Card]) -> bytes:
    """``items`` as a JSON array of rows (``_item`` reads a row back): orjson writes plain
    tuples and lists, not named tuples."""
    return orjson.dumps(list(items), default=tuple)


# --- What a member did -----------------------------------------------------------------------


@dataclass
class Engagement:
    weights: dict[int, float]  # note id -> weight, newest engagement first
    kinds: dict[int, str]  # note id -> the strongest kind: collected > commented > liked
    counted: dict[int, float] = field(default_factory=dict)  # what it adds to the note's
    # engagement count (``NoteFacts.engagement``)


def engagement_of(member_id: int, since: Any = None, limit: int = RECENT_ENGAGEMENT) -> Engagement:
    """The member's recent likes, collects and comments (and long reads), as weights."""
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    latest: dict[int, Any] = {}
    sources: list[tuple[str, QuerySet[Any, Any]]] = [
        ("liked", Like.objects.filter(member_id=member_id)),
        ("collected", Collect.objects.filter(member_id=member_id)),
        ("commented", Comment.objects.filter(author_id=member_id)),
    ]
    for kind, rows in sources:
        if since is not None:
            rows = rows.filter(created_at__gt=since)
        for note_id, at in rows.order_by("-id").values_list("note_id", "created_at")[:limit]:
            counts[note_id][kind] += 1
            latest[note_id] = max(latest.get(note_id, at), at)
    dwell = Impression.objects.filter(member_id=member_id, dwell_ms__gte=8_000)
    if since is not None:
        dwell = dwell.filter(day__gte=since.date())
    for note_id, dwell_ms in dwell.values_list("note_id", "dwell_ms")[:limit]:
        counts[note_id]["dwell"] = dwell_ms
    weights, kinds, counted = {}, {}, {}
    for note_id in sorted(counts, key=lambda n: latest.get(n) or timezone.now(), reverse=True):
        kind_counts = counts[note_id]
        weights[note_id] = learning.engagement_weight(
            kind_counts["liked"],
            kind_counts["collected"],
            kind_counts["commented"],
            kind_counts["dwell"],
        )
        strongest = [k for k in ("collected", "commented", "liked") if kind_counts[k]]
        kinds[note_id] = strongest[0] if strongest else "liked"
        counted[note_id] = learning.engagement_count(
            min(kind_counts["liked"], 1),
            min(kind_counts["collected"], 1),
            kind_counts["commented"],
        )
    return Engagement(weights, kinds, counted)


def co_engagement_candidates(
    engaged: dict[int, float],
    limit: int = CO_ENGAGEMENT_CANDIDATES,
    model: dict[int, list[tuple[int, float]]] | None = None,
) -> list[tuple[int, float, int]]:
    """``(note_id, score, because)``: notes scored by the co-engagement weights of what the
    member engaged with (positive scores only); ``because`` is the engaged note that
    contributed most. ``model``: weights in memory instead of the stored ``Neighbours``."""
    scores: dict[int, float] = defaultdict(float)
    best: dict[int, tuple[float, int]] = {}
    if model is None:
        rows: Iterable[tuple[int, Any]] = Neighbours.objects.filter(
            note_id__in=list(engaged)
        ).values_list("note_id", "items")
    else:
        rows = [(note_id, model[note_id]) for note_id in engaged if note_id in model]
    for source, items in rows:
        strength = engaged[source]
        for note_id, weight in items:
            contribution = strength * weight
            scores[note_id] += contribution
            if contribution > best.get(note_id, (0.0, 0))[0]:
                best[note_id] = (contribution, source)
    for note_id in engaged:
        scores.pop(note_id, None)
    ranked = sorted(scores.items(), key=lambda item: -item[1])[:limit]
    return [
        (note_id, round(score, 6), best[note_id][1])
        for note_id, score in ranked
        if score > 0 and note_id in best
    ]


def followee_ids(member_id: int) -> list[int]:
    """Whom the member follows, most recently followed first."""
    follows = Follow.objects.filter(follower_id=member_id).order_by("-id")
    return list(follows.values_list("followee_id", flat=True))


def social_candidates(followees: list[int], limit: int = 100) -> dict[int, int]:
    """Notes the people a member follows recently liked or collected: note id -> how many."""
    if not followees:
        return {}
    since = timezone.now() - timedelta(days=FOLLOWING_DAYS)
    counts: dict[int, int] = defaultdict(int)
    for model in (Like, Collect):
        rows = model.objects.filter(
            member_id__in=followees[:SOCIAL_FOLLOWEES], created_at__gte=since
        )
        for note_id in rows.values_list("note_id", flat=True)[: limit * 5]:  # any recent ones
            counts[note_id] += 1
    return dict(sorted(counts.items(), key=lambda item: -item[1])[:limit])


def topic_affinity(engaged: dict[int, float]) -> dict[int, float]:
    """Topic id -> share of the member's engagement under it."""
    weights: dict[int, float] = defaultdict(float)
    for note_id, topics in topics_of(list(engaged)).items():
        for topic_id in topics:
            weights[topic_id] += engaged[note_id]
    total = sum(weights.values()) or 1.0
    return {topic_id: weight / total for topic_id, weight in weights.items()}


def author_affinity(engaged: dict[int, float]) -> dict[int, float]:
    weights: dict[int, float] = defaultdict(float)
    for note_id, author_id in Note.objects.filter(pk__in=list(engaged)).values_list(
        "pk", "author_id"
    ):
        weights[author_id] += engaged[note_id]
    total = sum(weights.values()) or 1.0
    return {author_id: weight / total for author_id, weight in weights.items()}


_snapshots: dict[str, tuple[float, dict[str, Any]]] = {}
SNAPSHOT_MEMO_SECONDS = 10.0


def snapshot(name: str) -> dict[str, Any]:
    """A precomputed list (trending, fresh, the ranker), read through the cache and kept
    in this process for a few seconds (it is large, and read several times a request).
    Callers must not change it."""
    now = time.monotonic()
    memo = _snapshots.get(name)
    if memo is not None and now - memo[0] < SNAPSHOT_MEMO_SECONDS:
        return memo[1]
    # Through the cache when it is shared (Redis): one read of the database a minute for all
    # the servers, and a new snapshot deletes it. A process's own cache is not shared: it
    # kept a snapshot the worker had replaced for a minute, where reading the row again
    # costs no more than unpickling the copy.
    shared, key = bool(settings.REDIS_URL), f"feed:snapshot:{name}"
    data = cache.get(key) if shared else None
    if data is None:
        row = Snapshot.objects.filter(name=name).values_list("data", flat=True).first()
        data = row or {}
        if shared:
            cache.set(key, data, 60)
    _snapshots[name] = (now, data)
    return data


def forget_snapshot(name: str) -> None:
    """Read ``name`` afresh next time in this process (after this process changed it)."""
    _snapshots.pop(name, None)


def ranker() -> learning.Ranker:
    """The trained ranking model, or the default weights before the first training."""
    return learning.Ranker(snapshot(RANKER).get("weights"))


# --- Explore -------------------------------------------------------------------------------


@dataclass
class Context:
    """What ranking knows of the viewer (nothing when personalization is off)."""

    member: Member | None
    personal: bool
    language: str = ""
    followees: set[int] = field(default_factory=set)
    recent_followees: list[int] = field(default_factory=list)  # most recently followed first
    topics: dict[int, float] = field(default_factory=dict)
    authors: dict[int, float] = field(default_factory=dict)
    kinds: dict[int, str] = field(default_factory=dict)
    chosen: set[int] = field(default_factory=set)
    fewer_topics: set[int] = field(default_factory=set)
    fewer_authors: set[int] = field(default_factory=set)
    excluded: set[int] = field(default_factory=set)
    seen: set[int] = field(default_factory=set)


def personalized(member: Member | None) -> bool:
    return member is not None and member.feed_personalized


def _context(viewer: Member | None) -> Context:
    if viewer is None:
        return Context(None, personal=False)
    hidden = set(
        Feedback.objects.filter(member=viewer, kind=Feedback.Kind.NOTE).values_list(
            "target_id", flat=True
        )
    )
    seen = seen_notes(viewer.pk)
    context = Context(viewer, personal=personalized(viewer), language=viewer.language)
    context.excluded, context.seen = hidden, seen
    if not context.personal:
        return context
    fewer = Feedback.objects.filter(member=viewer).exclude(kind=Feedback.Kind.NOTE)
    for kind, target in fewer.values_list("kind", "target_id"):
        (context.fewer_topics if kind == Feedback.Kind.TOPIC else context.fewer_authors).add(target)
    context.recent_followees = followee_ids(viewer.pk)
    context.followees = set(context.recent_followees)
    context.chosen = set(
        ChosenTopic.objects.filter(member=viewer).values_list("topic_id", flat=True)
    )
    return context


def _add(candidates: dict[int, Candidate], note_id: int, source: str) -> Candidate:
    candidate = candidates.setdefault(note_id, Candidate(note_id))
    candidate.sources.add(source)
    return candidate


def _rank_co_engagement(candidates: dict[int, Candidate]) -> None:
    by_score = sorted((c for c in candidates.values() if c.co_score > 0), key=lambda c: -c.co_score)
    for rank, candidate in enumerate(by_score):
        candidate.co_rank = rank


def _followed_candidates(context: Context, candidates: dict[int, Candidate]) -> None:
    since = timezone.now() - timedelta(days=FOLLOWING_DAYS)
    followed = Note.objects.filter(
        author_id__in=list(context.followees)[:1000],
        status=Note.Status.PUBLISHED,
        published_at__gte=since,
    )
    for note_id in followed.order_by("-published_at").values_list("pk", flat=True)[:100]:
        _add(candidates, note_id, "following")


def training_candidates(
    member: Member, history: dict[int, float], model: dict[int, list[tuple[int, float]]]
) -> tuple[Context, dict[int, Candidate]]:
    """The candidates a request would gather for ``member`` had they engaged with
    ``history`` only, co-engagement coming from ``model`` (learned without what the member
    engaged with next), for training the ranker on what they engaged with next."""
    context = Context(member, personal=True, language=member.language)
    context.recent_followees = followee_ids(member.pk)
    context.followees = set(context.recent_followees)
    context.topics = topic_affinity(history)
    context.authors = author_affinity(history)
    context.excluded = set(history)
    candidates: dict[int, Candidate] = {}
    for note_id, score, because in co_engagement_candidates(history, model=model):
        candidate = _add(candidates, note_id, "co")
        candidate.co_score, candidate.because = score, because
    _rank_co_engagement(candidates)
    for note_id, count in social_candidates(context.recent_followees).items():
        _add(candidates, note_id, "friends").social = count
    _followed_candidates(context, candidates)
    _global_candidates(context, candidates)
    return context, candidates


def _personal_candidates(context: Context) -> dict[int, Candidate]:
    member = context.member
    assert member is not None
    profile = Profile.objects.filter(member=member).first()
    fresh = engagement_of(member.pk, since=profile.computed_at if profile else None)
    candidates: dict[int, Candidate] = {}
    add = functools.partial(_add, candidates)

    co_lists = [profile.candidates] if profile else []
    if fresh.weights:  # engagement since the profile was computed counts at once
        co_lists.append([list(row) for row in co_engagement_candidates(fresh.weights)])
    for rows in co_lists:
        for note_id, score, because in rows:
            candidate = add(note_id, "co")
            candidate.co_score += score
            if candidate.because is None:
                candidate.because = because
    _rank_co_engagement(candidates)
    for note_id, count in social_candidates(context.recent_followees).items():
        add(note_id, "friends").social = count  # read now: a friend's like counts at once
    context.topics = {int(k): v for k, v in (profile.topics if profile else {}).items()}
    context.authors = {int(k): v for k, v in (profile.authors if profile else {}).items()}
    if fresh.weights:
        for topic_id, weight in topic_affinity(fresh.weights).items():
            context.topics[topic_id] = context.topics.get(topic_id, 0.0) + weight
        for author_id, weight in author_affinity(fresh.weights).items():
            context.authors[author_id] = context.authors.get(author_id, 0.0) + weight
    for topic_id in context.chosen:
        context.topics.setdefault(topic_id, 0.5)
    context.kinds = {int(k): v for k, v in (profile.engaged if profile else {}).items()}
    context.kinds.update(fresh.kinds)
    context.excluded |= set(context.kinds)
    _followed_candidates(context, candidates)
    # Newest engagement first (the profile's, stored as JSON, comes in no reliable order).
    engaged = [*fresh.kinds, *(int(k) for k in (profile.engaged if profile else {}))]
    for note_id in semantic.like_notes(engaged[:SIMILAR_FROM], SIMILAR_CANDIDATES):
        add(note_id, "similar")
    return candidates


def _global_candidates(context: Context, candidates: dict[int, Candidate]) -> None:
    """Trending (in the member's topics first), fresh notes of small creators, and popular
    notes in the other language."""
    top_topics = sorted(context.topics, key=lambda t: -context.topics[t])[:10]
    trending = snapshot(TRENDING).get("notes", [])
    in_topics = [row for row in trending if set(row["topics"]) & set(top_topics)]
    other = [row for row in trending if context.language and _other_language(row, context)]
    groups = [
        ("topic", in_topics[:100]),
        ("trending", trending[:100]),
        ("new_creator", snapshot(FRESH).get("notes", [])[:60]),
        ("language", other[:40]),
    ]
    for source, rows in groups:
        for row in rows:
            candidates.setdefault(row["id"], Candidate(row["id"])).sources.add(source)


def _other_language(row: dict[str, Any], context: Context) -> bool:
    language = row.get("language") or ""
    return language in SUPPORTED_LANGUAGES and not detection.same_language(
        language, context.language
    )


@dataclass
class NoteFacts:
    author_id: int
    language: str
    published_epoch: float
    engagement: float
    author_followers: int
    topics: list[int] = field(default_factory=list)


def candidate_facts(
    viewer: Member | None, candidates: dict[int, Candidate], context: Context
) -> dict[int, NoteFacts]:
    """What ranking needs of each candidate the viewer may see. Notes of the snapshots are
    public by construction and carry their facts, so only blocks and mutes are checked for
    them; the others (follows, co-engagement) are read with full visibility rules. The page
    finally shown is checked once more (``explore``)."""
    wanted = [note_id for note_id in candidates if note_id not in context.excluded]
    known = _snapshot_facts()
    hidden_authors = _hidden_authors(viewer)
    facts = {
        note_id: known[note_id]
        for note_id in wanted
        if note_id in known and known[note_id].author_id not in hidden_authors
    }
    facts.update(_read_facts([n for n in wanted if n not in known], hidden_authors, context))
    return facts


def _hidden_authors(viewer: Member | None) -> set[int]:
    """Authors whose notes the viewer must not be shown: blocked either way, muted, self."""
    if viewer is None:
        return set()
    blocks = Block.objects.filter(Q(blocker=viewer) | Q(blocked=viewer))
    hidden = {b for pair in blocks.values_list("blocker_id", "blocked_id") for b in pair}
    hidden.update(Mute.objects.filter(muter=viewer).values_list("muted_id", flat=True))
    hidden.add(viewer.pk)
    return hidden


_facts_memo: dict[tuple[Any, ...], dict[int, NoteFacts]] = {}


def _snapshot_facts() -> dict[int, NoteFacts]:
    """The facts of the snapshots' notes, built once per process and snapshot version."""
    key = tuple(snapshot(name).get("version") for name in (TRENDING, FRESH))
    if key not in _facts_memo:
        _facts_memo.clear()
        _facts_memo[key] = _build_snapshot_facts()
    return _facts_memo[key]


def _build_snapshot_facts() -> dict[int, NoteFacts]:
    facts = {}
    for name in (TRENDING, FRESH):
        for row in snapshot(name).get("notes", []):
            facts[row["id"]] = NoteFacts(
                row["author"],
                row["language"],
                row["published"],
                row["engagement"],
                row["followers"],
                row["topics"],
            )
    return facts


def _read_facts(
    note_ids: list[int], hidden_authors: set[int], context: Context
) -> dict[int, NoteFacts]:
    """Facts of notes outside the snapshots, visibility decided here from what the context
    knows (one plain query: the visibility subqueries cost more than the rest of ranking).
    The same rules as ``notes.queries.visible_notes``, which checks the page shown again."""
    if not note_ids:
        return {}
    rows = (
        Note.objects.filter(pk__in=note_ids, status=Note.Status.PUBLISHED, author__is_active=True)
        .exclude(moderation_state__in=UNDISCOVERABLE_STATES)
        .values_list(
            "pk",
            "author_id",
            "language",
            "published_at",
            "like_count",
            "collect_count",
            "comment_count",
            "author__follower_count",
            "visibility",
            "author__is_private",
        )
    )
    facts = {}
    for row in rows:
        pk, author_id, language, published, likes, collects, comments, followers = row[:8]
        visibility, private = str(row[8]), bool(row[9])
        if author_id in hidden_authors or not _may_see(author_id, visibility, private, context):
            continue
        facts[pk] = NoteFacts(
            author_id,
            language,
            published.timestamp() if published else 0.0,
            learning.engagement_count(likes, collects, comments),
            followers,
        )
    for note_id, topics in topics_of(list(facts)).items():
        facts[note_id].topics = topics
    return facts


def topics_of(note_ids: list[int]) -> dict[int, list[int]]:
    """Note id -> its topic ids, in one query."""
    topics: dict[int, list[int]] = defaultdict(list)
    rows = NoteTopic.objects.filter(note_id__in=note_ids).values_list("note_id", "topic_id")
    for note_id, topic_id in rows:
        topics[note_id].append(topic_id)
    return topics


def _may_see(author_id: int, visibility: str, private: bool, context: Context) -> bool:
    if visibility == Visibility.PUBLIC and not private:
        return True
    followed = author_id in context.followees
    return followed and visibility in (Visibility.PUBLIC, Visibility.FOLLOWERS)


def features(candidate: Candidate, facts: NoteFacts, context: Context, scale: Scale) -> list[float]:
    """The ranking features of one candidate, in ``learning.FEATURES`` order."""
    now = time.time()
    topic = sum(context.topics.get(t, 0.0) for t in facts.topics)
    age_days = max(0.0, (now - facts.published_epoch) / 86_400)
    return [
        candidate.co_score / scale.co if scale.co else 0.0,
        1.0 / (1 + candidate.co_rank) if candidate.co_rank is not None else 0.0,
        min(1.0, topic),
        min(1.0, context.authors.get(facts.author_id, 0.0)),
        1.0 if facts.author_id in context.followees else 0.0,
        math.log1p(candidate.social),
        math.log1p(facts.engagement) / scale.popularity,
        scale.trending.get(candidate.note_id, 0.0) / scale.top_trending
        if scale.top_trending
        else 0.0,
        math.exp(-age_days / 7),
        1.0 if context.language and facts.language == context.language else 0.0,
        1.0 if facts.author_followers < SMALL_CREATOR_FOLLOWERS else 0.0,
    ]


@dataclass
class Scale:
    """What features are relative to: the member's best co-engagement score, the most
    engaged candidate, and the trending scores (and the highest of them)."""

    co: float
    popularity: float
    trending: dict[int, float]
    top_trending: float


def feature_scale(candidates: dict[int, Candidate], facts: dict[int, NoteFacts]) -> Scale:
    trending = {row["id"]: row["score"] for row in snapshot(TRENDING).get("notes", [])}
    return Scale(
        co=max((c.co_score for c in candidates.values()), default=0.0),
        popularity=math.log1p(max((f.engagement for f in facts.values()), default=0.0)) or 1.0,
        trending=trending,
        top_trending=max(trending.values(), default=0.0),
    )


def rank_candidates(
    viewer: Member | None, context: Context, candidates: dict[int, Candidate]
) -> list[Ranked]:
    """Candidates the viewer may see, best first. Scores are positions in the model's order
    scaled to (0, 1], so the re-ranking's costs mean the same whatever the model; a topic
    or creator the member wants fewer of, then notes already shown, go below everything."""
    facts = candidate_facts(viewer, candidates, context)
    scale = feature_scale(candidates, facts)
    model = ranker() if context.personal else learning.Ranker()
    ids = list(facts)
    rows = np.array([features(candidates[n], facts[n], context, scale) for n in ids])
    order: list[int] = (
        np.lexsort((-np.array(ids, dtype=np.int64), -model.scores(rows))).tolist() if ids else []
    )
    ranked = []
    for position, index in enumerate(order):
        note_id, fact = ids[index], facts[ids[index]]
        score = 1.0 - position / len(ids)
        if fact.author_id in context.fewer_authors or set(fact.topics) & context.fewer_topics:
            score -= FEWER_LIKE_THIS_COST
        if note_id in context.seen:
            score -= SEEN_COST
        ranked.append(
            Ranked(
                note_id,
                score,
                fact.author_id,
                fact.topics,
                fact.author_followers < SMALL_CREATOR_FOLLOWERS,
                _other_language({"language": fact.language}, context),
                candidates[note_id],
                fact,
            )
        )
    ranked.sort(key=lambda r: (-r.score, -r.note_id))
    return ranked


def _reason(candidate: Candidate, fact: NoteFacts, context: Context) -> Reason:
    sources = candidate.sources
    if "following" in sources or fact.author_id in context.followees:
        return Reason("following")
    if "co" in sources and candidate.because is not None:
        kind = context.kinds.get(candidate.because, "liked")
        return Reason(kind, note_id=candidate.because)
    if "friends" in sources:
        return Reason("friends")
    shared = [t for t in fact.topics if t in context.topics]
    if shared:
        best = max(shared, key=lambda t: context.topics[t])
        return Reason("chosen" if best in context.chosen else "topic", topic=str(best))
    other_language = _other_language({"language": fact.language}, context)
    if "similar" in sources:
        return Reason("similar_language" if other_language else "similar", language=fact.language)
    if "language" in sources:
        return Reason("language", language=fact.language)
    if "new_creator" in sources:
        return Reason("new_creator")
    return Reason("trending")


def rerank(ranked: list[Ranked], depth: int = FEED_DEPTH) -> list[Ranked]:
    """Diversity and shares: greedily take the best remaining card, skipping an author shown
    within ``AUTHOR_WINDOW`` cards, charging for topics shown within ``TOPIC_WINDOW``, and
    keeping each page of 20 cards at least ``SMALL_CREATOR_SHARE`` small creators and
    ``BRIDGE_SHARE`` other-language notes when there are any."""
    remaining = list(ranked[: depth * 3])
    chosen: list[Ranked] = []
    while remaining and len(chosen) < depth:
        recent_authors = {r.author_id for r in chosen[len(chosen) - AUTHOR_WINDOW + 1 :]}
        recent_topics: dict[int, int] = defaultdict(int)
        for card in chosen[len(chosen) - TOPIC_WINDOW :]:
            for topic in card.topics:
                recent_topics[topic] += 1
        need = _needed_share(chosen, remaining)
        best_index, best_score = 0, -math.inf
        for index, item in enumerate(remaining[:RERANK_WINDOW]):
            if item.score <= best_score:
                break  # sorted by score, and a repeat only costs: nothing below can win
            if item.author_id in recent_authors or (need and not need(item)):
                continue
            score = item.score - TOPIC_REPEAT_COST * sum(recent_topics[t] for t in item.topics)
            if score > best_score:
                best_index, best_score = index, score
        chosen.append(remaining.pop(best_index))
    return chosen


def _needed_share(chosen: list[Ranked], remaining: list[Ranked]) -> Any:
    """A filter for the next card when a share in the current page of 20 would be missed."""
    window = chosen[len(chosen) - len(chosen) % 20 :]
    left = 20 - len(window)
    shares = [
        (SMALL_CREATOR_SHARE, lambda r: r.small_creator),
        (BRIDGE_SHARE, lambda r: r.other_language),
    ]
    for share, holds in shares:
        missing = math.ceil(share * 20) - sum(1 for r in window if holds(r))
        if missing > 0 and missing >= left and any(holds(r) for r in remaining[:RERANK_WINDOW]):
            return holds
    return None


def _ranked_items(
    viewer: Member | None, context: Context, candidates: dict[int, Candidate]
) -> list[Item]:
    chosen = rerank(rank_candidates(viewer, context, candidates))
    return [
        Item.of(r.note_id, r.author_id, r.topics, _reason(r.candidate, r.facts, context))
        for r in chosen
    ]


def ranked_explore(viewer: Member | None) -> list[Item]:
    """A visit's Explore ranked afresh, best first (``FEED_DEPTH`` cards at most)."""
    viewer = signed_in(viewer)
    context = _context(viewer)
    candidates = _personal_candidates(context) if context.personal else {}
    _global_candidates(context, candidates)
    return _ranked_items(viewer, context, candidates)


_generic: dict[str, tuple[float, tuple[Any, ...], list[Item]]] = {}


def generic_explore(language: str) -> list[Item]:
    """Explore without personalization (trending and fresh notes, nothing about the reader)
    for readers of ``language``: the same for all of them, so ranked once per process and
    minute, or when the snapshots change. Members' own filters are merged in afterwards."""
    versions = tuple(snapshot(name).get("version") for name in (TRENDING, FRESH))
    now = time.monotonic()
    memo = _generic.get(language)
    if memo is not None and memo[1] == versions and now - memo[0] < GENERIC_MEMO_SECONDS:
        return memo[2]
    context = Context(None, personal=False, language=language)
    candidates: dict[int, Candidate] = {}
    _global_candidates(context, candidates)
    items = _ranked_items(None, context, candidates)
    _generic[language] = (now, versions, items)
    return items


# --- Stored rankings and what changed since ---------------------------------------------------


@dataclass
class StoredRanking:
    items: Sequence[Card]
    # The newest like, collect and comment ids when it was computed, to store with it; none
    # for a ranking read back (they stay in the database, where a visit compares them).
    engagement_ids: list[int]
    model_version: float
    computed_at: datetime

    def age(self) -> float:
        return (timezone.now() - self.computed_at).total_seconds()

    def due(self) -> bool:
        """Old enough, or from an older ranking model: recompute it in the background."""
        model = snapshot(RANKER).get("version", 0.0)
        return self.age() > RANKING_REFRESH_SECONDS or self.model_version != model


def rank_for_storage(member: Member) -> StoredRanking:
    """The member's Explore ranked now, with what a later visit needs to merge into it."""
    computed_at = timezone.now()  # before ranking: what happens meanwhile counts as newer
    engagement_ids = [
        model.objects.aggregate(newest=Max("pk"))["newest"] or 0
        for model in (Like, Collect, Comment)
    ]
    version = snapshot(RANKER).get("version", 0.0)
    return StoredRanking(ranked_explore(member), engagement_ids, version, computed_at)


@dataclass
class Changes:
    """What a stored ranking must be corrected by: the member's filters as they are now, and
    what happened since it was computed."""

    hidden_authors: set[int] = field(default_factory=set)  # blocked either way, muted, self
    blocked: set[int] = field(default_factory=set)  # blocked either way
    not_interested: set[int] = field(default_factory=set)
    fewer_topics: set[int] = field(default_factory=set)
    fewer_authors: set[int] = field(default_factory=set)
    seen: set[int] = field(default_factory=set)
    # Of those, the notes already recorded as shown today (written or pending): a page
    # records only the others (``Page.shown_today``).
    shown_today: set[int] = field(default_factory=set)
    engaged: bool = False  # since the ranking
    followed: list[Item] = field(default_factory=list)  # newer, or newly followed, creators'


# One round trip for everything ``Changes`` holds, what was seen included (a visit's cost is
# mostly its queries): rows of (kind, id, author, the list of a day seen: its id 1 for
# today's); table names come from the models, values are parameters. It also reads what
# changed who may see which notes since the process last asked (``discoverability``: a
# note's id, or its author's, or neither for everything), and where the log stands for the
# next read (in the author's column), so the page's visibility check needs no statement of
# its own for the notes everyone may see.
_FILTERS_SQL = """
SELECT 'seen', CASE WHEN day >= %s THEN 1 ELSE 0 END, 0, note_ids{more} FROM {shownday}
  WHERE member_id = %s AND day >= %s
UNION ALL SELECT 'blocked', blocked_id, 0, ''{more} FROM {block} WHERE blocker_id = %s
UNION ALL SELECT 'blocked', blocker_id, 0, ''{more} FROM {block} WHERE blocked_id = %s
UNION ALL SELECT 'hidden', muted_id, 0, ''{more} FROM {mute} WHERE muter_id = %s
UNION ALL SELECT kind, target_id, 0, ''{more} FROM {feedback} WHERE member_id = %s
UNION ALL SELECT 'changed', note, who, ''{more} FROM (
  SELECT COALESCE(note_id, 0) AS note, COALESCE(member_id, 0) AS who FROM {visibilitychange}
  WHERE seq >= %s ORDER BY seq LIMIT {changes_read}) AS changed
UNION ALL SELECT 'log', 0, {log_position}, ''{more}"""
# A visit to a stored ranking reads it in the same statement: its row once (``r``), first, as
# a row of its own with two more columns, its computation's time in seconds since 1970 (read
# as a number, not a time PostgreSQL's driver parses in Python); and what happened since it,
# compared with its columns in SQL.
_RANKING_SQL = """
WITH r AS (SELECT items, model_version, computed_at, newest_like_id, newest_collect_id,
  newest_comment_id FROM {ranking} WHERE member_id = %s)
SELECT 'ranking', 0, 0, items, model_version, {epoch} FROM r
UNION ALL"""
_SINCE_SQL = """
UNION ALL SELECT 'engaged', 0, 0, ''{more} FROM r
  WHERE EXISTS (SELECT 1 FROM {like} WHERE member_id = %s AND id > r.newest_like_id)
  OR EXISTS (SELECT 1 FROM {collect} WHERE member_id = %s AND id > r.newest_collect_id)
  OR EXISTS (SELECT 1 FROM {comment} WHERE author_id = %s AND id > r.newest_comment_id)
UNION ALL SELECT 'followed', CASE WHEN f.created_at > r.computed_at OR r.computed_at < %s
  THEN (SELECT n.id FROM {note} n
    WHERE n.author_id = f.followee_id AND {shared} AND n.published_at > CASE
      WHEN f.created_at <= r.computed_at THEN r.computed_at ELSE {earliest} END
    ORDER BY n.published_at DESC LIMIT 1) END, f.followee_id, ''{more}
  FROM r, {follow} f WHERE f.follower_id = %s"""
# Every branch reads an index and stops at its first row: whether the member engaged since
# the ranking (any engagement makes the visit rank afresh, so one row says it), and each
# followed creator. For a creator followed since the ranking, it finds their newest note
# at all (one they share and moderation leaves in Explore: a private or held note would
# otherwise stand in for a public one, and the page's visibility check drop it), and for
# the others, their newest since a ranking older than the process's list of new notes
# (``new_notes``; the statement is given the time that list starts from). The process looks
# up the rest in that list: looking each one up here was half of the statement's time. Bounded
# so, the statement's generic plan costs less than one planned for the values at hand, so
# PostgreSQL plans it once per connection: planning it for each visit (it asked for every
# row since) cost three times what running it does. Which notes count as shared is written
# into the statement (the code's own constants), not passed: PostgreSQL then knows from its
# statistics that nearly every note passes, where for parameters it guessed few would and
# costed each creator's lookup as a read of all their notes. No ranking: no row of ``r``,
# so none of it, and no rows since.
#
# What the statements write differently for each database: where a reader of the log goes on
# from next time (``VisibilityChange.seq``: on PostgreSQL the oldest transaction still
# running, as the changes of those that finished before it are all in this read; on SQLite
# one more than the last row), the ranking's time in seconds since 1970, and a time before
# every other.
_VENDOR_SQL = {
    "sqlite": {
        "log_position": "(SELECT COALESCE(MAX(seq), 0) + 1 FROM {visibilitychange})",
        "epoch": "(julianday(computed_at) - 2440587.5) * 86400.0",  # from days since 4713 BC
        "earliest": "''",  # times are text, and every time comes after no text
    },
    "postgresql": {
        "log_position": "pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
        "epoch": "EXTRACT(EPOCH FROM computed_at)::float8",
        "earliest": "'-infinity'::timestamptz",
    },
}


@functools.cache
def _changes_sql(ranking: bool, vendor: str) -> str:
    """``ranking``: with the stored ranking first, and what happened since it."""
    models = (ShownDay, Block, Mute, Feedback, Like, Collect, Comment, Note, Follow, Ranking,
              VisibilityChange)  # fmt: skip
    tables = {model.__name__.lower(): model._meta.db_table for model in models}
    pieces = {name: sql.format(**tables) for name, sql in _VENDOR_SQL[vendor].items()}
    pieces |= tables | {"changes_read": str(discoverability.CHANGES_READ)}
    if not ranking:
        return _FILTERS_SQL.format(more="", **pieces)
    sql = _RANKING_SQL + _FILTERS_SQL + _SINCE_SQL
    return sql.format(more=", NULL, NULL", shared=_shared_note_sql(), **pieces)


def _shared_note_sql() -> str:
    """SQL for "note ``n`` is published, not private, and left in Explore by moderation"."""
    values = [Note.Status.PUBLISHED, Visibility.PRIVATE, *UNDISCOVERABLE_STATES]
    if not all(re.fullmatch("[a-z_]+", value) for value in values):
        raise ValueError("only plain words are written into SQL")
    states = ", ".join(f"'{state}'" for state in UNDISCOVERABLE_STATES)
    return (
        f"n.status = '{Note.Status.PUBLISHED}' AND n.visibility <> '{Visibility.PRIVATE}' "
        f"AND n.moderation_state NOT IN ({states})"
    )


def filters_now(member: Member) -> Changes:
    """The member's filters now, and what they have seen (a visit to a stored ranking reads
    these with it: ``stored_visit``)."""
    return _changes(member, ranking=False)[1]


def stored_visit(member: Member) -> tuple[StoredRanking | None, Changes]:
    """The member's stored ranking, if any, and in the same statement their filters now,
    what they have seen, whether they engaged since the ranking, and each followed
    creator's newest note published since it (which a visit shows within seconds) or, for
    creators followed since, their newest note (following someone shows them at once)."""
    return _changes(member, ranking=True)


def _changes(member: Member, *, ranking: bool) -> tuple[StoredRanking | None, Changes]:
    pk = member.pk
    today = timezone.now().date()
    first_day = connection.ops.adapt_datefield_value(_first_seen_day(today))
    sql = _changes_sql(ranking, connection.vendor)
    log_from = discoverability.log_position()
    today_param = connection.ops.adapt_datefield_value(today)
    params: list[Any] = [today_param, pk, first_day, pk, pk, pk, pk, log_from]
    latest = new_notes() if ranking else None
    if latest is not None:  # its row first; what comes after the filters takes the member's id
        since = connection.ops.adapt_datetimefield_value(latest.since)
        params = [pk, *params, pk, pk, pk, since, pk]
    rows = compiled.fetch(sql, params)
    stored, changes = None, Changes(hidden_authors={pk})
    into = {
        "blocked": changes.blocked,
        "hidden": changes.hidden_authors,
        Feedback.Kind.NOTE: changes.not_interested,
        Feedback.Kind.TOPIC: changes.fewer_topics,
        Feedback.Kind.AUTHOR: changes.fewer_authors,
    }
    followed, followees, log_next = {}, [], log_from
    seen_lists: list[str] = []  # days' lists, today's apart
    today_lists: list[str] = []
    changed_notes, changed_authors, changes_read, everything_changed = set(), set(), 0, False
    for kind, target, author, text, *ranked in rows:
        if kind == "seen":
            (today_lists if target else seen_lists).append(text)
        elif kind == "changed":  # a note, a member's notes, or neither: everything
            changed_notes.add(target)
            changed_authors.add(author)
            changes_read += 1
            everything_changed = everything_changed or target == author == 0
        elif kind == "log":
            log_next = author  # the log's position, in the author's column
        elif kind == "followed":  # a creator, and their newest note if it was looked up
            if target is not None:
                followed[target] = author
            else:
                followees.append(author)
        elif kind == "engaged":
            changes.engaged = True
        elif kind == "ranking":
            stored = _stored_ranking(text, *ranked)
        else:
            into[kind].add(target)
    full = everything_changed or changes_read >= discoverability.CHANGES_READ
    notes, authors = changed_notes - {0}, changed_authors - {0}
    discoverability.forget(notes, authors, read_from=log_from, next_from=log_next, full=full)
    changes.hidden_authors |= changes.blocked
    if stored is not None and latest is not None and stored.computed_at >= latest.since:
        followed |= latest.newest_since(followees, stored.computed_at)
    newest = sorted(followed, reverse=True)[:NEW_FOLLOWED]
    topics = topics_of(newest) if newest else {}
    changes.followed = [
        Item(note_id, followed[note_id], topics.get(note_id, []), "following") for note_id in newest
    ]
    # What is pending was shown within the second: today (or, just past midnight, yesterday,
    # whose record then ends a day sooner for the notes shown again since).
    changes.shown_today = _shown_ids(today_lists) | shown.pending_for(pk)
    changes.seen = _shown_ids(seen_lists) | changes.shown_today
    return stored, changes


@dataclass(frozen=True)
class NewNotes:
    """The notes published since ``since`` that their authors share and moderation leaves
    in Explore, as this process last read them: each author's newest."""

    since: datetime
    read_at: float  # time.monotonic()
    newest: dict[int, tuple[datetime, int]]  # author -> (published, note id)

    def newest_since(self, authors: Iterable[int], since: datetime) -> dict[int, int]:
        """Note id -> author: of ``authors``, those with a note published after ``since``
        (no earlier than ``self.since``), and their newest."""
        found = {}
        for author in authors:
            newest = self.newest.get(author)
            if newest is not None and newest[0] > since:
                found[newest[1]] = author
        return found


# How far back the process's list of new notes goes: a stored ranking is recomputed once it
# is ``RANKING_REFRESH_SECONDS`` old, so nearly every ranking served is younger than this.
# For an older one, a visit looks up its followed creators' notes in the database.
NEW_NOTES_WINDOW = timedelta(seconds=2 * RANKING_REFRESH_SECONDS)
_new_notes: NewNotes | None = None
_new_notes_lock = threading.Lock()


def new_notes() -> NewNotes:
    """The notes published lately, read at most every ``FEED_NEW_NOTES_SECONDS`` in this
    process: one read for every visit's followed creators, where each visit looking up each
    creator's newest note cost as much as the rest of its statement."""
    global _new_notes
    held = _new_notes
    if held is not None and time.monotonic() - held.read_at < settings.FEED_NEW_NOTES_SECONDS:
        return held
    with _new_notes_lock:  # one thread reads; the others wait for what it read
        if _new_notes is held or _new_notes is None:
            _new_notes = _read_new_notes()
        return _new_notes


def forget_new_notes() -> None:
    """Read the notes published lately afresh at the next visit in this process."""
    global _new_notes
    _new_notes = None


def _read_new_notes() -> NewNotes:
    read_at, since = time.monotonic(), timezone.now() - NEW_NOTES_WINDOW
    notes = Note.objects.filter(
        status=Note.Status.PUBLISHED,
        visibility__in=[v for v in Visibility.values if v != Visibility.PRIVATE],
        published_at__gt=since,
    ).exclude(moderation_state__in=UNDISCOVERABLE_STATES)
    newest: dict[int, tuple[datetime, int]] = {}
    for author, published, note_id in notes.values_list("author_id", "published_at", "pk"):
        if published is None:  # not for a published note: filtered out above
            continue
        if author not in newest or (published, note_id) > newest[author]:
            newest[author] = (published, note_id)
    return NewNotes(since, read_at, newest)


def _stored_ranking(items: str, model_version: float, computed_at: float) -> StoredRanking:
    """A stored ranking from its row (``computed_at`` in seconds since 1970); the engagement
    ids stay in the database (the visit compared them there)."""
    at = datetime.fromtimestamp(computed_at, UTC)
    return StoredRanking(orjson.loads(items), [], model_version, at)


def _first_seen_day(today: date) -> date:
    return today - timedelta(days=SEEN_DAYS)


def seen_notes(member_id: int) -> set[int]:
    """The notes shown to the member in the last ``SEEN_DAYS`` (written, or pending in this
    process): a read of their few days' lists (``ShownDay``). A visit reads them with its
    changes (``stored_visit``)."""
    since = _first_seen_day(timezone.now().date())

    def build(_ids: list[int], subject: int) -> QuerySet[Any]:
        return ShownDay.objects.filter(member_id=subject, day__gte=since).values_list("note_ids")

    # The day is part of the statement's key: compiled once a day.
    days = compiled.lookup(("shown days", since), build, member_id)
    return _seen(member_id, [note_ids for (note_ids,) in days])


def _seen(member_id: int, shown_lists: list[str]) -> set[int]:
    """The notes in the member's days' lists, and those pending in this process."""
    return _shown_ids(shown_lists) | shown.pending_for(member_id)


def _shown_ids(shown_lists: list[str]) -> set[int]:
    """The notes in days' lists (``ShownDay.note_ids``)."""
    # "12,345," is a JSON array but for its brackets and last comma: the days' lists are
    # read as one by orjson.
    return set(orjson.loads(f"[{''.join(shown_lists)[:-1]}]"))


def merged(items: Sequence[Card], changes: Changes, *, personal: bool) -> list[Card]:
    """A stored ranking as of now: followed creators' newer notes first, then the ranking,
    without what the member hid or must not see; "fewer like this" (for a
    personalized Explore) and then what was already seen move down, in their order.
    Moving cards can bring two of an author's together: pages are ``spaced``."""
    dropped, hidden, seen = changes.not_interested, changes.hidden_authors, changes.seen
    fewer_authors, fewer_topics = changes.fewer_authors, changes.fewer_topics
    # A followed creator's note takes its place at the top, and its reason, even when the
    # ranking already held it (for another reason, before its creator was followed).
    followed = {item.note_id for item in changes.followed}
    if followed:
        items = [*changes.followed, *(i for i in items if i[NOTE_ID] not in followed)]
    # Comprehensions, one pass each: a visit sorts a couple of hundred cards.
    kept = [i for i in items if i[NOTE_ID] not in dropped and i[AUTHOR_ID] not in hidden]
    if not (personal and (fewer_authors or fewer_topics)):
        return [i for i in kept if i[NOTE_ID] not in seen] + [i for i in kept if i[NOTE_ID] in seen]
    fewer = {
        i[NOTE_ID]
        for i in kept
        if i[AUTHOR_ID] in fewer_authors or not fewer_topics.isdisjoint(i[TOPICS])
    }
    # A stable sort: each group keeps the ranking's order.
    return sorted(kept, key=lambda i: (i[NOTE_ID] in seen, i[NOTE_ID] in fewer))


def spaced(
    items: Iterable[Card], window: int = AUTHOR_WINDOW, *, first: int | None = None
) -> list[Card]:
    """No author twice within ``window`` cards, a card moving down only as far as it must:
    each next card is the first held back whose author is not among the last
    ``window - 1``. ``first``: only the first so many cards of that (a page needs the cards
    up to its own, and reads no more of ``items`` than they take).

    Held-back cards are kept by author: they all belong to the few authors of the last
    cards, so finding the next one looks at those few, not at every card held back (a
    prolific author's notes gathered at the end of a list held back dozens)."""
    out: list[Card] = []
    recent: deque[int] = deque(maxlen=window - 1)  # the last cards' authors
    waiting: dict[int, deque[tuple[int, Card]]] = {}  # author -> (position, card), in order
    enough = math.inf if first is None else first
    for position, item in enumerate(items):
        if len(out) >= enough:
            return out[:first]
        author_id = item[AUTHOR_ID]
        if not waiting and author_id not in recent:
            out.append(item)  # the usual case: nothing held back, and it fits
            recent.append(author_id)
            continue
        waiting.setdefault(author_id, deque()).append((position, item))
        while waiting:
            free = [author for author in waiting if author not in recent]
            if not free:
                break
            author = min(free, key=lambda a: waiting[a][0][0])
            card = waiting[author].popleft()[1]
            if not waiting[author]:
                del waiting[author]
            out.append(card)
            recent.append(author)
    held = sorted(pair for cards in waiting.values() for pair in cards)
    return (out + [card for _position, card in held])[:first]


class Visit(NamedTuple):
    cards: Sequence[Card]  # best first
    ranked: StoredRanking | None  # computed for this visit (for the caller to store)
    due: bool  # the stored ranking used is due for a refresh
    # Who the member blocked or was blocked by, read with the log of visibility changes (so
    # ``discoverability`` may check the page); None for a visitor, for whom nothing was read.
    blocked: set[int] | None
    shown_today: set[int]  # ``Changes.shown_today``; empty for a visitor


def visit_items(viewer: Member | None) -> Visit:
    """A new visit's cards, and what came with them."""
    if viewer is None:
        return Visit(generic_explore(""), None, False, None, set())
    if not personalized(viewer):
        general, changes = generic_explore(viewer.language), filters_now(viewer)
        cards = merged(general, changes, personal=False)
        return Visit(cards, None, False, changes.blocked, changes.shown_today)
    ranking, changes = stored_visit(viewer)
    # Engagement since the ranking: rank afresh, so Explore adapts at once.
    if ranking is not None and ranking.age() < RANKING_MAX_SECONDS and not changes.engaged:
        cards = merged(ranking.items, changes, personal=True)
        return Visit(cards, None, ranking.due(), changes.blocked, changes.shown_today)
    fresh = rank_for_storage(viewer)
    return Visit(fresh.items, fresh, False, changes.blocked, changes.shown_today)


# --- Pages and cursors -------------------------------------------------------------------------

# A cursor is the visit's token and where the next page starts, as they are ("token.offset"),
# not signed: it grants nothing to sign for. A visit's list is kept under the member's own id,
# so a made-up token finds none and starts a visit afresh, as an expired one does; an offset
# only picks a page of the member's own list. (Signing it was a twentieth of a page's time.)
VISIT_TOKEN_BYTES = 9  # 12 characters of URL-safe base64
_CURSOR = re.compile(r"([A-Za-z0-9_-]{12})\.(\d{1,5})")
MAX_OFFSET = 10_000


@dataclass
class Page:
    note_ids: list[int]  # visible to the viewer now, in order (``cards`` reads them)
    reasons: dict[int, Reason]
    next_cursor: str | None
    ranked: StoredRanking | None = None  # ranked afresh for this visit: to be stored
    due: bool = False  # the stored ranking used is due for its background refresh
    upcoming: list[int] = field(default_factory=list)  # the notes of the next pages
    # Of ``note_ids``, those already recorded as shown today, as a new visit read them (for
    # the next pages of a visit, none are known): each note is recorded once a day.
    shown_today: set[int] = field(default_factory=set)

    def newly_shown(self) -> list[int]:
        """The notes of the page not yet recorded as shown today."""
        return [note_id for note_id in self.note_ids if note_id not in self.shown_today]


class InvalidCursor(ValueError):
    pass


def explore(viewer: Member | None, *, cursor: str | None = None, limit: int = 20) -> Page:
    """One page of Explore. The first page starts a visit (``visit_items``) and keeps its
    list; ``cursor`` pages through that list (or, if it expired, a new one without the notes
    already shown)."""
    viewer = signed_in(viewer)
    limit = max(1, min(limit, 100))
    token, offset = (
        _read_cursor(cursor) if cursor else (secrets.token_urlsafe(VISIT_TOKEN_BYTES), 0)
    )
    member_id = viewer.pk if viewer else 0
    version = cache.get(f"feed:version:{member_id}", 0)
    key = f"feed:visit-cards:{member_id}:{version}:{token}"
    visits = caches["visits"]
    stored = visits.get(key) if cursor else None
    ranked, due, blocked = None, False, None
    shown_today: set[int] = set()
    cards: Sequence[Card]
    if stored is None:
        cards, ranked, due, blocked, shown_today = visit_items(viewer)
        # Kept as JSON: pickling the cards took three times as long (the named tuples eight).
        stored = items_json(cards)
        if cursor:  # the visit expired: continue with a fresh list
            offset = 0
        visits.set(key, stored, SESSION_SECONDS)
    else:
        cards = orjson.loads(stored)
    count = len(cards)
    # Spaced up to this page only: a first page reads a tenth of the list. The same list
    # spaces the same way, so the pages of a visit follow on from each other.
    window = list(map(_item, spaced(cards, first=offset + limit)[offset:]))
    ids = [item.note_id for item in window]
    # The notes the reasons name are checked with the cards: a reason shows a title only
    # while its note is still there for the viewer to see. A new visit read the log of
    # visibility changes and the member's blocks: what everyone may see is known in the
    # process (``discoverability``). The next pages of a visit ask the database.
    named = {item.because for item in window if item.because}.difference(ids)
    # The notes after this page (and those their reasons name), in the list's order (the
    # spacing of the next pages may differ a little): read with whatever the process must
    # read for this page, so that the next pages find their cards and titles held, and the
    # member's next visit, which starts about where this page ends, their visibility.
    after = cards[offset + limit : offset + limit + READ_AHEAD]
    upcoming = [card[NOTE_ID] for card in after]
    upcoming_named = [card[BECAUSE] for card in after if card[BECAUSE]]
    if viewer is not None and blocked is not None:
        ahead = [*upcoming, *upcoming_named]
        visible = discoverability.among(
            viewer, [*ids, *named], blocked, upcoming=ahead, read_ahead=len(ahead)
        )
    else:
        visible = note_queries.discoverable_ids(viewer, [*ids, *named])
    page = [note_id for note_id in ids if note_id in visible]
    reasons = {item.note_id: _card_reason(item) for item in window if item.note_id in visible}
    _fill_titles(reasons, visible, upcoming_named)
    more = offset + limit < count
    next_cursor = _cursor(token, offset + limit) if more else None
    return Page(page, reasons, next_cursor, ranked, due, upcoming, shown_today)


def _card_reason(item: Item) -> Reason:
    """Why a card of the visit is there (the title it names is read when it is shown)."""
    return Reason(item.kind, item.because, "", item.topic, item.language)


# What reasons name (a note's title, a topic's name), as fresh as the cards: the same few fill
# most pages.
_note_titles: Memo[int, str] = Memo(lambda: settings.CARD_SECONDS, size=20_000)
_topic_names: Memo[int, str] = Memo(lambda: settings.CARD_SECONDS, size=20_000)


def _fill_titles(reasons: dict[int, Reason], visible: set[int], upcoming: list[int]) -> None:
    """Reasons name the note or topic they refer to, as they are now (kept no longer than
    the cards: titles change). A note that is not ``visible`` (deleted, made private,
    taken down since) is not named: the reason then says what the member did, not to what."""
    note_ids = {r.note_id for r in reasons.values() if r.note_id in visible}
    topic_ids = {int(r.topic) for r in reasons.values() if r.topic}
    titles = _note_titles.get_many(
        note_ids, _read_note_titles, upcoming=upcoming, read_ahead=READ_AHEAD
    )
    names = _topic_names.get_many(topic_ids, _read_topic_names)
    for note_id, reason in list(reasons.items()):
        named = reason.note_id if reason.note_id in titles else None
        reasons[note_id] = Reason(
            reason.kind,
            named,
            titles.get(named or 0, ""),
            names.get(int(reason.topic), "") if reason.topic else "",
            reason.language,
        )


def _read_note_titles(ids: list[int]) -> dict[int, str]:
    def build(ids: list[int], _subject: int | None) -> QuerySet[Any]:
        return Note.objects.filter(pk__in=ids).values_list("pk", "title")

    return dict(compiled.rows("reason notes", ids, build))


def _read_topic_names(ids: list[int]) -> dict[int, str]:
    def build(ids: list[int], _subject: int | None) -> QuerySet[Any]:
        return Topic.objects.filter(pk__in=ids).values_list("pk", "name")

    return dict(compiled.rows("reason topics", ids, build))


def _cursor(token: str, offset: int) -> str:
    return f"{token}.{offset}"


def _read_cursor(cursor: str) -> tuple[str, int]:
    match = _CURSOR.fullmatch(cursor)
    if match is None or int(match[2]) > MAX_OFFSET:
        raise InvalidCursor
    return match[1], int(match[2])


# --- Following and Nearby ------------------------------------------------------------------------


def following(viewer: Member) -> QuerySet[Note]:
    """Notes of the people ``viewer`` follows, newest first (paged by the caller)."""
    return (
        note_queries.visible_notes(viewer)
        .filter(
            status=Note.Status.PUBLISHED,
            author__in=Follow.objects.filter(follower=viewer).values("followee"),
        )
        .exclude(author__in=muted_ids(viewer))
    )


def nearby(viewer: Member) -> QuerySet[Note]:
    """Notes placed in the viewer's city, for members who shared a (city-level) location."""
    if not viewer.city:
        return Note.objects.none()
    return (
        note_queries.visible_notes(viewer)
        .filter(status=Note.Status.PUBLISHED, place_city__iexact=viewer.city)
        .exclude(author__in=muted_ids(viewer))
    )


# --- Members' controls ---------------------------------------------------------------------------


def feedback_target(member: Member, kind: str, target: str) -> int | None:
    """The id behind a feedback target: a note the member can see, a topic, a member."""
    if kind == Feedback.Kind.NOTE:
        note = note_queries.visible_note(member, target)
        return note.pk if note is not None else None
    if kind == Feedback.Kind.TOPIC:
        key = normalize_topic(target.lstrip("#"))
        return Topic.objects.filter(key=key).values_list("pk", flat=True).first() if key else None
    username = target.lstrip("@")
    return (
        Member.objects.filter(username__iexact=username, is_active=True)
        .exclude(pk=member.pk)
        .values_list("pk", flat=True)
        .first()
    )


def topic_ids(names: list[str]) -> list[int]:
    keys = [key for key in (normalize_topic(name.lstrip("#")) for name in names) if key]
    return list(Topic.objects.filter(key__in=keys).values_list("pk", flat=True))


def chosen_topic_names(member: Member) -> list[str]:
    return list(
        ChosenTopic.objects.filter(member=member)
        .order_by("topic__name")
        .values_list("topic__name", flat=True)
    )


def readable_note(member: Member, note_id: str) -> int | None:
    """The id of a note the member may read, or None."""
    pk = parse_id(note_id)
    if pk is None:
        return None
    return note_queries.visible_notes(member).filter(pk=pk).values_list("pk", flat=True).first()


def onboarding_topics(limit: int = 24) -> list[str]:
    """Topics to offer a new member: the most used in trending notes."""
    counts: dict[int, int] = defaultdict(int)
    for row in snapshot(TRENDING).get("notes", []):
        for topic_id in row["topics"]:
            counts[topic_id] += 1
    top = sorted(counts, key=lambda t: -counts[t])[:limit]
    names = dict(Topic.objects.filter(pk__in=top).values_list("pk", "name"))
    if len(names) < limit:
        extra = Topic.objects.exclude(pk__in=top).order_by("-note_count", "name")
        names.update(dict(extra.values_list("pk", "name")[: limit - len(names)]))
    return [names[t] for t in top if t in names] + [
        name for topic_id, name in names.items() if topic_id not in counts
    ]


def needs_onboarding(viewer: Member | None) -> bool:
    """A signed-in member with personalization on who has not picked topics or engaged yet."""
    viewer = signed_in(viewer)
    if viewer is None or not viewer.feed_personalized:
        return False
    return not (
        ChosenTopic.objects.filter(member=viewer).exists()
        or Like.objects.filter(member=viewer).exists()
        or Collect.objects.filter(member=viewer).exists()
    )
