"""Web pages. Thin: parse the form, call a service, render; rules live in the apps' services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from papercrane import ratelimit
from papercrane.accounts import queries, services
from papercrane.accounts.http import MemberRequest
from papercrane.accounts.models import Language, Member
from papercrane.engagement import queries as engagement_queries
from papercrane.ids import parse_id
from papercrane.notes import queries as note_queries
from papercrane.privacy import services as privacy
from papercrane.redirects import safe_next
from papercrane.web.forms import LoginForm, ProfileForm, SignupForm, TokenForm


def _sign_in(request: HttpRequest, member: Member) -> None:
    """Start the member's session and remember the sign-in for the sessions page."""
    login(request, member, backend="django.contrib.auth.backends.ModelBackend")
    privacy.record_sign_in(
        member=member,
        session_key=request.session.session_key or "",
        ip=ratelimit.client_ip(request),
        user_agent=request.headers.get("User-Agent", ""),
    )


def _add_errors(form: Any, error: ValidationError) -> None:
    """Show a service's ValidationError({field: [...]}) on the form's fields."""
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("web:home")
    initial_language = (
        Language.SIMPLIFIED_CHINESE if translation.get_language() == "zh-hans" else Language.ENGLISH
    )
    form = SignupForm(request.POST or None, initial={"language": initial_language})
    if request.method == "POST" and form.is_valid():
        try:
            member = services.sign_up(ip=ratelimit.client_ip(request), **form.cleaned_data)
        except ratelimit.RateLimited as error:
            return ratelimit.refusal_page(request, error)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            _sign_in(request, member)
            messages.success(request, _("Welcome to Papercrane, %(name)s!") % {"name": member.name})
            return redirect("web:profile", username=member.username)
    return render(request, "web/signup.html", {"form": form})


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.authenticate(ip=ratelimit.client_ip(request), **form.cleaned_data)
        except ratelimit.RateLimited as error:
            return ratelimit.refusal_page(request, error)
        if member is None:
            form.add_error(None, _("Wrong username or password."))
        else:
            _sign_in(request, member)
            return HttpResponseRedirect(safe_next(request, reverse("web:home")))
    return render(request, "web/login.html", {"form": form, "next": safe_next(request, "")})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    privacy.end_sign_in(request.session.session_key or "")
    logout(request)
    return redirect("web:home")


def profile(request: HttpRequest, username: str) -> HttpResponse:
    viewer = request.user if request.user.is_authenticated else None
    member = queries.visible_member(viewer, username)
    if member is None:
        return _blocked_profile(request, username)
    relationship = None
    if viewer is not None and viewer.pk != member.pk:
        relationship = queries.relationship(viewer, member)
    tab = request.GET.get("tab", "notes")
    tab = tab if tab in PROFILE_TABS else "notes"
    is_self = viewer is not None and viewer.pk == member.pk
    context = {
        "member": member,
        "relationship": relationship,
        "tab": tab,
        "received": note_queries.engagement_received(member),
        "drafts": note_queries.drafts(member).order_by("-pk") if is_self and tab == "notes" else [],
        **_profile_tab(viewer, member, tab),
    }
    return render(request, "web/profile.html", context)


PROFILE_TABS = ("notes", "boards", "liked")


def _profile_tab(viewer: Member | None, member: Member, tab: str) -> dict[str, Any]:
    """What a profile tab lists: the member's notes, boards, or liked notes (if they show them)."""
    if tab == "boards":
        boards = engagement_queries.boards_of(viewer, member).order_by("-is_default", "-pk")
        return {"boards": engagement_queries.with_covers(list(boards[:60]))}
    if tab == "liked":
        if not (engagement_queries.likes_public(member) or (viewer and viewer.pk == member.pk)):
            return {"notes": [], "likes_hidden": True}
        likes = engagement_queries.liked(viewer, member).order_by("-pk")[:60]
        return {"notes": [like.note for like in likes]}
    return {"notes": note_queries.by_author(viewer, member).order_by("-published_at", "-pk")[:60]}


def _blocked_profile(request: HttpRequest, username: str) -> HttpResponse:
    """A member the viewer blocked is hidden, except for a bare page to unblock them from."""
    viewer = request.user if isinstance(request.user, Member) else None
    member = queries.blocked_member(viewer, username) if viewer is not None else None
    if viewer is None or member is None:
        raise Http404
    relationship = queries.relationship(viewer, member)
    context = {"member": member, "relationship": relationship, "notes": [], "drafts": []}
    return render(request, "web/profile.html", context)


