"""On the web, a suspended member reads, appeals and signs out, but posts nothing else.
(The API refuses the same in its authentication, ``papercrane.api.auth``.)"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from papercrane.moderation import standing

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Posts a suspended member may still make on the web: appeals, signing out, the language,
# their data (export, deleting the account) and their sessions.
MAY_POST = re.compile(
    r"^/(api/|decisions/\d+/appeal$|logout$|language$|me/data/(export|delete|delete/cancel)$|"
    r"settings/sessions/)"
)


def _refusal(request: HttpRequest, member: Any) -> HttpResponse:
    context = {"member": member}
    response = TemplateResponse(request, "moderation/suspended.html", context, status=403)
    return response.render()


def _concerns(request: HttpRequest) -> bool:
    return request.method not in SAFE_METHODS and not MAY_POST.match(request.path)


class SuspendedMembersReadOnly:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self._async_call(request)
        if _concerns(request) and standing.is_suspended(request.user):
            return _refusal(request, request.user)
        return self.get_response(request)

    async def _async_call(self, request: HttpRequest) -> HttpResponse:
        if _concerns(request):
            member = await request.auser()
            if standing.is_suspended(member):
                return await sync_to_async(_refusal)(request, member)  # templates read the DB
        response: HttpResponse = await self.get_response(request)
        return response
