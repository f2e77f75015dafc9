"""Every write to live rooms: opening, co-hosting, going live, chat, room moderation.

Chat messages are screened as they are sent (the operator's keyword lists, the profanity
model and the spam heuristics, in well under a millisecond), translated once into each
language the room is being read in, stored, and only then sent to the room; what the
screening is sure about is held for the moderators and never reaches the room.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from papercrane import ratelimit
from papercrane.accounts import queries as account_queries
from papercrane.accounts.models import Member
from papercrane.language import detection
from papercrane.language import services as language_services
from papercrane.live import queries, realtime
from papercrane.live.models import CoHost, Message, Restriction, Room
from papercrane.moderation import classifiers, screening, standing, targets
from papercrane.moderation import services as moderation_services
from papercrane.moderation.models import TargetType
from papercrane.notes import text
from papercrane.notes.models import HIDDEN_STATES
from papercrane.notifications import services as notification_services

ROOMS_PER_MEMBER = ratelimit.Rate(10, 3600)
MESSAGES_PER_MEMBER = ratelimit.Rate(20, 60)
MESSAGES_PER_NEW_MEMBER = ratelimit.Rate(8, 60)  # a spam-wave throttle, as for comments
MESSAGE_MAX_CHARS = 300
TITLE_MAX_CHARS = 80
MAX_COHOSTS = 4
SLOW_MODE_CHOICES = (0, 3, 10, 30, 60, 300)
MUTE_MAX_MINUTES = 7 * 24 * 60
RECENT_FOR_SPAM = dt.timedelta(minutes=10)
BANNED_CLOSE_CODE = 4403
# A stream's host as its page's Content-Security-Policy names it: a DNS name (IDNs in their
# xn-- form) or an IPv6 address, so nothing in it can end a directive (";") or a policy (",").
STREAM_HOST = re.compile(r"[a-z0-9.-]+|[0-9a-f:.]+")


@dataclass
class LiveRefused(Exception):
    """Why a chat action was refused: ``code`` is stable (clients branch on it), ``message``
    is for the person, in their language."""

    code: str
    message: str
    retry_after: int | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def _field_error(field: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({field: [ValidationError(message, code=code)]})


# --- Rooms --------------------------------------------------------------------------------------


def _clean_title(title: str) -> str:
    cleaned = " ".join(text.clean_text(title).split())
    if not cleaned:
        raise _field_error("title", _("Give the room a title."), "required")
    if len(cleaned) > TITLE_MAX_CHARS:
        message = _("Titles hold up to %(count)s characters.") % {"count": TITLE_MAX_CHARS}
        raise _field_error("title", message, "too_long")
    return cleaned


def _clean_topic(topic: str) -> str:
    cleaned = text.clean_text(topic).lstrip("#").strip()
    if not cleaned:
        return ""
    key = text.normalize_topic(cleaned)
    if (
        not key
        or max(len(key), len(cleaned)) > text.TOPIC_MAX_CHARS
        or "/" in key
        or " " in cleaned
    ):
        raise _field_error("topic", _("Topics are single words of up to 30 characters."))
    return cleaned


def _clean_stream_url(url: str) -> str:
    """An https address of an HLS playlist, or ""."""
    url = url.strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:  # a broken [IPv6] host, or a port that is not a number or too large
        parts, port_ok = urlsplit(""), False
    if (
        len(url) > 500
        or not url.isprintable()
        or " " in url
        or parts.scheme != "https"
        or not parts.hostname
        or not STREAM_HOST.fullmatch(parts.hostname)
        or parts.username is not None
        or not port_ok
        or not parts.path.endswith(".m3u8")
    ):
        raise _field_error(
            "stream_url", _("Use the https address of an HLS stream (ending in .m3u8).")
        )
    return url


def _clean_language(language: str) -> str:
    if not language:
        return ""
    if language not in detection.CODES:
        raise _field_error("language", _("Choose a language from the list."))
    return language


def create_room(
    *, host: Member, title: str, topic: str = "", language: str = "", stream_url: str = ""
) -> Room:
    """A room that has not started yet: its host invites co-hosts, then goes live."""
    errors: dict[str, list[ValidationError]] = {}
    values: dict[str, str] = {}
    for field, clean, value in (
        ("title", _clean_title, title),
        ("topic", _clean_topic, topic),
        ("language", _clean_language, language),
        ("stream_url", _clean_stream_url, stream_url),
    ):
        try:
            values[field] = clean(value)
        except ValidationError as error:
            errors.update(error.error_dict)
    if errors:
        raise ValidationError(errors)
    ratelimit.hit("live-room", str(host.pk), ROOMS_PER_MEMBER)
    return Room.objects.create(
        host=host,
        title=values["title"],
        topic=values["topic"],
        language=values["language"] or detection.detect(values["title"]),
        stream_url=values["stream_url"],
    )


def update_room(
    *,
    room: Room,
    by: Member,
    title: str | None = None,
    stream_url: str | None = None,
    slow_mode_seconds: int | None = None,
    pinned_message_id: int | None = None,
    unpin: bool = False,
) -> Room:
    """Change what hosts and co-hosts may change while the room runs."""
    _require_host(room, by)
    _require_open(room)
    if title is not None:
        room.title = _clean_title(title)
    if stream_url is not None:
        room.stream_url = _clean_stream_url(stream_url)
    if slow_mode_seconds is not None:
        if slow_mode_seconds not in SLOW_MODE_CHOICES:
            choices = ", ".join(str(seconds) for seconds in SLOW_MODE_CHOICES)
            raise _field_error(
                "slow_mode_seconds", _("Choose one of: %(choices)s.") % {"choices": choices}
            )
        room.slow_mode_seconds = slow_mode_seconds
    if unpin:
        room.pinned_message = None
    elif pinned_message_id is not None:
        message = queries.shown_messages(room).filter(pk=pinned_message_id).first()
        if message is None:
            raise _field_error("pinned_message_id", _("Pin a message of this room."))
        room.pinned_message = message
    room.save()
    transaction.on_commit(lambda: _announce_room(room.pk))
    return room


def _announce_room(room_id: int) -> None:
    room = queries.room_with_hosts(room_id)
    if room is not None:
        state = queries.room_state(room)
        realtime.send_to_room(room.pk, {"": realtime.frame("room.updated", room=state)})


def start_room(*, room: Room, by: Member) -> Room:
    """Go live: followers are told (in a background task)."""
    if by.pk != room.host_id:
        raise LiveRefused("not_host", _("Only the room's host can start it."))
    if room.status != Room.Status.SCHEDULED:
        raise LiveRefused("not_scheduled", _("This room has already started."))
    updated = Room.objects.filter(pk=room.pk, status=Room.Status.SCHEDULED).update(
        status=Room.Status.LIVE, started_at=timezone.now()
    )
    if updated:
        from papercrane.live import tasks

        transaction.on_commit(lambda: tasks.tell_followers.enqueue(room.pk))
        transaction.on_commit(lambda: _announce_room(room.pk))  # open pages learn it is live
    room.refresh_from_db()
    return room


def end_room(*, room: Room, by: Member) -> Room:
    """End the room: open connections are closed; its transcript stays readable."""
    if by.pk != room.host_id:
        raise LiveRefused("not_host", _("Only the room's host can end it."))
    if room.status == Room.Status.ENDED:
        return room
    Room.objects.filter(pk=room.pk).exclude(status=Room.Status.ENDED).update(
        status=Room.Status.ENDED, ended_at=timezone.now()
    )
    CoHost.objects.filter(room=room, status=CoHost.Status.INVITED).delete()
    transaction.on_commit(lambda: realtime.close_room(room.pk))
    room.refresh_from_db()
    return room


def note_viewers(room_id: int, count: int) -> None:
    """Remember the room's largest audience."""
    Room.objects.filter(pk=room_id, peak_viewers__lt=count).update(peak_viewers=count)


