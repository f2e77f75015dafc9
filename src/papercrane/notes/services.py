"""Every write to notes: create (or draft), edit, publish and delete, with topics and mentions."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from papercrane import ratelimit
from papercrane.accounts import queries as account_queries
from papercrane.accounts.models import Block, Member
from papercrane.ids import parse_id
from papercrane.language import detection
from papercrane.language import services as language_services
from papercrane.media import processing
from papercrane.media import services as media_services
from papercrane.media.models import Media
from papercrane.moderation import classifiers
from papercrane.moderation import services as moderation_services
from papercrane.notes import text
from papercrane.notes.models import Mention, Note, NoteTopic, Topic, Visibility, VisibilityChange
from papercrane.search import analysis as search_analysis
from papercrane.search import services as search_services

MAX_MEDIA = 18
MAX_MENTIONS = 20
NOTES_PER_MEMBER = ratelimit.Rate(limit=60, period_seconds=3600)
NOTES_PER_NEW_MEMBER = ratelimit.Rate(limit=10, period_seconds=3600)  # a spam-wave throttle
TEXT_COVER_COLOURS = ("#ff2442", "#2f6fed", "#12a37f", "#f29d38", "#8c5cf2", "#e0457b", "#1d8fb8")


class EditConflict(Exception):
    """The note changed since the editor loaded it (their ``version`` is stale)."""


@dataclass
class NoteFields:
    """What an author writes; every field is checked before anything is stored."""

    title: str
    body: str = ""
    media_ids: Sequence[str | int] = ()
    topics: Sequence[str] = ()
    language: str = ""
    visibility: str = Visibility.PUBLIC
    place_name: str = ""
    place_city: str = ""
    draft: bool = False
    _errors: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def error(self, name: str, message: str) -> None:
        self._errors.setdefault(name, []).append(message)

    def raise_errors(self) -> None:
        if self._errors:
            raise ValidationError(self._errors)


def _check_text(fields: NoteFields) -> None:
    fields.title = text.clean_text(fields.title)
    fields.body = text.clean_text(fields.body)
    if not fields.title:
        fields.error("title", _("Give your note a title."))
    elif text.display_units(fields.title) > text.TITLE_MAX_UNITS:
        fields.error("title", _("Titles hold up to 20 Chinese or 40 Latin characters."))
    if len(fields.body) > text.BODY_MAX_CHARS:
        fields.error(
            "body", _("Use at most %(count)s characters.") % {"count": text.BODY_MAX_CHARS}
        )
    if fields.visibility not in Visibility.values:
        fields.error("visibility", _("Choose who can see this note."))
    fields.place_name = text.clean_text(fields.place_name)[:100]
    fields.place_city = text.clean_text(fields.place_city)[:100]
    fields.language = fields.language.strip()
    if fields.language and fields.language not in detection.CODES:
        fields.error("language", _("Choose a language from the list, or leave it empty."))


def _language(fields: NoteFields) -> str:
    """The language the author chose, else the one the title and body are written in."""
    return fields.language or detection.detect(f"{fields.title}\n{fields.body}")


def _topic_names(fields: NoteFields) -> list[str]:
    """Explicit topics first, then those written in the body; deduplicated by their key."""
    names: dict[str, str] = {}
    for name in [*fields.topics, *text.topics_in(fields.body)]:
        cleaned = text.clean_text(str(name)).lstrip("#").strip()
        key = text.normalize_topic(cleaned)
        if not key:
            continue
        if len(key) > text.TOPIC_MAX_CHARS or "/" in key or any(c.isspace() for c in cleaned):
            fields.error("topics", _("Topics are single words of up to 30 characters."))
            continue
        names.setdefault(key, cleaned)
    if len(names) > text.MAX_TOPICS:
        fields.error("topics", _("Use at most %(count)s topics.") % {"count": text.MAX_TOPICS})
    return list(names.values())


def _own_media(author: Member, fields: NoteFields, note: Note | None) -> list[Media]:
    """The author's own, usable media in the order given; errors for anything else."""
    ids = [str(media_id) for media_id in fields.media_ids]
    if len(ids) > MAX_MEDIA:
        fields.error(
            "media_ids", _("A note holds at most %(count)s images.") % {"count": MAX_MEDIA}
        )
        return []
    if len(set(ids)) != len(ids):
        fields.error("media_ids", _("Each image can appear once."))
        return []
    numeric = [pk for pk in map(parse_id, ids) if pk is not None]
    found = {
        str(media.pk): media
        for media in Media.objects.filter(pk__in=numeric, owner=author, is_text_cover=False)
        if media.note_id is None or (note is not None and media.note_id == note.pk)
    }
    missing = [media_id for media_id in ids if media_id not in found]
    if missing:
        fields.error("media_ids", _("Unknown images: %(ids)s.") % {"ids": ", ".join(missing)})
    failed = [media_id for media_id, media in found.items() if media.status == Media.Status.FAILED]
    if failed:
        fields.error(
            "media_ids",
            _("These images could not be processed: %(ids)s.") % {"ids": ", ".join(failed)},
        )
    return [found[media_id] for media_id in ids if media_id in found]


