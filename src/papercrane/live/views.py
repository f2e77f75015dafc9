"""Web pages for live rooms: the list of rooms, the room page with its chat (over the
WebSocket, see consumers.py) and the forms hosts and co-hosts use to run a room."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from papercrane import ratelimit
from papercrane.accounts import queries as account_queries
from papercrane.accounts.http import MemberRequest
from papercrane.accounts.models import Member
from papercrane.ids import parse_id
from papercrane.language import detection
from papercrane.live import queries, realtime, services
from papercrane.live.models import CoHost, Restriction, Room

MUTE_MINUTES = 10  # what a host's "Mute" button on a message does


def _viewer(request: HttpRequest) -> Member | None:
    user = request.user
    return user if isinstance(user, Member) and user.is_authenticated else None


def _reading_language(request: HttpRequest) -> str:
    viewer = _viewer(request)
    return realtime.reading_language(viewer.language if viewer else get_language())


def _errors_of(error: ValidationError) -> dict[str, list[str]]:
    return {
        ("form" if field == "__all__" else field): [str(message) for message in found]
        for field, found in error.message_dict.items()
    }


def _wants_json(request: HttpRequest) -> bool:
    """The room page's script posts its forms with fetch and reads a JSON answer."""
    return "application/json" in request.headers.get("Accept", "")


# --- The list of rooms ------------------------------------------------------------------------


def _index_context(viewer: Member | None) -> dict[str, Any]:
    context: dict[str, Any] = {
        "live_rooms": list(queries.live_rooms(viewer)[:30]),
        "languages": detection.CHOICES,
        "title_max": services.TITLE_MAX_CHARS,
        "values": {},
        "errors": {},
    }
    if viewer is not None:
        context["my_rooms"] = list(queries.rooms_of(viewer)[:30])
        context["invitations"] = list(queries.invitations(viewer))
    return context


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "live/index.html", _index_context(_viewer(request)))


@login_required
@require_POST
def create(request: MemberRequest) -> HttpResponse:
    values = {
        field: request.POST.get(field, "")[:600]
        for field in ("title", "topic", "language", "stream_url")
    }
    try:
        room = services.create_room(host=request.user, **values)
    except ratelimit.RateLimited as limited:
        return ratelimit.refusal_page(request, limited)
    except ValidationError as error:
        context = _index_context(request.user)
        context.update(values=values, errors=_errors_of(error))
        return render(request, "live/index.html", context, status=422)
    messages.success(request, _("Your room is ready. Invite co-hosts, then go live."))
    return redirect("live:room", room_id=room.pk)


# --- The room page --------------------------------------------------------------------------


_HOST = re.compile(r"[a-z0-9.-]+")  # what urlsplit's .hostname gives, lower-cased
_IPV6 = re.compile(r"[0-9a-f:.]+")


def _stream_origin(url: str) -> str:
    """The https origin of the room's stream for the page's CSP, or "" for anything else
    (another scheme, credentials, or a host or port a policy could be bent by)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a broken [IPv6] host, or a port that is not a number or too large
        return ""
    host = parts.hostname or ""
    if ":" in host and _IPV6.fullmatch(host):
        host = f"[{host}]"
    elif not _HOST.fullmatch(host):
        return ""
    if parts.scheme != "https" or parts.username is not None or parts.password is not None:
        return ""
    return f"https://{host}" + (f":{port}" if port is not None else "")


def _transcript(
    room: Room, language: str, after: int | None
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of the ended room's messages, each with its stored translation into
    ``language``, and the id the next page starts after (None on the last)."""
    found, next_after = queries.transcript_page(room, after=after)
    roles = queries.roles(room, {message.author_id for message in found})
    items = [
        {
            "message": message,
            "role": roles[message.author_id],
            # Only other languages than the message's own are ever stored.
            "translation": message.translations.get(language),
        }
        for message in found
    ]
    return items, next_after


