"""Automated screening of what members post: the operator's keyword lists, the English
profanity model, spam heuristics and the banned-image hash list, run in background tasks.

What is found goes to the queue as flags (``services.flag``); only high-confidence signals
hide an item pending review. The operator's lists are compiled once per process and
recompiled when the operator changes them (a version number in the shared cache says so).
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

from django.core.cache import cache
from django.utils import timezone

from papercrane.engagement.models import Comment
from papercrane.media.models import Media
from papercrane.moderation import classifiers, hashing, queries, services, targets
from papercrane.moderation.classifiers import KeywordMatcher, PatternSpec, Signal
from papercrane.moderation.models import TargetType
from papercrane.notes.models import Note

LISTS_VERSION_KEY = "moderation:lists-version"
RECENT_WINDOW = dt.timedelta(hours=24)  # what the spam heuristics compare a post with
RECENT_LIMIT = 50
IMAGE_SOURCE = "image_hash"


@dataclass(frozen=True)
class Lists:
    version: int
    matcher: KeywordMatcher
    images: hashing.HashIndex[int]
    image_rules: dict[int, str]  # banned image id -> rule code


_compiled: Lists | None = None
_lock = threading.Lock()


def lists_changed() -> None:
    """Tell every process to recompile the operator's lists before the next screening."""
    try:
        cache.incr(LISTS_VERSION_KEY)
    except ValueError:
        cache.set(LISTS_VERSION_KEY, 1, timeout=None)


def operator_lists() -> Lists:
    global _compiled
    version = cache.get(LISTS_VERSION_KEY) or 0
    with _lock:
        if _compiled is None or _compiled.version != version:
            _compiled = _compile(version)
        return _compiled


def _compile(version: int) -> Lists:
    specs = [
        PatternSpec(
            pattern=row.pattern,
            rule_code=row.rule.code,
            language=row.language,
            hides=row.hides,
            is_regex=row.is_regex,
        )
        for row in queries.keyword_patterns()
    ]
    images = list(queries.banned_images())
    entries = [(image.pk, hash_hex) for image in images for hash_hex in image.hashes]
    return Lists(
        version,
        KeywordMatcher.from_specs(specs),
        hashing.HashIndex(entries),
        {image.pk: image.rule.code for image in images},
    )


def _recent_posts(target: targets.Target, now: dt.datetime) -> list[tuple[str, dt.datetime]]:
    """The author's other notes and comments of the last day (texts and times), newest first."""
    since = now - RECENT_WINDOW
    notes = Note.objects.filter(author_id=target.subject_id, created_at__gte=since)
    comments = Comment.objects.filter(author_id=target.subject_id, created_at__gte=since)
    posts = [
        (f"{title}\n{body}", created)
        for pk, title, body, created in notes.order_by("-pk").values_list(
            "pk", "title", "body", "created_at"
        )[:RECENT_LIMIT]
        if (TargetType.NOTE, pk) != (target.type, target.id)
    ]
    posts += [
        (body, created)
        for pk, body, created in comments.order_by("-pk").values_list("pk", "body", "created_at")[
            :RECENT_LIMIT
        ]
        if (TargetType.COMMENT, pk) != (target.type, target.id)
    ]
    return sorted(posts, key=lambda post: post[1], reverse=True)[:RECENT_LIMIT]


def _text_signals(target: targets.Target, lists: Lists) -> list[Signal]:
    now = timezone.now()
    author = targets.load(TargetType.MEMBER, target.subject_id)
    if author is None:
        return []
    recent = _recent_posts(target, now)
    found = classifiers.classify_text(target.text, target.language, lists.matcher)
    found += classifiers.spam_signals(
        target.text,
        account_age=now - author.item.date_joined,
        recent_texts=[text for text, _ in recent],
        recent_post_times=[created for _, created in recent],
        now=now,
    )
    return found


def _image_signals(note_id: int, lists: Lists) -> list[Signal]:
    if not len(lists.images):
        return []
    found = []
    photos = Media.objects.filter(note_id=note_id, is_text_cover=False).exclude(pdq_hash="")
    for media_id, pdq_hash, quality in photos.values_list("pk", "pdq_hash", "pdq_quality"):
        match = lists.images.match(pdq_hash, quality=quality)
        if match is not None:
            image_id, distance = match
            found.append(
                Signal(
                    source=IMAGE_SOURCE,
                    label="image_hash.banned",
                    score=1.0 - distance / hashing.HASH_BITS,
                    high_confidence=True,  # an operator-listed image: hide until reviewed
                    rule_code=lists.image_rules[image_id],
                    detail=f"photo {media_id} matches listed image {image_id} "
                    f"({distance} of {hashing.HASH_BITS} bits differ)",
                )
            )
    return found


def screen_note(note_id: int) -> None:
    """Screen a published note's text and photos."""
    target = targets.load(TargetType.NOTE, note_id)
    if target is None:
        return
    lists = operator_lists()
    services.flag(
        target=target, signals=_text_signals(target, lists) + _image_signals(note_id, lists)
    )


def screen_comment(comment_id: int) -> None:
    target = targets.load(TargetType.COMMENT, comment_id)
    if target is None:
        return
    services.flag(target=target, signals=_text_signals(target, operator_lists()))


def screen_photo(media_id: int) -> None:
    """A photo's fingerprint is ready (it is computed after upload): check its note's photos
    against the hash list, if it belongs to a published note already."""
    note_id = Media.objects.filter(pk=media_id).values_list("note_id", flat=True).first()
    if note_id is None:
        return
    target = targets.load(TargetType.NOTE, note_id)
    if target is not None:
        services.flag(target=target, signals=_image_signals(note_id, operator_lists()))
