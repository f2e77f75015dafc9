"""Uploaded images: a clean re-encode of what was uploaded, its variants and its fingerprints."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Media(models.Model):
    class Status(models.TextChoices):
        PROCESSING = "processing"
        READY = "ready"
        FAILED = "failed"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="media"
    )
    note = models.ForeignKey(
        "notes.Note", null=True, blank=True, on_delete=models.SET_NULL, related_name="media"
    )
    position = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROCESSING)
    failure_reason = models.CharField(max_length=200, blank=True)
    # The clean original: decoded, oriented, sRGB, re-encoded without any metadata.
    original = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64, db_index=True)
    mime_type = models.CharField(max_length=32)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    alt_text = models.CharField(max_length=500, blank=True)
    # [{"name": storage name, "width": int, "height": int, "format": "webp"}, ...], narrowest first
    variants = models.JSONField(default=list, blank=True)
    blurhash = models.CharField(max_length=64, blank=True)
    placeholder = models.TextField(blank=True)  # a tiny data: URI decoded from the blurhash
    dominant_color = models.CharField(max_length=7, blank=True)
    pdq_hash = models.CharField(max_length=64, blank=True, db_index=True)
    pdq_quality = models.PositiveSmallIntegerField(null=True, blank=True)
    is_text_cover = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "pk"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"media {self.pk} ({self.status})"
