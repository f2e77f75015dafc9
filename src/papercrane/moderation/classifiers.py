"""Automated text signals for moderation: operator keyword rules, English profanity, spam.

A signal is never a decision. Every signal goes to the moderators' queue with what matched;
only a ``high_confidence`` one also hides the content until a moderator has looked at it.

Everything here is pure: the caller reads the rules, the member's recent posts and the
account's age from the database and passes them in, so the functions are cheap to test and
to run in a worker.

- Keyword rules are matched on the search analyser's tokens (``papercrane.search.analysis``:
  NFKC, case folding, Traditional → Simplified, Chinese segmentation, English stemming), so a
  rule and a text agree on what a word is, in either script. Chinese rules are also matched on
  the folded character string, because segmentation depends on the surrounding words.
- Profanity comes from alt-profanity-check's shipped model (a linear SVM over TF-IDF
  features) and is only asked about English text.
- Spam heuristics look at links from new accounts, repeated text and posting bursts.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import regex

from papercrane.search import analysis

logger = logging.getLogger(__name__)

KEYWORD = "keyword"
PROFANITY = "profanity"
SPAM = "spam"
SPAM_NEW_ACCOUNT_LINK = "spam.new_account_link"
SPAM_REPEATED_TEXT = "spam.repeated_text"
SPAM_BURST = "spam.burst"

ENGLISH = "en"
CHINESE = "zh"

# A well-behaved expression runs in microseconds on a comment; 10 ms is a thousand times
# that, and caps what one hostile expression can cost per text.
REGEX_TIMEOUT_S = 0.01
MAX_PATTERN_CHARS = 500

# The model is a bag of words and its probabilities saturate: a lone "idiot" or "damn" is
# already above 0.9 (0.4% of Tatoeba's English sentences), which is worth a moderator's look.
# Hiding needs near-certainty (0.08% of those sentences, all direct insults); since the model
# cannot read negation ("I'm not stupid"), even that is only pending review.
PROFANITY_THRESHOLD = 0.9
PROFANITY_HIDE_THRESHOLD = 0.9999

# A week covers the usual life of a throwaway spam account, while members who stay past it
# share links freely.
NEW_ACCOUNT_AGE = datetime.timedelta(days=7)
# More than ten posts in ten minutes is beyond what people type by hand in a thread, even in
# a lively one, and is what scripts and copy-paste campaigns do.
BURST_POSTS = 10
BURST_WINDOW = datetime.timedelta(minutes=10)
# Near-duplicates: Jaccard similarity of token pairs. 0.8 tolerates a changed word in a
# twenty-word text; emoji are not tokens and numbers are masked, so changing those does not
# lower it at all.
NEAR_DUPLICATE_JACCARD = 0.8
SHINGLE_TOKENS = 2
# "Thanks!" or "好看" twice is conversation, not spam: only texts of six tokens or more count.
MIN_REPEAT_TOKENS = 6
# The same text a fourth time is a campaign: hide it pending review.
REPEATED_HIDE_COPIES = 3


@dataclass(frozen=True)
class Signal:
    """One automated observation about a text, for the moderators' queue."""

    source: str  # "keyword" | "profanity" | "spam" (image hashes add their own source)
    label: str  # stable and machine-readable: "keyword", "profanity", "spam.burst", ...
    score: float  # 0..1
    high_confidence: bool  # hide the content pending review
    rule_code: str = ""  # the operator rule a keyword pattern belongs to
    detail: str = ""  # what matched, shown to moderators


class InvalidPatternError(ValueError):
    """An operator pattern that cannot be used (empty, too long, or a broken expression)."""


@dataclass(frozen=True)
class PatternSpec:
    """An operator's word, phrase or (with ``is_regex``) regular expression.

    ``language`` is "en", "zh" or "" for any language; ``hides`` makes a match hide the
    content pending review instead of only queueing it."""

    pattern: str
    rule_code: str
    language: str = ""
    hides: bool = False
    is_regex: bool = False


def language_family(language: str) -> str:
    """ "zh-Hant" → "zh", "EN" → "en", "" → "" (unknown)."""
    return language.split("-")[0].split("_")[0].lower()


_HAN = regex.compile(r"\p{Han}")
_HAN_RUN = regex.compile(r"\p{Han}+")
_CJK = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]")
_SEPARATORS = regex.compile(r"[\p{P}\p{S}\p{Z}\p{C}]+")
_AFFIX_TOKEN = (analysis.TOPIC_PREFIX, analysis.MENTION_PREFIX)


def _compact(normalized: str) -> str:
    """Letters and digits only, so "賭 博" and "赌-博" read as "赌博"."""
    return _SEPARATORS.sub("", normalized)


@dataclass(frozen=True)
class _Prepared:
    """A text in the forms the rules look at, computed once per text."""

    family: str
    tokens: list[str]
    normalized: str
    compact: str