def _set_topics(note: Note, names: list[str]) -> None:
    old = set(note.topics.values_list("pk", flat=True))
    NoteTopic.objects.filter(note=note).delete()
    new: list[int] = []
    for position, name in enumerate(names):
        topic, _created = Topic.objects.get_or_create(
            key=text.normalize_topic(name),
            defaults={"name": name, "pinyin": search_analysis.pinyin_key(name)[:120]},
        )
        NoteTopic.objects.create(note=note, topic=topic, position=position)
        new.append(topic.pk)
    Topic.objects.filter(pk__in=set(new) - old).update(note_count=F("note_count") + 1)
    Topic.objects.filter(pk__in=old - set(new)).update(note_count=F("note_count") - 1)


def _set_mentions(note: Note) -> None:
    """Link @usernames that exist, have not blocked the author (they would not be reachable)
    and accept mentions from the author."""
    Mention.objects.filter(note=note).delete()
    usernames = {name.lower() for name in text.mentions_in(note.body)}
    if not usernames:
        return
    named = Q()
    for username in sorted(usernames)[:MAX_MENTIONS]:
        named |= Q(username__iexact=username)
    blocked_by = Block.objects.filter(blocked=note.author).values("blocker")
    members = (
        Member.objects.filter(named, is_active=True)
        .filter(account_queries.accepting_from("mentions_from", note.author_id))
        .exclude(pk__in=blocked_by)
        .exclude(pk=note.author_id)
    )
    Mention.objects.bulk_create([Mention(note=note, member=member) for member in members])


def _attach_media(note: Note, media: list[Media]) -> None:
    """Make ``media`` the note's images in this order; delete the images an edit dropped.

    Each image is claimed only if it is still free (or already this note's), inside the
    caller's transaction, so two notes posted at once cannot both take the same photo.
    """
    keep = {item.pk for item in media}
    for dropped in note.media.filter(is_text_cover=False).exclude(pk__in=keep):
        media_services.delete(dropped)
    for position, item in enumerate(media):
        claimed = (
            Media.objects.filter(pk=item.pk)
            .filter(Q(note__isnull=True) | Q(note=note))
            .update(note=note, position=position + 1)
        )
        if not claimed:
            raise ValidationError({"media_ids": [_("Unknown images: %(ids)s.") % {"ids": item.pk}]})


def _refresh_text_cover(note: Note, has_photos: bool) -> None:
    """Text-only notes get a generated cover showing the title; notes with photos need none."""
    for cover in note.media.filter(is_text_cover=True):
        media_services.delete(cover)
    if has_photos:
        return
    colour = TEXT_COVER_COLOURS[
        int(hashlib.sha256(note.title.encode()).hexdigest(), 16) % len(TEXT_COVER_COLOURS)
    ]
    cover = media_services.upload(
        owner=note.author,
        data=processing.text_cover(note.title, colour),
        alt_text=note.title,
        text_cover=True,
    )
    Media.objects.filter(pk=cover.pk).update(note=note, position=0)


