"""Which language a text is written in: lingua, restricted to the languages we support.

Restricting lingua to a handful of languages makes it both fast and accurate on short text:
"hi" need not be told apart from Swahili. Hanzi, kana and hangul settle most questions
before any model is asked (a text with kana is Japanese, one with hangul Korean), and a text
with neither letters nor ideographs ("👍👍", "!!!", "123") has no language at all.

Mixed text is classed by what dominates it: "周末去 Shanghai citywalk" is a Chinese sentence with
English words in it, and lingua says so. Chinese is told apart as Simplified or Traditional
by whether OpenCC's Traditional → Simplified conversion changes it.
"""

from __future__ import annotations

import re
from functools import cache

import opencc
from django.utils.translation import gettext_lazy as _
from lingua import Language, LanguageDetector, LanguageDetectorBuilder

ENGLISH = "en"
SIMPLIFIED_CHINESE = "zh-Hans"
TRADITIONAL_CHINESE = "zh-Hant"
JAPANESE = "ja"
KOREAN = "ko"
UNKNOWN = ""
# Enough text to decide on: detection of a 10,000-character note is no better than of its
# first 1,000 characters, and costs ten times as much.
SAMPLE_CHARS = 1000
ENGLISH_PRIOR = 0.3

_LINGUA = {
    Language.ENGLISH: ENGLISH,
    Language.CHINESE: SIMPLIFIED_CHINESE,
    Language.JAPANESE: JAPANESE,
    Language.KOREAN: KOREAN,
    # The other languages people here write most, so a French note is not taken for English
    # (and then sent to a translator as English).
    Language.FRENCH: "fr",
    Language.GERMAN: "de",
    Language.SPANISH: "es",
    Language.PORTUGUESE: "pt",
    Language.ITALIAN: "it",
    Language.RUSSIAN: "ru",
    Language.VIETNAMESE: "vi",
    Language.INDONESIAN: "id",
}
# What authors may choose from (the composer's "Language"), in the reader's language.
CHOICES = (
    (ENGLISH, _("English")),
    (SIMPLIFIED_CHINESE, _("Simplified Chinese")),
    (TRADITIONAL_CHINESE, _("Traditional Chinese")),
    (JAPANESE, _("Japanese")),
    (KOREAN, _("Korean")),
    ("fr", _("French")),
    ("de", _("German")),
    ("es", _("Spanish")),
    ("pt", _("Portuguese")),
    ("it", _("Italian")),
    ("ru", _("Russian")),
    ("vi", _("Vietnamese")),
    ("id", _("Indonesian")),
)
CODES = (
    SIMPLIFIED_CHINESE,
    TRADITIONAL_CHINESE,
    *(code for code in _LINGUA.values() if code != SIMPLIFIED_CHINESE),
)
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_LETTER = re.compile(r"[^\W\d_]")
_TO_SIMPLIFIED = opencc.OpenCC("t2s")


@cache
def _detector() -> LanguageDetector:
    # Loaded once per process (about 0.3 s); every later call takes microseconds.
    return LanguageDetectorBuilder.from_languages(*_LINGUA).with_preloaded_language_models().build()


def detect(text: str) -> str:
    """The code of the language ``text`` is written in, or "" when it has none we know."""
    sample = text[:SAMPLE_CHARS]
    if not _LETTER.search(sample):
        return UNKNOWN
    if _KANA.search(sample):
        return JAPANESE
    han = _HAN.findall(sample)
    hangul = _HANGUL.findall(sample)
    if hangul and len(hangul) >= len(han):
        return KOREAN
    if han:
        # Ideographs are the strongest evidence there is; lingua only weighs whether the
        # Latin words around them make the text English rather than Chinese.
        found = _lingua_language(sample) if _is_mixed(sample) else UNKNOWN
        if found in (UNKNOWN, SIMPLIFIED_CHINESE, JAPANESE):
            return chinese_script(sample)
        return found
    return _lingua_language(sample)


def _lingua_language(sample: str) -> str:
    """Lingua's answer, with a prior for English: most Latin-script text here is English, and
    lingua alone takes short English ("I quit.", "No comment.") for French or Portuguese.
    English wins unless another language is over ``1 / ENGLISH_PRIOR`` times as likely."""
    confidences = _detector().compute_language_confidence_values(sample)
    if not confidences or confidences[0].value <= 0:
        return UNKNOWN
    best = confidences[0]
    english = next(c.value for c in confidences if c.language == Language.ENGLISH)
    return ENGLISH if english >= best.value * ENGLISH_PRIOR else _LINGUA[best.language]


def _is_mixed(sample: str) -> bool:
    return any(c.isascii() for c in _LETTER.findall(sample))


def chinese_script(text: str) -> str:
    """Simplified or Traditional: Traditional text changes when folded to Simplified."""
    han = "".join(_HAN.findall(text))
    return TRADITIONAL_CHINESE if _TO_SIMPLIFIED.convert(han) != han else SIMPLIFIED_CHINESE


def is_chinese(code: str) -> bool:
    return code in (SIMPLIFIED_CHINESE, TRADITIONAL_CHINESE)


def same_language(a: str, b: str) -> bool:
    """Whether a reader of ``b`` reads ``a`` as is (both scripts of Chinese count as one:
    a reader of one is offered the other converted, not translated)."""
    return a == b or (is_chinese(a) and is_chinese(b))
