"""``papercrane eval search``: search relevance on public question-answering data.

Each paragraph of a SQuAD-format data set becomes a published note (its first clause as the
title, the paragraph as the body) in a throwaway database, indexed by the real indexing code;
each question goes through the real query path, and the note it was asked about is the one
relevant result. Prints one JSON line: Recall@1/5/10 and MRR (plus query latency).

    papercrane eval search --dataset ../shared/data/xquad --lang zh
    papercrane eval search --dataset ../shared/data/xquad --lang en
    papercrane eval search --dataset ../shared/data/cmrc2018
    papercrane eval search --dataset ../shared/data/xquad --cross zh-en  # zh questions, en notes
    PAPERCRANE_SEMANTIC_SEARCH=false papercrane eval search ...   # the lexical retriever alone
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

from bench._django import throwaway_database

CLAUSE_END = re.compile(r"[。！？；，,.!?;:：]")


def _dataset_file(dataset: Path, lang: str) -> Path:
    if dataset.is_file():
        return dataset
    named = sorted(dataset.glob(f"*.{lang}.json"))
    if named:
        return named[0]
    files = sorted(dataset.glob("*.json"))
    if len(files) != 1:
        raise SystemExit(f"{dataset}: expected one .json file or *.{lang}.json")
    return files[0]


def load(path: Path) -> list[tuple[str, list[str]]]:
    """(paragraph, [questions about it]) in file order."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        (paragraph["context"], [qa["question"] for qa in paragraph["qas"]])
        for article in data["data"]
        for paragraph in article["paragraphs"]
    ]


def title_of(paragraph: str) -> str:
    """The paragraph's first clause, cut to the note title limit."""
    from papercrane.notes.text import TITLE_MAX_UNITS, display_units

    clause = CLAUSE_END.split(paragraph.strip(), maxsplit=1)[0].strip() or paragraph
    title = ""
    for character in clause:
        if display_units(title + character) > TITLE_MAX_UNITS:
            break
        title += character
    return title.strip() or "…"


def _load_notes(paragraphs: list[str]) -> list[int]:
    from django.utils import timezone

    from papercrane.accounts.models import Member
    from papercrane.notes.models import Note
    from papercrane.search import services

    author = Member.objects.create(username="eval_author")
    now = timezone.now()
    notes = Note.objects.bulk_create(
        Note(
            author=author,
            title=title_of(text),
            body=text,  # whole paragraphs, even past the 1,000 characters authors may write
            status=Note.Status.PUBLISHED,
            published_at=now,
        )
        for text in paragraphs
    )
    services.reindex_all()
    services.embed_all()  # a no-op with PAPERCRANE_SEMANTIC_SEARCH=false
    return [note.pk for note in notes]


def evaluate(pairs: list[tuple[int, str]], cutoffs: tuple[int, ...] = (1, 5, 10)) -> dict[str, Any]:
    from papercrane.search.queries import NoteSearch, search_note_ids

    hits = dict.fromkeys(cutoffs, 0)
    reciprocal = 0.0
    timings = []
    for note_id, question in pairs:
        started = time.perf_counter()
        ranked, _ = search_note_ids(None, NoteSearch(text=question), limit=max(cutoffs))
        timings.append((time.perf_counter() - started) * 1000)
        if note_id in ranked:
            position = ranked.index(note_id) + 1
            reciprocal += 1 / position
            for cutoff in cutoffs:
                hits[cutoff] += position <= cutoff
    count = len(pairs)
    timings.sort()
    return {
        **{f"recall@{cutoff}": round(hits[cutoff] / count, 4) for cutoff in cutoffs},
        "mrr": round(reciprocal / count, 4),
        "questions": count,
        "p50_ms": round(statistics.median(timings), 2),
        "p99_ms": round(timings[int(0.99 * (count - 1))], 2),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="papercrane eval search")
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--lang", default="zh", help="language of the notes (XQuAD file)")
    parser.add_argument("--query-lang", help="language of the questions, if different")
    parser.add_argument(
        "--cross",
        help="QUESTIONS-NOTES, e.g. zh-en: questions in one language, notes in the other",
    )
    parser.add_argument("--database-url", help="a PostgreSQL server to use instead of SQLite")
    args = parser.parse_args(argv)

    if args.cross:
        args.query_lang, args.lang = args.cross.split("-", 1)
    documents = load(_dataset_file(args.dataset, args.lang))
    questions = documents
    if args.query_lang and args.query_lang != args.lang:
        questions = load(_dataset_file(args.dataset, args.query_lang))
        if len(questions) != len(documents):
            raise SystemExit("the two languages' files are not aligned paragraph by paragraph")
    with throwaway_database(args.database_url):
        from django.db import connection

        note_ids = _load_notes([paragraph for paragraph, _ in documents])
        pairs = [
            (note_id, question)
            for note_id, (_, asked) in zip(note_ids, questions, strict=True)
            for question in asked
        ]
        figures = evaluate(pairs)
        vendor = connection.vendor
        from django.conf import settings

        semantic = settings.SEMANTIC_SEARCH
    result = {
        "dataset": args.dataset.name,
        "lang": args.lang,
        "query_lang": args.query_lang or args.lang,
        "database": vendor,
        "retrievers": "lexical+semantic" if semantic else "lexical",
        "notes": len(documents),
        **figures,
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0