def create_note(*, author: Member, fields: NoteFields) -> Note:
    """Publish (or save as a draft) a note with its images, topics and mentions, all at once."""
    rate = (
        NOTES_PER_NEW_MEMBER
        if classifiers.is_new_account(timezone.now() - author.date_joined)
        else NOTES_PER_MEMBER
    )
    ratelimit.check("note-create", str(author.pk), rate)
    _check_text(fields)
    topic_names = _topic_names(fields)
    media = _own_media(author, fields, note=None)
    fields.raise_errors()
    ratelimit.hit("note-create", str(author.pk), rate)
    now = timezone.now()
    with transaction.atomic():
        note = Note.objects.create(
            author=author,
            title=fields.title,
            body=fields.body,
            language=_language(fields),
            language_chosen=bool(fields.language),
            visibility=fields.visibility,
            place_name=fields.place_name,
            place_city=fields.place_city,
            status=Note.Status.DRAFT if fields.draft else Note.Status.PUBLISHED,
            published_at=None if fields.draft else now,
        )
        _attach_media(note, media)
        _refresh_text_cover(note, has_photos=bool(media))
        _set_topics(note, topic_names)
        _set_mentions(note)
        search_services.note_changed(note.pk)
        if not fields.draft:
            moderation_services.posted("note", note.pk)
    return note


def update_note(
    *, note: Note, fields: NoteFields, changed: set[str], version: int | None = None
) -> Note:
    """Apply the ``changed`` fields. With ``version``, refuse (EditConflict) if someone else
    edited first; without it, edits apply one after another (the write lock serialises them)."""
    current_media = [str(m.pk) for m in note.media.filter(is_text_cover=False)]
    if "media_ids" not in changed:
        fields.media_ids = current_media
    _check_text(fields)
    topic_names = _topic_names(fields) if {"topics", "body"} & changed else None
    media = _own_media(note.author, fields, note=note)
    fields.raise_errors()
    with transaction.atomic():
        locked = Note.objects.select_for_update().get(pk=note.pk)
        if version is not None and version != locked.version:
            raise EditConflict
        title_changed = "title" in changed and fields.title != locked.title
        language_services.forget(
            [getattr(locked, name) for name in ("title", "body") if name in changed]
        )
        for name in ("title", "body", "visibility", "place_name", "place_city"):
            if name in changed:
                setattr(locked, name, getattr(fields, name))
        if "language" in changed:
            locked.language_chosen = bool(fields.language)
            locked.language = fields.language
        if not locked.language_chosen:
            locked.language = _language(NoteFields(title=locked.title, body=locked.body))
        if "draft" in changed and not fields.draft and locked.status == Note.Status.DRAFT:
            locked.status = Note.Status.PUBLISHED
            locked.published_at = timezone.now()
        locked.version = F("version") + 1
        locked.save()
        locked.refresh_from_db()
        if "media_ids" in changed:
            _attach_media(locked, media)
        if "media_ids" in changed or title_changed:
            _refresh_text_cover(locked, has_photos=bool(media))
        if topic_names is not None:
            _set_topics(locked, topic_names)
        if "body" in changed:
            _set_mentions(locked)
        search_services.note_changed(locked.pk)
        if (
            locked.status == Note.Status.PUBLISHED
            and {"title", "body", "draft", "media_ids"} & changed
        ):
            moderation_services.posted("note", locked.pk)
    return locked


def delete_note(*, note: Note) -> None:
    """Delete the note, its images (from storage too) and its place in topic counts."""
    with transaction.atomic():
        _set_topics(note, [])
        for media in note.media.all():
            media_services.delete(media)
        search_services.note_changed(note.pk)
        comments = list(note.comments.values_list("body", flat=True))
        language_services.forget([note.title, note.body, *comments])
        note.delete()


VISIBILITY_CHANGES_KEPT_SECONDS = 3600  # readers look back seconds (``discoverability``)


def forget_old_visibility_changes() -> int:
    """Delete the log of visibility changes past its hour; returns how many rows went."""
    oldest_ms = (timezone.now().timestamp() - VISIBILITY_CHANGES_KEPT_SECONDS) * 1000
    deleted, _ = VisibilityChange.objects.filter(at_ms__lt=oldest_ms).delete()
    return deleted
