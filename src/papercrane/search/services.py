"""Every write to the search index and to search history.

Notes are (re)indexed by a background task after each change (``note_changed``); the task
reads the note as it is then, so edits, deletions and any later moderation change converge
on the current state however tasks interleave.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from papercrane import ratelimit
from papercrane.accounts.models import Member
from papercrane.language import embedding
from papercrane.language import queries as language_queries
from papercrane.media.models import Media
from papercrane.notes.models import UNDISCOVERABLE_STATES, Mention, Note, NoteTopic
from papercrane.search import analysis
from papercrane.search.backends import backend_for
from papercrane.search.models import (
    HistoryEntry,
    NoteVector,
    QueryCount,
    SearchDocument,
    SearchTerm,
)
from papercrane.search.ranking import DOCUMENT_COUNT, TITLE_WEIGHT, TOKEN_TOTAL

HISTORY_SIZE = 20
COUNT_ONCE_PER_SECONDS = 3600
MAX_STORED_QUERY = 100


def note_changed(note_id: int) -> None:
    """Schedule reindexing of a note once the current transaction commits."""
    from papercrane.search.tasks import embed_note, index_note

    transaction.on_commit(lambda: index_note.enqueue(note_id=note_id))
    if settings.SEMANTIC_SEARCH:
        transaction.on_commit(lambda: embed_note.enqueue(note_id=note_id))


@dataclass
class NoteText:
    """Everything of a note that search reads, fetched as plain values (no model objects:
    a rebuild reads millions)."""

    note_id: int
    title: str
    body: str
    language: str
    place: str
    published_epoch: int
    topics: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    alt_texts: list[str] = field(default_factory=list)


def note_texts(notes: QuerySet[Note]) -> list[NoteText]:
    """The published ones among ``notes`` that moderation left discoverable, with their
    topics, mentions and photo descriptions, in four queries."""
    discoverable = notes.filter(status=Note.Status.PUBLISHED).exclude(
        moderation_state__in=UNDISCOVERABLE_STATES
    )
    rows = discoverable.values_list(
        "pk", "title", "body", "language", "place_name", "place_city", "published_at", "created_at"
    )
    texts = {
        pk: NoteText(
            pk, title, body, language, f"{place} {city}", int((published or created).timestamp())
        )
        for pk, title, body, language, place, city, published, created in rows
    }
    ids = list(texts)
    for note_id, name in NoteTopic.objects.filter(note_id__in=ids).values_list(
        "note_id", "topic__name"
    ):
        texts[note_id].topics.append(name)
    for note_id, username in Mention.objects.filter(note_id__in=ids).values_list(
        "note_id", "member__username"
    ):
        texts[note_id].mentions.append(username)
    described = Media.objects.filter(note_id__in=ids, is_text_cover=False).exclude(alt_text="")
    for note_id, alt_text in described.values_list("note_id", "alt_text"):
        texts[note_id].alt_texts.append(alt_text)
    return list(texts.values())


def document_for(note: NoteText) -> SearchDocument:
    """The analysed form of a note: title, topics and their pinyin weigh more than the body."""
    title = analysis.tokens(note.title, pinyin=True)
    for name in note.topics:
        title += [analysis.topic_token(name), *analysis.tokens(name)]
        reading = analysis.pinyin_key(name)
        if len(reading) > 1:
            title.append(analysis.PINYIN_PREFIX + reading)
    body = analysis.tokens(note.body) + analysis.tokens(note.place)
    body += [token for text in note.alt_texts for token in analysis.tokens(text)]
    body += [analysis.MENTION_PREFIX + username.lower() for username in note.mentions]
    title = [token for token in title if token]
    return SearchDocument(
        note_id=note.note_id,
        title_terms=analysis.join_tokens(title),
        body_terms=analysis.join_tokens(body),
        length=TITLE_WEIGHT * len(title) + len(body),
        language=note.language,
        published_epoch=note.published_epoch,
    )


def _term_set(document: SearchDocument | None) -> set[str]:
    if document is None:
        return set()
    return set(document.title_terms.split()) | set(document.body_terms.split())


def _adjust_statistics(old: SearchDocument | None, new: SearchDocument | None) -> None:
    """Keep document frequencies, the document count and total length exact."""
    before, after = _term_set(old), _term_set(new)
    changes: dict[str, float] = dict.fromkeys(after - before, 1.0)
    changes.update(dict.fromkeys(before - after, -1.0))
    changes[DOCUMENT_COUNT] = float((new is not None) - (old is not None))
    changes[TOKEN_TOTAL] = (new.length if new else 0.0) - (old.length if old else 0.0)
    _add_to_statistics({token: delta for token, delta in changes.items() if delta})


def _add_to_statistics(changes: dict[str, float]) -> None:
    if not changes:
        return
    table = SearchTerm._meta.db_table
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (term, df) VALUES (%s, %s) ON CONFLICT (term) "  # noqa: S608
            f"DO UPDATE SET df = {table}.df + excluded.df",
            [(token[:64], delta) for token, delta in changes.items()],
        )


def unindex_notes(note_ids: list[int], batch_size: int = 500) -> set[str]:
    """Take many notes out of the index at once (their author's erasure), keeping the term
    statistics exact in one statement rather than a task per note; the terms they held.
    Documents are locked as ``index_note`` locks them, so an indexing task running
    meanwhile waits, then finds the document gone and changes nothing."""
    removed: Counter[str] = Counter()
    length, count = 0.0, 0
    for start in range(0, len(note_ids), batch_size):
        documents = SearchDocument.objects.select_for_update().filter(
            note_id__in=note_ids[start : start + batch_size]
        )
        for document in documents.only("note_id", "title_terms", "body_terms", "length"):
            removed.update(_term_set(document))
            length += document.length
            count += 1
        documents.delete()
    if count:
        changes = {term: -float(held) for term, held in removed.items()}
        changes[DOCUMENT_COUNT] = -float(count)
        changes[TOKEN_TOTAL] = -length
        _add_to_statistics(changes)
    return set(removed)


def index_note(note_id: int) -> None:
    """Bring one note's document in line with the note (or remove it)."""
    for attempt in range(2):
        try:
            _index_once(note_id)
            return
        except IntegrityError:  # another worker indexed the same new note first
            if attempt:
                raise


def _index_once(note_id: int) -> None:
    with transaction.atomic():
        old = SearchDocument.objects.select_for_update().filter(note_id=note_id).first()
        texts = note_texts(Note.objects.filter(pk=note_id))
        new = document_for(texts[0]) if texts else None
        _adjust_statistics(old, new)
        if new is None:
            if old is not None:
                old.delete()
        elif old is None:
            new.save(force_insert=True)
        elif _stored(old) != _stored(new):
            new.save(force_update=True)


def _stored(document: SearchDocument) -> tuple[object, ...]:
    return (
        document.title_terms,
        document.body_terms,
        document.length,
        document.language,
        document.published_epoch,
    )


def reindex_all(*, batch_size: int = 2000) -> int:
    """Rebuild the whole index from the notes; returns how many notes were indexed."""
    frequencies: Counter[str] = Counter()
    indexed = 0
    total_length = 0.0
    with transaction.atomic():
        with connection.cursor() as cursor:
            for statement in backend_for().clear():
                cursor.execute(statement)
        SearchTerm.objects.all().delete()
        last = 0
        while True:
            batch = Note.objects.filter(pk__gt=last).order_by("pk")[:batch_size]
            last_in_batch = max(batch.values_list("pk", flat=True), default=None)
            if last_in_batch is None:
                break
            notes = Note.objects.filter(pk__gt=last, pk__lte=last_in_batch)
            documents = [document_for(text) for text in note_texts(notes)]
            SearchDocument.objects.bulk_create(documents, batch_size=500)
            for document in documents:
                frequencies.update(_term_set(document))
                total_length += document.length
            indexed += len(documents)
            last = last_in_batch
        frequencies[DOCUMENT_COUNT] = indexed
        SearchTerm.objects.bulk_create(
            [SearchTerm(term=token[:64], df=count) for token, count in frequencies.items()]
            + [SearchTerm(term=TOKEN_TOTAL, df=total_length)],
            batch_size=2000,
        )
    return indexed


# --- Query counts and history ---------------------------------------------------------------


def stored_query(query: str) -> str:
    """The form in which queries are counted and kept: normalised, spaces collapsed."""
    text = analysis.normalize(analysis.clean_query(query, MAX_STORED_QUERY))
    return " ".join(text.split())[:MAX_STORED_QUERY]


def searcher(request: HttpRequest) -> str:
    """Who is searching, only to count each query once per person and hour: the member, or
    for visitors their address (hashed before it is used as a cache key, never stored)."""
    user = getattr(request, "user", None)
    if isinstance(user, Member):
        return f"member:{user.pk}"
    return f"address:{ratelimit.client_ip(request)}"


def record_search(*, member: Member | None, visitor: str, query: str) -> None:
    """Count the query for trending searches (once per visitor and hour, so one person paging
    or switching tabs cannot make it trend); keep it in the member's history if they chose."""
    text = stored_query(query)
    if not text:
        return
    now = timezone.now()
    seen = hashlib.sha256(f"{visitor}\n{text}".encode()).hexdigest()
    if cache.add(f"search-counted:{seen}", 1, timeout=COUNT_ONCE_PER_SECONDS):
        table = QueryCount._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (query, day, count) VALUES (%s, %s, 1) "  # noqa: S608
                f"ON CONFLICT (query, day) DO UPDATE SET count = {table}.count + 1",
                [text, now.date()],
            )
    if member is not None and member.keeps_search_history:
        _remember(member, text, now)


