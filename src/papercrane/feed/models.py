"""Explore's data: what members told us, what they were shown, and what the background jobs
precomputed so a request only merges and ranks. Data only: the rules live in services.py."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from papercrane.notes.models import Note, Topic


class ChosenTopic(models.Model):
    """A topic a member picked when they started (cold start), until engagement speaks."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "topic"], name="chosen_topic_unique")
        ]

    def __str__(self) -> str:
        return f"{self.member_id} picked {self.topic_id}"


class Feedback(models.Model):
    """ "Not interested" in a note, or "fewer like this" for a topic or an author."""

    class Kind(models.TextChoices):
        NOTE = "note"
        TOPIC = "topic"
        AUTHOR = "author"

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    target_id = models.BigIntegerField()  # a note, topic or member id, by ``kind``
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member", "kind", "target_id"], name="feed_feedback_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id} fewer {self.kind} {self.target_id}"


class ShownDay(models.Model):
    """The notes Explore showed a member on a day, each once, in the order first shown: what
    keeps the next visits from showing them again (a page records only the notes not
    recorded that day already, as the visit read them: a member who refreshes Explore all
    day is shown the same notes again, and the list kept no more). Deleted after
    ``FEED_IMPRESSION_DAYS``, with the member, or when they stop the record.

    A few rows per member and day, not one per note: a page shows twenty notes, and a row for
    each cost every page twenty index writes, and every visit a lookup per note it might
    show. Each flush of the buffer (``feed.shown``) appends to the day's last ``part``, and
    starts the next once that one holds ``services.SHOWN_PART_CHARS``: a flush rewrites
    each row it appends to, and appending to the whole day's list cost the flush more with
    every page the member read (a busy second's flush went from 8 to 28 ms on SQLite, and
    from 21 to 70 ms on PostgreSQL, as the lists grew from 200 to 2,300 characters; the
    pages being served waited on it). A visit reads its member's few rows. Ids of notes
    deleted since stay until their day expires; they name nothing."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the unique (member, day, part) index serves the lookups by member
        db_constraint=False,  # the flush joins the members that exist
    )
    day = models.DateField()
    part = models.PositiveSmallIntegerField(default=0)  # 0, 1, …: the day's list in order
    note_ids = models.TextField(default="")  # "12,345,6789," (each id ends with a comma)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "day", "part"], name="shown_day_part_unique")
        ]
        indexes = [models.Index(fields=["day"], name="shown_day_day")]

    def __str__(self) -> str:
        return f"{self.member_id} was shown {self.note_ids.count(',')} notes on {self.day}"


class Impression(models.Model):
    """How long a member read a note on a day (minimal and aggregated; deleted after
    ``FEED_IMPRESSION_DAYS``). What Explore showed is in ``ShownDay``."""

    # Besides the unique (member, note, day) index, which serves the lookups by member, only
    # one on day, and no foreign key constraints (PostgreSQL checked each row's member with
    # a locking query). What a deletion leaves (the reading time of a deleted note) goes
    # with the retention sweep (``services.forget_orphan_impressions``).
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    note = models.ForeignKey(
        Note, on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    day = models.DateField()
    dwell_ms = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "note", "day"], name="impression_unique")
        ]
        indexes = [models.Index(fields=["day"], name="impression_day")]

    def __str__(self) -> str:
        return f"{self.member_id} read {self.note_id} on {self.day}"


class Neighbours(models.Model):
    """The notes most often engaged with together with ``note`` (item-to-item weights learned
    by the co-engagement job), as ``[[note_id, weight], …]`` best first."""

    note = models.OneToOneField(Note, on_delete=models.CASCADE, primary_key=True, related_name="+")
    items = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"neighbours of {self.note_id}"


class Snapshot(models.Model):
    """A precomputed list a request reads whole: the trending notes, the fresh notes of
    small creators, the ranking model's weights. ``name`` is the key."""

    name = models.CharField(max_length=40, primary_key=True)
    data = models.JSONField(default=dict)
    computed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class Profile(models.Model):
    """What Explore learned about a member, recomputed by a task after they engage:
    ``candidates`` ``[[note_id, score, because_note_id], …]`` from co-engagement,
    ``topics`` / ``authors`` ``{id: weight}`` affinities and ``engaged`` ``{note_id: kind}``
    (never shown again).
    Engagement newer than ``computed_at`` is folded in by the request itself, so the feed
    adapts at once."""

    member = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    candidates = models.JSONField(default=list)
    topics = models.JSONField(default=dict)
    authors = models.JSONField(default=dict)
    engaged = models.JSONField(default=dict)
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"feed profile of {self.member_id}"


class Ranking(models.Model):
    """A member's Explore, ranked in the background (or by the visit that found none), so a
    visit only merges in what changed since and filters: ``items``
    ``[[note_id, author_id, [topic ids], reason kind, because note id, topic id, language], …]``
    best first, diversity applied. ``newest_like_id``, ``newest_collect_id`` and
    ``newest_comment_id`` are the newest engagement when it was computed (engagement past
    them makes the next visit rank afresh); ``model_version`` the ranking model's."""

    member = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    # JSON kept as text: a visit reads it whole and decodes it with orjson, and PostgreSQL's
    # jsonb had to be written back out as text for every visit (0.1 ms of its CPU).
    items = models.TextField(default="[]")
    # Columns, not a list: a visit compares them with the member's engagement in SQL, in the
    # statement that reads the ranking itself.
    newest_like_id = models.BigIntegerField(default=0)
    newest_collect_id = models.BigIntegerField(default=0)
    newest_comment_id = models.BigIntegerField(default=0)
    model_version = models.FloatField(default=0.0)
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"explore ranking of {self.member_id}"
