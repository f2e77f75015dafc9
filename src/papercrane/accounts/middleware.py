"""Apply a signed-in member's language and time zone to the whole request."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation


def activate_member_preferences(request: HttpRequest, member: object) -> None:
    """Make ``member``'s language and zone the request's; used by session and token auth alike."""
    language = str(getattr(member, "language", "") or "")
    if language:
        translation.activate(language.lower())
        request.LANGUAGE_CODE = translation.get_language()
    zone = str(getattr(member, "time_zone", "") or "UTC")
    try:
        timezone.activate(zoneinfo.ZoneInfo(zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        timezone.deactivate()


class MemberPreferencesMiddleware:
    """The member's saved preference beats the cookie and Accept-Language (LocaleMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            activate_member_preferences(request, request.user)
        else:
            timezone.deactivate()
        return self.get_response(request)
