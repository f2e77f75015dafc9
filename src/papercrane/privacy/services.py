"""Every privacy write outside export and erasure: sign-ins and sessions, and the retention
sweep that deletes what has outlived its declared retention (``privacy.inventory``).

The sweep schedules itself like the feed's jobs: the first signed-in request after each
``SWEEP_PERIOD`` enqueues it (once, guarded by the cache), so no separate scheduler is needed;
``papercrane privacy-sweep`` runs it at once.
"""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from papercrane.accounts.models import Member
from papercrane.privacy.models import SignIn

ADDRESS_DAYS = 30  # IP addresses and user agents of sign-ins
SIGN_IN_DAYS = 90  # the sign-in history itself
REVOKED_TOKEN_DAYS = 30
SEEN_EVERY = timedelta(minutes=5)  # last_seen_at moves at most this often
SWEEP_PERIOD = 6 * 3600  # seconds between two retention sweeps
USER_AGENT_MAX = 300


def _session_store() -> Any:
    return importlib.import_module(settings.SESSION_ENGINE).SessionStore


def _delete_session(session_key: str) -> None:
    if session_key:
        _session_store()(session_key).delete(session_key)


# --- Sign-ins and sessions -----------------------------------------------------------------------


def record_sign_in(
    *,
    member: Member,
    session_key: str,
    ip: str | None,
    user_agent: str,
    now: datetime | None = None,
) -> SignIn:
    """Remember a web sign-in, listed on the sessions page. (Signing in also cancels a
    pending account deletion: ``accounts.services.authenticate`` sees to that.)"""
    now = now or timezone.now()
    return SignIn.objects.create(
        member=member,
        session_key=session_key or "",
        ip_address=ip or None,
        user_agent=" ".join(user_agent.split())[:USER_AGENT_MAX],
        created_at=now,
        last_seen_at=now,
    )


def seen_due(session_key: str) -> bool:
    """Whether this session's last-seen time may be moved now: true at most once per
    ``SEEN_EVERY`` per session, answered by the cache alone (no database read)."""
    if not session_key:
        return False
    return bool(cache.add(f"privacy:seen:{session_key}", 1, int(SEEN_EVERY.total_seconds())))


def touch(session_key: str, now: datetime | None = None) -> None:
    """Move the open sign-in's ``last_seen_at`` if it is older than ``SEEN_EVERY``; then
    enqueue the retention sweep if it is due. Called after ``seen_due``, so rarely."""
    now = now or timezone.now()
    SignIn.objects.filter(
        session_key=session_key, ended_at__isnull=True, last_seen_at__lt=now - SEEN_EVERY
    ).update(last_seen_at=now)
    sweep_if_due()


def end_sign_in(session_key: str, now: datetime | None = None) -> int:
    """Mark the sign-in of a session that signed out as ended."""
    if not session_key:
        return 0
    return SignIn.objects.filter(session_key=session_key, ended_at__isnull=True).update(
        ended_at=now or timezone.now()
    )


def sign_out_session(*, member: Member, sign_in_id: int) -> bool:
    """End one of the member's open sessions: its Django session is deleted, so that browser
    is signed out at its next request. False when there is no such open session."""
    sign_in = SignIn.objects.filter(pk=sign_in_id, member=member, ended_at__isnull=True).first()
    if sign_in is None:
        return False
    _delete_session(sign_in.session_key)
    SignIn.objects.filter(pk=sign_in.pk).update(ended_at=timezone.now())
    return True


def sign_out_other_sessions(*, member: Member, current_session_key: str) -> int:
    """End every open session of the member but the current one; how many were ended."""
    others = SignIn.objects.filter(member=member, ended_at__isnull=True).exclude(
        session_key=current_session_key
    )
    ended = 0
    for sign_in in others:
        _delete_session(sign_in.session_key)
        ended += SignIn.objects.filter(pk=sign_in.pk).update(ended_at=timezone.now())
    return ended


# --- Retention -----------------------------------------------------------------------------------


def purge_expired(now: datetime) -> dict[str, int]:
    """Delete or clear what has outlived its declared retention; how many rows of each kind.

    - addresses and browsers of sign-ins older than ``ADDRESS_DAYS``;
    - sign-ins older than ``SIGN_IN_DAYS``; open ones whose session has surely expired end;
    - Explore impressions older than ``FEED_IMPRESSION_DAYS`` (the feed's own purge);
    - data exports past their expiry (``privacy.export``);
    - API tokens revoked more than ``REVOKED_TOKEN_DAYS`` ago;
    - accounts whose deletion grace period ended (``privacy.erasure``).
    """
    from papercrane.accounts import services as account_services
    from papercrane.feed import services as feed_services
    from papercrane.privacy import erasure, export  # they read every app: import late

    counts: dict[str, int] = {}
    with transaction.atomic():
        counts["sign_ins"] = SignIn.objects.filter(
            created_at__lt=now - timedelta(days=SIGN_IN_DAYS)
        ).delete()[0]
        stale = Q(created_at__lt=now - timedelta(days=ADDRESS_DAYS))
        recorded = Q(ip_address__isnull=False) | ~Q(user_agent="")
        counts["sign_in_addresses"] = SignIn.objects.filter(stale & recorded).update(
            ip_address=None, user_agent=""
        )
        counts["sessions_ended"] = SignIn.objects.filter(
            ended_at__isnull=True,
            last_seen_at__lt=now - timedelta(seconds=settings.SESSION_COOKIE_AGE),
        ).update(ended_at=now)
    counts["impressions"] = feed_services.expire_impressions(now)
    counts["orphan_impressions"] = feed_services.forget_orphan_impressions()
    counts["api_tokens"] = account_services.purge_revoked_tokens(
        before=now - timedelta(days=REVOKED_TOKEN_DAYS)
    )
    counts["exports"] = export.expire_exports(now)
    counts["erased_members"] = erasure.erase_due(now)
    return counts


def sweep_if_due() -> None:
    """Enqueue the retention sweep once per ``SWEEP_PERIOD`` (the cache remembers)."""
    if not cache.add("privacy:sweep", 1, SWEEP_PERIOD):
        return
    from papercrane.privacy import tasks

    transaction.on_commit(tasks.sweep.enqueue, robust=True)
