"""What the note page shows of likes, collects and comments, for the signed-in viewer."""

from __future__ import annotations

from typing import Any

from django import template

from papercrane.engagement import queries
from papercrane.language import services as language_services
from papercrane.notes.models import Note

register = template.Library()
COMMENTS_ON_PAGE = 50


@register.simple_tag(takes_context=True)
def note_engagement(context: Any, note: Note) -> dict[str, Any]:
    request = context["request"]
    viewer = request.user if request.user.is_authenticated else None
    sort = request.GET.get("sort", "relevance")
    ordering = queries.THREAD_ORDERINGS.get(sort, queries.THREAD_ORDERINGS["relevance"])
    threads = list(queries.threads(viewer, note).order_by(*ordering)[:COMMENTS_ON_PAGE])
    queries.with_inline_replies(viewer, threads)
    queries.decorate(viewer, threads)
    reading = context.get("reading")
    if reading is not None and reading.mode == "translated":
        language_services.translate_comments(threads, reading.target)
    boards = list(queries.boards_of(viewer, viewer)) if viewer is not None else []
    return {
        "flags": queries.viewer_flags(viewer, note.pk),
        "threads": threads,
        "sort": "time" if sort == "time" else "relevance",
        "boards": boards,
        "can_pin": viewer is not None and viewer.pk == note.author_id,
    }


@register.simple_tag(takes_context=True)
def card_flags(context: Any, notes: Any) -> dict[int, dict[str, bool]]:
    """The viewer's like/collect state for a grid of cards: two queries for the whole grid."""
    request = context.get("request")
    viewer = request.user if request is not None and request.user.is_authenticated else None
    return queries.viewer_flags_for(viewer, [note.pk for note in notes])


@register.filter
def flags_for(flags: dict[int, dict[str, bool]], note: Note) -> dict[str, bool]:
    return flags.get(note.pk, {"liked": False, "collected": False})
