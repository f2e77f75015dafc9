"""Why a note is in Explore, in words (the "Why this note?" control and the API's ``reason``)."""

from __future__ import annotations

import functools
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from papercrane.feed.queries import Reason


def text(reason: Reason, language: str | None = None) -> str:
    """The reason in words, in ``language`` (by default the active one)."""
    titled, topical = bool(reason.note_title), bool(reason.topic)
    chinese = reason.language.startswith("zh")
    language = language or translation.get_language()
    words = _wording(reason.kind, titled, topical, chinese, language)
    if titled and reason.kind in NAMING_A_NOTE:
        return words % {"title": reason.note_title}
    if topical and reason.kind in NAMING_A_TOPIC:
        return words % {"topic": f"#{reason.topic}"}
    return words


NAMING_A_NOTE = frozenset({"collected", "commented", "liked"})
NAMING_A_TOPIC = frozenset({"chosen", "topic"})


@functools.lru_cache(maxsize=256)
def _wording(kind: str, titled: bool, topical: bool, chinese: bool, language: str | None) -> str:
    """A kind of reason's words in a language, before the note or topic is put in: a few
    dozen in all, where the reasons themselves (each naming a note) are as many as the
    notes, and switching the language for each cost more than the rest of a card."""
    with translation.override(language):
        return _words(kind, titled=titled, topical=topical, chinese=chinese)


def _words(kind: str, *, titled: bool, topical: bool, chinese: bool) -> str:
    if kind == "collected" and titled:
        return _("Because you collected “%(title)s”")
    if kind == "commented" and titled:
        return _("Because you commented on “%(title)s”")
    if kind == "liked" and titled:
        return _("Because you liked “%(title)s”")
    # The note is gone from the member's sight (deleted, made private): what they did stays.
    if kind == "collected":
        return _("Because of a note you collected")
    if kind == "commented":
        return _("Because of a note you commented on")
    if kind == "liked":
        return _("Because of a note you liked")
    if kind == "following":
        return _("From someone you follow")
    if kind == "friends":
        return _("Liked by people you follow")
    if kind == "chosen" and topical:
        return _("Because you picked %(topic)s")
    if kind == "topic" and topical:
        return _("Popular in %(topic)s")
    if kind == "language":
        return _("Popular in Chinese") if chinese else _("Popular in English")
    if kind == "similar_language":
        return (
            _("Like notes you enjoyed, in Chinese")
            if chinese
            else _("Like notes you enjoyed, in English")
        )
    if kind == "similar":
        return _("Like notes you enjoyed")
    if kind == "new_creator":
        return _("New creator")
    return _("Trending now")


def as_dict(reason: Reason) -> dict[str, Any]:
    return {
        "kind": reason.kind,
        "note_id": str(reason.note_id) if reason.note_id else None,
        "note_title": reason.note_title,
        "topic": reason.topic,
        "language": reason.language,
    }


@functools.lru_cache(maxsize=4096)
def card_fields(reason: Reason, language: str | None) -> dict[str, Any]:
    """A card's ``reason`` and ``why`` in ``language``, worked out once: the same few
    reasons come with most cards. Callers must not change it."""
    return {"reason": text(reason, language), "why": as_dict(reason)}
