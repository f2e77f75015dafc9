"""Template helpers of the language bridge."""

from __future__ import annotations

from typing import Any

from django import template

from papercrane.language import detection, services

register = template.Library()


@register.filter
def foreign_to(item: Any, target: str) -> bool:
    """Whether ``item`` (a note or comment) is written in another language than ``target``."""
    language = getattr(item, "language", "")
    return bool(language and target) and not detection.same_language(language, target)


@register.filter
def translation_of(translations: dict[Any, str] | None, key: Any) -> str:
    """The translation of ``key`` (a text, or a note id) in a map of translations, or ""."""
    return (translations or {}).get(key, "")


@register.simple_tag(takes_context=True)
def card_titles(context: Any, notes: Any) -> dict[int, str]:
    """Translated titles for a grid of cards, when the reader translates automatically."""
    request = context.get("request")
    viewer = request.user if request is not None and request.user.is_authenticated else None
    return services.card_titles(list(notes), viewer)
