"""Lexical ranking: BM25 within a bounded candidate set, blended with engagement and freshness.

Ranking every match of a common term (300k of a million notes) costs hundreds of
milliseconds, so candidates are bounded first by a cheap score, recency: the newest
``CANDIDATES_PER_TERM`` documents holding each term, plus the newest holding all of them
(unless every term is very common).
Rare terms thus contribute every match; common terms contribute their newest. BM25 is then
computed over those candidates only, with term statistics read from ``SearchTerm`` (exact,
maintained on every index change) and term frequencies counted from the stored token
strings. The SQL is the same on SQLite and PostgreSQL; only candidate retrieval differs.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from papercrane.search.backends import DOCUMENTS, backend_for
from papercrane.search.models import SearchTerm

CANDIDATES_PER_TERM = 300
# Intersecting the doclists of terms that are all this common costs more than it finds: the
# newest holders of each already include notes holding all of them.
ALL_TERMS_MAX_FREQUENCY = 20_000
TITLE_WEIGHT = 2.0
K1 = 1.2
B = 0.75
DOCUMENT_COUNT = " documents"
TOKEN_TOTAL = " tokens"  # noqa: S105 - a statistics key, not a secret
# Engagement and freshness lift a relevant note by at most these shares; relevance leads.
ENGAGEMENT_LIFT = 0.3
ENGAGEMENT_HALF = 50.0  # weighted interactions at which a note gets half the lift
FRESHNESS_LIFT = 0.2
FRESHNESS_HALF_DAYS = 30.0
# For "newest" and "most collected", a note must hold at least this share of the query's
# weight (by IDF), or every note with one common word would qualify.
MIN_COVERAGE = 0.5


@dataclass(frozen=True)
class WeightedTerm:
    token: str
    weight: float
    idf: float
    frequency: float = 0.0  # documents holding the token


@dataclass
class Filters:
    language: str = ""
    since_epoch: int | None = None
    required: list[str] = field(default_factory=list)  # tokens every result must hold


@dataclass(frozen=True)
class Corpus:
    """What ranking needs to know of the index as a whole."""

    documents: float
    average_length: float
    frequencies: dict[str, float]  # documents holding each token asked about
    ids: tuple[int, int]  # lowest and highest indexed note id

    def expected_matches(self, tokens: list[str]) -> float:
        """Documents expected to hold every token, were the tokens independent."""
        expected = self.documents
        for token in tokens:
            expected *= self.frequencies.get(token, 0.0) / (self.documents or 1.0)
        return expected


def statistics(tokens: list[str]) -> Corpus:
    """Document count, average document length and document frequency of each token."""
    rows = dict(
        SearchTerm.objects.filter(term__in=[*tokens, DOCUMENT_COUNT, TOKEN_TOTAL]).values_list(
            "term", "df"
        )
    )
    documents = rows.pop(DOCUMENT_COUNT, 0.0)
    total = rows.pop(TOKEN_TOTAL, 0.0)
    with connection.cursor() as cursor:
        # Both ends of the primary key: two index probes.
        cursor.execute(f"SELECT MIN(note_id), MAX(note_id) FROM {DOCUMENTS}")
        lowest, highest = cursor.fetchone()
    return Corpus(
        documents, (total / documents if documents else 1.0), rows, (lowest or 0, highest or 0)
    )


def completions(prefix: str, limit: int = 3) -> list[str]:
    """The most common indexed words that begin with ``prefix`` (for words still being typed).
    One Latin letter begins too many words to be worth it."""
    if not prefix or (prefix.isascii() and len(prefix) < 2):
        return []
    condition, pattern = backend_for().prefix_condition("term", prefix)
    sql = (
        f"SELECT term FROM {SearchTerm._meta.db_table} WHERE {condition} AND term <> %s "
        "AND df > 0 ORDER BY df DESC, term LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [pattern, prefix, limit])
        return [row[0] for row in cursor.fetchall()]


def idf(documents: float, frequency: float) -> float:
    return math.log(1 + (documents - frequency + 0.5) / (frequency + 0.5))


def _count(column: str, params: list[Any], token: str) -> str:
    """SQL counting occurrences of `` token `` in a stored token string, in bytes: a byte
    length is stored, a character count means reading the whole string."""
    pattern = f" {token} "
    params.extend([pattern, len(pattern.encode())])
    size = backend_for().byte_length
    return f"(({size(f'd.{column}')} - {size(f'REPLACE(d.{column}, %s, {EMPTY})')}) / %s)"


def _candidates(
    terms: list[WeightedTerm], filters: Filters, corpus: Corpus
) -> tuple[str, list[Any]]:
    """SQL for the candidate set: one row per note with ``h<i>`` = 1 where the index says
    it holds term ``i``. Knowing that from the index spares scanning every candidate's text
    for every term (most hold few of a long query's terms)."""
    backend = backend_for()
    groups: list[tuple[int, list[str]]] = [(i, [term.token]) for i, term in enumerate(terms)]
    if len(terms) > 1 and min(term.frequency for term in terms) <= ALL_TERMS_MAX_FREQUENCY:
        groups.append((-1, [term.token for term in terms]))  # -1: holds every term
    if filters.required:
        groups = [(i, [*tokens, *filters.required]) for i, tokens in groups] or [
            (-1, list(filters.required))
        ]
    sources: list[str] = []
    params: list[Any] = []
    for term_index, tokens in groups:
        sql, source_params = backend.matching(
            tokens, CANDIDATES_PER_TERM, corpus.expected_matches(tokens), corpus.ids
        )
        sources.append(f"SELECT id, {term_index} AS t FROM ({sql}) AS s{len(sources)}")
        params.extend(source_params)
    holds = [f"MAX(CASE WHEN t IN ({i}, -1) THEN 1 ELSE 0 END) AS h{i}" for i in range(len(terms))]
    sql = (
        f"SELECT id, {', '.join(['0 AS none', *holds])} FROM ({' UNION ALL '.join(sources)}) "
        "AS found GROUP BY id"
    )
    return sql, params


def _bm25(terms: list[WeightedTerm], average_length: float) -> str:
    """BM25 over the counted ``tf<i>`` columns (numbers only: nothing typed reaches here)."""
    norm = f"{K1} * (1 - {B} + {B} * length / {float(average_length)})"
    parts = [
        f"{term.idf * term.weight} * tf{i} * {K1 + 1} / (tf{i} + {norm})"
        for i, term in enumerate(terms)
    ]
    return " + ".join(parts) or "1.0"


def _blended(bm25: str) -> str:
    """BM25 lifted by engagement and freshness, each saturating so neither can dominate."""
    engagement = "(2.0 * collect_count + like_count + comment_count)"
    age_days = f"(({int(time.time())} - published_epoch) / 86400.0)"
    return (
        f"({bm25}) * (1 + {ENGAGEMENT_LIFT} * {engagement} / ({engagement} + {ENGAGEMENT_HALF}))"
        f" * (1 + {FRESHNESS_LIFT} * {FRESHNESS_HALF_DAYS} / ({FRESHNESS_HALF_DAYS} + "
        f"CASE WHEN {age_days} > 0 THEN {age_days} ELSE 0 END))"
    )


def _coverage(terms: list[WeightedTerm]) -> str:
    """The share of the query's IDF mass a note holds."""
    total = sum(term.idf for term in terms) or 1.0
    held = [f"CASE WHEN tf{i} > 0 THEN {t.idf / total} ELSE 0 END" for i, t in enumerate(terms)]
    return " + ".join(held) or "1.0"


EMPTY = "''"
ORDERS = {
    "relevant": "score DESC, note_id DESC",
    "newest": "published_epoch DESC, note_id DESC",
    "collected": "collect_count DESC, score DESC, note_id DESC",
}


def rank(
    terms: list[WeightedTerm],
    *,
    filters: Filters,
    sort: str,
    limit: int,
    corpus: Corpus,
) -> list[tuple[int, float]]:
    """(note id, relevance score), best first, at most ``limit``. ``terms`` carry their IDF
    already.

    Typed text only ever reaches the SQL as parameters; the f-strings below assemble
    column names, constants and computed numbers.
    """
    candidates, params = _candidates(terms, filters, corpus)
    counts = []
    for i, term in enumerate(terms):
        title = _count("title_terms", params, term.token)
        body = _count("body_terms", params, term.token)
        counts.append(
            f"CASE WHEN c.h{i} = 1 THEN {TITLE_WEIGHT} * {title} + {body} ELSE 0 END AS tf{i}"
        )
    where, where_params = _where(filters)
    params += where_params
    coverage = f"WHERE {_coverage(terms)} >= {MIN_COVERAGE}" if sort != "relevant" else ""
    # MATERIALIZED: count each term once per note, not once per use in the score.
    sql = (
        f"WITH candidates AS ({candidates}), "
        "counted AS MATERIALIZED (SELECT d.note_id, d.length, d.published_epoch, "
        f"n.collect_count, n.like_count, n.comment_count, {', '.join(counts) or '0 AS tf0'} "
        f"FROM candidates c JOIN {DOCUMENTS} d ON d.note_id = c.id "
        f"JOIN notes_note n ON n.id = d.note_id {where}), "
        "scored AS (SELECT note_id, published_epoch, collect_count, "
        f"{_blended(_bm25(terms, corpus.average_length))} AS score FROM counted {coverage}) "
        f"SELECT note_id, score FROM scored ORDER BY {ORDERS[sort]} LIMIT %s"
    )
    params.append(limit)
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in backend_for().query_settings():
            cursor.execute(statement)
        cursor.execute(sql, params)
        return [(note_id, float(score)) for note_id, score in cursor.fetchall()]


def _where(filters: Filters) -> tuple[str, list[Any]]:
    conditions: list[str] = []
    params: list[Any] = []
    if filters.language:
        conditions.append("d.language = %s")
        params.append(filters.language)
    if filters.since_epoch is not None:
        conditions.append("d.published_epoch >= %s")
        params.append(filters.since_epoch)
    return ("WHERE " + " AND ".join(conditions) if conditions else ""), params
