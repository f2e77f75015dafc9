"""API authentication: bearer tokens for clients, the session (with CSRF) for the web UI."""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import APIKeyCookie, HttpBearer

from papercrane.accounts import queries, services
from papercrane.accounts.middleware import activate_member_preferences
from papercrane.accounts.models import Member
from papercrane.api.problems import Problem
from papercrane.moderation import standing


class AuthedRequest(HttpRequest):
    """A request to an endpoint with ``auth=member_auth``: ``auth`` is the signed-in member."""

    auth: Member


# What a suspended member may still do: read (safe methods), appeal, manage sign-in
# (and take their data with them, or delete their account).
SUSPENDED_MAY_POST = re.compile(
    r"^/api/v1/(decisions/\d+/appeal|auth/|accounts/me(/export|/deletion/cancel)?$)"
)


def refuse_if_suspended(request: HttpRequest, member: Member) -> None:
    """A suspended member reads, appeals and signs out, but takes no part: a 403 that says
    why (the statement of reasons is in their decisions)."""
    if request.method in {"GET", "HEAD", "OPTIONS"} or not standing.is_suspended(member):
        return
    if SUSPENDED_MAY_POST.match(request.path):
        return
    raise Problem(
        403,
        "account-suspended",
        _("Your account is suspended"),
        _("You can read and appeal the decision, but not post or interact until it ends."),
    )


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
        refuse_if_suspended(request, member)
        return member


class SessionAuth(APIKeyCookie):
    """The signed-in web session; unsafe methods must carry the CSRF token."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            refuse_if_suspended(request, user)
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
