"""Translation through the configured providers, cached in the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import opencc
from django.conf import settings
from django.utils.translation import gettext as _

from papercrane import ratelimit
from papercrane.accounts.models import Member
from papercrane.language import detection, gloss, providers, queries
from papercrane.language.models import Translation

OPENCC = "opencc"  # the "provider" of a change of Chinese script
# Providers cost money or compute: each reader (member, or address when signed out) may ask
# for this many translations an hour; glosses are local but not free either.
TRANSLATIONS_PER_READER = ratelimit.Rate(300, 3600)
GLOSSES_PER_ADDRESS = ratelimit.Rate(600, 3600)
_SCRIPT = {
    (detection.TRADITIONAL_CHINESE, detection.SIMPLIFIED_CHINESE): opencc.OpenCC("t2s"),
    (detection.SIMPLIFIED_CHINESE, detection.TRADITIONAL_CHINESE): opencc.OpenCC("s2t"),
}


@dataclass
class Translated:
    texts: list[str]
    source: str
    target: str
    provider: str  # "" when the texts were already in the target language


@dataclass
class TranslationUnavailable(Exception):
    """No configured provider could translate; ``failures`` says what each one answered."""

    failures: list[providers.TranslationFailed] = field(default_factory=list)

    @property
    def reason(self) -> str:
        """ "unconfigured" when there is no provider at all, else the first provider's reason."""
        return self.failures[0].reason if self.failures else "unconfigured"


def unavailable_message(error: TranslationUnavailable) -> str:
    """Why nothing could translate, for the reader, in their language."""
    messages = {
        "unconfigured": _(
            "This server has no translation service set up. Pinyin and word meanings still work."
        ),
        "quota": _("The translation service has reached its limit. Try again later."),
        "unsupported": _("No translation service here handles these two languages."),
    }
    return messages.get(error.reason, _("The translation service did not answer. Try again later."))


def translate_for(reader: str, texts: list[str], target: str, source: str = "") -> Translated:
    """``translate`` as asked by a reader (a member id, or an address when signed out), who
    may ask ``TRANSLATIONS_PER_READER`` times an hour (RateLimited beyond)."""
    ratelimit.hit("translate", reader, TRANSLATIONS_PER_READER)
    return translate(texts, target, source)


def translate(texts: list[str], target: str, source: str = "") -> Translated:
    """``texts`` in ``target``. ``source`` is detected from the texts when not given. Texts
    already in the target language come back as they are; cached translations are reused."""
    source = source or detection.detect("\n".join(texts))
    if detection.same_language(source, target) or not source:
        converter = _SCRIPT.get((source, target))
        if converter is None:
            return Translated(list(texts), source, target, "")
        return Translated([str(converter.convert(text)) for text in texts], source, target, OPENCC)
    wanted = [text for text in dict.fromkeys(texts) if text.strip()]
    chain = providers.chain()
    found = queries.cached(wanted, source, target, [p.name for p in chain])
    missing = [text for text in wanted if text not in found]
    if missing:
        found |= _from_providers(chain, missing, source, target)
    used = {provider for _, provider in found.values()}
    return Translated(
        [found[text][0] if text in found else text for text in texts],
        source,
        target,
        next(iter(used)) if len(used) == 1 else ",".join(sorted(used)),
    )


def _from_providers(
    chain: list[providers.Provider], texts: list[str], source: str, target: str
) -> dict[str, tuple[str, str]]:
    """Translate with the first provider that can, and cache what it gives."""
    failures: list[providers.TranslationFailed] = []
    for provider in chain:
        protected = [providers.protect(text) for text in texts]
        try:
            translated = provider.translate([masked for masked, _ in protected], source, target)
        except providers.TranslationFailed as failure:
            failures.append(failure)
            continue
        results = [
            providers.restore(text, spans)
            for text, (_, spans) in zip(translated, protected, strict=True)
        ]
        Translation.objects.bulk_create(
            [
                Translation(
                    source_hash=queries.text_hash(text),
                    source_language=source,
                    target_language=target,
                    provider=provider.name,
                    text=result,
                )
                for text, result in zip(texts, results, strict=True)
            ],
            ignore_conflicts=True,  # someone else translated the same text meanwhile
        )
        return {text: (result, provider.name) for text, result in zip(texts, results, strict=True)}
    raise TranslationUnavailable(failures)


def forget(texts: list[str]) -> None:
    """Delete the cached translations of texts that are being edited away or deleted."""
    hashes = [queries.text_hash(text) for text in texts if text]
    Translation.objects.filter(source_hash__in=hashes).delete()