# --- Co-hosts -----------------------------------------------------------------------------------


def invite_cohost(*, room: Room, by: Member, invitee: Member) -> CoHost:
    """Ask ``invitee`` to co-host; they accept or decline. Asking again re-invites someone
    who declined."""
    if by.pk != room.host_id:
        raise LiveRefused("not_host", _("Only the room's host can invite co-hosts."))
    _require_open(room)
    if invitee.pk == room.host_id:
        raise _field_error("username", _("You already host this room."))
    if not invitee.is_active or standing.is_suspended(invitee):
        raise _field_error("username", _("This member cannot co-host."))
    if (
        account_queries.blocked_ids(room.host_id).filter(blocked_id=invitee.pk).exists()
        or account_queries.blocker_ids(room.host_id).filter(blocker_id=invitee.pk).exists()
    ):
        raise _field_error("username", _("This member cannot co-host."))
    with transaction.atomic():
        Room.objects.select_for_update().filter(pk=room.pk).first()  # one invite at a time
        taken = room.cohosts.exclude(status=CoHost.Status.DECLINED).exclude(member=invitee)
        if taken.count() >= MAX_COHOSTS:
            message = _("A room has at most %(count)s co-hosts.") % {"count": MAX_COHOSTS}
            raise _field_error("username", message, "too_many")
        cohost, created = CoHost.objects.get_or_create(room=room, member=invitee)
        if not created and cohost.status == CoHost.Status.DECLINED:
            cohost.status = CoHost.Status.INVITED
            cohost.answered_at = None
            cohost.save(update_fields=["status", "answered_at"])
            created = True
        if created:
            from papercrane.live import tasks

            transaction.on_commit(lambda: tasks.tell_invitee.enqueue(cohost.pk))
    return cohost


