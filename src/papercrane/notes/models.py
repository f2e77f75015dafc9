"""Notes, their topics and mentions. Data only: the rules live in services.py."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Everyone")
    FOLLOWERS = "followers", _("Followers")
    PRIVATE = "private", _("Only me")


# Moderation states (moderation.models.ContentState) that take a note or comment out of
# everyone's sight but its author's, and those that also keep it out of Explore and search
# ("limited": still on the author's profile and at its link). Plain values, so reads here do
# not depend on the moderation app.
HIDDEN_STATES = ("held", "removed")
UNDISCOVERABLE_STATES = ("limited", *HIDDEN_STATES)


class Topic(models.Model):
    """A #topic. ``key`` folds case and width so #Travel and #ｔｒａｖｅｌ are one topic."""

    name = models.CharField(max_length=30)
    key = models.CharField(max_length=30, unique=True)
    pinyin = models.CharField(
        max_length=120, blank=True, db_index=True
    )  # "成都美食" → chengdumeishi
    note_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Note(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notes"
    )
    title = models.CharField(max_length=80)
    body = models.TextField(blank=True)
    # Detected from the title and body unless the author chose it (language_chosen); ""
    # when the text has no language (only emoji, say).
    language = models.CharField(max_length=16, blank=True)
    language_chosen = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PUBLISHED)
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    place_name = models.CharField(max_length=100, blank=True)
    place_city = models.CharField(max_length=100, blank=True)
    topics = models.ManyToManyField(Topic, through="NoteTopic", related_name="notes")
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Mention", related_name="mentioned_in"
    )
    like_count = models.PositiveIntegerField(default=0)
    collect_count = models.PositiveIntegerField(default=0)
    comment_count = models.PositiveIntegerField(default=0)
    # What moderation did to it (moderation.models.ContentState: "" visible, "labelled",
    # "limited", "held", "removed") and under which rule; kept here so every read filters
    # without a join.
    moderation_state = models.CharField(max_length=10, blank=True, default="")
    moderation_rule = models.CharField(max_length=40, blank=True, default="")
    version = models.PositiveIntegerField(default=1)  # bumped by every edit: optimistic locking
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["author", "status", "-published_at"]),
            models.Index(fields=["status", "visibility", "-published_at"]),
        ]

    def __str__(self) -> str:
        return self.title


class NoteTopic(models.Model):
    note = models.ForeignKey(Note, on_delete=models.CASCADE)
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["note", "topic"], name="note_topic_unique")]

    def __str__(self) -> str:
        return f"{self.note_id}#{self.topic_id}"


class Mention(models.Model):
    note = models.ForeignKey(Note, on_delete=models.CASCADE)
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["note", "member"], name="mention_unique")]

    def __str__(self) -> str:
        return f"{self.note_id}@{self.member_id}"


class VisibilityChange(models.Model):
    """What may have changed who sees which notes: a note (its status, visibility,
    moderation or author changed, or it was deleted), or a member (turned private or public,
    suspended or reinstated, deactivated or deleted; their language or Explore settings
    changed; one of their tokens revoked or deleted), or, with neither, everything (a table
    emptied). Written by database triggers (migration ``0005``), whatever statement made
    the change. Each process keeps which notes everyone may see, and the tokens it checked,
    and reads these to forget what changed (``discoverability``); they are kept an hour."""

    note_id = models.BigIntegerField(null=True)
    member_id = models.BigIntegerField(null=True)
    # Where the row stands in the log, so a reader misses no change whatever order the
    # transactions commit in: on PostgreSQL the writing transaction's id (a reader goes on
    # from the oldest transaction still running when it last read), on SQLite, whose writers
    # take turns, one more than the last row.
    seq = models.BigIntegerField(db_index=True)
    at_ms = models.BigIntegerField(db_index=True)  # the database's clock, ms since 1970

    def __str__(self) -> str:
        return f"note {self.note_id}" if self.note_id else f"member {self.member_id}"
