"""Apply a signed-in member's language and time zone to the whole request."""

from __future__ import annotations

import zoneinfo
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
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
        return self.get_response(request)

    async def _async_call(self, request: HttpRequest) -> HttpResponse:
        activate_member_preferences(request, await request.auser())
        response: Awaitable[HttpResponse] = self.get_response(request)
        return await response