def _prepare(text: str, language: str) -> _Prepared:
    normalized = analysis.normalize(text)
    compact = _compact(normalized) if _HAN.search(normalized) else ""
    return _Prepared(language_family(language), analysis.tokens(text), normalized, compact)


class KeywordMatcher:
    """Operator patterns compiled once; ``signals`` runs them all over one text."""

    def __init__(
        self,
        specs: Sequence[PatternSpec],
        phrases: dict[str, list[tuple[tuple[str, ...], int]]],
        chinese: list[tuple[str, int]],
        expressions: list[tuple[regex.Pattern[str], int]],
    ) -> None:
        self.specs = tuple(specs)
        self._phrases = phrases  # first token → (all tokens, spec index)
        self._chinese = chinese  # compact character string → spec index
        self._expressions = expressions

    @classmethod
    def from_specs(cls, specs: Iterable[PatternSpec]) -> KeywordMatcher:
        """Compile the patterns; raises ``InvalidPatternError`` naming the rule of a bad one."""
        specs = list(specs)
        phrases: dict[str, list[tuple[tuple[str, ...], int]]] = {}
        chinese: list[tuple[str, int]] = []
        expressions: list[tuple[regex.Pattern[str], int]] = []
        for index, spec in enumerate(specs):
            if not spec.pattern.strip() or len(spec.pattern) > MAX_PATTERN_CHARS:
                raise InvalidPatternError(f"{spec.rule_code}: empty or too long pattern")
            if spec.is_regex:
                expressions.append((_compile_expression(spec), index))
                continue
            words = _pattern_tokens(spec.pattern)
            if words:
                phrases.setdefault(words[0], []).append((words, index))
            normalized = analysis.normalize(spec.pattern)
            if _HAN.search(normalized):
                chinese.append((_compact(normalized), index))
            elif not words:
                raise InvalidPatternError(f"{spec.rule_code}: the pattern has no words")
        return cls(specs, phrases, chinese, expressions)

    def __len__(self) -> int:
        return len(self.specs)

    def signals(self, text: str, language: str) -> list[Signal]:
        """One signal per pattern that matches ``text`` (of ``language``, "" if unknown)."""
        if not text or not self.specs:
            return []
        prepared = _prepare(text, language)
        found = self._phrase_matches(prepared) | self._chinese_matches(prepared)
        found |= self._expression_matches(prepared)
        return [self._signal(index) for index in sorted(found)]

    def _applies(self, index: int, family: str) -> bool:
        # A text of unknown language meets every rule: not knowing must not let it through.
        wanted = self.specs[index].language
        return not wanted or not family or language_family(wanted) == family

    def _phrase_matches(self, prepared: _Prepared) -> set[int]:
        found: set[int] = set()
        words = prepared.tokens
        for start, word in enumerate(words):
            for phrase, index in self._phrases.get(word, ()):
                end = start + len(phrase)
                if tuple(words[start:end]) == phrase and self._applies(index, prepared.family):
                    found.add(index)
        return found

    def _chinese_matches(self, prepared: _Prepared) -> set[int]:
        if not prepared.compact:
            return set()
        return {
            index
            for needle, index in self._chinese
            if needle in prepared.compact and self._applies(index, prepared.family)
        }

    def _expression_matches(self, prepared: _Prepared) -> set[int]:
        found: set[int] = set()
        for expression, index in self._expressions:
            if not self._applies(index, prepared.family):
                continue
            try:
                if expression.search(prepared.normalized, timeout=REGEX_TIMEOUT_S):
                    found.add(index)
            except TimeoutError:
                # Counted as no match: one bad rule must not stall the queue. The rule code
                # (never the text) is logged so the operator can fix the rule.
                logger.warning(
                    "moderation pattern of rule %s timed out", self.specs[index].rule_code
                )
        return found

    def _signal(self, index: int) -> Signal:
        spec = self.specs[index]
        return Signal(
            source=KEYWORD,
            label=KEYWORD,
            score=1.0,
            high_confidence=spec.hides,
            rule_code=spec.rule_code,
            detail=spec.pattern,
        )


def _pattern_tokens(pattern: str) -> tuple[str, ...]:
    # A "#topic" pattern also yields a "#topic" token after the words, which a text's token
    # order never puts next to them; the word alone matches the topic and the plain word.
    return tuple(token for token in analysis.tokens(pattern) if not token.startswith(_AFFIX_TOKEN))


def _compile_expression(spec: PatternSpec) -> regex.Pattern[str]:
    # Texts are matched in their normalised form (case-folded, Simplified), so the Chinese of
    # the expression is folded the same way and case is ignored. Only Han runs are folded:
    # case-folding the whole expression would turn "\W" into "\w".
    source = _HAN_RUN.sub(lambda run: analysis.normalize(run.group()), spec.pattern)
    try:
        return regex.compile(source, regex.IGNORECASE)
    except (regex.error, OverflowError, RecursionError) as error:
        raise InvalidPatternError(f"{spec.rule_code}: {error}") from error


