"""Background work for live rooms: telling followers a room started, and invitees."""

from __future__ import annotations

from django_tasks import task

from papercrane.live import services


@task()
def tell_followers(room_id: int) -> None:
    services.tell_followers(room_id)


@task()
def tell_invitee(cohost_id: int) -> None:
    services.tell_invitee(cohost_id)
