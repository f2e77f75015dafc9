"""Object ids in URLs and bodies: decimal strings, parsed in one place."""

from __future__ import annotations


def parse_id(value: object) -> int | None:
    """The id as an int, or None for anything but plain ASCII digits ("²".isdigit() is True)."""
    text = str(value)
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    return None
