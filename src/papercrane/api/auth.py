"""API authentication: bearer tokens for clients, the session (with CSRF) for the web UI."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

from papercrane.accounts import queries, services
from papercrane.accounts.middleware import activate_member_preferences
from papercrane.accounts.models import Member


class AuthedRequest(HttpRequest):
    """A request to an endpoint with ``auth=member_auth``: ``auth`` is the signed-in member."""

    auth: Member


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Member | None:
        api_token = queries.token_for_secret(token)
        if api_token is None:
            return None
        services.touch_token(api_token)
        member = api_token.member
        request.user = member
        request.api_token = api_token  # type: ignore[attr-defined]
        activate_member_preferences(request, member)
        return member


class SessionAuth(APIKeyCookie):
    """The signed-in web session; unsafe methods must carry the CSRF token."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None


bearer = BearerAuth()
session = SessionAuth(csrf=True)
member_auth = [bearer, session]


def viewer_of(request: HttpRequest) -> Member | None:
    """The member behind a bearer token or session, on endpoints open to everyone."""
    member = bearer(request)
    if member is None and request.user.is_authenticated:
        member = request.user
    return member if isinstance(member, Member) else None
