"""Title counting and topic/mention parsing, and the composer's copy of the counting table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from papercrane.notes import text

COMPOSER_JS = Path(text.__file__).parents[1] / "web" / "static" / "web" / "composer.js"


@pytest.mark.parametrize(
    ("title", "units"),
    [
        ("火锅", 2),
        ("hotpot", 3),
        ("周末去 Shanghai citywalk", 3 + 0.5 + 8 * 0.5 + 0.5 + 8 * 0.5),
        ("☕", 0.5),
        ("🍜", 1),
    ],
)
def test_display_units(title: str, units: float) -> None:
    assert text.display_units(title) == units


def test_twenty_chinese_or_forty_latin_characters_fit() -> None:
    assert text.display_units("好" * 20) == text.TITLE_MAX_UNITS
    assert text.display_units("a" * 40) == text.TITLE_MAX_UNITS
    assert text.display_units("好" * 21) > text.TITLE_MAX_UNITS


def test_composer_counts_with_the_same_table() -> None:
    source = COMPOSER_JS.read_text()
    block = source[
        source.index("WIDE_RANGES = [") : source.index("];", source.index("WIDE_RANGES = ["))
    ]
    pairs = [
        (int(a, 16), int(b, 16)) for a, b in re.findall(r"\[0x([0-9A-F]+), 0x([0-9A-F]+)\]", block)
    ]
    assert tuple(pairs) == text.WIDE_RANGES


def test_topics_and_mentions_are_found_in_bilingual_text() -> None:
    body = "周末去 #成都美食，和 @mayachen 一起 #citywalk! email a@b.com #Travel。"
    assert text.topics_in(body) == ["成都美食", "citywalk", "Travel"]
    assert text.mentions_in(body) == ["mayachen"]


def test_topic_keys_fold_case_and_width() -> None:
    assert text.normalize_topic("#Ｔｒａｖｅｌ") == text.normalize_topic("travel") == "travel"
