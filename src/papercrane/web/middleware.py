"""Refuse oversized requests from their Content-Length, before any of the body is read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _


def _too_large(request: HttpRequest) -> HttpResponse | None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= settings.MAX_REQUEST_BYTES:
        return None
    body = {
        "type": "urn:papercrane:problem:too-large",
        "title": _("The request is too large"),
        "status": 413,
        "instance": request.path,
    }
    return JsonResponse(body, status=413, content_type="application/problem+json")


class RequestSizeLimitMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self._async_call(request)
        return _too_large(request) or self.get_response(request)

    async def _async_call(self, request: HttpRequest) -> HttpResponse:
        refused = _too_large(request)
        if refused is not None:
            return refused
        response: HttpResponse = await self.get_response(request)
        return response
