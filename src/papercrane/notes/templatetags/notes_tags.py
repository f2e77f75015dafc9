"""Template helpers that render notes from the shapes notes.queries builds."""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from papercrane.media import storage
from papercrane.media.models import Media
from papercrane.notes import queries, text
from papercrane.notes.models import Note, Topic

register = template.Library()


@register.simple_tag
def note_cover(note: Note) -> dict[str, Any] | None:
    return queries.cover_of(note)


@register.simple_tag
def note_photos(note: Note) -> list[Media]:
    return queries.photos(note)


@register.simple_tag
def topics_not_in_body(note: Note) -> list[Topic]:
    """Topics given apart from the text; those written as #hashtags already show inline."""
    inline = {text.normalize_topic(name) for name in text.topics_in(note.body)}
    return [topic for topic in note.topics.all() if topic.key not in inline]


@register.filter
def media_url(media: Media, width: int = 1440) -> str:
    return storage.url(queries.variant_name(media, int(width)))


@register.filter
def media_srcset(media: Media) -> str:
    return queries.srcset(media)


@register.filter
def note_body(note: Note) -> str:
    """The body as safe HTML: text escaped, #topics and real @mentions linked, lines kept."""
    return _linked_body(note, note.body, {})


@register.filter
def translated_body(note: Note, reading: Any) -> str:
    """The translated body of a ``language.services.Reading`` as ``note_body`` renders the
    original, each #topic followed by its translated name."""
    topics = {text.normalize_topic(name): shown for name, shown in reading.topics.items()}
    return _linked_body(note, reading.body, topics)


def _linked_body(note: Note, body: str, topic_names: dict[str, str]) -> str:
    mentioned = {member.username.lower() for member in note.mentions.all()}
    pieces: list[str] = []
    position = 0
    for match in _LINKABLE.finditer(body):
        pieces.append(escape(body[position : match.start()]))
        token = match.group(0)
        if token.startswith("#"):
            url = reverse("notes:topic", args=[match.group(1)])
            pieces.append(format_html('<a class="topic" href="{}">{}</a>', url, token))
            shown = topic_names.get(text.normalize_topic(match.group(1)), "")
            if shown and shown != match.group(1):
                pieces.append(format_html(' <span class="topic-translation">({})</span>', shown))
        elif match.group(2).lower() in mentioned:
            url = reverse("web:profile", args=[match.group(2)])
            pieces.append(format_html('<a class="mention" href="{}">{}</a>', url, token))
        else:
            pieces.append(escape(token))
        position = match.end()
    pieces.append(escape(body[position:]))
    return mark_safe("".join(pieces).replace("\n", "<br>"))  # noqa: S308 - every piece is escaped


_LINKABLE = re.compile(f"{text.TOPIC_PATTERN.pattern}|{text.MENTION_PATTERN.pattern}")
