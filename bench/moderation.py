"""``papercrane bench moderation``: the automated moderation signals' hot paths.

Text classification: comments per second through ``classify_texts`` (operator keyword rules
in both languages plus the English profanity model, in batches, as a worker classifying what
was posted since its last run), and the latency of one comment through ``classify_text`` (as
when a single comment is checked on arrival). Comments are one to three consecutive
sentences of Tatoeba's English–Mandarin pairs; the rules are words and phrases taken from the
same sentences (so some match, as real rules do) and a few regular expressions.

Prints one JSON line.

    papercrane bench moderation
    papercrane bench moderation --dataset ../shared/data/tatoeba-cmn-eng --comments 20000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import secrets
import statistics
import time
from collections import Counter
from itertools import pairwise
from pathlib import Path
from typing import Any

ENGLISH_WORDS = 150
ENGLISH_PHRASES = 40
CHINESE_WORDS = 150
EXPRESSIONS = [
    r"\b1[3-9]\d{9}\b",  # a mainland mobile number
    r"\b\d{3}[- .]\d{3}[- .]\d{4}\b",
    r"(?:wechat|weixin|vx|微信|薇信)\s*[:：]?\s*[a-z0-9_-]{5,}",
    r"(?:telegram|whatsapp|line)\s*[:：@]\s*\w+",
    r"(?:qq|扣扣)\s*[:：]?\s*\d{5,11}",
    r"(.)\1{7,}",  # the same character eight times
    r"[$¥￥]\s*\d+(?:[.,]\d+)?\s*(?:k|万|千)?",
    r"\b(?:dm|message) me\b",
    r"\bfollow (?:me|back)\b",
    r"加(?:我|群)\s*\d+",
    r"点击(?:链接|下方)",
    r"\b(?:100|200|500)% (?:free|guaranteed)\b",
    r"\b(?:click|tap) (?:here|the link)\b",
    r"免费(?:领取|送)",
    r"\b(?:earn|make) \$?\d+",
    r"私信(?:我|领取)",
    r"\bcrypto\w*\b",
    r"\b(?:bit\.ly|t\.me|tinyurl)\b",
    r"日赚\d+",
    r"\bcheap\s+\w+\s+(?:online|now)\b",
]


def load_sentences(dataset: Path) -> list[tuple[str, str]]:
    """(sentence, "en" | "zh") for both sides of every pair."""
    path = dataset / "cmn.txt" if dataset.is_dir() else dataset
    if not path.exists():
        raise SystemExit(
            f"no Tatoeba English–Mandarin data at {path}: pass --dataset pointing at the "
            "folder with cmn.txt (tab-separated: English, Mandarin, attribution)"
        )
    sentences: list[tuple[str, str]] = []
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        fields = line.split("\t")
        if len(fields) >= 2:
            sentences += [(fields[0].strip(), "en"), (fields[1].strip(), "zh")]
    return sentences


def make_comments(sentences: list[tuple[str, str]], count: int) -> list[tuple[str, str]]:
    """``count`` comments of one to three consecutive sentences of one language."""
    by_language: dict[str, list[str]] = {"en": [], "zh": []}
    for text, language in sentences:
        by_language[language].append(text)
    rng = random.Random(11)
    comments = []
    for i in range(count):
        language = "en" if i % 2 else "zh"
        pool = by_language[language]
        start = rng.randrange(len(pool) - 3)
        joiner = " " if language == "en" else ""
        comments.append((joiner.join(pool[start : start + rng.randint(1, 3)]), language))
    return comments


def make_patterns(sentences: list[tuple[str, str]]) -> list[Any]:
    """A few hundred rules: mid-frequency words and phrases of both languages, and regexes."""
    from papercrane.moderation.classifiers import PatternSpec
    from papercrane.search import analysis

    english: Counter[str] = Counter()
    phrases: Counter[str] = Counter()
    chinese: Counter[str] = Counter()
    for text, language in sentences:
        if language == "en":
            words = re.findall(r"[a-z]{4,}", text.lower())
            english.update(words)
            phrases.update(f"{a} {b}" for a, b in pairwise(words))
        else:
            chinese.update(t for t in analysis.tokens(text) if len(t) >= 2 and not t.isascii())
    rng = random.Random(5)

    def middle(counts: Counter[str], k: int) -> list[str]:
        ranked = [word for word, _ in counts.most_common(4000)][300:]
        return rng.sample(ranked, k)

    specs = [PatternSpec(w, f"en-{i}", "en") for i, w in enumerate(middle(english, ENGLISH_WORDS))]
    specs += [
        PatternSpec(p, f"phrase-{i}", "en") for i, p in enumerate(middle(phrases, ENGLISH_PHRASES))
    ]
    specs += [
        PatternSpec(w, f"zh-{i}", "zh", hides=i % 10 == 0)
        for i, w in enumerate(middle(chinese, CHINESE_WORDS))
    ]
    specs += [PatternSpec(e, f"re-{i}", is_regex=True) for i, e in enumerate(EXPRESSIONS)]
    return specs


def _percentile(sorted_ms: list[float], fraction: float) -> float:
    return round(sorted_ms[min(len(sorted_ms) - 1, int(len(sorted_ms) * fraction))], 3)


def classification_figures(dataset: Path, comments: int, batch: int, single: int) -> dict:
    """Batched throughput and single-comment latency of text classification."""
    from papercrane.moderation import classifiers

    sentences = load_sentences(dataset)
    specs = make_patterns(sentences)
    matcher = classifiers.KeywordMatcher.from_specs(specs)
    sample = make_comments(sentences, comments)
    texts = [text for text, _ in sample]
    languages = [language for _, language in sample]
    classifiers.classify_texts(texts[:batch], languages[:batch], matcher)  # load the model

    signals = 0
    started = time.perf_counter()
    for i in range(0, len(texts), batch):
        results = classifiers.classify_texts(
            texts[i : i + batch], languages[i : i + batch], matcher
        )
        signals += sum(bool(found) for found in results)
    elapsed = time.perf_counter() - started

    times = []
    for text, language in sample[:single]:
        one = time.perf_counter()
        classifiers.classify_text(text, language, matcher)
        times.append((time.perf_counter() - one) * 1000)
    times.sort()
    return {
        "classify_per_s": round(len(texts) / elapsed, 1),
        "classify_p50_ms": round(statistics.median(times), 3),
        "classify_p99_ms": _percentile(times, 0.99),
        "comments": len(texts),
        "batch": batch,
        "patterns": len(specs),
        "flagged_share": round(signals / len(texts), 4),
    }


def _fill_queue(reports: int, per_case: int) -> None:
    """Members, their notes, and ``reports`` open reports on them, ``per_case`` to a case (as
    merged reports), bulk-inserted: the queue's size, not the services' speed, is measured."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone

    from papercrane.accounts.models import Member
    from papercrane.moderation import services
    from papercrane.moderation.models import Case, Report, Rule
    from papercrane.notes.models import Note

    rng = random.Random(8)
    rules = list(Rule.objects.all())
    cases_wanted = reports // per_case
    password = make_password(None)
    Member.objects.bulk_create(
        Member(username=f"m{i}", password=password) for i in range(max(per_case * 2, 1000))
    )
    members = list(Member.objects.values_list("pk", flat=True))
    now = timezone.now()
    Note.objects.bulk_create(
        (
            Note(author_id=rng.choice(members), title=f"note {i}", published_at=now)
            for i in range(cases_wanted)
        ),
        batch_size=5000,
    )
    notes = list(Note.objects.values_list("pk", "author_id"))
    cases = []
    for pk, author_id in notes:
        case = Case(
            target_type="note",
            target_id=pk,
            subject_id=author_id,
            report_count=per_case,
            severity=rng.choice(rules).severity,
            opened_at=now - dt.timedelta(minutes=rng.randrange(10_000)),
        )
        case.priority = services._priority(case)
        cases.append(case)
    Case.objects.bulk_create(cases, batch_size=5000)
    rows = []
    for case in Case.objects.only("pk").iterator():
        for reporter in rng.sample(members, per_case):
            rule = rng.choice(rules)
            rows.append(
                Report(
                    case_id=case.pk,
                    reporter_id=reporter,
                    rule=rule,
                    category=rule.category,
                    created_at=now,
                )
            )
        if len(rows) >= 20_000:
            Report.objects.bulk_create(rows)
            rows = []
    Report.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would, long before 100,000 reports came in


