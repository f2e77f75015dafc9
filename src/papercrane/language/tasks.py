"""Background work of the language bridge: translating card titles ahead of the reader."""

from __future__ import annotations

from django_tasks import task

from papercrane.language import services


@task()
def translate_titles(note_ids: list[int], target: str) -> None:
    services.translate_titles(note_ids, target)