# --- English profanity ----------------------------------------------------------------------


def is_english(text: str, language: str) -> bool:
    """Whether the English model may look at ``text``: English, or of unknown language and
    written without any CJK script (Chinese never goes through an English model)."""
    family = language_family(language)
    if family == ENGLISH:
        return True
    return not family and not _CJK.search(text) and any("a" <= c <= "z" for c in text.lower())


@lru_cache(maxsize=1)
def _profanity_model() -> Callable[[list[str]], np.ndarray]:
    """The shipped model, loaded once per process on first use (importing it reads ~1 MB of
    joblib files and takes seconds)."""
    from profanity_check import profanity_check as library

    linear = _linear_form(library.model)
    if linear is None:
        return library.predict_prob
    weights, intercepts, slopes, offsets = linear
    vectorizer = library.vectorizer

    def predict(texts: list[str]) -> np.ndarray:
        decision = vectorizer.transform(texts) @ weights + intercepts
        return (1.0 / (1.0 + np.exp(slopes * decision + offsets))).mean(axis=1)

    return predict


def _linear_form(model: Any) -> tuple[Any, ...] | None:
    """The calibrated SVM as four arrays, or None if the model is not of that shape.

    The model averages five sigmoid-calibrated linear SVMs. scikit-learn's ``predict_proba``
    validates its input at every step and costs ~7 ms per call whatever the batch size, which
    dominates single comments; the same arithmetic on stacked arrays is one sparse product."""
    try:
        folds = model.calibrated_classifiers_
        if model.method != "sigmoid" or list(model.classes_) != [0, 1]:
            return None
        if any(len(fold.calibrators) != 1 or fold.estimator.coef_.shape[0] != 1 for fold in folds):
            return None
        weights = np.hstack([fold.estimator.coef_.T for fold in folds])
        intercepts = np.array([fold.estimator.intercept_[0] for fold in folds])
        slopes = np.array([fold.calibrators[0].a_ for fold in folds])
        offsets = np.array([fold.calibrators[0].b_ for fold in folds])
    except (AttributeError, IndexError, TypeError):
        return None
    return weights, intercepts, slopes, offsets


def toxicity(texts: list[str]) -> list[float]:
    """The model's probability that each text is offensive, in one batch. English only: use
    ``is_english`` to choose what to send."""
    if not texts:
        return []
    return [float(p) for p in _profanity_model()(texts)]


def _profanity_signal(probability: float) -> list[Signal]:
    if probability < PROFANITY_THRESHOLD:
        return []
    return [
        Signal(
            source=PROFANITY,
            label=PROFANITY,
            score=round(probability, 4),
            high_confidence=probability >= PROFANITY_HIDE_THRESHOLD,
            detail=f"offensive-language probability {probability:.4f}",
        )
    ]


def profanity_signals(text: str, language: str) -> list[Signal]:
    """A profanity signal when English ``text`` is probably offensive; never for other text."""
    if not text.strip() or not is_english(text, language):
        return []
    return _profanity_signal(toxicity([text])[0])


# --- Combined text classification -----------------------------------------------------------


def classify_text(text: str, language: str, matcher: KeywordMatcher) -> list[Signal]:
    """Keyword and profanity signals for one text."""
    return matcher.signals(text, language) + profanity_signals(text, language)


def classify_texts(
    texts: Sequence[str], languages: Sequence[str], matcher: KeywordMatcher
) -> list[list[Signal]]:
    """``classify_text`` for many texts, with the English ones sent to the model in one batch."""
    if len(texts) != len(languages):
        raise ValueError("one language per text")
    results = [
        matcher.signals(text, language) for text, language in zip(texts, languages, strict=True)
    ]
    english = [
        i
        for i, (text, language) in enumerate(zip(texts, languages, strict=True))
        if text.strip() and is_english(text, language)
    ]
    for i, probability in zip(english, toxicity([texts[i] for i in english]), strict=True):
        results[i] += _profanity_signal(probability)
    return results


# --- Spam heuristics ------------------------------------------------------------------------

