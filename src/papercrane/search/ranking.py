"""Lexical ranking: BM25 within a bounded candidate set, blended with engagement and freshness.

Ranking every match of a common term (300k of a million notes) costs hundreds of
milliseconds, so candidates are bounded first by a cheap score, recency: the newest
``CANDIDATES_PER_TERM`` documents holding all the terms (unless every term is very common),
and the newest holding each term, the terms sharing ``TERM_BUDGET`` less what the notes
holding all of them are expected to fill (``_allotments``).
Rare terms thus contribute every match; common terms contribute their newest. BM25 is then
computed over those candidates only, with term statistics read from ``SearchTerm`` (exact,
maintained on every index change) and term frequencies counted from the stored token
strings. Engagement, the one part of the score not in the index, is read only for the
candidates it could still lift into the results. The SQL is the same on SQLite and
PostgreSQL; only candidate retrieval differs.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from papercrane.search.backends import DOCUMENTS, TERMS, backend_for
from papercrane.search.models import SearchTerm

CANDIDATES_PER_TERM = 200
# The holders of single terms of a multi-term query considered, all terms together, and the
# fewest of each term's (a note holding one term can still be the best match).
TERM_BUDGET = 400
MIN_PER_TERM = 50
# Intersecting the doclists of terms that are all this common costs more than it finds: the
# newest holders of each already include notes holding all of them.
ALL_TERMS_MAX_FREQUENCY = 20_000
TITLE_WEIGHT = 2.0
K1 = 1.2
B = 0.75
DOCUMENT_COUNT = " documents"
TOKEN_TOTAL = " tokens"  # noqa: S105 - a statistics key, not a secret
# Keys (starting with a space, as no token does) for the ends of the indexed note ids.
LOWEST_ID = " lowest id"
HIGHEST_ID = " highest id"
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
    keys = list(dict.fromkeys([*tokens, DOCUMENT_COUNT, TOKEN_TOTAL]))
    # One round trip. Each end of the primary key in a subquery of its own: SQLite reads one
    # MIN or MAX from the index, but both in one SELECT by scanning the whole table.
    sql = (
        f"SELECT term, df FROM {TERMS} WHERE term IN ({', '.join(['%s'] * len(keys))}) "
        f"UNION ALL SELECT %s, (SELECT MIN(note_id) FROM {DOCUMENTS}) "
        f"UNION ALL SELECT %s, (SELECT MAX(note_id) FROM {DOCUMENTS})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*keys, LOWEST_ID, HIGHEST_ID])
        rows = {term: value for term, value in cursor.fetchall()}
    documents = float(rows.pop(DOCUMENT_COUNT, 0.0) or 0.0)
    total = float(rows.pop(TOKEN_TOTAL, 0.0) or 0.0)
    lowest, highest = int(rows.pop(LOWEST_ID) or 0), int(rows.pop(HIGHEST_ID) or 0)
    frequencies = {term: float(df) for term, df in rows.items()}
    return Corpus(
        documents, (total / documents if documents else 1.0), frequencies, (lowest, highest)
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


def _with_all_terms(terms: list[WeightedTerm]) -> bool:
    """Whether the newest holders of every term are looked for as well."""
    return len(terms) > 1 and min(term.frequency for term in terms) <= ALL_TERMS_MAX_FREQUENCY


def _per_term(limit: int) -> tuple[int, int]:
    """The most candidates one term may bring, and what the terms of a query share: the
    first page's budget, or more when a deeper page asks for more results than that."""
    return max(CANDIDATES_PER_TERM, limit), max(TERM_BUDGET, 2 * limit)


def _allotments(
    terms: list[WeightedTerm], corpus: Corpus, required: list[str], limit: int = 0
) -> list[int]:
    """How many of the newest holders of each term to consider: the terms of a query share
    ``TERM_BUDGET`` less what notes holding all of them are expected to take (each, holding
    every term, outranks the holders of one, so it stands in for two), rarest first, so a
    rare term's few holders are all read and what they leave goes to the common terms."""
    per_term, budget = _per_term(limit)
    if len(terms) < 2:
        return [per_term] * len(terms)
    holding_all = 0.0
    if _with_all_terms(terms):
        holding_all = corpus.expected_matches([term.token for term in terms] + required)
    left = budget - 2 * min(holding_all, per_term)
    limits = [0] * len(terms)
    rarest_first = sorted(range(len(terms)), key=lambda i: terms[i].frequency)
    for position, i in enumerate(rarest_first):
        share = max(left / (len(terms) - position), MIN_PER_TERM)
        limits[i] = min(math.ceil(share), per_term)
        left -= min(share, corpus.expected_matches([terms[i].token, *required]))
    return limits