def _remember(member: Member, text: str, now: datetime) -> None:
    with transaction.atomic():
        HistoryEntry.objects.bulk_create(
            [HistoryEntry(member=member, query=text, searched_at=now)],
            update_conflicts=True,
            unique_fields=["member", "query"],
            update_fields=["searched_at"],
        )
        kept = HistoryEntry.objects.filter(member=member).order_by("-searched_at")
        stale = list(kept.values_list("pk", flat=True)[HISTORY_SIZE:])
        HistoryEntry.objects.filter(pk__in=stale).delete()


def clear_history(*, member: Member) -> int:
    return HistoryEntry.objects.filter(member=member).delete()[0]


def set_keeps_history(*, member: Member, keep: bool) -> None:
    """Turning history off also forgets what was kept."""
    with transaction.atomic():
        Member.objects.filter(pk=member.pk).update(keeps_search_history=keep)
        member.keeps_search_history = keep
        if not keep:
            clear_history(member=member)


EMBED_BATCH = 32


def embedded_text(note: NoteText) -> str:
    """What a note's embedding is made of: its title, body and topics."""
    topics = " ".join(f"#{topic}" for topic in note.topics)
    return f"{note.title}\n{note.body}\n{topics}".strip()


def embed_note(note_id: int) -> None:
    """Give a published note its embedding (again only if its text changed); drop the
    embedding of a note that is gone or unpublished."""
    texts = note_texts(Note.objects.filter(pk=note_id))
    if not texts:
        NoteVector.objects.filter(note_id=note_id).delete()
        return
    _store_vectors(texts)


