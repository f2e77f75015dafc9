"""The notifications page. Thin: read the grouped list, render it, mark what was shown read."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from papercrane.accounts.http import MemberRequest
from papercrane.ids import parse_id
from papercrane.notifications import queries, services

PAGE_SIZE = 50


@login_required
@require_GET
def notifications(request: MemberRequest) -> HttpResponse:
    """Newest first, ``?before=<id>`` for older ones. Viewing marks the shown items read
    (they still render as new this once, so the member sees what was new)."""
    heads = queries.heads(request.user).order_by("-pk")
    before = parse_id(request.GET.get("before", ""))
    if before is not None:
        heads = heads.filter(pk__lt=before)
    page = list(heads[: PAGE_SIZE + 1])
    items = queries.items(request.user, page[:PAGE_SIZE])
    if any(not item.read for item in items):
        services.mark_read(member=request.user, ids=[item.id for item in items])
    older = items[-1].id if len(page) > PAGE_SIZE else None
    return render(request, "notifications/list.html", {"items": items, "older": older})
