"""``papercrane bench search``: note search over a large bilingual corpus.

A corpus of ``--notes`` published notes (half Chinese, 40% English, 10% mixed) is generated
from real word frequency lists (wordfreq's top 50,000 Chinese and English words), sampling
words by their frequency, so the vocabulary is Zipfian as in real text. Titles hold up to 20
Chinese or 40 Latin characters, bodies 30-150 characters, many end with #topics (drawn from
a Zipfian topic list and linked as the composer would), and the notes carry Zipfian like,
collect and comment counts and publication times spread over the last two years, in id order.
Everything is seeded, so a run with the same ``--seed`` builds the same corpus.

The notes are loaded (in batches of 10,000, one transaction each) into a throwaway database,
the index is built by the real indexing code (``services.reindex_all()``), and queries go
through the API's query path (``search_note_ids`` and the page's cards from ``card_dicts``,
first page of 20, relevance order, anonymous viewer; every card is read afresh, none is kept
from an earlier query). Query words are chosen from the document frequencies of the built index:

    rare       one word held by 10-100 notes
    medium     one word held by 1,000-10,000 notes    (bands scale with --notes; these at 1M)
    common     one word held by 100,000 notes or more (the most frequent words if none are)
    two_term   two words of one language, each from a band at random
    zh         two or three Chinese words typed together ("成都火锅")
    en         two or three English words
    mixed      a Chinese and an English word

Stopwords (which queries drop) are never picked. Each class runs a short warm-up, then
``--queries`` timed queries. Prints one JSON line: load and index build time and rate, index
size, p50/p99 per class, the machine's own jitter (a fixed piece of work timed 200 times: a
busy or shared machine stretches every tail) and the peak RSS of this process; progress goes
to stderr.

    papercrane bench search --notes 20000
    papercrane bench search --notes 1000000
    papercrane bench search --database-url postgres://postgres@127.0.0.1:5432/postgres
    papercrane bench search --keep /tmp/search-1m   # a second run reuses the corpus

On PostgreSQL the tables are vacuumed and analysed after indexing (as autovacuum would soon
do after such a load); on SQLite nothing is (the application never runs ANALYZE).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench._django import database_settings, throwaway_database

BATCH = 10_000
VOCABULARY = 50_000
SPAN_DAYS = 730
MEMBERS = 2_000
TOPICS_PER_LANGUAGE = 2_000
SHARES = (0.5, 0.4, 0.1)  # Chinese, English, mixed
BODY_CHARS = (30, 150)
TOPIC_COUNT_WEIGHTS = (0.4, 0.3, 0.2, 0.1)  # how many notes carry 0, 1, 2, 3 topics
WARMUP = 20
ZH, EN, MIXED = 0, 1, 2
ZH_LANGUAGE = "zh-Hans"
# Document frequency bands of single-term queries at a million notes; medium and common
# scale with the corpus, rare stays absolute.
RARE = (10, 100)
MEDIUM = (1_000, 10_000)
COMMON = 100_000
MIN_COMMON_WORDS = 10
CLASSES = ("rare", "medium", "common", "two_term", "zh", "en", "mixed")
HAN_WORD = re.compile(r"[\u4e00-\u9fff]+")
LATIN_WORD = re.compile(r"[a-z]+")
ZH_MARKS = re.compile(r"[，。！]{2,}")  # a run of drawn marks keeps its first
EN_MARKS = re.compile(r"(?: [,.!])+")  # marks attach to the word before; a run keeps its last


def _revision() -> str | None:
    """The checkout's commit, with "+dirty" when files differ from it (src/ may be in flux)."""
    git = shutil.which("git")
    if git is None:
        return None
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            [git, "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        changed = subprocess.run(
            [git, "status", "--porcelain", "--", "src"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return None
    return f"{commit}+dirty" if changed else commit or None


def _log(message: str) -> None:
    print(f"[bench search {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- Corpus ---------------------------------------------------------------------------------


@dataclass
class Vocabulary:
    """Words with their sampling distribution; ``pieces`` joins a drawn stream into texts."""

    words: np.ndarray  # of str objects
    lengths: np.ndarray  # characters each word adds to a text (separator included)
    cdf: np.ndarray
    separator: str

    @classmethod
    def of(
        cls,
        words: list[str],
        frequencies: list[float],
        separator: str,
        punctuation: dict[str, float] | None = None,
    ) -> Vocabulary:
        """``punctuation``: marks drawn among the words, each with its share of the stream."""
        marks = punctuation or {}
        weights = np.array(frequencies, dtype=np.float64)
        weights *= (1.0 - sum(marks.values())) / weights.sum()
        all_words = [*words, *marks]
        weights = np.concatenate([weights, np.array(list(marks.values()), dtype=np.float64)])
        lengths = np.array([len(word) + len(separator) for word in all_words], dtype=np.int64)
        for index in range(len(words), len(all_words)):
            lengths[index] = 1
        cdf = np.cumsum(weights)
        cdf /= cdf[-1]
        return cls(np.array(all_words, dtype=object), lengths, cdf, separator)

    def draw(self, rng: np.random.Generator, count: int) -> np.ndarray:
        return np.minimum(
            np.searchsorted(self.cdf, rng.random(count), side="right"), len(self.cdf) - 1
        )

    def pieces(self, rng: np.random.Generator, targets: np.ndarray) -> list[str]:
        """One text per target length (in characters, give or take a word), at least a word
        each, cut from one stream of words drawn by frequency."""
        count = len(targets)
        if not count:
            return []
        goals = np.cumsum(targets)
        mean = float(np.dot(np.diff(self.cdf, prepend=0.0), self.lengths))
        drawn = self.draw(rng, int(goals[-1] / mean * 1.1) + count + 64)
        total = np.cumsum(self.lengths[drawn])
        while total[-1] < goals[-1] or len(drawn) < count:
            more = self.draw(rng, len(drawn) // 4 + 64)
            drawn = np.concatenate([drawn, more])
            total = np.cumsum(self.lengths[drawn])
        ends = np.searchsorted(total, goals) + 1
        steps = np.arange(count)
        ends = np.maximum.accumulate(ends - steps) + steps  # strictly increasing: >= 1 word
        if ends[-1] > len(drawn):
            drawn = np.concatenate([drawn, self.draw(rng, int(ends[-1]) - len(drawn))])
        words = self.words[drawn[: ends[-1]]].tolist()
        starts = [0, *ends[:-1].tolist()]
        return [self.separator.join(words[a:b]) for a, b in zip(starts, ends.tolist(), strict=True)]


@dataclass
class Corpus:
    zh_words: list[str]
    en_words: list[str]
    zh_title: Vocabulary
    zh_body: Vocabulary
    en_title: Vocabulary
    en_body: Vocabulary
    zh_topics: list[str]
    en_topics: list[str]
    topic_cdf: np.ndarray


def word_lists() -> tuple[list[str], list[float], list[str], list[float]]:
    """Chinese (Han only) and English (a-z only) words, most frequent first, with frequencies.
    The frequencies come straight from wordfreq's data: ``word_frequency`` would segment
    Chinese with jieba, which wordfreq does not install."""
    import wordfreq

    found: dict[str, tuple[list[str], list[float]]] = {}
    for lang, pattern in (("zh", HAN_WORD), ("en", LATIN_WORD)):
        frequency = wordfreq.get_frequency_dict(lang)
        words = [w for w in wordfreq.top_n_list(lang, VOCABULARY) if pattern.fullmatch(w)]
        found[lang] = (words, [frequency[w] for w in words])
    return (*found["zh"], *found["en"])


def corpus() -> Corpus:
    from papercrane.search.analysis import STOPWORDS

    zh, zh_freq, en, en_freq = word_lists()
    zh_topics = [w for w in zh if 2 <= len(w) <= 4 and w not in STOPWORDS]
    en_topics = [w for w in en if len(w) >= 4 and w not in STOPWORDS]
    ranks = np.arange(1, TOPICS_PER_LANGUAGE + 1, dtype=np.float64)
    topic_cdf = np.cumsum(1.0 / ranks)
    return Corpus(
        zh_words=zh,
        en_words=en,
        zh_title=Vocabulary.of(zh, zh_freq, ""),
        zh_body=Vocabulary.of(zh, zh_freq, "", {"，": 0.08, "。": 0.04, "！": 0.01}),
        en_title=Vocabulary.of(en, en_freq, " "),
        en_body=Vocabulary.of(en, en_freq, " ", {",": 0.05, ".": 0.04, "!": 0.005}),
        zh_topics=zh_topics[:TOPICS_PER_LANGUAGE],
        en_topics=en_topics[:TOPICS_PER_LANGUAGE],
        topic_cdf=topic_cdf / topic_cdf[-1],
    )


def _zh_text(text: str) -> str:
    return ZH_MARKS.sub(lambda marks: marks.group()[0], text).strip("，。！")


def _en_text(text: str) -> str:
    text = EN_MARKS.sub(lambda marks: marks.group()[-1], text).strip(" ,.!")
    return text[:1].upper() + text[1:]


def _en_title(text: str, limit: int = 40) -> str:
    if len(text) > limit:
        text = text[: text.rfind(" ", 0, limit + 1)] if " " in text[: limit + 1] else text[:limit]
    return _en_text(text)


def _uniform(rng: np.random.Generator, bounds: tuple[int, int], count: int) -> np.ndarray:
    return rng.integers(bounds[0], bounds[1] + 1, size=count)


@dataclass
class Draft:
    title: str
    body: str
    language: str
    topics: list[str]


def drafts(corpus: Corpus, rng: np.random.Generator, count: int) -> list[Draft]:
    """``count`` notes' texts, in a random order of languages."""
    kinds = rng.choice(3, size=count, p=SHARES)
    n = [int((kinds == kind).sum()) for kind in (ZH, EN, MIXED)]
    zh_titles = [
        _zh_text(t)[:20] for t in corpus.zh_title.pieces(rng, _uniform(rng, (4, 20), n[0]))
    ]
    zh_bodies = [_zh_text(t) for t in corpus.zh_body.pieces(rng, _uniform(rng, BODY_CHARS, n[0]))]
    en_titles = [_en_title(t) for t in corpus.en_title.pieces(rng, _uniform(rng, (10, 40), n[1]))]
    en_bodies = [_en_text(t) for t in corpus.en_body.pieces(rng, _uniform(rng, BODY_CHARS, n[1]))]
    # Mixed: a Chinese title with an English word or two; a Chinese body with an English run.
    mixed_titles = [
        f"{_zh_text(zh)[:12]} {_en_title(en, 14)}"
        for zh, en in zip(
            corpus.zh_title.pieces(rng, _uniform(rng, (3, 12), n[2])),
            corpus.en_title.pieces(rng, _uniform(rng, (4, 14), n[2])),
            strict=True,
        )
    ]
    lengths = _uniform(rng, BODY_CHARS, n[2])
    heads = corpus.zh_body.pieces(rng, np.maximum(lengths * 4 // 10, 4))
    middles = corpus.en_body.pieces(rng, np.maximum(lengths * 3 // 10, 4))
    tails = corpus.zh_body.pieces(rng, np.maximum(lengths * 3 // 10, 4))
    mixed_bodies = [
        f"{_zh_text(head)} {_en_text(middle)} {_zh_text(tail)}"
        for head, middle, tail in zip(heads, middles, tails, strict=True)
    ]
    texts = {
        ZH: iter(zip(zh_titles, zh_bodies, strict=True)),
        EN: iter(zip(en_titles, en_bodies, strict=True)),
        MIXED: iter(zip(mixed_titles, mixed_bodies, strict=True)),
    }
    topic_counts = rng.choice(len(TOPIC_COUNT_WEIGHTS), size=count, p=TOPIC_COUNT_WEIGHTS)
    picks = iter(
        np.searchsorted(corpus.topic_cdf, rng.random(int(topic_counts.sum())), side="right")
        .clip(0, TOPICS_PER_LANGUAGE - 1)
        .tolist()
    )
    found = []
    for kind, topic_count in zip(kinds.tolist(), topic_counts.tolist(), strict=True):
        title, body = next(texts[kind])
        names = corpus.en_topics if kind == EN else corpus.zh_topics
        topics = list(dict.fromkeys(names[next(picks)] for _ in range(topic_count)))
        if topics:
            body = f"{body} {' '.join('#' + topic for topic in topics)}"
        found.append(Draft(title, body, "en" if kind == EN else ZH_LANGUAGE, topics))
    return found


# --- Loading and indexing -------------------------------------------------------------------


def load(corpus: Corpus, rng: np.random.Generator, total: int) -> None:
    """Members, topics and ``total`` published notes, ``BATCH`` notes per transaction."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from papercrane.accounts.models import Member
    from papercrane.notes.models import Note, NoteTopic, Topic
    from papercrane.notes.text import normalize_topic
    from papercrane.search.analysis import pinyin_key

    unusable = make_password(None)
    members = Member.objects.bulk_create(
        Member(username=f"bench_{n}", password=unusable) for n in range(MEMBERS)
    )
    member_ids = np.array([member.pk for member in members])
    author_cdf = np.cumsum(1.0 / np.arange(1, MEMBERS + 1))
    author_cdf /= author_cdf[-1]
    topic_rows = {
        name: Topic(name=name, key=normalize_topic(name), pinyin=pinyin_key(name)[:120])
        for name in [*corpus.zh_topics, *corpus.en_topics]
    }
    Topic.objects.bulk_create(topic_rows.values(), batch_size=1000)
    topic_ids = {name: topic.pk for name, topic in topic_rows.items()}
    uses: Counter[int] = Counter()

    now = timezone.now().timestamp()
    start = now - SPAN_DAYS * 86400
    for first in range(0, total, BATCH):
        count = min(BATCH, total - first)
        texts = drafts(corpus, rng, count)
        # Publication times follow the ids, as when notes are published as they are written.
        epochs = start + (first + np.arange(count) + rng.random(count)) / total * SPAN_DAYS * 86400
        likes = np.minimum(rng.zipf(2.0, count) - 1, 100_000)
        collects = rng.binomial(likes, 0.3)
        comments = rng.binomial(likes, 0.1)
        authors = member_ids[np.searchsorted(author_cdf, rng.random(count)).clip(0, MEMBERS - 1)]
        notes = [
            Note(
                author_id=author,
                title=draft.title,
                body=draft.body,
                language=draft.language,
                status=Note.Status.PUBLISHED,
                published_at=dt.datetime.fromtimestamp(min(epoch, now), tz=dt.UTC),
                like_count=like,
                collect_count=collect,
                comment_count=comment,
            )
            for draft, epoch, like, collect, comment, author in zip(
                texts,
                epochs.tolist(),
                likes.tolist(),
                collects.tolist(),
                comments.tolist(),
                authors.tolist(),
                strict=True,
            )
        ]
        with transaction.atomic():
            Note.objects.bulk_create(notes, batch_size=2000)
            links = [
                NoteTopic(note_id=note.pk, topic_id=topic_ids[name], position=position)
                for note, draft in zip(notes, texts, strict=True)
                for position, name in enumerate(draft.topics)
            ]
            NoteTopic.objects.bulk_create(links, batch_size=5000)
        uses.update(link.topic_id for link in links)
        if (first + count) % 100_000 == 0 or first + count == total:
            _log(f"loaded {first + count} notes")
    for topic in topic_rows.values():
        topic.note_count = uses[topic.pk]
    Topic.objects.bulk_update(topic_rows.values(), ["note_count"], batch_size=1000)


def notes_loaded(total: int) -> bool:
    """Whether a kept database already holds a corpus of ``total`` notes."""
    from papercrane.notes.models import Note

    notes = Note.objects.count()
    if notes and notes != total:
        raise SystemExit(f"the kept database holds {notes} notes, not {total}")
    return notes == total


def _sqlite_files() -> list[Path]:
    from django.db import connection

    name = Path(str(connection.settings_dict["NAME"]))
    return [path for path in (name, Path(f"{name}-wal")) if path.exists()]


def _checkpoint() -> None:
    from django.db import connection

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def database_mb() -> float:
    from django.db import connection

    if connection.vendor == "sqlite":
        return sum(path.stat().st_size for path in _sqlite_files()) / 2**20
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return float(cursor.fetchone()[0]) / 2**20


def index_sizes() -> dict[str, float]:
    """MB of the search tables: the documents, the full-text index and the term statistics
    (each with its indexes)."""
    from django.db import connection

    groups = {
        "documents": ["search_searchdocument"],
        "fulltext": ["search_fts"],
        "terms": ["search_searchterm"],
    }
    sizes: dict[str, float] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_relation_size('search_document_terms')")
            gin = float(cursor.fetchone()[0])
            for group, (table,) in [(g, t) for g, t in groups.items() if g != "fulltext"]:
                cursor.execute("SELECT pg_total_relation_size(%s)", [table])
                sizes[group] = float(cursor.fetchone()[0])
            sizes["documents"] -= gin  # the tsvector column stays with the documents
            sizes["fulltext"] = gin
        else:
            cursor.execute("SELECT name, tbl_name FROM sqlite_master")
            owners = cursor.fetchall()
            for group, prefixes in groups.items():
                names = [name for name, table in owners if table.startswith(tuple(prefixes))]
                total = 0.0
                for name in names:
                    cursor.execute(
                        "SELECT pgsize FROM dbstat WHERE name = %s AND aggregate = 1", [name]
                    )
                    row = cursor.fetchone()
                    total += float(row[0]) if row and row[0] else 0.0
                sizes[group] = total
    return {group: round(size / 2**20, 1) for group, size in sizes.items()}


def build_index() -> dict[str, Any]:
    from django.db import connection

    from papercrane.search import services

    _checkpoint()
    before = database_mb()
    started = time.perf_counter()
    indexed = services.reindex_all()
    seconds = time.perf_counter() - started
    _log(f"indexed {indexed} notes in {seconds:.1f} s")
    vacuum_s = None
    if connection.vendor == "postgresql":
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        vacuum_s = round(time.perf_counter() - started, 1)
        _log(f"vacuum analyze: {vacuum_s} s")
    _checkpoint()
    sizes = index_sizes()
    return {
        "indexed": indexed,
        "index_s": round(seconds, 1),
        "index_per_s": round(indexed / seconds, 1),
        "index_mb": round(sum(sizes.values()), 1),
        "index_mb_parts": sizes,
        "database_growth_mb": round(database_mb() - before, 1),
        "vacuum_analyze_s": vacuum_s,
    }


# --- Queries --------------------------------------------------------------------------------


@dataclass
class Word:
    text: str  # what someone types
    chinese: bool
    df: float


def single_term_words(corpus: Corpus) -> dict[str, Word]:
    """Indexed token -> the most frequent word that is queried as that token alone."""
    from papercrane.search.analysis import query_terms, tokens
    from papercrane.search.models import SearchTerm

    frequencies = dict(SearchTerm.objects.filter(df__gte=RARE[0]).values_list("term", "df"))
    found: dict[str, Word] = {}
    for chinese, words in ((True, corpus.zh_words), (False, corpus.en_words)):
        for word in words:
            found_tokens = tokens(word)
            if len(found_tokens) != 1 or found_tokens[0] in found:
                continue
            token = found_tokens[0]
            terms = [term.token for term in query_terms(word) if term.weight == 1.0]
            if terms == [token] and token in frequencies:
                found[token] = Word(word, chinese, frequencies[token])
    return found


def pools(corpus: Corpus, notes: int) -> tuple[dict[str, list[Word]], dict[str, Any]]:
    """Words of each band, and what the bands were."""
    from papercrane.search.analysis import STOPWORDS

    words = [word for token, word in single_term_words(corpus).items() if token not in STOPWORDS]
    scale = notes / 1_000_000
    medium = (MEDIUM[0] * scale, MEDIUM[1] * scale)
    common = COMMON * scale
    bands = {
        "rare": [w for w in words if RARE[0] <= w.df <= RARE[1]],
        "medium": [w for w in words if medium[0] <= w.df <= medium[1]],
        "common": [w for w in words if w.df >= common],
    }
    if len(bands["common"]) < MIN_COMMON_WORDS:
        bands["common"] = sorted(words, key=lambda w: -w.df)[:MIN_COMMON_WORDS]
    described: dict[str, dict[str, Any]] = {
        band: {
            "words": len(found),
            "df_min": min((w.df for w in found), default=None),
            "df_max": max((w.df for w in found), default=None),
        }
        for band, found in bands.items()
    }
    described["medium"]["band"] = [round(medium[0]), round(medium[1])]
    described["common"]["band"] = [round(common), None]
    described["rare"]["band"] = list(RARE)
    return bands, described


def query_makers(
    bands: dict[str, list[Word]],
) -> dict[str, Callable[[np.random.Generator], str]]:
    """How each class makes a query."""
    by_language = {
        chinese: {band: [w for w in found if w.chinese == chinese] for band, found in bands.items()}
        for chinese in (True, False)
    }

    def word(rng: np.random.Generator, found: list[Word]) -> Word:
        return found[int(rng.integers(len(found)))]

    def any_band(rng: np.random.Generator, chinese: bool) -> str:
        # A band at random among those that have words of the language.
        choices = [found for found in by_language[chinese].values() if found]
        return word(rng, choices[int(rng.integers(len(choices)))]).text

    def several(rng: np.random.Generator, chinese: bool) -> str:
        words = [any_band(rng, chinese) for _ in range(int(rng.integers(2, 4)))]
        return ("" if chinese else " ").join(words)

    def two_term(rng: np.random.Generator) -> str:
        chinese = bool(rng.integers(2))
        return f"{any_band(rng, chinese)} {any_band(rng, chinese)}"

    def mixed(rng: np.random.Generator) -> str:
        pair = [any_band(rng, True), any_band(rng, False)]
        return " ".join(pair if rng.integers(2) else pair[::-1])

    return {
        "rare": lambda rng: word(rng, bands["rare"]).text,
        "medium": lambda rng: word(rng, bands["medium"]).text,
        "common": lambda rng: word(rng, bands["common"]).text,
        "two_term": two_term,
        "zh": lambda rng: several(rng, True),
        "en": lambda rng: several(rng, False),
        "mixed": mixed,
    }


def _percentile(ordered: list[float], fraction: float) -> float:
    return round(ordered[max(0, math.ceil(fraction * len(ordered)) - 1)], 2)


def explain(sql: str) -> list[str]:
    """The plan of one captured statement: EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on
    PostgreSQL (which runs it once more)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return [f"{row[0]:>3} {row[1]:>3} {row[3]}" for row in cursor.fetchall()]


def machine_jitter(runs: int = 200) -> dict[str, float]:
    """The same fixed piece of pure-Python work (about 5 ms), timed over and over: how much
    the machine alone (other processes, a shared host) spreads a latency's tail. A query's
    p99 cannot be steadier than this."""
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        total = 0
        for number in range(40_000):
            total += number * number
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p50, p99 = statistics.median(timings), _percentile(timings, 0.99)
    return {"p50_ms": round(p50, 2), "p99_ms": p99, "p99_over_p50": round(p99 / p50, 2)}


def first_page(query: str) -> list[dict[str, Any]]:
    """What ``GET /search/notes?q=…`` reads for a visitor: the first page of cards."""
    from papercrane.notes.api import card_dicts
    from papercrane.search.queries import NoteSearch, search_note_ids

    note_ids, _more = search_note_ids(None, NoteSearch(text=query), limit=20)
    cards = card_dicts(note_ids)
    return [cards[note_id] for note_id in note_ids if note_id in cards]


def time_class(
    make: Callable[[np.random.Generator], str], count: int, seed: int, *, show_plan: bool = False
) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from papercrane.search.queries import NoteSearch, lexical

    rng = np.random.default_rng(seed)
    for _ in range(WARMUP):
        first_page(make(rng))
    load = os.getloadavg()[0]
    timings: list[tuple[float, str, int]] = []
    cpu: list[float] = []
    for _ in range(count):
        query = make(rng)
        started, cpu_started = time.perf_counter(), time.process_time()
        notes = first_page(query)
        timings.append(((time.perf_counter() - started) * 1000, query, len(notes)))
        cpu.append((time.process_time() - cpu_started) * 1000)
    ordered = sorted(ms for ms, _query, _found in timings)
    cpu.sort()
    # The same queries through the lexical retriever alone, as deep as the first page asks:
    # what ranking costs, apart from visibility and loading the page's notes.
    depth = (20 + 1) * 2 + 20
    lexical_ms = []
    for _ms, query, _found in timings:
        started = time.perf_counter()
        lexical(NoteSearch(text=query), depth)
        lexical_ms.append((time.perf_counter() - started) * 1000)
    lexical_ms.sort()
    slowest_ms, slowest, _found = max(timings)
    statements = CaptureQueriesContext(connection)
    with statements:  # where the slowest query's time goes, on a second run
        first_page(slowest)
    if show_plan:
        statement = max(statements.captured_queries, key=lambda s: float(s["time"]))
        plan = "\n".join(explain(statement["sql"]))
        _log(f"slowest query {slowest!r}, its slowest statement:\n{statement['sql']}\n{plan}")
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": _percentile(ordered, 0.99),
        "max_ms": round(slowest_ms, 2),
        # This process's CPU time (the SQL too on SQLite, not PostgreSQL's), and the machine's
        # load as the class started: other work on the machine shows in the wall times.
        "cpu_p50_ms": round(statistics.median(cpu), 2),
        "cpu_p99_ms": _percentile(cpu, 0.99),
        "loadavg_1m": round(load, 2),
        "lexical_p50_ms": round(statistics.median(lexical_ms), 2),
        "lexical_p99_ms": _percentile(lexical_ms, 0.99),
        "queries": count,
        "empty": sum(1 for _ms, _query, found in timings if not found),
        "slowest": slowest,
        "slowest_sql_ms": [round(float(s["time"]) * 1000, 1) for s in statements.captured_queries],
        "examples": [query for _ms, query, _found in timings[:3]],
    }


# --- Command --------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="papercrane bench search")
    parser.add_argument("--notes", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200, help="timed queries per class")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", help="a PostgreSQL server to use instead of SQLite")
    parser.add_argument(
        "--explain", action="store_true", help="log the plan of each class's slowest statement"
    )
    parser.add_argument(
        "--keep",
        metavar="NAME",
        help="keep the database (SQLite: this data directory; PostgreSQL: this database name) "
        "and, when it already holds the corpus, time the queries without loading it again",
    )
    args = parser.parse_args(argv)

    began = time.perf_counter()
    revision = _revision()
    rng = np.random.default_rng(args.seed)
    words = corpus()
    # The lexical index at scale: the corpus is not embedded (a million notes would take days
    # of CPU), and the semantic retriever stays off.
    os.environ["PAPERCRANE_SEMANTIC_SEARCH"] = "false"
    os.environ["PAPERCRANE_CARD_SECONDS"] = "0"  # the queries are random: time cold cards
    with throwaway_database(args.database_url, args.keep):
        from django.db import connection

        # The code measured is the code as it is now, even if the checkout changes mid-run.
        from papercrane.search import queries, ranking, services  # noqa: F401
        from papercrane.search.models import SearchDocument

        load_s: float | None = None
        index: dict[str, Any] = {"reused": True}
        if not notes_loaded(args.notes):
            started = time.perf_counter()
            load(words, rng, args.notes)
            load_s = time.perf_counter() - started
        if SearchDocument.objects.count() != args.notes:
            index = build_index()
        bands, described = pools(words, args.notes)
        makers = query_makers(bands)
        jitter = machine_jitter()
        _log(f"machine jitter: {json.dumps(jitter)}")
        classes = {}
        for number, name in enumerate(CLASSES):
            classes[name] = time_class(
                makers[name], args.queries, args.seed + 1 + number, show_plan=args.explain
            )
            _log(f"{name}: {json.dumps(classes[name], ensure_ascii=False)}")
        vendor = connection.vendor
        database = database_settings()
    result = {
        "benchmark": "search",
        "database": vendor,
        "database_settings": database,
        "notes": args.notes,
        "seed": args.seed,
        "revision": revision,
        "load_s": round(load_s, 1) if load_s else None,
        "load_per_s": round(args.notes / load_s, 1) if load_s else None,
        **index,
        "bands": described,
        "classes": classes,
        "worst_p99_ms": max(figures["p99_ms"] for figures in classes.values()),
        "machine_jitter": jitter,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cores": os.cpu_count(),
        "total_s": round(time.perf_counter() - began, 1),
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0
