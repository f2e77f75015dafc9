"""Background work for feeds: the periodic refreshes and a member's profile."""

from __future__ import annotations

from django_tasks import task

from papercrane.feed import services
from papercrane.notes import services as note_services


@task()
def refresh_snapshots() -> None:
    services.refresh_snapshots()
    services.expire_impressions()
    note_services.forget_old_visibility_changes()


@task()
def train_model() -> None:
    services.refresh_neighbours()
    services.refresh_profiles()
    services.train_ranker()


@task()
def refresh_profile(member_id: int) -> None:
    """The member's profile, then the ranking their next visits merge into."""
    services.refresh_profile(member_id)
    services.refresh_ranking(member_id)
