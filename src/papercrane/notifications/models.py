"""Notifications: one row per (recipient, actor, verb, target). Data only: rules in services.py."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Verb(models.TextChoices):
    LIKE_NOTE = "like_note", _("liked a note")
    LIKE_COMMENT = "like_comment", _("liked a comment")
    COLLECT = "collect", _("collected a note")
    COMMENT = "comment", _("commented")
    REPLY = "reply", _("replied")
    MENTION = "mention", _("mentioned")
    FOLLOW = "follow", _("followed")
    FOLLOW_REQUEST = "follow_request", _("asked to follow")
    FOLLOW_APPROVED = "follow_approved", _("approved a follow request")
    LIVE_STARTED = "live_started", _("went live")
    COHOST_INVITE = "cohost_invite", _("invited you to co-host a live room")
    # From the moderators (the actor is the recipient: no moderator is named).
    DECISION = "decision", _("a moderation decision about you")
    APPEAL_DECIDED = "appeal_decided", _("your appeal was decided")
    REPORT_OUTCOME = "report_outcome", _("your report was reviewed")
    # From the service itself (the actor is the recipient too).
    EXPORT_READY = "export_ready", _("your data export is ready")


# Likes and collects of one target show as one item ("A and 12 others liked your note").
GROUPED_VERBS = frozenset({Verb.LIKE_NOTE, Verb.LIKE_COMMENT, Verb.COLLECT})


class Notification(models.Model):
    """``group_key`` names the list item a row belongs to (shared by the likes of one note,
    unique for everything else); ``dedupe_key`` makes a repeated event a no-op."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    verb = models.CharField(max_length=20, choices=Verb.choices)
    note = models.ForeignKey(
        "notes.Note", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    comment_id = models.PositiveBigIntegerField(null=True, blank=True)
    room = models.ForeignKey(
        "live.Room", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    decision_id = models.PositiveBigIntegerField(null=True, blank=True)  # moderation verbs
    group_key = models.CharField(max_length=100)
    dedupe_key = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], name="notification_dedupe_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "group_key"]),
            models.Index(fields=["recipient", "read_at"]),
            models.Index(fields=["comment_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} <- {self.actor_id} {self.verb}"