def answer_invite(*, room: Room, member: Member, accept: bool) -> CoHost:
    cohost = CoHost.objects.filter(room=room, member=member).first()
    if cohost is None or cohost.status == CoHost.Status.DECLINED:
        raise LiveRefused("not_invited", _("You have no invitation to co-host this room."))
    _require_open(room)
    cohost.status = CoHost.Status.ACCEPTED if accept else CoHost.Status.DECLINED
    cohost.answered_at = timezone.now()
    cohost.save(update_fields=["status", "answered_at"])
    transaction.on_commit(lambda: _announce_room(room.pk))
    return cohost


def remove_cohost(*, room: Room, by: Member, member: Member) -> None:
    """The host removes a co-host (or takes back an invitation); a co-host may step down."""
    if by.pk not in {room.host_id, member.pk}:
        raise LiveRefused("not_host", _("Only the room's host can remove co-hosts."))
    CoHost.objects.filter(room=room, member=member).delete()
    transaction.on_commit(lambda: _announce_room(room.pk))


# --- Chat ---------------------------------------------------------------------------------------


def _require_open(room: Room) -> None:
    if room.status == Room.Status.ENDED:
        raise LiveRefused("room_ended", _("This room has ended."))


def _require_host(room: Room, member: Member) -> None:
    if not queries.is_host(room, member):
        raise LiveRefused("not_host", _("Only the room's hosts can do that."))


def clean_message(raw: object) -> str:
    """The text of a chat message: control characters and lone surrogates removed, 1 to
    MESSAGE_MAX_CHARS characters. Stored as typed; clients show it as text, never HTML."""
    if not isinstance(raw, str):
        raise LiveRefused("invalid", _("Send the message as text."))
    cleaned = "".join(c for c in text.clean_text(raw) if unicodedata.category(c) != "Cs")
    cleaned = unicodedata.normalize("NFC", cleaned).strip()
    if not cleaned:
        raise LiveRefused("empty", _("Write something first."))
    if len(cleaned) > MESSAGE_MAX_CHARS:
        message = _("Messages hold up to %(count)s characters.") % {"count": MESSAGE_MAX_CHARS}
        raise LiveRefused("too_long", message)
    return cleaned


def _check_can_send(room: Room, author: Member) -> None:
    if room.status == Room.Status.ENDED:
        raise LiveRefused("room_ended", _("This room has ended."))
    if room.status != Room.Status.LIVE:
        raise LiveRefused("not_live", _("The chat opens when the room goes live."))
    if standing.is_suspended(author):
        raise LiveRefused(
            "suspended", _("Your account is suspended: you can watch, but not write.")
        )
    restriction = queries.restriction(room, author)
    if queries.across_block(room, author):  # blocked since joining: no longer their room
        raise LiveRefused("banned", _("The hosts removed you from this room."))
    if restriction is not None:
        if restriction.kind == Restriction.Kind.BAN:
            raise LiveRefused("banned", _("The hosts removed you from this room."))
        raise LiveRefused(
            "muted",
            _("The hosts muted you in this room."),
            retry_after=queries.seconds_left(restriction),
        )


