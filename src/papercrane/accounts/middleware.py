"""Apply a signed-in member's language and time zone to the whole request, and note (rarely)
that the member's session is still in use, for the sessions page."""

from __future__ import annotations

import zoneinfo
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation


def activate_member_preferences(request: HttpRequest, member: Any) -> None:
    """Make ``member``'s language and zone the request's; used by session and token auth alike."""
    if not getattr(member, "is_authenticated", False):
        timezone.deactivate()
        return
    translation.activate(member.language.lower())
    request.LANGUAGE_CODE = translation.get_language()
    try:
        timezone.activate(zoneinfo.ZoneInfo(member.time_zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        timezone.deactivate()


def _session_to_touch(request: HttpRequest, member: Any) -> str | None:
    """The session key of a signed-in member's request whose last-seen time is due to move
    (at most every few minutes: the cache answers, the database is not read)."""
    if not getattr(member, "is_authenticated", False):
        return None
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    from papercrane.privacy import services as privacy  # privacy reads accounts

    return key if key and privacy.seen_due(key) else None


def _touch(session_key: str) -> None:
    from papercrane.privacy import services as privacy

    privacy.touch(session_key)


class MemberPreferencesMiddleware:
    """The member's saved preference beats the cookie and Accept-Language (LocaleMiddleware).

    Async-capable, so async views (signup, login) are not pushed through a sync thread.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self._async_call(request)
        activate_member_preferences(request, request.user)
        session_key = _session_to_touch(request, request.user)
        if session_key:
            _touch(session_key)
        return self.get_response(request)

    async def _async_call(self, request: HttpRequest) -> HttpResponse:
        member = await request.auser()
        activate_member_preferences(request, member)
        session_key = _session_to_touch(request, member)
        if session_key:
            await sync_to_async(_touch)(session_key)
        response: Awaitable[HttpResponse] = self.get_response(request)
        return await response
