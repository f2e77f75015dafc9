"""Live rooms, their co-hosts, chat messages and who may not take part. Data only: the
rules live in services.py."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Room(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Not started")
        LIVE = "live", _("Live")
        ENDED = "ended", _("Ended")

    host = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="live_rooms"
    )
    title = models.CharField(max_length=80)
    topic = models.CharField(max_length=30, blank=True)  # a #topic name, without the "#"
    language = models.CharField(max_length=16, blank=True)  # what the hosts mostly speak
    stream_url = models.URLField(max_length=500, blank=True)  # an HLS stream hosted elsewhere
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    slow_mode_seconds = models.PositiveSmallIntegerField(default=0)
    pinned_message = models.ForeignKey(
        "Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    peak_viewers = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "-started_at"])]

    def __str__(self) -> str:
        return self.title


class CoHost(models.Model):
    class Status(models.TextChoices):
        INVITED = "invited", _("Invited")
        ACCEPTED = "accepted", _("Co-host")
        DECLINED = "declined", _("Declined")

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="cohosts")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cohostings"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.INVITED)
    invited_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "member"], name="live_cohost_unique")
        ]

    def __str__(self) -> str:
        return f"{self.member_id} in room {self.room_id}: {self.status}"


class Message(models.Model):
    """A chat message. ``translations`` holds it in each language its room was read in
    while it was sent ({"en": "…"}), so the transcript reads the same afterwards."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="live_messages"
    )
    text = models.TextField()
    language = models.CharField(max_length=16, blank=True)
    translations = models.JSONField(default=dict, blank=True)
    # Deleted by its author, a host or a co-host (moderators use moderation_state).
    deleted_at = models.DateTimeField(null=True, blank=True)
    moderation_state = models.CharField(max_length=10, blank=True)
    moderation_rule = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Not stored: set by services.post_message(translate_later=True), the languages the
    # message is still to be translated into before it is sent.
    untranslated: list[str]

    class Meta:
        indexes = [
            models.Index(fields=["room", "id"]),
            models.Index(fields=["author", "-created_at"]),
        ]

    def __str__(self) -> str:
        return self.text[:50]


class Restriction(models.Model):
    """A viewer a host or co-host muted (reads, cannot write) or banned (cannot join)."""

    class Kind(models.TextChoices):
        MUTE = "mute", _("Muted")
        BAN = "ban", _("Banned")

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="restrictions")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="live_restrictions"
    )
    kind = models.CharField(max_length=4, choices=Kind.choices)
    until = models.DateTimeField(null=True, blank=True)  # None: until the room ends
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["room", "member", "kind"], name="live_restriction_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.member_id} in room {self.room_id}"
