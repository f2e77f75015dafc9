"""Read paths for search: notes, members and topics, suggestions, trending and history.

Notes are found by retrievers, each producing (note id, score) best first: the lexical
retriever (``ranking``) and the semantic one (``semantic``: multilingual embeddings, so an
English query finds Chinese notes); their results are merged by relative score fusion.
Visibility (blocks, privacy, drafts, moderation) is applied to the merged ranking, so no
retriever can leak what the viewer may not see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from papercrane.accounts.models import Block, Member
from papercrane.accounts.queries import signed_in
from papercrane.notes import queries as note_queries
from papercrane.notes.models import Note, Topic, Visibility
from papercrane.notes.text import normalize_topic
from papercrane.search import analysis, ranking
from papercrane.search import semantic as semantic_index
from papercrane.search.models import HistoryEntry, QueryCount

MAX_RESULTS = 1000  # deepest a result list may be paged
# Relative score fusion: each retriever's scores run from 0 to 1 (lexical: BM25 over the best
# match's; semantic: how far within its margin of the best), summed with these weights.
# Scores, not ranks, and words weigh more: a note holding a rare word the query asks for stays
# first even when the embedding (which knows nothing of that word) prefers another, or has not
# embedded that note yet. On XQuAD 0.7/0.3 ranks as well as 0.5/0.5 (R@1 zh 0.943, en 0.961).
FUSION_WEIGHTS = {"lexical": 0.7, "semantic": 0.3}
COMPLETION_WEIGHT = 0.8
TRENDING_DAYS = 2
TRENDING_MIN_COUNT = 3  # a query enters trending only once several searches share it
PERIODS = {
    "day": dt.timedelta(days=1),
    "week": dt.timedelta(days=7),
    "month": dt.timedelta(days=30),
    "year": dt.timedelta(days=365),
}


@dataclass
class NoteSearch:
    """What someone asked for: words, optional filters and an order."""

    text: str = ""
    topic: str = ""
    language: str = ""
    period: str = ""  # one of PERIODS, or "" for any time
    sort: str = "relevant"
    typing: bool = False  # the last word may be unfinished: also look for words it begins
    terms: list[analysis.Term] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.terms = analysis.query_terms(self.text) if self.text.strip() else []
        if self.typing:
            self.terms += [
                analysis.Term(token, COMPLETION_WEIGHT)
                for token in ranking.completions(analysis.last_word(self.text))
                if token not in {term.token for term in self.terms}
            ]

    @property
    def is_empty(self) -> bool:
        return not self.terms and not self.topic_token

    @property
    def topic_token(self) -> str:
        return analysis.topic_token(self.topic) if self.topic.strip() else ""


Retriever = Callable[[NoteSearch, int], list[tuple[int, float]]]


def lexical(search: NoteSearch, limit: int) -> list[tuple[int, float]]:
    """Note ids by BM25 over analysed tokens, blended with engagement and freshness."""
    tokens = [term.token for term in search.terms]
    required = [search.topic_token] if search.topic_token else []
    corpus = ranking.statistics(tokens + required)
    frequencies = corpus.frequencies
    if required and not frequencies.get(required[0]):
        return []
    weighted = [
        ranking.WeightedTerm(
            term.token,
            term.weight,
            ranking.idf(corpus.documents, frequencies[term.token]),
            frequencies[term.token],
        )
        for term in search.terms
        if frequencies.get(term.token)  # a token no document holds can match nothing
    ]
    if not weighted and not required:
        return []
    since = PERIODS.get(search.period)
    filters = ranking.Filters(
        language=search.language,
        since_epoch=int((timezone.now() - since).timestamp()) if since else None,
        required=required,
    )
    ranked = ranking.rank(weighted, filters=filters, sort=search.sort, limit=limit, corpus=corpus)
    best = max((score for _, score in ranked), default=0.0) or 1.0
    return [(note_id, score / best) for note_id, score in ranked]


def semantic(search: NoteSearch, limit: int) -> list[tuple[int, float]]:
    """Note ids by closeness in multilingual embedding space: finds notes in any language.
    Filters and words still being typed are the lexical retriever's alone."""
    if search.typing or search.topic or search.language or search.period:
        return []
    return semantic_index.nearest_notes(search.text, limit)


