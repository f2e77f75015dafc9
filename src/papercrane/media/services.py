"""Every write to media: accept an upload, process it in the background, attach, delete."""

from __future__ import annotations

import base64
import hashlib
import io
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image

from papercrane import ratelimit
from papercrane.accounts.models import Member
from papercrane.media import processing, storage
from papercrane.media.models import Media
from papercrane.moderation import services as moderation_services

logger = logging.getLogger(__name__)
UPLOADS_PER_MEMBER = ratelimit.Rate(limit=200, period_seconds=3600)
ALT_TEXT_MAX = 500
PLACEHOLDER_WIDTH = 24


def _validate_alt_text(alt_text: str) -> str:
    alt_text = alt_text.strip()
    if len(alt_text) > ALT_TEXT_MAX:
        raise ValidationError(
            {"alt_text": [_("Use at most %(count)s characters.") % {"count": ALT_TEXT_MAX}]}
        )
    return alt_text


def upload(*, owner: Member, data: bytes, alt_text: str = "", text_cover: bool = False) -> Media:
    """Store a clean re-encode of ``data`` (never the uploaded bytes) and queue its variants.

    Raises processing.MediaRejected for anything that is not a safe, supported image.
    """
    alt_text = _validate_alt_text(alt_text)
    ratelimit.hit("media-upload", str(owner.pk), UPLOADS_PER_MEMBER)
    clean = processing.clean_original(data)
    sha256 = hashlib.sha256(clean.data).hexdigest()
    name = storage.store(storage.original_name(sha256, clean.extension), clean.data)
    media = Media.objects.create(
        owner=owner,
        original=name,
        sha256=sha256,
        mime_type=clean.mime_type,
        width=clean.width,
        height=clean.height,
        alt_text=alt_text,
        is_text_cover=text_cover,
    )
    from papercrane.media.tasks import process_media

    transaction.on_commit(lambda: process_media.enqueue(media_id=media.pk))
    return media


def update_alt_text(*, media: Media, alt_text: str) -> Media:
    media.alt_text = _validate_alt_text(alt_text)
    media.save(update_fields=["alt_text"])
    return media


def placeholder_data_uri(blurhash: str, width: int, height: int) -> str:
    """A tiny PNG of the blurhash, shown (as an <img>, so CSP allows it) until the photo loads."""
    import blurhash as blurhash_codec

    tiny_height = max(1, round(PLACEHOLDER_WIDTH * height / max(width, 1)))
    pixels = blurhash_codec.decode(blurhash, PLACEHOLDER_WIDTH, tiny_height)
    image = Image.new("RGB", (PLACEHOLDER_WIDTH, tiny_height))
    image.putdata(
        [tuple(int(max(0, min(255, c))) for c in pixel[:3]) for row in pixels for pixel in row]
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def process(media_id: int) -> None:
    """Derive variants and fingerprints; on any failure mark the media failed, leaving no files.

    Variant files are written before the row flips to ready in a single UPDATE, so readers see
    either a processing media with no variants or a ready one with all of them.
    """
    media = Media.objects.filter(pk=media_id, status=Media.Status.PROCESSING).first()
    if media is None:
        return
    written: list[str] = []
    try:
        derived = processing.derive(storage.read(media.original))
        variants = []
        for variant in derived.variants:
            name = storage.store(storage.variant_name(media.sha256, variant.width), variant.data)
            written.append(name)
            variants.append(
                {
                    "name": name,
                    "width": variant.width,
                    "height": variant.height,
                    "format": variant.format,
                }
            )
        Media.objects.filter(pk=media.pk, status=Media.Status.PROCESSING).update(
            status=Media.Status.READY,
            variants=variants,
            blurhash=derived.blurhash,
            placeholder=placeholder_data_uri(derived.blurhash, media.width, media.height),
            dominant_color=derived.dominant_color,
            pdq_hash=derived.pdq_hash,
            pdq_quality=derived.pdq_quality,
        )
        moderation_services.photo_ready(media.pk)
    except Exception as error:  # any failure: record why, keep nothing half-written
        logger.exception("processing media %s failed", media.pk)
        _delete_unshared(media, written)
        Media.objects.filter(pk=media.pk).update(
            status=Media.Status.FAILED, failure_reason=str(error)[:200] or type(error).__name__
        )


def _delete_unshared(media: Media, names: list[str]) -> None:
    """Delete files unless another media row has the same content (content-addressed names)."""
    shared = Media.objects.filter(sha256=media.sha256).exclude(pk=media.pk).exists()
    if not shared:
        storage.delete(names)


def delete(media: Media) -> None:
    """Remove the row and, unless identical content is used elsewhere, its files."""
    names = [media.original, *(variant["name"] for variant in media.variants)]
    media.delete()
    transaction.on_commit(lambda: _delete_unshared(media, names))
