"""Template helpers of the language bridge."""

from __future__ import annotations

from typing import Any

from django import template

from papercrane.language import detection

register = template.Library()


@register.filter
def foreign_to(item: Any, target: str) -> bool:
    """Whether ``item`` (a note or comment) is written in another language than ``target``."""
    language = getattr(item, "language", "")
    return bool(language and target) and not detection.same_language(language, target)


@register.filter
def translation_of(translations: dict[str, str] | None, text: str) -> str:
    """The translation of ``text`` in a {text: translation} map, or ""."""
    return (translations or {}).get(text, "")
