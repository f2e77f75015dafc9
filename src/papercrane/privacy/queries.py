"""Read paths for privacy: a member's open sessions, exports and data, shaped for the pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from papercrane.accounts.models import Member
from papercrane.privacy import inventory
from papercrane.privacy.models import ExportRequest, SignIn

# Checked in order: Edge and Opera say "Chrome" too, Chrome says "Safari".
BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("CrOS", "ChromeOS"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
)
CLIENT = re.compile(r"^(curl|python-requests|okhttp|Wget)/", re.IGNORECASE)


def describe_browser(user_agent: str) -> str:
    """ "Firefox on Linux", in the reader's language, from a user agent; plain words when it
    was never recorded or has been cleared after its retention."""
    if not user_agent:
        return _("Browser not recorded")
    client = CLIENT.match(user_agent)
    if client:
        return client.group(1)
    browser = next((name for token, name in BROWSERS if token in user_agent), None)
    system = next((name for token, name in SYSTEMS if token in user_agent), None)
    if browser and system:
        return _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    return browser or system or _("Unknown browser")


@dataclass(frozen=True)
class OpenSession:
    id: int
    browser: str
    ip_address: str | None
    signed_in_at: datetime
    last_seen_at: datetime
    current: bool


def open_sessions(member: Member, current_session_key: str | None) -> list[OpenSession]:
    """The member's sessions that are still signed in, this device first, then the most
    recently used."""
    cutoff = timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    rows = SignIn.objects.filter(
        member=member, ended_at__isnull=True, last_seen_at__gte=cutoff
    ).order_by("-last_seen_at", "-pk")
    sessions = [
        OpenSession(
            id=row.pk,
            browser=describe_browser(row.user_agent),
            ip_address=row.ip_address,
            signed_in_at=row.created_at,
            last_seen_at=row.last_seen_at,
            current=bool(current_session_key) and row.session_key == current_session_key,
        )
        for row in rows[:50]
    ]
    sessions.sort(key=lambda session: not session.current)
    return sessions


def session_key_of(member: Member, sign_in_id: int) -> str | None:
    """The session key of one of the member's sign-ins (None when it is not theirs)."""
    return (
        SignIn.objects.filter(pk=sign_in_id, member=member)
        .values_list("session_key", flat=True)
        .first()
    )


def exports_of(member: Member, limit: int = 10) -> QuerySet[ExportRequest]:
    return ExportRequest.objects.filter(member=member).order_by("-created_at", "-pk")[:limit]


@dataclass(frozen=True)
class CategoryRow:
    key: str
    title: Promise
    what: Promise
    purpose: Promise
    retention: Promise
    legal_basis: Promise
    visible_to: Promise
    count: int | None


def data_overview(member: Member | None) -> list[CategoryRow]:
    """Every inventory category, with the member's live count of rows (None for nobody)."""
    counts = inventory.counts(member.pk) if member is not None else {}
    return [
        CategoryRow(
            key=category.key,
            title=category.title,
            what=category.what,
            purpose=category.purpose,
            retention=category.retention,
            legal_basis=category.legal_basis,
            visible_to=category.visible_to,
            count=counts.get(category.key),
        )
        for category in inventory.categories()
    ]