def _throttle(room: Room, author: Member, is_host: bool) -> None:
    new = classifiers.is_new_account(timezone.now() - author.date_joined)
    rate = MESSAGES_PER_NEW_MEMBER if new else MESSAGES_PER_MEMBER
    try:
        ratelimit.hit("live-message", str(author.pk), rate)
    except ratelimit.RateLimited as error:
        raise LiveRefused("rate_limited", error.message, retry_after=error.retry_after) from error
    seconds = room.slow_mode_seconds
    if not is_host and not realtime.slow_mode_hold(room.pk, author.pk, seconds):
        raise LiveRefused(
            "slow_mode",
            _("Slow mode: one message every %(seconds)s seconds.") % {"seconds": seconds},
            retry_after=seconds,
        )


def _signals(room: Room, author: Member, body: str, language: str) -> list[classifiers.Signal]:
    """What the operator's lists, the profanity model and the spam heuristics say. Chat is
    bursty by nature, so many messages in a row is no signal here: the rate limit is."""
    now = timezone.now()
    recent = list(
        Message.objects.filter(author=author, created_at__gte=now - RECENT_FOR_SPAM)
        .order_by("-pk")
        .values_list("text", flat=True)[:20]
    )
    found = classifiers.classify_text(body, language, screening.operator_lists().matcher)
    found += classifiers.spam_signals(
        body,
        account_age=now - author.date_joined,
        recent_texts=recent,
        recent_post_times=[],
        now=now,
    )
    return found


def _wanted_languages(room_id: int, language: str) -> list[str]:
    """The reading languages present in the room that a message in ``language`` is not in
    (none without a translation provider: nothing could translate it)."""
    if not settings.TRANSLATION_PROVIDERS:
        return []
    return [
        target
        for target in realtime.present_languages(room_id)
        if not detection.same_language(language, target)
    ]


def _translations(body: str, language: str, targets: list[str]) -> dict[str, str]:
    """``body`` in each of ``targets`` a provider (or the cache) could translate it into."""
    found: dict[str, str] = {}
    for target in targets:
        try:
            translated = language_services.translate([body], target, source=language)
        except language_services.TranslationUnavailable:
            continue
        if translated.provider and translated.texts[0] != body:
            found[target] = translated.texts[0]
    return found


def post_message(
    *, room: Room, author: Member, body: object, translate_later: bool = False
) -> Message:
    """Send a chat message to the room, translated into each language the room is read in.
    Raises LiveRefused when it may not be sent. A message the screening is sure about is
    kept for the moderators (``moderation_state`` says "held") and not shown to the room.

    With ``translate_later``, a message that needs translating is stored but not yet sent:
    its ``untranslated`` languages are for ``translate_and_send``, which the caller runs
    where a slow translation provider holds back no one else."""
    _check_can_send(room, author)
    cleaned = clean_message(body)
    is_host = queries.is_host(room, author)
    _throttle(room, author, is_host)
    language = detection.detect(cleaned)
    signals = _signals(room, author, cleaned, language)
    sure = any(signal.high_confidence for signal in signals)
    wanted = [] if sure else _wanted_languages(room.pk, language)
    later = translate_later and bool(wanted)
    translations = {} if later else _translations(cleaned, language, wanted)
    with transaction.atomic():
        message = Message.objects.create(
            room=room, author=author, text=cleaned, language=language, translations=translations
        )
        if signals:  # queued (and, when sure, held) before anyone can read it
            _flag(message.pk, signals)
        if not sure and not later:
            role = queries.role_of(room, author)
            transaction.on_commit(lambda: broadcast(message, author, role))
    if sure:
        message.refresh_from_db(fields=["moderation_state", "moderation_rule"])
    message.untranslated = wanted if later else []
    return message


def translate_and_send(message_id: int, languages: list[str]) -> None:
    """Translate a stored message into ``languages``, keep the translations with it, and
    send it to the room (unless it was deleted or hidden meanwhile)."""
    message = Message.objects.select_related("author", "room").filter(pk=message_id).first()
    if message is None:
        return
    translations = _translations(message.text, message.language, languages)
    if translations:
        Message.objects.filter(pk=message_id).update(translations=translations)
        message.translations = translations
    room = queries.room_with_hosts(message.room_id)
    if room is not None and queries.shown_messages(room).filter(pk=message_id).exists():
        broadcast(message, message.author, queries.role_of(room, message.author))