def _candidates(
    terms: list[WeightedTerm], filters: Filters, corpus: Corpus, limit: int
) -> tuple[str, list[Any]]:
    """SQL for the candidate set: one row per note with ``h<i>`` = 1 where the index says
    it holds term ``i``. Knowing that from the index spares scanning every candidate's text
    for every term (most hold few of a long query's terms)."""
    backend = backend_for()
    groups: list[tuple[int, list[str], int]] = [
        (i, [term.token], limit)
        for i, (term, limit) in enumerate(
            zip(terms, _allotments(terms, corpus, filters.required, limit), strict=True)
        )
    ]
    per_term, _budget = _per_term(limit)
    if _with_all_terms(terms):
        groups.append((-1, [term.token for term in terms], per_term))  # -1: all
    if filters.required:
        groups = [(i, [*tokens, *filters.required], limit) for i, tokens, limit in groups] or [
            (-1, list(filters.required), per_term)
        ]
    sources: list[str] = []
    params: list[Any] = []
    for term_index, tokens, limit in groups:
        sql, source_params = backend.matching(
            tokens, limit, corpus.expected_matches(tokens), corpus.ids
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


# Scores are computed in floating point: PostgreSQL reads "2.0 * <integer>" as NUMERIC, whose
# arithmetic costs several times as much, for every candidate.
REAL = "DOUBLE PRECISION"
ENGAGEMENT = f"(2.0 * CAST(n.collect_count AS {REAL}) + n.like_count + n.comment_count)"


def _freshened(bm25: str) -> str:
    """BM25 lifted by freshness (saturating, so it cannot dominate relevance)."""
    age_days = f"(CAST({int(time.time())} - published_epoch AS {REAL}) / 86400.0)"
    return (
        f"({bm25}) * (1 + {FRESHNESS_LIFT} * {FRESHNESS_HALF_DAYS} / ({FRESHNESS_HALF_DAYS} + "
        f"CASE WHEN {age_days} > 0 THEN {age_days} ELSE 0 END))"
    )


def _engaged(base: str) -> str:
    """``base`` lifted by engagement, by less than ``ENGAGEMENT_LIFT`` however engaging."""
    return f"{base} * (1 + {ENGAGEMENT_LIFT} * {ENGAGEMENT} / ({ENGAGEMENT} + {ENGAGEMENT_HALF}))"


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
# Which candidates may still make the first ``limit`` before engagement (a column of the notes
# table, a heap visit per note) is known. Every other lift is known from the index alone.
_CONTENDERS = {
    # Engagement lifts a score by less than ENGAGEMENT_LIFT: a note whose relevance, so
    # lifted, stays below the limit-th best unlifted relevance can never reach the limit.
    # (A note deleted since it was indexed still counts towards that bar until its document
    # goes, which can leave the list short by that note for those seconds.)
    "relevant": (
        f"WHERE base * {1 + ENGAGEMENT_LIFT} >= COALESCE((SELECT base FROM relevance "
        "ORDER BY base DESC LIMIT 1 OFFSET %s), 0)"
    ),
    "newest": "ORDER BY published_epoch DESC, note_id DESC LIMIT %s",
    "collected": "",
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
    candidates, params = _candidates(terms, filters, corpus, limit)
    counts = []
    for i, term in enumerate(terms):
        title = _count("title_terms", params, term.token)
        body = _count("body_terms", params, term.token)
        counts.append(
            f"CASE WHEN c.h{i} = 1 THEN {TITLE_WEIGHT} * CAST({title} AS {REAL}) + {body} "
            f"ELSE 0 END AS tf{i}"
        )
    where, where_params = _where(filters)
    params += where_params
    coverage = f"WHERE {_coverage(terms)} >= {MIN_COVERAGE}" if sort != "relevant" else ""
    contenders = _CONTENDERS[sort]
    if "%s" in contenders:
        params.append(max(limit - 1, 0) if sort == "relevant" else limit)
    # MATERIALIZED: count each term once per note, not once per use in the score.
    sql = (
        f"WITH candidates AS ({candidates}), "
        "counted AS MATERIALIZED (SELECT d.note_id, d.length, d.published_epoch, "
        f"{', '.join(counts) or '0 AS tf0'} "
        f"FROM candidates c JOIN {DOCUMENTS} d ON d.note_id = c.id {where}), "
        "relevance AS MATERIALIZED (SELECT note_id, published_epoch, "
        f"{_freshened(_bm25(terms, corpus.average_length))} AS base FROM counted {coverage}), "
        f"contenders AS (SELECT * FROM relevance {contenders}), "
        "scored AS (SELECT c.note_id, c.published_epoch, n.collect_count, "
        f"{_engaged('c.base')} AS score FROM contenders c JOIN notes_note n ON n.id = c.note_id) "
        f"SELECT note_id, score FROM scored ORDER BY {ORDERS[sort]} LIMIT %s"
    )
    params.append(limit)
    with connection.cursor() as cursor:
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