def _graph_action(
    request: MemberRequest, username: str, actions: dict[str, Any], *, hidden_ok: bool = False
) -> HttpResponse:
    """Run the posted ``action`` on the named member, then go back to their profile.

    ``hidden_ok`` lets a member reach someone they blocked (to unblock or unmute them).
    """
    member = queries.visible_member(request.user, username)
    if member is None and hidden_ok:
        member = queries.blocked_member(request.user, username)
    action = actions.get(request.POST.get("action", ""))
    if member is None or action is None:
        raise Http404
    try:
        action(member=request.user, target=member)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except ratelimit.RateLimited as error:
        messages.error(request, error.message)
    return redirect("web:profile", username=member.username)


@login_required
@require_POST
def follow_toggle(request: MemberRequest, username: str) -> HttpResponse:
    """Follow (or ask to, for a private account), unfollow, or withdraw a request."""
    actions = {"follow": services.follow, "unfollow": services.unfollow}
    return _graph_action(request, username, actions)


@login_required
@require_POST
def mute_toggle(request: MemberRequest, username: str) -> HttpResponse:
    actions = {"mute": services.mute, "unmute": services.unmute}
    return _graph_action(request, username, actions, hidden_ok=True)


@login_required
@require_POST
def block_toggle(request: MemberRequest, username: str) -> HttpResponse:
    actions = {"block": services.block, "unblock": services.unblock}
    return _graph_action(request, username, actions, hidden_ok=True)


def _answer_request(request: MemberRequest, username: str, approve: bool) -> HttpResponse:
    """Approve or decline a follow request sent to the signed-in member; 404 for any other."""
    pending = queries.pending_request(request.user, username)
    if pending is None:
        raise Http404
    if approve:
        services.approve_follow_request(member=request.user, requester=pending.requester)
        message = _("%(name)s can now see your notes.")
    else:
        services.decline_follow_request(member=request.user, requester=pending.requester)
        message = _("You declined %(name)s's follow request.")
    messages.success(request, message % {"name": pending.requester.name})
    return redirect(safe_next(request, reverse("web:notifications")))


@login_required
@require_POST
def approve_follow_request(request: MemberRequest, username: str) -> HttpResponse:
    return _answer_request(request, username, approve=True)


@login_required
@require_POST
def decline_follow_request(request: MemberRequest, username: str) -> HttpResponse:
    return _answer_request(request, username, approve=False)


@login_required
@require_http_methods(["GET", "POST"])
def settings_profile(request: MemberRequest) -> HttpResponse:
    member = request.user
    initial = {
        "display_name": member.display_name,
        "bio": member.bio,
        "language": member.language,
        "time_zone": member.time_zone,
        "is_private": member.is_private,
        "likes_public": member.likes_public,
        "feed_personalized": member.feed_personalized,
        "auto_translate": member.auto_translate,
        "city": member.city,
        "records_reading": member.records_reading,
        "discoverable": member.discoverable,
        "comments_from": member.comments_from,
        "mentions_from": member.mentions_from,
        "keeps_search_history": member.keeps_search_history,
    }
    form = ProfileForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {
            field: value
            for field, value in form.cleaned_data.items()
            if value != "" or field not in ("comments_from", "mentions_from")
        }
        avatar = data.pop("avatar")
        try:
            services.update_profile(member=member, **data)
            if avatar:
                services.set_avatar(member=member, upload=avatar)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            translation.activate(member.language.lower())
            messages.success(request, _("Your profile is saved."))
            response = redirect("web:settings")
            response.set_cookie(
                "papercrane_language", member.language.lower(), samesite="Lax", max_age=31_536_000
            )
            return response
    return render(request, "web/settings.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def settings_tokens(request: MemberRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    new_secret = None
    if request.method == "POST":
        if "revoke" in request.POST:
            token_id = parse_id(request.POST.get("revoke", ""))
            if token_id is None or not services.revoke_token(
                member=request.user, token_id=token_id
            ):
                raise Http404
            messages.success(request, _("The token is revoked."))
            return redirect("web:tokens")
        if form.is_valid():
            new_secret = services.issue_token(
                member=request.user, name=form.cleaned_data["name"]
            ).secret
            form = TokenForm()
    tokens = queries.live_tokens(request.user).order_by("-created_at")
    return render(
        request, "web/tokens.html", {"form": form, "tokens": tokens, "new_secret": new_secret}
    )


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; a signed-in member's choice is saved to their profile."""
    code = request.POST.get("language", "")
    by_django_code = {value.lower(): value for value in Language.values}
    if code.lower() not in by_django_code:
        return redirect(safe_next(request, reverse("web:home")))
    if request.user.is_authenticated:
        services.update_profile(member=request.user, language=by_django_code[code.lower()])
    response = redirect(safe_next(request, reverse("web:home")))
    response.set_cookie("papercrane_language", code.lower(), samesite="Lax", max_age=31_536_000)
    return response
