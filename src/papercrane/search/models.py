"""The search index, its term statistics, and aggregate query counts. Data only."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SearchDocument(models.Model):
    """A published note as the index sees it: its analysed tokens (see ``analysis``).

    ``note_id`` is a plain column, not a foreign key: when a note is deleted, the indexing
    task must still find the old tokens to keep the term statistics exact. On SQLite an FTS5
    table mirrors the two token columns (kept in step by triggers); on PostgreSQL a generated
    ``tsvector`` column with a GIN index holds the same tokens. Both come from the migration.
    """

    note_id = models.BigIntegerField(primary_key=True)
    title_terms = models.TextField()
    body_terms = models.TextField()
    length = models.FloatField()  # tokens, with title tokens counted at the title's weight
    language = models.CharField(max_length=16, blank=True)
    published_epoch = models.BigIntegerField()  # seconds; plain arithmetic on both databases

    def __str__(self) -> str:
        return f"document {self.note_id}"


class NoteVector(models.Model):
    """A note's multilingual embedding (``language.embedding``) for the semantic retriever.
    ``text_hash`` is of the text embedded, so an unchanged note is not embedded again;
    ``updated_at`` lets each process refresh its in-memory matrix with what changed."""

    note_id = models.BigIntegerField(primary_key=True)
    text_hash = models.CharField(max_length=64)
    vector = models.BinaryField()
    updated_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"vector {self.note_id}"


class SearchTerm(models.Model):
    """How many documents hold each token (for IDF), kept exact by every index change.
    Two rows whose keys start with a space (tokens never do) hold the document count and
    the summed document length."""

    term = models.CharField(max_length=64, primary_key=True)
    df = models.FloatField(default=0)

    def __str__(self) -> str:
        return self.term


class QueryCount(models.Model):
    """How often a normalised query was searched on a day: aggregate, with no one's name."""

    query = models.CharField(max_length=100)
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["query", "day"], name="query_day_unique")]
        indexes = [models.Index(fields=["day", "-count"])]

    def __str__(self) -> str:
        return f"{self.query} ({self.day}: {self.count})"


class HistoryEntry(models.Model):
    """A member's own recent search, kept only while they choose to keep their history."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="search_history"
    )
    query = models.CharField(max_length=100)
    searched_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "query"], name="history_query_unique")
        ]
        indexes = [models.Index(fields=["member", "-searched_at"])]

    def __str__(self) -> str:
        return self.query