RETRIEVERS: list[Retriever] = [lexical, semantic]


def fuse(rankings: dict[str, Sequence[tuple[int, float]]]) -> list[int]:
    """Relative score fusion: each retriever scores its results from 0 to 1 (relative to its
    best), and a note's fused score is the weighted sum of its scores."""
    found = {name: ranked for name, ranked in rankings.items() if ranked}
    if len(found) == 1:
        return [note_id for note_id, _ in next(iter(found.values()))]
    fused: dict[int, float] = {}
    for name, ranked in found.items():
        for note_id, score in ranked:
            fused[note_id] = fused.get(note_id, 0.0) + FUSION_WEIGHTS.get(name, 1.0) * score
    return sorted(fused, key=lambda note_id: (-fused[note_id], -note_id))


def words_match(search: NoteSearch) -> bool:
    """Whether some note holds the words searched for. When none does, the results are only
    the semantic retriever's nearest notes, which are related at best (it always finds some)."""
    return bool(lexical(search, 1))


def ranked_note_ids(search: NoteSearch, limit: int) -> list[int]:
    """The merged ranking of every retriever (before visibility)."""
    if search.is_empty:
        return []
    retrievers = RETRIEVERS if search.sort == "relevant" else [lexical]
    return fuse({retriever.__name__: retriever(search, limit) for retriever in retrievers})[:limit]


def search_note_ids(
    viewer: Member | None, search: NoteSearch, *, offset: int = 0, limit: int = 20
) -> tuple[list[int], bool]:
    """One page of the notes the viewer may see, best first, and whether more follow."""
    wanted = min(offset + limit + 1, MAX_RESULTS + 1)
    fetch = wanted * 2 + 20
    ranked = ranked_note_ids(search, fetch)
    if offset == 0:
        # The first page (most searches) usually shows the best matches as they are: check
        # them alone, and look further only when some may not be shown.
        best = ranked[:wanted]
        if len(note_queries.discoverable_ids(viewer, best)) == len(best):
            return ranked[:limit], len(ranked) > limit and limit < MAX_RESULTS
    while True:
        visible = _visible_in_order(viewer, ranked)
        if len(visible) >= wanted or len(ranked) < fetch or fetch >= 4 * MAX_RESULTS:
            break
        fetch *= 4  # the viewer cannot see many of these: look further down
        ranked = ranked_note_ids(search, fetch)
    has_more = len(visible) > offset + limit and offset + limit < MAX_RESULTS
    return visible[offset : offset + limit], has_more


def search_notes(
    viewer: Member | None, search: NoteSearch, *, offset: int = 0, limit: int = 20
) -> tuple[list[Note], bool]:
    """``search_note_ids`` as the notes' cards."""
    note_ids, has_more = search_note_ids(viewer, search, offset=offset, limit=limit)
    return note_queries.cards_in_order(note_ids), has_more


def _visible_in_order(viewer: Member | None, ranked: list[int]) -> list[int]:
    allowed = note_queries.discoverable_ids(viewer, ranked)
    return [note_id for note_id in ranked if note_id in allowed]


# --- Members and topics ---------------------------------------------------------------------


def search_members(viewer: Member | None, text: str, limit: int = 20) -> list[Member]:
    """Members by username prefix or display name, exact username first, then the most
    followed. Members who blocked the viewer (or whom the viewer blocked) are left out, and so
    are members who turned ``discoverable`` off -- unless the search is their exact username
    (their profile is public at /@username anyway; only browsing and guessing are stopped)."""
    query = analysis.clean_query(text).lstrip("@")
    if not query:
        return []
    simplified = analysis.normalize(query)
    matches = Q(username__istartswith=query) | Q(display_name__icontains=query)
    if simplified != query.casefold():
        matches |= Q(display_name__icontains=simplified)
    members = Member.objects.filter(matches, is_active=True).filter(
        Q(discoverable=True) | Q(username__iexact=query)
    )
    viewer = signed_in(viewer)
    if viewer is not None:
        members = members.exclude(pk__in=Block.objects.filter(blocker=viewer).values("blocked"))
        members = members.exclude(pk__in=Block.objects.filter(blocked=viewer).values("blocker"))
    found = list(members.order_by("-follower_count", "username")[: limit * 3])
    found.sort(key=lambda member: member.username.lower() != query.lower())
    return found[:limit]


