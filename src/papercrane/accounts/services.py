"""Every write to accounts: signup, tokens, profile, roles and the social graph."""

from __future__ import annotations

import functools
import hashlib
import io
import re
import secrets
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from papercrane import ratelimit
from papercrane.accounts.models import (
    ApiToken,
    Audience,
    Block,
    Follow,
    FollowRequest,
    Language,
    Member,
    Mute,
)
from papercrane.search import services as search_services

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_]{3,30}$")
RESERVED_USERNAMES = frozenset(
    {
        "about", "accounts", "admin", "administrator", "anonymous", "api", "auth", "explore",
        "feed", "help", "healthz", "home", "live", "login", "logout", "me", "media", "moderator",
        "notes", "notifications", "official", "papercrane", "post", "privacy", "root", "search",
        "security", "settings", "signup", "static", "staff", "support", "system", "terms",
        "topics", "www", "ws",
    }
)  # fmt: skip
TIME_ZONES = frozenset(zoneinfo.available_timezones())
SIGNUP_PER_IP = ratelimit.Rate(limit=20, period_seconds=3600)
LOGIN_PER_IP = ratelimit.Rate(limit=60, period_seconds=300)
LOGIN_FAILURES_PER_ACCOUNT = ratelimit.Rate(limit=10, period_seconds=900)
FOLLOWS_PER_MEMBER = ratelimit.Rate(limit=120, period_seconds=3600)
AVATAR_MAX_PIXELS = 40_000_000
AVATAR_SIZE = 512
TOKEN_PREFIX = "pct_"  # noqa: S105 - a label, not a secret: makes leaked tokens greppable


def _field_error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: [ValidationError(message, code=code)]})


def validate_username(username: str) -> None:
    """ASCII letters, digits and underscores; not reserved; free ignoring case."""
    if not USERNAME_PATTERN.fullmatch(username):
        raise _field_error(
            "username",
            _("Use 3 to 30 characters: English letters, digits and underscores."),
            "invalid",
        )
    if username.lower() in RESERVED_USERNAMES:
        raise _field_error("username", _("This username is reserved."), "reserved")
    if Member.objects.filter(username__iexact=username).exists():
        raise _field_error("username", _("This username is already taken."), "taken")


def validate_profile_fields(
    *,
    language: str | None = None,
    time_zone: str | None = None,
    email: str | None = None,
    comments_from: str | None = None,
    mentions_from: str | None = None,
) -> None:
    """Raise one ValidationError naming every invalid field among those given."""
    errors: dict[str, list[ValidationError]] = {}
    for field, value in (("comments_from", comments_from), ("mentions_from", mentions_from)):
        if value is not None and value not in Audience.values:
            message = _("Choose everyone, your followers or nobody.")
            errors[field] = [ValidationError(message, code="invalid")]
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [ValidationError(_("Enter a valid email address."), code="invalid")]
    if language is not None and language not in Language.values:
        errors["language"] = [
            ValidationError(_("Choose English or Simplified Chinese."), code="invalid")
        ]
    if time_zone is not None and time_zone not in TIME_ZONES:
        errors["time_zone"] = [ValidationError(_("Unknown time zone."), code="invalid")]
    if errors:
        raise ValidationError(errors)


def validate_password(password: str, member: Member) -> None:
    try:
        password_validation.validate_password(password, member)
    except ValidationError as error:
        raise ValidationError({"password": error.error_list}) from error


def _raise_all(*checks: Callable[[], None]) -> None:
    """Run every check and raise one ValidationError naming every failing field, not the first."""
    errors: dict[str, list[ValidationError]] = {}
    for check in checks:
        try:
            check()
        except ValidationError as error:
            for field, field_errors in error.error_dict.items():
                errors.setdefault(field, []).extend(field_errors)
    if errors:
        raise ValidationError(errors)


def create_member(
    *,
    username: str,
    password: str,
    email: str = "",
    display_name: str = "",
    language: str = Language.ENGLISH,
    bio: str = "",
    time_zone: str = "UTC",
) -> Member:
    """Validate every field, then create the member; raises ValidationError naming each field."""
    member = Member(
        username=username,
        email=email,
        display_name=display_name.strip(),
        bio=bio.strip(),
        language=language,
        time_zone=time_zone,
    )
    _raise_all(
        lambda: validate_username(username),
        lambda: validate_profile_fields(language=language, time_zone=time_zone, email=email),
        lambda: validate_password(password, member),
    )
    member.set_password(password)  # the slow part, outside the write transaction
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError as error:  # a concurrent signup took the same name (any case)
        raise _field_error("username", _("This username is already taken."), "taken") from error
    return member