def room(request: HttpRequest, room_id: str) -> HttpResponseBase:
    viewer = _viewer(request)
    found = queries.room(viewer, room_id)
    if found is None:
        raise Http404
    language = _reading_language(request)
    role = queries.role_of(found, viewer)
    rows = queries.cohosts(found)
    restriction = queries.restriction(found, viewer) if viewer is not None else None
    banned = queries.is_banned(found, viewer)
    invitation = next(
        (
            row
            for row in rows
            if viewer is not None
            and row.member_id == viewer.pk
            and row.status == CoHost.Status.INVITED
        ),
        None,
    )
    context: dict[str, Any] = {
        "room": found,
        "role": role,
        "is_owner": viewer is not None and viewer.pk == found.host_id,
        "is_host": role in {"host", "cohost"},
        "cohosts": [row for row in rows if row.status == CoHost.Status.ACCEPTED],
        "invited": [row for row in rows if row.status == CoHost.Status.INVITED],
        "invitation": invitation,
        "pinned": None if banned else queries.shown_pin(found),
        "banned": banned,
        "muted": restriction is not None and restriction.kind == Restriction.Kind.MUTE,
        "reading_language": language,
        "viewers": realtime.viewer_count(found.pk) if found.status == Room.Status.LIVE else 0,
        "slow_mode_choices": services.SLOW_MODE_CHOICES,
        "message_max": services.MESSAGE_MAX_CHARS,
        "title_max": services.TITLE_MAX_CHARS,
        "mute_minutes": MUTE_MINUTES,
        "action_url": reverse("live:message_action", args=[found.pk, "__id__", "__action__"]),
        "report_url": reverse("moderation:report", args=["live_message", "__id__"]),
    }
    if found.status == Room.Status.ENDED and not banned:  # the banned do not read it
        after = parse_id(request.GET.get("after", ""))
        context["transcript"], context["transcript_next"] = _transcript(found, language, after)
    if context["is_host"]:
        context["restrictions"] = list(queries.restrictions(found))
    response = render(request, "live/room.html", context)
    origin = _stream_origin(found.stream_url)
    if origin:  # let this page (and only this page) play the room's stream
        allow = csp_update({"media-src": [origin], "connect-src": [origin]})
        return allow(lambda _request: response)(request)
    return response


# --- What hosts and co-hosts do -------------------------------------------------------------

Action = Callable[[Room, Member], str]


def _act(request: MemberRequest, room_id: str, action: Action) -> HttpResponse:
    """Run ``action`` on a room the member can see; tell them how it went (a flash message
    and the room page, or JSON for the page's script)."""
    found = queries.room(request.user, room_id)
    if found is None:
        raise Http404
    try:
        done = action(found, request.user)
    except services.LiveRefused as refused:
        problem, status = refused.message, 403 if refused.code == "not_host" else 409
    except ValidationError as error:
        problem, status = " ".join(m for ms in _errors_of(error).values() for m in ms), 422
    except ratelimit.RateLimited as limited:
        problem, status = limited.message, 429
    else:
        if _wants_json(request):
            return JsonResponse({"ok": True, "message": done})
        if done:
            messages.success(request, done)
        return redirect("live:room", room_id=found.pk)
    if _wants_json(request):
        return JsonResponse({"ok": False, "message": problem}, status=status)
    messages.error(request, problem)
    return redirect("live:room", room_id=found.pk)


def _member_named(username: str) -> Member:
    member = account_queries.member_by_username(username.strip().lstrip("@")[:64])
    if member is None:
        raise ValidationError({"username": [_("There is no member with this username.")]})
    return member


@login_required
@require_POST
def start(request: MemberRequest, room_id: str) -> HttpResponse:
    def go_live(room: Room, by: Member) -> str:
        services.start_room(room=room, by=by)
        return _("You are live.")

    return _act(request, room_id, go_live)


@login_required
@require_POST
def end(request: MemberRequest, room_id: str) -> HttpResponse:
    def end_room(room: Room, by: Member) -> str:
        services.end_room(room=room, by=by)
        return _("The room has ended. Its chat stays readable here.")

    return _act(request, room_id, end_room)