@dataclass(frozen=True)
class TopicHit:
    name: str
    notes: int  # public notes under the topic


def _public_topics() -> QuerySet[Topic, Any]:
    """Topics with their count of public notes (a private note's topics stay private)."""
    public = Q(
        notes__status=Note.Status.PUBLISHED,
        notes__visibility=Visibility.PUBLIC,
        notes__author__is_private=False,
        notes__author__is_active=True,
    )
    return Topic.objects.annotate(uses=Count("notes", filter=public)).filter(uses__gt=0)


def search_topics(text: str, limit: int = 20) -> list[TopicHit]:
    """Topics whose name starts with (or contains) the text, or whose pinyin starts with it;
    the most used first. With no text, simply the most used topics."""
    key = normalize_topic(analysis.normalize(analysis.clean_query(text)))
    rows = _public_topics()
    if key:
        matches = Q(key__startswith=key) | Q(key__contains=key)
        reading = key.replace(" ", "")
        if reading.isascii() and analysis.is_pinyin(reading):
            matches |= Q(pinyin__startswith=reading)
        rows = rows.filter(matches)
    found = rows.order_by("-uses", "key").values("name", "key", "uses")  # type: ignore[misc]
    ranked = sorted(
        found[: limit * 3], key=lambda row: (not row["key"].startswith(key), -row["uses"])
    )
    return [TopicHit(row["name"], row["uses"]) for row in ranked[:limit]]


# --- Suggestions, trending, history ---------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    kind: str  # "topic", "query", "note" or "history"
    text: str
    note_id: int | None = None  # for "note": open the note rather than search its title


def suggest(viewer: Member | None, prefix: str, limit: int = 8) -> list[Suggestion]:
    """What to offer while someone types: their own recent searches (if they keep them),
    topics, popular queries and the titles of the best matching notes."""
    viewer = signed_in(viewer)
    text = analysis.clean_query(prefix)
    found: list[Suggestion] = []
    if viewer is not None:
        found += [Suggestion("history", query) for query in history(viewer, prefix=text)[:3]]
    if not text:
        found += [Suggestion("query", query) for query in trending(limit=limit)]
        return _unique(found)[:limit]
    found += [Suggestion("topic", "#" + hit.name) for hit in search_topics(text, limit=3)]
    found += [Suggestion("query", query) for query in popular_queries(text, limit=3)]
    notes, _ = search_notes(viewer, NoteSearch(text=text, typing=True), limit=3)
    found += [Suggestion("note", note.title, note.pk) for note in notes]
    return _unique(found)[:limit]


def _unique(suggestions: list[Suggestion]) -> list[Suggestion]:
    seen: set[str] = set()
    unique = []
    for suggestion in suggestions:
        key = analysis.normalize(suggestion.text)
        if key not in seen:
            seen.add(key)
            unique.append(suggestion)
    return unique


def _recent_counts() -> QuerySet[QueryCount]:
    since = timezone.now().date() - dt.timedelta(days=TRENDING_DAYS - 1)
    return QueryCount.objects.filter(day__gte=since)


def trending(limit: int = 10) -> list[str]:
    """The most searched queries of the last days, once several searches share them."""
    rows = (
        _recent_counts()
        .values("query")
        .annotate(total=Sum("count"))
        .filter(total__gte=TRENDING_MIN_COUNT)
        .order_by("-total", "query")[:limit]
    )
    return [row["query"] for row in rows]


def popular_queries(prefix: str, limit: int = 5) -> list[str]:
    start = analysis.normalize(analysis.clean_query(prefix))
    rows = (
        _recent_counts()
        .filter(query__startswith=start)
        .values("query")
        .annotate(total=Sum("count"))
        .filter(total__gte=TRENDING_MIN_COUNT)
        .order_by("-total", "query")[:limit]
    )
    return [row["query"] for row in rows]


def history(member: Member, prefix: str = "") -> list[str]:
    entries = HistoryEntry.objects.filter(member=member).order_by("-searched_at")
    if prefix:
        entries = entries.filter(query__startswith=analysis.normalize(analysis.clean_query(prefix)))
    return list(entries.values_list("query", flat=True)[:20])
