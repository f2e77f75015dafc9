"""``papercrane eval langid``: language detection on Tatoeba's English–Mandarin pairs.

Every line of the data set holds an English sentence and its Mandarin translation; both go
through ``papercrane.language.detection.detect`` (the function notes, comments and chat
messages are detected with). A Chinese sentence counts as right when it is detected as
Chinese in either script, an English one when it is detected as English. Prints one JSON
line: accuracy overall, per language, and on short sentences (at most ``--short`` characters,
where detectors usually fail), with the commonest mistakes and the time per sentence.

    papercrane eval langid --dataset ../shared/data/tatoeba-cmn-eng
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from pathlib import Path

SHORT_CHARS = 6


def load(dataset: Path) -> list[tuple[str, str]]:
    """(sentence, language) for both sides of every pair, in file order."""
    path = dataset / "cmn.txt" if dataset.is_dir() else dataset
    sentences: list[tuple[str, str]] = []
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        fields = line.split("\t")
        if len(fields) >= 2:
            sentences += [(fields[0].strip(), "en"), (fields[1].strip(), "zh")]
    return sentences


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="papercrane eval langid")
    parser.add_argument("--dataset", type=Path, default=Path("../shared/data/tatoeba-cmn-eng"))
    parser.add_argument("--short", type=int, default=SHORT_CHARS, help="short: at most N chars")
    args = parser.parse_args(argv)

    from papercrane.language import detection

    sentences = load(args.dataset)
    detection.detect("warm up")  # load the models outside the timing
    right: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    mistakes: Counter[str] = Counter()
    timings: list[float] = []
    for text, language in sentences:
        started = time.perf_counter()
        found = detection.detect(text)
        timings.append((time.perf_counter() - started) * 1000)
        ok = detection.is_chinese(found) if language == "zh" else found == detection.ENGLISH
        groups = [language, "all"] + (
            [f"short_{language}", "short"] if len(text) <= args.short else []
        )
        for group in groups:
            seen[group] += 1
            right[group] += ok
        if not ok:
            mistakes[f"{text} → {found or 'none'}"] += 1
    accuracy = {group: round(right[group] / seen[group], 4) for group in sorted(seen)}
    timings.sort()
    print(
        json.dumps(
            {
                "dataset": str(args.dataset),
                "sentences": seen["all"],
                "short_sentences": seen["short"],
                "accuracy": accuracy,
                "p50_ms": round(statistics.median(timings), 3),
                "p99_ms": round(timings[int(len(timings) * 0.99)], 3),
                "mistakes": [text for text, _ in mistakes.most_common(15)],
            },
            ensure_ascii=False,
        )
    )
    return 0
