"""Members, their API tokens and the social graph (follows, follow requests, blocks, mutes).

Data only: the rules live in services.py."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    SIMPLIFIED_CHINESE = "zh-Hans", _("Simplified Chinese")


class Audience(models.TextChoices):
    """Whom a member accepts comments or mentions from."""

    EVERYONE = "everyone", _("Everyone")
    FOLLOWERS = "followers", _("People who follow me")
    NOBODY = "nobody", _("Nobody")


class MemberManager(UserManager["Member"]):
    def get_by_natural_key(self, username: str | None) -> Member:
        # Usernames are unique case-insensitively, so logins are too.
        return self.get(username__iexact=username)


class Member(AbstractUser):
    """A person with an account. ``username`` is ASCII and unique ignoring case."""

    display_name = models.CharField(_("display name"), max_length=50, blank=True)
    bio = models.CharField(_("bio"), max_length=500, blank=True)
    avatar = models.ImageField(_("avatar"), upload_to="avatars/", blank=True)
    avatar_thumbnail = models.ImageField(upload_to="avatars/thumbs/", blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    is_moderator = models.BooleanField(_("moderator"), default=False)
    is_private = models.BooleanField(
        _("private account"),
        default=False,
        help_text=_("Only followers you approve can see your notes."),
    )
    likes_public = models.BooleanField(
        _("show my likes"),
        default=True,
        help_text=_("Others can see which notes you liked."),
    )
    keeps_search_history = models.BooleanField(
        _("keep my search history"),
        default=False,
        help_text=_("Your recent searches are kept for you alone; clear them at any time."),
    )
    feed_personalized = models.BooleanField(
        _("personalized Explore"),
        default=True,
        help_text=_(
            "Explore learns from what you like, collect and read. Off: it shows trending and "
            "new notes, and what it learned about you is deleted."
        ),
    )
    auto_translate = models.BooleanField(
        _("translate automatically"),
        default=False,
        help_text=_("Notes and comments in other languages are shown in your language."),
    )
    records_reading = models.BooleanField(
        _("remember what I read"),
        default=False,
        help_text=_(
            "Explore records which notes it showed you and how long you read them, to choose "
            "better. Off: nothing about your reading is stored."
        ),
    )
    discoverable = models.BooleanField(
        _("findable in search"),
        default=True,
        help_text=_(
            "Others can find your profile in member search. Off: only someone who types your "
            "exact username finds you."
        ),
    )
    comments_from = models.CharField(
        _("who can comment on my notes"),
        max_length=10,
        choices=Audience.choices,
        default=Audience.EVERYONE,
    )
    mentions_from = models.CharField(
        _("who can mention me"),
        max_length=10,
        choices=Audience.choices,
        default=Audience.EVERYONE,
    )
    city = models.CharField(
        _("city for Nearby"),
        max_length=100,
        blank=True,
        help_text=_("Only the city, and only if you fill it in: Nearby shows notes placed there."),
    )
    follower_count = models.PositiveIntegerField(default=0)
    following_count = models.PositiveIntegerField(default=0)
    # Set by a moderation decision (a statement of reasons says why); far in the future for a
    # permanent suspension. A suspended member can sign in, read and appeal, but not take part.
    suspended_until = models.DateTimeField(null=True, blank=True)
    # Set when the member asks to delete their account: erased at this time unless they sign
    # in again before it (privacy.erasure).
    erase_after = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = MemberManager()  # type: ignore[misc]

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("username"), name="member_username_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def name(self) -> str:
        return self.display_name or self.username


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored; the member sees the secret once."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["member", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.member_id}:{self.prefix}"


class Follow(models.Model):
    follower = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="following_set")
    followee = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="follower_set")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "followee"], name="follow_unique"),
            models.CheckConstraint(
                condition=~models.Q(follower=models.F("followee")), name="follow_not_self"
            ),
        ]
        indexes = [models.Index(fields=["followee", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.follower_id} -> {self.followee_id}"


class Block(models.Model):
    blocker = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="blocking_set")
    blocked = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="blocked_by_set")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="block_unique"),
            models.CheckConstraint(
                condition=~models.Q(blocker=models.F("blocked")), name="block_not_self"
            ),
        ]
        indexes = [models.Index(fields=["blocked"])]

    def __str__(self) -> str:
        return f"{self.blocker_id} x {self.blocked_id}"


class FollowRequest(models.Model):
    """A pending wish to follow a private account; approval turns it into a Follow."""

    requester = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="follow_requests_sent"
    )
    target = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="follow_requests_received"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["requester", "target"], name="follow_request_unique"),
            models.CheckConstraint(
                condition=~models.Q(requester=models.F("target")), name="follow_request_not_self"
            ),
        ]
        indexes = [models.Index(fields=["target", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.requester_id} ?-> {self.target_id}"


class Mute(models.Model):
    """The muter stops hearing from the muted member; the muted member is not told."""

    muter = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="muting_set")
    muted = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="muted_by_set")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["muter", "muted"], name="mute_unique"),
            models.CheckConstraint(
                condition=~models.Q(muter=models.F("muted")), name="mute_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.muter_id} ~ {self.muted_id}"