# Link tricks: "example。com", "example(.)com", "example[dot]com", "example dot com",
# "example点com". NFKC has already made "．" and "｡" plain dots and ideographic stops.
_DOT_TRICKS = (
    (regex.compile(r"\s*[\[(（]\s*(?:\.|。|dot|点)\s*[\])）]\s*"), "."),
    (regex.compile(r"(?<=[a-z0-9])\s*。\s*(?=[a-z0-9])"), "."),
    (regex.compile(r"(?<=[a-z0-9])\s+dot\s+(?=[a-z0-9])"), "."),
    (regex.compile(r"(?<=[a-z0-9])\s*点\s*(?=[a-z0-9])"), "."),
)
# Bare domains need a known top-level domain, so "node.js", "e.g." and "3.14" are no links.
_TLDS = (
    "com|net|org|info|biz|io|co|me|app|dev|xyz|top|site|online|shop|store|vip|club|link|live"
    "|icu|buzz|cc|tk|ly|to|gg|ws|pw|fm|tv|ai|so|cn|hk|tw|mo|sg|jp|kr|ru|uk|us|de|fr|in"
)
_TRAILING = ".,;:!?'\")]}，。！？、；：）】」"
_LINK = regex.compile(
    r"(?:https?://|www\.)[^\s<>\"]+"
    rf"|(?<![\w@.-])(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+(?:{_TLDS})(?![\w-])(?:/[^\s<>\"]*)?"
)


def find_links(text: str) -> list[str]:
    """URLs and bare domains in ``text``, including the usual ways of hiding the dot."""
    folded = analysis.normalize(text)
    for pattern, replacement in _DOT_TRICKS:
        folded = pattern.sub(replacement, folded)
    # A sentence's own punctuation after a link is not part of it.
    return [link.rstrip(_TRAILING) for link in _LINK.findall(folded)]


def is_new_account(account_age: datetime.timedelta) -> bool:
    """Young accounts' links are a spam signal, and they post under tighter limits."""
    return account_age < NEW_ACCOUNT_AGE


def _link_signal(text: str, account_age: datetime.timedelta) -> list[Signal]:
    if not is_new_account(account_age):
        return []
    links = find_links(text)
    if not links:
        return []
    return [
        Signal(
            source=SPAM,
            label=SPAM_NEW_ACCOUNT_LINK,
            score=min(0.9, 0.5 + 0.1 * (len(links) - 1)),
            high_confidence=False,
            detail=f"{len(links)} link(s) from an account {account_age.days} day(s) old: "
            + ", ".join(links[:5]),
        )
    ]


def _shingles(text: str) -> frozenset[tuple[str, ...]]:
    """Pairs of consecutive tokens, numbers masked; empty for texts too short to judge."""
    words = ["0" if any(c.isdigit() for c in word) else word for word in analysis.tokens(text)]
    if len(words) < MIN_REPEAT_TOKENS:
        return frozenset()
    return frozenset(tuple(words[i : i + SHINGLE_TOKENS]) for i in range(len(words) - 1))


def similarity(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> float:
    """Jaccard similarity of two shingle sets."""
    return len(a & b) / len(a | b) if a and b else 0.0


def _repeat_signal(text: str, recent_texts: list[str]) -> list[Signal]:
    shingles = _shingles(text)
    if not shingles:
        return []
    scores = [similarity(shingles, _shingles(earlier)) for earlier in recent_texts]
    copies = [score for score in scores if score >= NEAR_DUPLICATE_JACCARD]
    if not copies:
        return []
    return [
        Signal(
            source=SPAM,
            label=SPAM_REPEATED_TEXT,
            score=min(1.0, 0.5 + 0.15 * len(copies)),
            high_confidence=len(copies) >= REPEATED_HIDE_COPIES,
            detail=f"{len(copies)} earlier cop{'y' if len(copies) == 1 else 'ies'} "
            f"(similarity {max(copies):.2f}): {text[:120]}",
        )
    ]


def _burst_signal(
    recent_post_times: list[datetime.datetime], now: datetime.datetime
) -> list[Signal]:
    since = now - BURST_WINDOW
    posts = 1 + sum(since <= posted <= now for posted in recent_post_times)  # 1: this post
    if posts <= BURST_POSTS:
        return []
    minutes = int(BURST_WINDOW.total_seconds() // 60)
    return [
        Signal(
            source=SPAM,
            label=SPAM_BURST,
            score=min(1.0, 0.5 + 0.5 * (posts - BURST_POSTS) / BURST_POSTS),
            high_confidence=False,
            detail=f"{posts} posts in {minutes} minutes",
        )
    ]


def spam_signals(
    text: str,
    *,
    account_age: datetime.timedelta,
    recent_texts: list[str],
    recent_post_times: list[datetime.datetime],
    now: datetime.datetime,
) -> list[Signal]:
    """Spam signals for a new post: ``recent_texts`` and ``recent_post_times`` are the
    member's earlier notes and comments (without this one), ``now`` the time of this one."""
    found = (
        _link_signal(text, account_age)
        + _repeat_signal(text, recent_texts)
        + _burst_signal(recent_post_times, now)
    )
    if len(found) >= 2:
        # Each heuristic alone has innocent explanations; two at once (a new account pasting
        # the same link, a burst of copies) is what spam looks like, so hide it for review.
        found = [dataclasses.replace(signal, high_confidence=True) for signal in found]
    return found
