"""Cached machine translations.

A translation is kept per (hash of the source text, source language, target language,
provider), so a text is sent to a provider once however many people read it. Editing a note
or comment changes its hash (the old translations are deleted with the old text), so nobody
reads a translation of words that are no longer there.
"""

from __future__ import annotations

from django.db import models


class Translation(models.Model):
    source_hash = models.CharField(max_length=64)  # sha256 of the source text, hex
    source_language = models.CharField(max_length=16)
    target_language = models.CharField(max_length=16)
    provider = models.CharField(max_length=32)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source_hash", "source_language", "target_language", "provider"],
                name="translation_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source_hash[:8]} {self.source_language}→{self.target_language}"
