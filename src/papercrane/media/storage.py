"""Where media bytes live: content-addressed names in Django's default storage (files or S3)."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

# Files for one member's eyes only (data exports): never served as public media, only through
# a view that checks who asks.
PRIVATE_DIRECTORY = "private"


def original_name(sha256: str, extension: str) -> str:
    return f"photos/{sha256[:2]}/{sha256}.{extension}"


def variant_name(sha256: str, width: int, extension: str = "webp") -> str:
    return f"photos/{sha256[:2]}/{sha256}-{width}.{extension}"


def store(name: str, data: bytes) -> str:
    """Write ``data`` under ``name`` unless identical content is already there (same address)."""
    if default_storage.exists(name):
        return name
    return str(default_storage.save(name, ContentFile(data)))


def read(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return bytes(handle.read())


def url(name: str) -> str:
    return str(default_storage.url(name))


def delete(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)
