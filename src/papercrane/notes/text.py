"""Text rules for notes, shared by the server and (as the same table) the composer's counter.

Title length is counted in display units, as Xiaohongshu does: a wide character (CJK, kana,
hangul, full-width forms, emoji) counts 1 and anything else ½, so a title holds 20 Chinese or
40 Latin characters. ``WIDE_RANGES`` is mirrored in web/static/web/composer.js; a test keeps the
two identical.
"""

from __future__ import annotations

import re
import unicodedata

TITLE_MAX_UNITS = 20
BODY_MAX_CHARS = 1000
MAX_TOPICS = 10
TOPIC_MAX_CHARS = 30

WIDE_RANGES: tuple[tuple[int, int], ...] = (
    (0x1100, 0x115F),  # Hangul Jamo
    (0x2E80, 0x303E),  # CJK radicals, Kangxi, CJK symbols and punctuation
    (0x3041, 0x33FF),  # kana, bopomofo, CJK compatibility
    (0x3400, 0x4DBF),  # CJK Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xA000, 0xA4CF),  # Yi
    (0xAC00, 0xD7A3),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF00, 0xFF60),  # full-width forms
    (0xFFE0, 0xFFE6),  # full-width signs
    (0x1F300, 0x1F64F),  # pictographs and emoticons
    (0x1F900, 0x1F9FF),  # supplemental symbols and pictographs
    (0x20000, 0x3FFFD),  # CJK Extensions B and beyond
)

# A topic runs from '#' to the next space, '#', '@' or punctuation (ASCII or full-width).
TOPIC_PATTERN = re.compile(
    r"#([^\s#@,.!?;:/\\()\[\]{}<>\"'，。！？、；：（）【】《》「」“”‘’]{1,30})"
)
MENTION_PATTERN = re.compile(r"(?<![A-Za-z0-9_])@([A-Za-z0-9_]{3,30})")


def is_wide(character: str) -> bool:
    code = ord(character)
    return any(start <= code <= end for start, end in WIDE_RANGES)


def display_units(text: str) -> float:
    return sum(1 if is_wide(character) else 0.5 for character in text)


def normalize_topic(name: str) -> str:
    """The key two spellings of one topic share: NFKC, case-folded, without '#' and spaces."""
    return unicodedata.normalize("NFKC", name).casefold().strip().lstrip("#").strip()


def topics_in(body: str) -> list[str]:
    return [match.group(1) for match in TOPIC_PATTERN.finditer(body)]


def mentions_in(body: str) -> list[str]:
    return [match.group(1) for match in MENTION_PATTERN.finditer(body)]


def clean_text(text: str) -> str:
    """Normalise line endings and strip control characters (but keep newlines and tabs)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc").strip()
