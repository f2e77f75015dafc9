"""Text analysis for search: one pipeline for what is indexed and for what people type.

Text is NFKC-normalised and case-folded, Traditional Chinese is folded to Simplified (OpenCC
``t2s``, so 臺灣 finds 台湾), Chinese runs are segmented in search mode (jieba's
``cut_for_search``, HMM off, so results do not depend on guessed words), other words are
stemmed with Snowball's English stemmer. Topics (``#key``) and mentions (``@username``) are
exact tokens, and the Chinese words of titles and topics also get a pinyin key (``~huoguo``)
so a learner typing "huoguo" finds 火锅.

Tokens never contain spaces. Documents store them separated by two spaces with a space at
each end, so `` token `` occurs once per occurrence and term frequencies can be counted by
plain string functions on both databases.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import opencc
import pypinyin
import rjieba
import Stemmer

from papercrane.notes.text import MENTION_PATTERN, TOPIC_PATTERN, normalize_topic

TOPIC_PREFIX = "#"
MENTION_PREFIX = "@"
PINYIN_PREFIX = "~"
MAX_QUERY_CHARS = 200
MAX_QUERY_TERMS = 32
MAX_TOKEN_CHARS = 40

_TO_SIMPLIFIED = opencc.OpenCC("t2s")
_STEMMER = Stemmer.Stemmer("english")
_SEGMENTER = rjieba.Jieba()

# Han ideographs (with extensions and compatibility forms) form Chinese runs; any other run of
# letters, digits and combining marks is a word. Everything else separates.
_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_TOKEN = re.compile(rf"(?P<han>[{_HAN}]+)|(?P<word>(?:(?![{_HAN}])[^\W_])+)")

# A syllable of Hanyu Pinyin without tones: an optional initial and a final.
_SYLLABLE = (
    r"(?:(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
    r"(?:iang|iong|uang|ueng|ang|eng|ing|ong|ian|iao|uai|uan|van|ai|ao|an|ei|en|er|ia|ie|in|iu"
    r"|ou|ua|ue|ui|un|uo|ve|vn|a|o|e|i|u|v))"
)
_ONE_SYLLABLE = re.compile(_SYLLABLE)
_PINYIN = re.compile(_SYLLABLE + "+")
_NOT_WORD = re.compile(r"\W")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# Words too common to help a query find anything. They stay in the index (so a query made
# only of them still works) and are dropped from queries that have better words.
_ENGLISH_STOPWORDS = """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your yours
    yourself yourselves s t d ll m re ve
"""
_CHINESE_STOPWORDS = """
    的 了 是 在 和 与 及 或 也 就 都 而 着 地 得 之 其 这 那 这个 那个 哪 哪个 哪些
    哪里 什么 谁 多少 几 怎么 怎样 如何 为什么 为何 吗 呢 吧 啊 呀 么 有 被 把 对
    从 到 为 以 由 于 给 向 将 个 一个 我 你 他 她 它 我们 你们 他们 她们 它们 上 中 下
"""
STOPWORDS = frozenset(_ENGLISH_STOPWORDS.split()) | frozenset(_CHINESE_STOPWORDS.split())


def clean_query(text: str, limit: int = MAX_QUERY_CHARS) -> str:
    """What was typed, without control characters (PostgreSQL refuses NUL in text), at most
    ``limit`` characters."""
    return _CONTROL.sub(" ", text[: limit * 2])[:limit].strip()


def normalize(text: str) -> str:
    """NFKC, case folding and Traditional → Simplified: the form every comparison uses."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    # Lone surrogates (from broken clients) cannot be encoded for OpenCC; drop them.
    folded = folded.encode("utf-8", "ignore").decode("utf-8")
    return str(_TO_SIMPLIFIED.convert(folded))


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


@lru_cache(maxsize=100_000)
def _pinyin_of(word: str) -> str:
    return "".join(pypinyin.lazy_pinyin(word, errors="ignore")).lower()


def is_pinyin(word: str) -> bool:
    return bool(_PINYIN.fullmatch(word))


def _words(normalized: str) -> Iterator[tuple[str, bool]]:
    """(token, is_chinese) for each word of already-normalised text."""
    for match in _TOKEN.finditer(normalized):
        han = match.group("han")
        if han:
            for word in _SEGMENTER.cut_for_search(han, False):
                yield word, True
            continue
        word = _without_accents(match.group("word")[:MAX_TOKEN_CHARS])
        yield (stem(word) if word.isalpha() else word), False