def embed_all(*, batch_size: int = 1000) -> int:
    """Embed every published note whose embedding is missing or stale; returns how many."""
    if not settings.SEMANTIC_SEARCH:
        return 0
    embedded, last = 0, 0
    while True:
        ids = list(
            Note.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return embedded
        embedded += _store_vectors(note_texts(Note.objects.filter(pk__in=ids)))
        last = ids[-1]


def _store_vectors(texts: list[NoteText]) -> int:
    current = dict(
        NoteVector.objects.filter(note_id__in=[t.note_id for t in texts]).values_list(
            "note_id", "text_hash"
        )
    )
    stale = [
        (text, hashed)
        for text in texts
        if current.get(text.note_id) != (hashed := language_queries.text_hash(embedded_text(text)))
    ]
    for start in range(0, len(stale), EMBED_BATCH):
        batch = stale[start : start + EMBED_BATCH]
        vectors = embedding.passages([embedded_text(text) for text, _ in batch])
        now = timezone.now()
        for (text, hashed), vector in zip(batch, vectors, strict=True):
            NoteVector.objects.update_or_create(
                note_id=text.note_id,
                defaults={
                    "text_hash": hashed,
                    "vector": embedding.to_bytes(vector),
                    "updated_at": now,
                },
            )
    return len(stale)
