"""Web actions for likes, collects, comments and boards.

Every action is a plain POST form (works without script); with htmx the note's action bar or
the comment is swapped in place instead of reloading the page.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from papercrane import ratelimit
from papercrane.accounts.http import MemberRequest
from papercrane.engagement import queries, services
from papercrane.engagement.models import Comment
from papercrane.notes.models import Note


def _note(request: MemberRequest, note_id: int) -> Note:
    note = queries.interactable_note(request.user, note_id)
    if note is None:
        raise Http404
    return note


def _comment(request: MemberRequest, comment_id: int | str) -> Comment:
    comment = queries.visible_comment(request.user, comment_id)
    if comment is None:
        raise Http404
    return comment


def _back_to(note_id: int, anchor: str = "") -> HttpResponse:
    return redirect(reverse("notes:detail", args=[note_id]) + (f"#{anchor}" if anchor else ""))


def _action_bar(request: MemberRequest, note: Note) -> HttpResponse:
    """The note's (or its card's) like/collect buttons: swapped in place for htmx, else back
    to where the member was."""
    if not request.headers.get("HX-Request"):
        return redirect(_safe_referrer(request) or reverse("notes:detail", args=[note.pk]))
    note.refresh_from_db(fields=["like_count", "collect_count", "comment_count"])
    context = {"note": note, "flags": queries.viewer_flags(request.user, note.pk)}
    on_card = request.POST.get("view") == "card"
    template = "engagement/_card_actions.html" if on_card else "engagement/_note_actions.html"
    return render(request, template, context)


def _safe_referrer(request: HttpRequest) -> str | None:
    referrer = request.headers.get("Referer", "")
    if url_has_allowed_host_and_scheme(referrer, {request.get_host()}, request.is_secure()):
        return referrer
    return None


def _refused(request: HttpRequest, error: Exception) -> None:
    if isinstance(error, ratelimit.RateLimited):
        text = error.message
    else:
        text = " ".join(getattr(error, "messages", [str(error)]))
    messages.error(request, text)


@login_required
@require_POST
def like(request: MemberRequest, note_id: int) -> HttpResponse:
    note = _note(request, note_id)
    try:
        if request.POST.get("action") == "unlike":
            services.unlike_note(member=request.user, note=note)
        else:
            services.like_note(member=request.user, note=note)
    except ratelimit.RateLimited as error:
        _refused(request, error)
    return _action_bar(request, note)


@login_required
@require_POST
def collect(request: MemberRequest, note_id: int) -> HttpResponse:
    note = _note(request, note_id)
    board = None
    if request.POST.get("board_id"):
        board = queries.own_board(request.user, request.POST["board_id"])
        if board is None:
            raise Http404
    try:
        if request.POST.get("action") == "uncollect":
            services.uncollect_note(member=request.user, note=note, board=board)
        else:
            services.collect_note(member=request.user, note=note, board=board)
    except (ratelimit.RateLimited, ValidationError) as error:
        _refused(request, error)
    return _action_bar(request, note)


@login_required
@require_POST
def comment(request: MemberRequest, note_id: int) -> HttpResponse:
    note = _note(request, note_id)
    parent = None
    if request.POST.get("parent_id"):
        parent = _comment(request, request.POST["parent_id"])
    try:
        created = services.add_comment(
            author=request.user, note=note, body=request.POST.get("body", "")[:2000], parent=parent
        )
    except (ratelimit.RateLimited, ValidationError, services.CommentsClosed) as error:
        _refused(request, error)
        return _back_to(note.pk, "comments")
    return _back_to(note.pk, f"comment-{created.pk}")


@login_required
@require_POST
def like_comment(request: MemberRequest, comment_id: int) -> HttpResponse:
    target = _comment(request, comment_id)
    try:
        if request.POST.get("action") == "unlike":
            services.unlike_comment(member=request.user, comment=target)
        else:
            services.like_comment(member=request.user, comment=target)
    except ratelimit.RateLimited as error:
        _refused(request, error)
    return _back_to(target.note_id, f"comment-{target.pk}")


@login_required
@require_POST
def delete_comment(request: MemberRequest, comment_id: int) -> HttpResponse:
    target = _comment(request, comment_id)
    if not services.can_delete(request.user, target):
        raise Http404
    services.delete_comment(comment=target)
    messages.success(request, _("The comment is deleted."))
    return _back_to(target.note_id, "comments")


@login_required
@require_POST
def pin_comment(request: MemberRequest, comment_id: int) -> HttpResponse:
    target = _comment(request, comment_id)
    if not services.can_pin(request.user, target):
        raise Http404
    if target.is_pinned:
        services.unpin_comment(comment=target)
    else:
        services.pin_comment(comment=target)
    return _back_to(target.note_id, f"comment-{target.pk}")


@login_required
@require_POST
def create_board(request: MemberRequest) -> HttpResponse:
    try:
        board = services.create_board(
            owner=request.user,
            name=request.POST.get("name", "")[:100],
            description=request.POST.get("description", "")[:400],
            private=bool(request.POST.get("private")),
        )
    except (ratelimit.RateLimited, ValidationError) as error:
        _refused(request, error)
        return redirect(reverse("web:profile", args=[request.user.username]) + "?tab=boards")
    return redirect("engagement:board", board_id=board.pk)


def board(request: HttpRequest, board_id: int) -> HttpResponse:
    viewer = request.user if request.user.is_authenticated else None
    found = queries.visible_board(viewer, board_id)
    if found is None:
        raise Http404
    entries = queries.board_entries(viewer, found).order_by("-pk")[:60]
    notes = [entry.collect.note for entry in entries]
    return render(request, "engagement/board.html", {"board": found, "notes": notes})