def _timed_pages(client: Any, paths: list[str], requests: int) -> dict[str, float]:
    times = []
    for number in range(requests):
        path = paths[number % len(paths)]
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"GET {path} answered {response.status_code}")
    times.sort()
    return {
        "p50_ms": round(_percentile(times, 0.5), 2),
        "p99_ms": round(_percentile(times, 0.99), 2),
    }


def queue_figures(
    reports: int, per_case: int, requests: int, database_url: str | None
) -> dict[str, Any]:
    """p50/p99 of the moderators' queue page (web and API) with ``reports`` open reports,
    in-process through Django's full request path, on a throwaway database."""
    from bench._django import throwaway_database

    with throwaway_database(database_url):
        from django.conf import settings
        from django.test import Client, override_settings
        from django.urls import NoReverseMatch, reverse

        from papercrane.accounts import services as account_services
        from papercrane.moderation.models import Case, Report

        started = time.perf_counter()
        _fill_queue(reports, per_case)
        load_s = time.perf_counter() - started
        moderator = account_services.create_member(
            username="queue_mod", password=secrets.token_urlsafe(16)
        )
        account_services.grant_moderator(username="queue_mod")
        token = account_services.issue_token(member=moderator, name="bench").secret
        api = Client(SERVER_NAME="localhost", headers={"Authorization": f"Bearer {token}"})
        first = api.get("/api/v1/moderation/reports?limit=20").json()
        deeper = api.get(f"/api/v1/moderation/reports?limit=20&cursor={first['next_cursor']}")
        api_paths = [
            "/api/v1/moderation/reports?limit=20",
            f"/api/v1/moderation/reports?limit=20&cursor={deeper.json()['next_cursor']}",
        ]
        figures: dict[str, Any] = {
            "open_reports": Report.objects.count(),
            "open_cases": Case.objects.filter(status="open").count(),
            "queue_load_s": round(load_s, 1),
            "queue_api": _timed_pages(api, api_paths, requests),
        }
        try:
            web_path = reverse("moderation:queue")
        except NoReverseMatch:
            return figures
        web = Client(SERVER_NAME="localhost")
        web.force_login(moderator)
        # Pages name static files; a bench has no collectstatic manifest to look them up in.
        plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
        with override_settings(STORAGES={**settings.STORAGES, "staticfiles": plain}):
            figures["queue_web"] = _timed_pages(web, [web_path], requests)
        return figures


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="papercrane bench moderation")
    parser.add_argument("--dataset", type=Path, default=Path("../shared/data/tatoeba-cmn-eng"))
    parser.add_argument("--comments", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=256, help="comments per classify_texts")
    parser.add_argument("--single", type=int, default=5000, help="comments timed one at a time")
    parser.add_argument("--reports", type=int, default=100_000, help="open reports in the queue")
    parser.add_argument("--reports-per-case", type=int, default=2, help="merged reports per item")
    parser.add_argument("--requests", type=int, default=300, help="timed queue page requests")
    parser.add_argument("--database-url", help="a PostgreSQL server to use instead of SQLite")
    args = parser.parse_args(argv)

    figures = {"benchmark": "moderation"} | classification_figures(
        args.dataset, args.comments, args.batch, args.single
    )
    if args.reports:
        figures |= queue_figures(
            args.reports, args.reports_per_case, args.requests, args.database_url
        )
    print(json.dumps(figures, ensure_ascii=False))
    return 0
