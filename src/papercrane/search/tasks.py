"""Background work for search: keeping the index in step with notes."""

from __future__ import annotations

from django_tasks import task

from papercrane.search import services


@task()
def index_note(note_id: int) -> None:
    services.index_note(note_id)


@task()
def embed_note(note_id: int) -> None:
    services.embed_note(note_id)