def sign_up(
    *,
    username: str,
    password: str,
    email: str = "",
    display_name: str = "",
    language: str = Language.ENGLISH,
    ip: str,
) -> Member:
    """Self-service signup: ``create_member`` behind a per-address limit on new accounts."""
    ratelimit.check("signup-ip", ip, SIGNUP_PER_IP)
    member = create_member(
        username=username,
        password=password,
        email=email,
        display_name=display_name,
        language=language,
    )
    ratelimit.hit("signup-ip", ip, SIGNUP_PER_IP)
    return member


def authenticate(*, username: str, password: str, ip: str) -> Member | None:
    """The active member with these credentials, or None. Rate limited per IP and per account."""
    ratelimit.hit("login-ip", ip, LOGIN_PER_IP)
    account_key = username.lower()
    ratelimit.check("login-account", account_key, LOGIN_FAILURES_PER_ACCOUNT)
    member = Member.objects.filter(username__iexact=username).first()
    if member is None:
        check_password(password, _dummy_hash())
    elif member.is_active and member.check_password(password):  # upgrades old hashes too
        Member.objects.filter(pk=member.pk).update(last_login=timezone.now())
        if member.erase_after is not None:  # signing in again keeps the account
            from papercrane.privacy import erasure  # privacy reads every app: import late

            erasure.cancel_deletion(member)
        return member
    ratelimit.hit("login-account", account_key, LOGIN_FAILURES_PER_ACCOUNT)
    return None


@functools.cache
def _dummy_hash() -> str:
    """A hash of a random password: checking against it takes as long as a real check, so a
    login for an unknown username cannot be told apart by its timing."""
    return make_password(secrets.token_urlsafe(16))


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


