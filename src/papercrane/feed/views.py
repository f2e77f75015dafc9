"""Feed pages: Explore (the home page), Following, Nearby, and the controls on each card."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from papercrane.accounts.http import MemberRequest
from papercrane.feed import queries, reasons, services
from papercrane.feed.models import Feedback
from papercrane.notes import queries as note_queries
from papercrane.notes.models import Note
from papercrane.redirects import safe_next

PAGE = 30
GRID = 60  # newest notes on the Following and Nearby pages


def explore(request: HttpRequest) -> HttpResponse:
    viewer = request.user if request.user.is_authenticated else None
    cursor = request.GET.get("cursor") or None
    try:
        page = services.explore_page(viewer, cursor=cursor, limit=PAGE)
    except queries.InvalidCursor:
        return redirect("web:home")
    notes = note_queries.cards_in_order(page.note_ids)
    for note in notes:
        reason = page.reasons.get(note.pk)
        note.why = reason  # type: ignore[attr-defined]
        note.why_text = reasons.text(reason) if reason else ""  # type: ignore[attr-defined]
    context: dict[str, Any] = {
        "notes": notes,
        "next_cursor": page.next_cursor,
        "onboarding": queries.needs_onboarding(viewer),
        "personal": queries.personalized(viewer),
    }
    if context["onboarding"]:
        context["topics"] = queries.onboarding_topics()
    return render(request, "feed/explore.html", context)


def _newest(request: MemberRequest, notes: QuerySet[Note], tab: str) -> HttpResponse:
    """A reverse-chronological grid (Following, Nearby)."""
    newest = list(note_queries.for_cards(notes).order_by("-published_at", "-pk")[:GRID])
    return render(request, f"feed/{tab}.html", {"notes": newest, "tab": tab})


@login_required
def following(request: MemberRequest) -> HttpResponse:
    return _newest(request, queries.following(request.user), "following")


@login_required
def nearby(request: MemberRequest) -> HttpResponse:
    return _newest(request, queries.nearby(request.user), "nearby")


def _back(request: HttpRequest) -> HttpResponse:
    return redirect(safe_next(request, reverse("web:home")))


@login_required
@require_POST
def feedback(request: MemberRequest) -> HttpResponse:
    kind = request.POST.get("kind", "")
    if kind not in Feedback.Kind.values:
        messages.error(request, _("That cannot be hidden."))
        return _back(request)
    target = queries.feedback_target(request.user, kind, request.POST.get("target", "")[:64])
    if target is None:
        messages.error(request, _("Nothing to hide by that name."))
        return _back(request)
    services.give_feedback(member=request.user, kind=kind, target_id=target)
    notices = {
        Feedback.Kind.NOTE: _("Got it: you will not see this note again."),
        Feedback.Kind.TOPIC: _("Got it: fewer notes like this."),
        Feedback.Kind.AUTHOR: _("Got it: fewer notes from this creator."),
    }
    messages.success(request, notices[Feedback.Kind(kind)])
    return _back(request)


@login_required
@require_POST
def choose_topics(request: MemberRequest) -> HttpResponse:
    names = request.POST.getlist("topic")[: services.MAX_CHOSEN_TOPICS]
    services.choose_topics(member=request.user, topic_ids=queries.topic_ids(names))
    if names:
        messages.success(request, _("Explore now starts from what you picked."))
    return redirect("web:home")