@login_required
@require_POST
def update(request: MemberRequest, room_id: str) -> HttpResponse:
    post = request.POST

    def change(room: Room, by: Member) -> str:
        slow = post.get("slow_mode_seconds")
        seconds = parse_id(slow) if slow is not None else None
        if slow is not None and seconds is None:
            raise ValidationError({"slow_mode_seconds": [_("Choose a slow mode from the list.")]})
        if post.get("unpin"):
            services.update_room(room=room, by=by, unpin=True)
            return _("Unpinned.")
        services.update_room(
            room=room,
            by=by,
            title=post["title"][:200] if "title" in post else None,
            stream_url=post["stream_url"][:600] if "stream_url" in post else None,
            slow_mode_seconds=seconds,
        )
        return _("Saved.")

    return _act(request, room_id, change)


@login_required
@require_POST
def invite(request: MemberRequest, room_id: str) -> HttpResponse:
    def ask(room: Room, by: Member) -> str:
        invitee = _member_named(request.POST.get("username", ""))
        services.invite_cohost(room=room, by=by, invitee=invitee)
        return _("Invitation sent to @%(username)s.") % {"username": invitee.username}

    return _act(request, room_id, ask)


@login_required
@require_POST
def remove_cohost(request: MemberRequest, room_id: str, username: str) -> HttpResponse:
    def remove(room: Room, by: Member) -> str:
        member = _member_named(username)
        services.remove_cohost(room=room, by=by, member=member)
        if member.pk == by.pk:
            return _("You are no longer a co-host of this room.")
        return _("@%(username)s is no longer a co-host.") % {"username": member.username}

    return _act(request, room_id, remove)


@login_required
@require_POST
def answer(request: MemberRequest, room_id: str) -> HttpResponse:
    accept = request.POST.get("answer") == "accept"

    def reply(room: Room, by: Member) -> str:
        services.answer_invite(room=room, member=by, accept=accept)
        return _("You are a co-host of this room.") if accept else _("Invitation declined.")

    response = _act(request, room_id, reply)
    if not accept and response.status_code == 302 and request.POST.get("next") == "index":
        return redirect("live:index")
    return response


@login_required
@require_POST
def lift(request: MemberRequest, room_id: str, username: str) -> HttpResponse:
    kind = request.POST.get("kind", "")

    def lift_it(room: Room, by: Member) -> str:
        member = _member_named(username)
        services.lift_restriction(room=room, by=by, member=member, kind=kind)
        return _("@%(username)s can take part again.") % {"username": member.username}

    return _act(request, room_id, lift_it)


MESSAGE_ACTIONS = {"pin", "delete", "mute", "ban"}


@login_required
@require_POST
def message_action(
    request: MemberRequest, room_id: str, message_id: str, action: str
) -> HttpResponse:
    """Pin or delete a message, or mute or ban its author."""
    pk = parse_id(message_id)
    if action not in MESSAGE_ACTIONS or pk is None:
        raise Http404

    def run(room: Room, by: Member) -> str:
        message = queries.shown_messages(room).select_related("author", "room").filter(pk=pk)
        found = message.first()
        if found is None:
            raise services.LiveRefused("not_found", _("This message is gone."))
        if action == "pin":
            services.update_room(room=room, by=by, pinned_message_id=found.pk)
            return _("Pinned.")
        if action == "delete":
            services.delete_message(message=found, by=by)
            return _("Message deleted.")
        if action == "mute":
            services.restrict(
                room=room, by=by, member=found.author, kind="mute", minutes=MUTE_MINUTES
            )
            return _("@%(username)s is muted for %(minutes)s minutes.") % {
                "username": found.author.username,
                "minutes": MUTE_MINUTES,
            }
        services.restrict(room=room, by=by, member=found.author, kind="ban")
        return _("@%(username)s is banned from this room.") % {"username": found.author.username}

    return _act(request, room_id, run)