def issue_token(*, member: Member, name: str = "") -> IssuedToken:
    """A new bearer token; the secret is returned once and only its hash is kept."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        member=member,
        name=name.strip() or _("API token"),
        token_hash=hash_token(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
    )
    return IssuedToken(token=token, secret=secret)


def revoke_token(*, member: Member, token_id: int) -> bool:
    """Revoke one of the member's own tokens; False when there is no such live token."""
    revoked = ApiToken.objects.filter(pk=token_id, member=member, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    return revoked == 1


def purge_revoked_tokens(*, before: datetime) -> int:
    """Delete tokens revoked before ``before`` (a revoked token only documents its end)."""
    deleted, _unused = ApiToken.objects.filter(revoked_at__lt=before).delete()
    return deleted


def touch_token(token: ApiToken) -> None:
    """Record use at most once a minute, so reads do not each cost a write."""
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now  # a token held by the process is not written again at once


def update_profile(
    *,
    member: Member,
    display_name: str | None = None,
    bio: str | None = None,
    language: str | None = None,
    time_zone: str | None = None,
    email: str | None = None,
    is_private: bool | None = None,
    likes_public: bool | None = None,
    keeps_search_history: bool | None = None,
    feed_personalized: bool | None = None,
    auto_translate: bool | None = None,
    city: str | None = None,
    records_reading: bool | None = None,
    discoverable: bool | None = None,
    comments_from: str | None = None,
    mentions_from: str | None = None,
) -> Member:
    validate_profile_fields(
        language=language,
        time_zone=time_zone,
        email=email,
        comments_from=comments_from,
        mentions_from=mentions_from,
    )
    changes = {
        "display_name": display_name.strip() if display_name is not None else None,
        "bio": bio.strip() if bio is not None else None,
        "language": language,
        "time_zone": time_zone,
        "email": email,
        "is_private": is_private,
        "likes_public": likes_public,
        "auto_translate": auto_translate,
        "city": " ".join(city.split()) if city is not None else None,
        "discoverable": discoverable,
        "comments_from": comments_from,
        "mentions_from": mentions_from,
    }
    opening_up = member.is_private and is_private is False
    changed = [field for field, value in changes.items() if value is not None]
    for field in changed:
        setattr(member, field, changes[field])
    with transaction.atomic():
        if changed:
            member.save(update_fields=changed)
        if opening_up:
            _approve_all_requests(member)
        if keeps_search_history is not None:
            search_services.set_keeps_history(member=member, keep=keeps_search_history)
        if feed_personalized is not None or records_reading is not None:
            from papercrane.feed import services as feed_services  # feeds read accounts

            if feed_personalized is not None:
                feed_services.set_personalized(member=member, personalized=feed_personalized)
            if records_reading is not None:
                feed_services.set_records_reading(member=member, records=records_reading)
    return member


def _decode_avatar(upload: UploadedFile) -> Image.Image:
    """Identify by content, bound the work before decoding, and fail with a field error."""
    if upload.size is None or upload.size == 0:
        raise _field_error("avatar", _("The file is empty."), "empty")
    if upload.size > settings.AVATAR_MAX_BYTES:
        raise _field_error("avatar", _("The image is larger than 5 MB."), "too_large")
    try:
        image = Image.open(upload)
        if image.format not in {"JPEG", "PNG", "WEBP"}:
            raise _field_error("avatar", _("Upload a JPEG, PNG or WebP image."), "unsupported")
        if image.width * image.height > AVATAR_MAX_PIXELS:
            raise _field_error("avatar", _("The image has too many pixels."), "too_large")
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise _field_error(
            "avatar", _("This file is not an image we can read."), "unreadable"
        ) from error
    return image


def set_avatar(*, member: Member, upload: UploadedFile) -> Member:
    """Store a square, re-encoded avatar (which drops EXIF and any location in it)."""
    image = _decode_avatar(upload)
    image = ImageOps.exif_transpose(image).convert("RGB")
    square = ImageOps.fit(image, (AVATAR_SIZE, AVATAR_SIZE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    square.save(buffer, format="WEBP", quality=85)
    old_name = member.avatar.name
    member.avatar.save(
        f"{member.pk}-{secrets.token_hex(6)}.webp", ContentFile(buffer.getvalue()), save=False
    )
    member.avatar_thumbnail = ""
    member.save(update_fields=["avatar", "avatar_thumbnail"])
    if old_name:
        member.avatar.storage.delete(old_name)
    from papercrane.accounts.tasks import make_avatar_thumbnail

    transaction.on_commit(lambda: make_avatar_thumbnail.enqueue(member_id=member.pk))
    return member


def grant_moderator(*, username: str) -> Member:
    member = Member.objects.get(username__iexact=username)
    Member.objects.filter(pk=member.pk).update(is_moderator=True)
    member.is_moderator = True
    return member


# --- Social graph --------------------------------------------------------------------------------


def is_blocked_either_way(a: Member, b: Member) -> bool:
    return (
        Block.objects.filter(blocker=a, blocked=b).exists()
        or Block.objects.filter(blocker=b, blocked=a).exists()
    )


def _notify_on_commit(*, recipient: Member, actor: Member, verb: str) -> None:
    """Notify once the change is committed, so no one hears of a follow that rolled back.

    (notifications is imported late in these helpers: it reads accounts, so a top-level
    import would be circular.)"""
    from papercrane.notifications import services as notifications

    transaction.on_commit(
        lambda: notifications.notify(recipient_id=recipient.pk, actor_id=actor.pk, verb=verb),
        robust=True,  # a failing notification is logged; the follow itself stands
    )


def _retract_request_notice_on_commit(requester: Member, target: Member) -> None:
    """An answered or withdrawn request leaves the target's notifications."""
    from papercrane.notifications import services as notifications

    transaction.on_commit(
        lambda: notifications.retract(
            recipient_id=target.pk, actor_id=requester.pk, verb="follow_request"
        ),
        robust=True,
    )


def _follows(follower: Member, followee: Member) -> bool:
    return Follow.objects.filter(follower=follower, followee=followee).exists()


def _refresh_badge_on_commit(member: Member) -> None:
    """Blocking or muting hides notifications, so the member's badge count changes."""
    from papercrane.notifications import services as notifications

    transaction.on_commit(lambda: notifications.push_unread_count(member.pk), robust=True)


def _add_follow(follower: Member, followee: Member) -> bool:
    """Create one follow edge and move its two counters, inside the caller's transaction."""
    created = Follow.objects.get_or_create(follower=follower, followee=followee)[1]
    if created:
        Member.objects.filter(pk=follower.pk).update(following_count=F("following_count") + 1)
        Member.objects.filter(pk=followee.pk).update(follower_count=F("follower_count") + 1)
    return created


def follow(*, member: Member, target: Member) -> bool:
    """Follow ``target``; idempotent. A private account gets a follow request instead.

    Returns True when ``member`` now follows, False when a request waits for approval.
    Counters move only when a row is really created.
    """
    if member.pk == target.pk:
        raise _field_error("username", _("You cannot follow yourself."), "self")
    if is_blocked_either_way(member, target):
        raise _field_error("username", _("You cannot follow this member."), "blocked")
    ratelimit.hit("follow", str(member.pk), FOLLOWS_PER_MEMBER)  # follow-spam waves
    with transaction.atomic():
        if target.is_private and not _follows(member, target):
            if FollowRequest.objects.get_or_create(requester=member, target=target)[1]:
                _notify_on_commit(recipient=target, actor=member, verb="follow_request")
            return False
        if _add_follow(member, target):
            _notify_on_commit(recipient=target, actor=member, verb="follow")
    return True


def _remove_follow(follower: Member, followee: Member) -> None:
    """Delete one follow edge and its two counters, inside the caller's transaction."""
    deleted, _unused = Follow.objects.filter(follower=follower, followee=followee).delete()
    if deleted:
        Member.objects.filter(pk=follower.pk).update(following_count=F("following_count") - 1)
        Member.objects.filter(pk=followee.pk).update(follower_count=F("follower_count") - 1)
        # The follower's Explore was ranked with the follow ("From someone you follow").
        from papercrane.feed import services as feed_services  # feeds read accounts

        transaction.on_commit(lambda: feed_services.rank_afresh(follower))


def _drop_request(requester: Member, target: Member) -> bool:
    """Delete a pending request (and its notification), inside the caller's transaction."""
    deleted, _unused = FollowRequest.objects.filter(requester=requester, target=target).delete()
    if deleted:
        _retract_request_notice_on_commit(requester, target)
    return bool(deleted)


def unfollow(*, member: Member, target: Member) -> bool:
    """Stop following ``target``, or withdraw a pending request to follow them."""
    with transaction.atomic():
        _remove_follow(member, target)
        _drop_request(member, target)
    return False


def approve_follow_request(*, member: Member, requester: Member) -> bool:
    """``member`` lets ``requester`` follow them; False when there was no such request."""
    with transaction.atomic():
        if not _drop_request(requester, member):
            return False
        _add_follow(requester, member)
        _notify_on_commit(recipient=requester, actor=member, verb="follow_approved")
    return True


def decline_follow_request(*, member: Member, requester: Member) -> bool:
    """``member`` turns ``requester`` down (they are not told); False when there was none."""
    with transaction.atomic():
        return _drop_request(requester, member)


def _approve_all_requests(member: Member) -> None:
    """An account made public lets everyone waiting in, as if each request were approved."""
    pending = FollowRequest.objects.filter(target=member).select_related("requester")
    for request in pending:
        approve_follow_request(member=member, requester=request.requester)


def block(*, member: Member, target: Member) -> bool:
    """Block ``target``: follows and follow requests both ways end, and neither can see or
    reach the other."""
    if member.pk == target.pk:
        raise _field_error("username", _("You cannot block yourself."), "self")
    with transaction.atomic():
        Block.objects.get_or_create(blocker=member, blocked=target)
        _remove_follow(member, target)
        _remove_follow(target, member)
        _drop_request(member, target)
        _drop_request(target, member)
        _refresh_badge_on_commit(member)
    return True


def unblock(*, member: Member, target: Member) -> bool:
    with transaction.atomic():
        Block.objects.filter(blocker=member, blocked=target).delete()
        _refresh_badge_on_commit(member)
    return False


def mute(*, member: Member, target: Member) -> bool:
    """Mute ``target``: they vanish from ``member``'s notifications (and feeds), unaware."""
    if member.pk == target.pk:
        raise _field_error("username", _("You cannot mute yourself."), "self")
    with transaction.atomic():
        Mute.objects.get_or_create(muter=member, muted=target)
        _refresh_badge_on_commit(member)
    return True


def unmute(*, member: Member, target: Member) -> bool:
    with transaction.atomic():
        Mute.objects.filter(muter=member, muted=target).delete()
        _refresh_badge_on_commit(member)
    return False
