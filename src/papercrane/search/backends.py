"""Where SQL differs between the databases: the full-text index and how it finds candidates.

Everything else (term statistics, BM25 scoring within a bounded candidate set, blending with
engagement and freshness) is the same SQL on both, built in ``ranking``.
"""

from __future__ import annotations

from typing import Any

from django.db import connection as default_connection

DOCUMENTS = "search_searchdocument"
TERMS = "search_searchterm"


class Backend:
    """Finds, for a set of tokens, the newest documents that hold all of them."""

    def schema(self) -> list[str]:
        raise NotImplementedError

    def drop_schema(self) -> list[str]:
        raise NotImplementedError

    def matching(
        self, tokens: list[str], limit: int, expected: float, ids: tuple[int, int]
    ) -> tuple[str, list[Any]]:
        """SQL selecting ``id`` of the ``limit`` newest documents holding every token.
        ``expected`` is how many documents are thought to hold them all, ``ids`` the lowest
        and highest indexed note id (an index may use them to look at recent notes first)."""
        raise NotImplementedError

    def clear(self) -> list[str]:
        """Statements emptying the index quickly (before a full rebuild)."""
        return [f"DELETE FROM {DOCUMENTS}"]

    @staticmethod
    def byte_length(expression: str) -> str:
        """SQL for the length of a text in bytes."""
        return f"OCTET_LENGTH({expression})"

    def prefix_condition(self, column: str, prefix: str) -> tuple[str, str]:
        """A WHERE condition (and its one parameter) for ``column`` starting with ``prefix``,
        in a form the column's index can serve."""
        raise NotImplementedError


class SQLiteBackend(Backend):
    """An external-content FTS5 table over the token columns, kept in step by triggers.

    ``detail=none`` keeps only which documents hold a token (no positions): scoring counts
    occurrences itself, so the index stays small and fast to build. The tokenizer splits on
    spaces only in practice: every character our tokens are made of is a token character.
    """

    FTS = "search_fts"
    _COLUMNS = "title_terms, body_terms"
    _NEW = "new.title_terms, new.body_terms"
    _OLD = "old.title_terms, old.body_terms"

    def _delete_old(self) -> str:
        fts, cols = self.FTS, self._COLUMNS
        return (
            f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.note_id, {self._OLD});"
        )

    def _delete_trigger(self) -> str:
        return (
            f"CREATE TRIGGER search_document_ad AFTER DELETE ON {DOCUMENTS} "
            f"BEGIN {self._delete_old()} END"
        )

    def schema(self) -> list[str]:
        fts, cols = self.FTS, self._COLUMNS
        insert_new = f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.note_id, {self._NEW});"
        return [
            f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{DOCUMENTS}', "
            f"content_rowid='note_id', detail=none, "
            f"tokenize=\"unicode61 remove_diacritics 0 tokenchars '#@~_'\")",
            f"CREATE TRIGGER search_document_ai AFTER INSERT ON {DOCUMENTS} BEGIN {insert_new} END",
            self._delete_trigger(),
            f"CREATE TRIGGER search_document_au AFTER UPDATE ON {DOCUMENTS} "
            f"BEGIN {self._delete_old()} {insert_new} END",
        ]

    def drop_schema(self) -> list[str]:
        return [
            "DROP TRIGGER IF EXISTS search_document_ai",
            "DROP TRIGGER IF EXISTS search_document_ad",
            "DROP TRIGGER IF EXISTS search_document_au",
            f"DROP TABLE IF EXISTS {self.FTS}",
        ]

    def matching(
        self, tokens: list[str], limit: int, expected: float, ids: tuple[int, int]
    ) -> tuple[str, list[Any]]:
        # FTS5 reads doclists in rowid order, so the newest matches come first by themselves.
        # Each token is quoted, so nothing typed is ever read as FTS5 query syntax.
        expression = " AND ".join('"' + token.replace('"', '""') + '"' for token in tokens)
        sql = (
            f"SELECT rowid AS id FROM {self.FTS} WHERE {self.FTS} MATCH %s "
            "ORDER BY rowid DESC LIMIT %s"
        )
        return sql, [expression, limit]

    @staticmethod
    def byte_length(expression: str) -> str:
        return f"LENGTH(CAST({expression} AS BLOB))"

    def prefix_condition(self, column: str, prefix: str) -> tuple[str, str]:
        # GLOB, unlike LIKE, is case-sensitive, so SQLite serves it from the primary key.
        escaped = "".join(f"[{c}]" if c in "*?[" else c for c in prefix)
        return f"{column} GLOB %s", escaped + "*"

    def clear(self) -> list[str]:
        # Emptying the FTS table at once is far faster than a 'delete' per row.
        return [
            "DROP TRIGGER IF EXISTS search_document_ad",
            f"DELETE FROM {DOCUMENTS}",
            f"INSERT INTO {self.FTS}({self.FTS}) VALUES ('delete-all')",
            self._delete_trigger(),
        ]


