"""Background work for media."""

from __future__ import annotations

from django_tasks import task

from papercrane.media import services


@task()
def process_media(media_id: int) -> None:
    services.process(media_id)
