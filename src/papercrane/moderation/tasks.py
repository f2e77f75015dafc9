"""Background work for trust and safety: screening what members post."""

from __future__ import annotations

from django_tasks import task

from papercrane.moderation import screening


@task()
def screen_note(note_id: int) -> None:
    screening.screen_note(note_id)


@task()
def screen_comment(comment_id: int) -> None:
    screening.screen_comment(comment_id)


@task()
def screen_photo(media_id: int) -> None:
    screening.screen_photo(media_id)
