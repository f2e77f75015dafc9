"""Background work for accounts."""

from __future__ import annotations

import io

from django.core.files.base import ContentFile
from django_tasks import task
from PIL import Image, ImageOps

from papercrane.accounts.models import Member

THUMBNAIL_SIZE = 96


@task()
def make_avatar_thumbnail(member_id: int) -> None:
    """A small avatar for lists and comments, so pages never ship the 512 px original."""
    member = Member.objects.filter(pk=member_id).first()
    if member is None or not member.avatar:
        return
    with member.avatar.open("rb") as handle:
        image = Image.open(handle).convert("RGB")
    thumbnail = ImageOps.fit(image, (THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    thumbnail.save(buffer, format="WEBP", quality=80)
    old_name = member.avatar_thumbnail.name
    member.avatar_thumbnail.save(
        f"{member.pk}-{THUMBNAIL_SIZE}.webp", ContentFile(buffer.getvalue()), save=False
    )
    Member.objects.filter(pk=member.pk).update(avatar_thumbnail=member.avatar_thumbnail.name)
    if old_name and old_name != member.avatar_thumbnail.name:
        member.avatar_thumbnail.storage.delete(old_name)