def _flag(message_id: int, signals: list[classifiers.Signal]) -> None:
    target = targets.load(TargetType.LIVE_MESSAGE, message_id)
    if target is not None:
        moderation_services.flag(target=target, signals=signals)


def broadcast(message: Message, author: Member, role: str) -> None:
    """Send a stored message to the room, in each language it was translated into."""
    frames = {"": queries.message_frame(message, author, role, None)}
    for language in message.translations:
        frames[language] = queries.message_frame(message, author, role, language)
    realtime.send_to_room(message.room_id, frames)


def delete_message(*, message: Message, by: Member) -> None:
    """Its author, a host or a co-host takes a message out of the room and its transcript."""
    room = message.room
    if by.pk != message.author_id and not queries.is_host(room, by):
        raise LiveRefused("not_host", _("Only the room's hosts can delete others' messages."))
    Message.objects.filter(pk=message.pk, deleted_at__isnull=True).update(deleted_at=timezone.now())
    Room.objects.filter(pk=room.pk, pinned_message=message).update(pinned_message=None)
    transaction.on_commit(lambda: withdraw(room.pk, message.pk))


def withdraw(room_id: int, message_id: int) -> None:
    """Tell the room's connections a message is gone (deleted, or hidden by moderation)."""
    realtime.send_to_room(room_id, {"": realtime.frame("chat.deleted", id=str(message_id))})


def restrict(
    *, room: Room, by: Member, member: Member, kind: str, minutes: int | None = None
) -> Restriction:
    """Mute ``member`` in the room (for ``minutes``, or until it ends) or ban them (their
    connections close, and they cannot come back)."""
    _require_host(room, by)
    _require_open(room)
    if kind not in Restriction.Kind.values:
        raise _field_error("kind", _("Choose mute or ban."))
    if queries.is_host(room, member):
        raise _field_error("username", _("Hosts and co-hosts cannot be muted or banned."))
    if minutes is not None and not 1 <= minutes <= MUTE_MAX_MINUTES:
        raise _field_error("minutes", _("Mute for 1 minute to 7 days."))
    until = timezone.now() + dt.timedelta(minutes=minutes) if minutes else None
    restriction, _created = Restriction.objects.update_or_create(
        room=room, member=member, kind=kind, defaults={"until": until, "by": by}
    )
    if kind == Restriction.Kind.BAN:
        transaction.on_commit(lambda: realtime.kick(room.pk, member.pk, BANNED_CLOSE_CODE))
    else:
        frame = realtime.frame(
            "member.muted", until=until.isoformat() if until else None, room=str(room.pk)
        )
        transaction.on_commit(
            lambda: realtime.send_to_room(room.pk, {"": frame}, only_member=member.pk)
        )
    return restriction


def lift_restriction(*, room: Room, by: Member, member: Member, kind: str) -> None:
    _require_host(room, by)
    Restriction.objects.filter(room=room, member=member, kind=kind).delete()


def set_moderation_state(message_id: int, state: str, rule_code: str) -> None:
    """Moderation's one way to change a message's state (see moderation.targets)."""
    message = Message.objects.filter(pk=message_id).first()
    if message is None:
        return
    Message.objects.filter(pk=message_id).update(
        moderation_state=state, moderation_rule=rule_code if state else ""
    )
    if state in HIDDEN_STATES:
        transaction.on_commit(lambda: withdraw(message.room_id, message_id))


# --- Telling people ---------------------------------------------------------------------------


def tell_followers(room_id: int) -> None:
    """Notify the host's followers that the room is live (once per follower and room)."""
    room = Room.objects.filter(pk=room_id, status=Room.Status.LIVE).first()
    if room is None:
        return
    followers = account_queries.followers(room.host).values_list("follower_id", flat=True)
    for follower_id in followers.iterator():
        notification_services.notify(
            recipient_id=follower_id, actor_id=room.host_id, verb="live_started", room_id=room.pk
        )


def tell_invitee(cohost_id: int) -> None:
    cohost = CoHost.objects.filter(pk=cohost_id, status=CoHost.Status.INVITED).first()
    if cohost is None:
        return
    notification_services.notify(
        recipient_id=cohost.member_id,
        actor_id=Room.objects.values_list("host_id", flat=True).get(pk=cohost.room_id),
        verb="cohost_invite",
        room_id=cohost.room_id,
    )