@lru_cache(maxsize=100_000)
def _without_accents(word: str) -> str:
    """ "café" → "cafe" and "huǒguō" → "huoguo"; other scripts keep their marks."""
    if word.isascii():
        return word
    stripped = "".join(
        c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn"
    )
    return stripped if stripped.isascii() else word


def tokens(text: str, *, pinyin: bool = False) -> list[str]:
    """The indexed tokens of free text, in order (repeats kept: they count); with ``pinyin``,
    followed by the pinyin keys of its Chinese words of two characters or more."""
    if not text:
        return []
    normalized = normalize(text)
    words = list(_words(normalized))
    found = [word for word, _ in words]
    if "#" in normalized:
        found += [TOPIC_PREFIX + key for key in _topic_keys(normalized)]
    if "@" in normalized:
        found += [MENTION_PREFIX + name.lower() for name in MENTION_PATTERN.findall(normalized)]
    if pinyin:
        readings = (_pinyin_of(word) for word, chinese in words if chinese and len(word) >= 2)
        found += [PINYIN_PREFIX + reading for reading in readings if reading]
    return found


def _topic_keys(normalized: str) -> list[str]:
    keys = (_token_safe(normalize_topic(name)) for name in TOPIC_PATTERN.findall(normalized))
    return [key for key in keys if key]


def _token_safe(key: str) -> str:
    """Letters, digits and '_' only, so the index's tokenizer keeps the token whole."""
    return _NOT_WORD.sub("", key)[:MAX_TOKEN_CHARS]


def topic_token(name: str) -> str:
    key = _token_safe(normalize(normalize_topic(name)))
    return TOPIC_PREFIX + key if key else ""


def last_word(text: str) -> str:
    """The token of the last word typed (perhaps unfinished), stopwords included."""
    words = list(_words(normalize(clean_query(text))))
    return words[-1][0] if words else ""


def pinyin_keys(text: str) -> list[str]:
    """Pinyin keys of the Chinese words (two characters or more) in ``text``."""
    return [token for token in tokens(text, pinyin=True) if token.startswith(PINYIN_PREFIX)]


def pinyin_key(text: str) -> str:
    """The whole text as one pinyin key without the prefix ("成都美食" → "chengdumeishi")."""
    return "".join(_pinyin_of(word) for word, chinese in _words(normalize(text)) if chinese)


def join_tokens(found: Iterable[str]) -> str:
    """The stored form of a token list: `` a  b  c `` (see the module docstring)."""
    joined = "  ".join(found)
    return f" {joined} " if joined else ""


@dataclass(frozen=True)
class Term:
    """One token a query looks for, with how much it counts."""

    token: str
    weight: float = 1.0


def query_terms(query: str) -> list[Term]:
    """The terms of what someone typed: stopwords dropped (unless nothing else is left),
    repeats merged, pinyin readings of Latin words added at a lower weight."""
    normalized = normalize(query[: MAX_QUERY_CHARS * 2])
    words = list(_words(normalized))
    kept = [(word, chinese) for word, chinese in words if word not in STOPWORDS] or words
    terms: dict[str, float] = {}
    for key in _topic_keys(normalized):
        terms.setdefault(TOPIC_PREFIX + key, 1.0)
    for name in MENTION_PATTERN.findall(normalized):
        terms.setdefault(MENTION_PREFIX + name.lower(), 1.0)
    for word, _chinese in kept:
        terms.setdefault(word, 1.0)
    for key in _pinyin_readings([word for word, chinese in kept if not chinese]):
        terms.setdefault(PINYIN_PREFIX + key, 0.6)
    return [Term(token, weight) for token, weight in terms.items()][:MAX_QUERY_TERMS]


def _pinyin_readings(latin: list[str]) -> list[str]:
    """Latin words that read as two or more pinyin syllables ("huoguo"), and syllables typed
    apart ("huo guo") joined into one reading. Pinyin keys only exist for words of two or
    more characters, so single syllables would find nothing."""
    syllables = [word for word in latin if word.isascii() and is_pinyin(word)]
    readings = [word for word in syllables if not _ONE_SYLLABLE.fullmatch(word)]
    if 1 < len(syllables) == len(latin) <= 6:
        readings.append("".join(syllables))
    return readings