# Recency tokens (PostgreSQL): every document also holds, for each shift s, the token
# "~r<s>.<note_id >> s>", naming the block of 2**s consecutive note ids it falls in. Analysed
# tokens never contain ".", so these cannot clash with words.
RECENCY_SHIFTS = (10, 12, 14, 16, 18, 20, 22)
MAX_RECENT_BLOCKS = 8
# A window of recent notes is looked in when the matches are this many times the wanted
# number; it is made wide enough to hold twice the wanted number, as far as the frequencies
# tell. Fewer matches than that are all read anyway.
WINDOW_FROM_MATCHES = 2
WINDOW_SPARE = 1.5
# Merging a window's recency tokens costs the index 2-3 ms whatever the term (measured at 1M
# notes), and reading a match about 1.3 µs: below this many matches, reading them all is
# cheaper than narrowing them.
WINDOW_MIN_MATCHES = 2_000
# A window wider than this share of the ids is not worth it: the index spends more merging
# the recency tokens of so many notes than reading the few matches outside it would cost.
WINDOW_MAX_SHARE = 0.5


def recency_token(shift: int, block: int) -> str:
    return f"~r{shift}.{block}"


def recent_window(limit: int, expected: float, ids: tuple[int, int]) -> tuple[int, list[str]]:
    """The lowest id of a window of the newest notes expected to hold about ``WINDOW_SPARE *
    limit`` matches, and the recency tokens covering it; (0, []) when all matches are few
    enough to read."""
    lowest, highest = ids
    if expected < max(limit * WINDOW_FROM_MATCHES, WINDOW_MIN_MATCHES) or highest <= lowest:
        return 0, []
    density = expected / (highest - lowest + 1)  # matches per note id
    start = max(lowest, int(highest - WINDOW_SPARE * limit / density))
    if highest - start > WINDOW_MAX_SHARE * (highest - lowest):
        return 0, []
    for shift in RECENCY_SHIFTS:
        blocks = range(start >> shift, (highest >> shift) + 1)
        if len(blocks) <= MAX_RECENT_BLOCKS:
            if blocks[0] << shift <= lowest:
                break  # the window would hold every note: no narrowing, only cost
            return blocks[0] << shift, [recency_token(shift, block) for block in blocks]
    return 0, []


class PostgresBackend(Backend):
    """A generated ``tsvector`` of the same tokens (``array_to_tsvector``: the tokens are
    already analysed, so PostgreSQL must not parse them again) with a GIN index.

    A GIN index returns matches in no useful order, so "the newest N holding this word" costs
    a heap visit per match: 30 ms for a word held by 6,000 of a million notes. The recency
    tokens let the index itself narrow the matches to a window of recent notes (the
    intersection costs well under a millisecond), so only about 2N matches are visited; the
    notes before the window are read only when the window held fewer than N.
    """

    def schema(self) -> list[str]:
        recency = ", ".join(
            f"'{recency_token(shift, 0)[:-1]}' || (note_id >> {shift})" for shift in RECENCY_SHIFTS
        )
        return [
            f"ALTER TABLE {DOCUMENTS} ADD COLUMN terms tsvector GENERATED ALWAYS AS "
            "(array_to_tsvector(array_remove(string_to_array(title_terms || body_terms, ' '), "
            f"'') || ARRAY[{recency}])) STORED",
            f"CREATE INDEX search_document_terms ON {DOCUMENTS} USING gin (terms)",
            # Prefix searches over the vocabulary, whatever the database's collation.
            f"CREATE INDEX search_term_prefix ON {TERMS} (term varchar_pattern_ops)",
        ]

    def drop_schema(self) -> list[str]:
        return [
            "DROP INDEX IF EXISTS search_term_prefix",
            f"ALTER TABLE {DOCUMENTS} DROP COLUMN IF EXISTS terms",
        ]

    def prefix_condition(self, column: str, prefix: str) -> tuple[str, str]:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return f"{column} LIKE %s", escaped + "%"

    def matching(
        self, tokens: list[str], limit: int, expected: float, ids: tuple[int, int]
    ) -> tuple[str, list[Any]]:
        query = " & ".join(_tsquery_lexeme(token) for token in tokens)
        # "note_id + 0": sorting the (few) matches the index finds is always right here, and
        # the planner, misjudging how rare a word is, would otherwise walk the whole primary
        # key backwards looking for it.
        newest = (
            f"SELECT note_id AS id FROM {DOCUMENTS} WHERE terms @@ %s::tsquery "
            "ORDER BY note_id + 0 DESC LIMIT %s"
        )
        start, window = recent_window(limit, expected, ids)
        if not window:
            return newest, [query, limit]
        in_window = f"{query} & ({' | '.join(_tsquery_lexeme(token) for token in window)})"
        # The second branch tops up from the notes before the window; it is not run at all
        # when the window held enough (PostgreSQL does not read under a LIMIT of 0).
        sql = (
            f"WITH recent AS ({newest}) SELECT id FROM recent UNION ALL "
            f"(SELECT note_id FROM {DOCUMENTS} WHERE terms @@ %s::tsquery AND note_id < %s "
            "ORDER BY note_id + 0 DESC LIMIT %s - (SELECT COUNT(*) FROM recent))"
        )
        return sql, [in_window, limit, query, start, limit]

    def clear(self) -> list[str]:
        return [f"TRUNCATE {DOCUMENTS}"]


def _tsquery_lexeme(token: str) -> str:
    """A token as a quoted tsquery lexeme, taken verbatim (no parsing, no stemming)."""
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def backend_for(connection: Any = None) -> Backend:
    vendor = (connection or default_connection).vendor
    if vendor == "sqlite":
        return SQLiteBackend()
    if vendor == "postgresql":
        return PostgresBackend()
    raise NotImplementedError(f"search has no backend for {vendor}")
