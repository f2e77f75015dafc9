"""Request types for code behind authentication, so type checkers know who is asking."""

from __future__ import annotations

from django.http import HttpRequest

from papercrane.accounts.models import Member


class MemberRequest(HttpRequest):
    """A request to a ``login_required`` web view: ``user`` is the signed-in member."""

    user: Member
