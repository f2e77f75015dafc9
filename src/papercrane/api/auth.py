"""API authentication: bearer tokens for clients, the session (with CSRF) for the web UI."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import APIKeyCookie, HttpBearer

from papercrane.accounts import queries, services
from papercrane.accounts.middleware import activate_member_preferences
from papercrane.accounts.models import ApiToken, Member
from papercrane.api.problems import Problem
from papercrane.moderation import standing
from papercrane.notes import discoverability


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
        return None if api_token is None else _signed_in(request, api_token)

    def held(self, request: HttpRequest) -> HeldToken | None:
        """The request's token as ``held_token`` gives it, signed in as ``authenticate``
        does; None for a request without a live bearer token."""
        scheme, _, secret = request.headers.get(self.header, "").partition(" ")
        if scheme.lower() != self.openapi_scheme:
            return None
        held = held_token(secret)
        if held is not None:
            _signed_in(request, held.token)
        return held


def _signed_in(request: HttpRequest, api_token: ApiToken) -> Member:
    services.touch_token(api_token)
    member = api_token.member
    request.user = member
    request.api_token = api_token  # type: ignore[attr-defined]
    activate_member_preferences(request, member)
    refuse_if_suspended(request, member)
    return member


# --- Tokens held by the process, for a route that checks them with its own query ---------------

HELD_TOKENS = 10_000  # past this, the process starts afresh


@dataclass(frozen=True)
class HeldToken:
    token: ApiToken  # its member attached
    mark: int  # where the process stood in the log of changes when it was read

    def still_valid(self) -> bool:
        """Whether no read of the log of changes since the token was read named its member
        (their token revoked, their account or Explore settings changed)."""
        return not discoverability.changed_since(self.token.member_id, self.mark)


_held_tokens: dict[str, HeldToken] = {}


def held_token(secret: str) -> HeldToken | None:
    """The live token with this secret as the process last read it, if no read of the log
    of changes named its member since; otherwise read now. Only for a route whose own query
    reads the log (Explore's first pages: ``notes.discoverability``) and that answers only
    if the token is ``still_valid`` after that query: reading the token is then a query
    fewer, and a revoked token is still refused at once."""
    key = services.hash_token(secret)  # the secret itself is not kept
    held = _held_tokens.get(key)
    if held is not None and held.still_valid():
        return held
    mark = discoverability.mark()  # before the read: a change meanwhile makes it out of date
    api_token = queries.token_for_secret(secret)
    if api_token is None:
        _held_tokens.pop(key, None)
        return None
    if len(_held_tokens) >= HELD_TOKENS:
        _held_tokens.clear()
    held = _held_tokens[key] = HeldToken(api_token, mark)
    return held


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
