"""Why a note is in Explore, in words (the "Why this note?" control and the API's ``reason``)."""

from __future__ import annotations

import functools
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from papercrane.feed.queries import Reason


def text(reason: Reason) -> str:
    title = reason.note_title
    topic = f"#{reason.topic}" if reason.topic else ""
    if reason.kind == "collected" and title:
        return _("Because you collected “%(title)s”") % {"title": title}
    if reason.kind == "commented" and title:
        return _("Because you commented on “%(title)s”") % {"title": title}
    if reason.kind == "liked" and title:
        return _("Because you liked “%(title)s”") % {"title": title}
    # The note is gone from the member's sight (deleted, made private): what they did stays.
    if reason.kind == "collected":
        return _("Because of a note you collected")
    if reason.kind == "commented":
        return _("Because of a note you commented on")
    if reason.kind == "liked":
        return _("Because of a note you liked")
    if reason.kind == "following":
        return _("From someone you follow")
    if reason.kind == "friends":
        return _("Liked by people you follow")
    if reason.kind == "chosen" and topic:
        return _("Because you picked %(topic)s") % {"topic": topic}
    if reason.kind == "topic" and topic:
        return _("Popular in %(topic)s") % {"topic": topic}
    chinese = reason.language.startswith("zh")
    if reason.kind == "language":
        return _("Popular in Chinese") if chinese else _("Popular in English")
    if reason.kind == "similar_language":
        return (
            _("Like notes you enjoyed, in Chinese")
            if chinese
            else _("Like notes you enjoyed, in English")
        )
    if reason.kind == "similar":
        return _("Like notes you enjoyed")
    if reason.kind == "new_creator":
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
    with translation.override(language):
        return {"reason": text(reason), "why": as_dict(reason)}