READING_MODES = ("original", "translated", "learn")


@dataclass
class Reading:
    """How a note is shown to one reader: as written, translated, or word by word."""

    mode: str
    target: str
    foreign: bool  # written in another language than the reader's
    title: str = ""
    body: str = ""
    topics: dict[str, str] = field(default_factory=dict)  # topic name → translated name
    alt_texts: dict[str, str] = field(default_factory=dict)  # photo description → translated
    provider: str = ""
    error: str = ""
    title_gloss: list[gloss.Segment] = field(default_factory=list)
    body_gloss: list[gloss.Segment] = field(default_factory=list)


def reading(
    note: Any, viewer: Member | None, asked: str = "", alt_texts: list[str] | None = None
) -> Reading:
    """The note as ``viewer`` asked to read it (``asked``), else as their settings say:
    translated when they turned on automatic translation and it is in another language.
    ``alt_texts`` are its photos' descriptions, translated with the rest."""
    target = queries.reader_language(viewer)
    foreign = bool(note.language) and not detection.same_language(note.language, target)
    automatic = viewer is not None and viewer.auto_translate and foreign
    mode = asked if asked in READING_MODES else ("translated" if automatic else "original")
    shown = Reading(mode, target, foreign, note.title, note.body)
    if mode == "learn":
        shown.title_gloss, shown.body_gloss = gloss.gloss(note.title), gloss.gloss(note.body)
    elif mode == "translated":
        _translate_reading(shown, note, [text for text in alt_texts or [] if text])
    return shown


def _translate_reading(shown: Reading, note: Any, alt_texts: list[str]) -> None:
    topics = [topic.name for topic in note.topics.all()]
    try:
        result = translate(
            [note.title, note.body, *topics, *alt_texts], shown.target, note.language
        )
    except TranslationUnavailable as error:
        shown.mode, shown.error = "original", unavailable_message(error)
        return
    shown.title, shown.body = result.texts[:2]
    names = result.texts[2 : 2 + len(topics)]
    shown.topics = dict(zip(topics, names, strict=True))
    shown.alt_texts = dict(zip(alt_texts, result.texts[2 + len(topics) :], strict=True))
    shown.provider = result.provider


def translate_comments(comments: list[Any], target: str) -> None:
    """Give each comment in another language a ``translated`` body (threads' inline replies
    too); when no provider can, the comments stay as written."""
    everything = [
        c for comment in comments for c in [comment, *getattr(comment, "inline_replies", [])]
    ]
    by_language: dict[str, list[Any]] = {}
    for comment in everything:
        if comment.language and not detection.same_language(comment.language, target):
            by_language.setdefault(comment.language, []).append(comment)
    for source, group in by_language.items():
        try:
            result = translate([comment.body for comment in group], target, source)
        except TranslationUnavailable:
            return
        for comment, text in zip(group, result.texts, strict=True):
            comment.translated = text


def card_titles(notes: list[Any], viewer: Member | None) -> dict[int, str]:
    """Translated titles of the cards in other languages, for a reader with automatic
    translation: those already cached now, the others translated in the background so the next
    page shows them (a page of cards never waits for a provider)."""
    if viewer is None or not viewer.auto_translate:
        return {}
    target = viewer.language
    foreign = [n for n in notes if n.language and not detection.same_language(n.language, target)]
    titles: dict[int, str] = {}
    missing: list[int] = []
    for source in {note.language for note in foreign}:
        group = [note for note in foreign if note.language == source]
        found = queries.cached(
            [note.title for note in group], source, target, settings.TRANSLATION_PROVIDERS
        )
        for note in group:
            if note.title in found:
                titles[note.pk] = found[note.title][0]
            else:
                missing.append(note.pk)
    if missing:
        from papercrane.language.tasks import translate_titles  # tasks import this module

        translate_titles.enqueue(note_ids=missing, target=target)
    return titles


def translate_titles(note_ids: list[int], target: str) -> None:
    """Translate and cache the titles of these notes (the background half of card_titles)."""
    from papercrane.notes.models import Note  # notes' services import this module

    notes = list(Note.objects.filter(pk__in=note_ids).only("title", "language"))
    for source in {note.language for note in notes if note.language}:
        titles = [note.title for note in notes if note.language == source]
        try:
            translate(titles, target, source)
        except TranslationUnavailable:
            return  # the cards keep their original titles
