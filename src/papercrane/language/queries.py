"""Reads for the language bridge: cached translations."""

from __future__ import annotations

import hashlib

from django.utils import translation

from papercrane.accounts.models import Member
from papercrane.language import detection
from papercrane.language.models import Translation


def reader_language(viewer: Member | None) -> str:
    """The language to translate into for ``viewer``: theirs, or the page's when signed out."""
    if viewer is not None:
        return viewer.language
    chinese = translation.get_language() == "zh-hans"
    return detection.SIMPLIFIED_CHINESE if chinese else detection.ENGLISH


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def cached(
    texts: list[str], source: str, target: str, preference: list[str]
) -> dict[str, tuple[str, str]]:
    """Cached translations of ``texts``: text → (translation, provider), from the provider
    earliest in ``preference`` when several translated it (any other one after those)."""
    hashes = {text_hash(text): text for text in texts}
    rows = Translation.objects.filter(
        source_hash__in=hashes, source_language=source, target_language=target
    ).values_list("source_hash", "provider", "text")
    rank = {name: position for position, name in enumerate(preference)}
    found: dict[str, tuple[str, str]] = {}
    for digest, provider, translated in sorted(rows, key=lambda row: rank.get(row[1], len(rank))):
        found.setdefault(hashes[digest], (translated, provider))
    return found
