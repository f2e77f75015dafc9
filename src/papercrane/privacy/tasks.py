"""Background work for privacy: building exports, and the retention sweep (which also erases
accounts whose grace period ended)."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from papercrane.privacy import export, services


@task()
def build_export(export_id: int) -> None:
    export.build_export(export_id)


@task()
def sweep() -> dict[str, int]:
    """Delete what has outlived its retention (``services.purge_expired``)."""
    return services.purge_expired(timezone.now())
