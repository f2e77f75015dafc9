"""Likes, collects into boards, and comments. Data only: the rules live in services.py.

Counters on notes and comments are denormalised for reading; services move them with ``F()`` in
the same transaction as the row they count, so ``Note.like_count`` always equals the number of
``Like`` rows (and likewise for collects, comments, comment likes and replies).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from papercrane.notes.models import Note


class Like(models.Model):
    """A member likes a note (at most once)."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "note"], name="like_unique")]
        indexes = [models.Index(fields=["member", "-id"], name="like_member_recent")]

    def __str__(self) -> str:
        return f"{self.member_id} ♡ {self.note_id}"


class Board(models.Model):
    """A member's collection of notes (专辑). Every member has at most one default board, whose
    name is blank in storage and shown translated ("Default board" / "默认专辑")."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="boards"
    )
    name = models.CharField(max_length=30, blank=True)
    description = models.CharField(max_length=200, blank=True)
    private = models.BooleanField(default=False)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner"], condition=models.Q(is_default=True), name="board_one_default"
            )
        ]

    def __str__(self) -> str:
        return self.name or "default"


class Collect(models.Model):
    """A member has collected a note into at least one of their boards.

    One row per (member, note) however many boards hold it: ``Note.collect_count`` counts
    members, and this row is what it counts. It exists exactly while it has board entries.
    """

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="collects")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "note"], name="collect_unique")]
        # A member's newest collects first: whether they collected since Explore was ranked.
        indexes = [models.Index(fields=["member", "-id"], name="collect_member_recent")]

    def __str__(self) -> str:
        return f"{self.member_id} ☆ {self.note_id}"


class BoardEntry(models.Model):
    """A collected note's place in one board."""

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="entries")
    collect = models.ForeignKey(Collect, on_delete=models.CASCADE, related_name="entries")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["board", "collect"], name="board_entry_unique")
        ]
        indexes = [models.Index(fields=["board", "-id"], name="board_entry_recent")]

    def __str__(self) -> str:
        return f"{self.board_id}: {self.collect_id}"


class Comment(models.Model):
    """A comment on a note, or a reply in a top-level comment's thread (one level deep).

    ``reply_to`` is the member a reply answers when it answers another reply ("回复 @name").
    ``score`` orders threads by relevance: likes plus a bonus while the note's author has
    replied in the thread (``author_replied``).
    """

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    reply_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = models.TextField()
    language = models.CharField(max_length=16, blank=True)  # detected; "" when it has none
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="CommentMention", related_name="mentioned_in_comments"
    )
    like_count = models.PositiveIntegerField(default=0)
    reply_count = models.PositiveIntegerField(default=0)
    score = models.PositiveIntegerField(default=0)
    author_replied = models.BooleanField(default=False)
    is_pinned = models.BooleanField(default=False)
    # As on notes: moderation.models.ContentState and the rule it was applied under.
    moderation_state = models.CharField(max_length=10, blank=True, default="")
    moderation_rule = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["note"], condition=models.Q(is_pinned=True), name="comment_one_pinned"
            )
        ]
        indexes = [
            models.Index(fields=["note", "-id"], name="comment_note_recent"),
            models.Index(fields=["author", "-id"], name="comment_author_recent"),
            models.Index(fields=["parent", "id"], name="comment_thread"),
        ]

    def __str__(self) -> str:
        return f"{self.note_id}/{self.pk}"


class CommentLike(models.Model):
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "comment"], name="comment_like_unique")
        ]

    def __str__(self) -> str:
        return f"{self.member_id} ♡ c{self.comment_id}"


class CommentMention(models.Model):
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE)
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["comment", "member"], name="comment_mention_unique")
        ]

    def __str__(self) -> str:
        return f"c{self.comment_id}@{self.member_id}"
