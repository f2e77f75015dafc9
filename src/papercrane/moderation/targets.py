"""What can be reported or decided on (notes, comments, members, live chat messages), read
and changed uniformly.

A ``Target`` carries what a statement of reasons needs to say about the item (its owner,
date and kind of content) and what moderation last did to it; ``set_state`` is the one place
that changes an item's moderation state, with everything that must follow (search index,
counters), so a reversal is the same call with the state from before.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import F

from papercrane.accounts.models import Member
from papercrane.engagement.models import Comment
from papercrane.ids import parse_id
from papercrane.live import services as live_services
from papercrane.live.models import Message
from papercrane.media.models import Media
from papercrane.moderation import standing
from papercrane.moderation.models import TargetType
from papercrane.notes.models import HIDDEN_STATES, Note
from papercrane.search import services as search_services

SUSPENDED = "suspended"  # the state of a member whose account is suspended
# A permanent suspension ends at a date no one will reach (one nullable column, one test).
PERMANENT = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Target:
    type: str
    id: int
    subject_id: int  # the member the item belongs to (or the member itself)
    state: str  # ContentState for notes and comments; SUSPENDED or "" for members
    rule_code: str
    content_date: dt.date
    content_types: tuple[str, ...]
    text: str  # what automated screening and moderators read
    language: str
    item: Any

    @property
    def is_hidden(self) -> bool:
        return self.state in HIDDEN_STATES


def load(target_type: str, target_id: str | int) -> Target | None:
    """The item, or None when it does not exist (or the type is unknown)."""
    pk = parse_id(target_id)
    if pk is None:
        return None
    if target_type == TargetType.NOTE:
        note = Note.objects.filter(pk=pk, status=Note.Status.PUBLISHED).first()
        return None if note is None else _note_target(note)
    if target_type == TargetType.COMMENT:
        comment = Comment.objects.filter(pk=pk).first()
        return None if comment is None else _comment_target(comment)
    if target_type == TargetType.MEMBER:
        member = Member.objects.filter(pk=pk, is_active=True).first()
        return None if member is None else _member_target(member)
    if target_type == TargetType.LIVE_MESSAGE:
        message = Message.objects.filter(pk=pk, deleted_at__isnull=True).first()
        return None if message is None else _message_target(message)
    return None


def load_many(keys: list[tuple[str, int]]) -> dict[tuple[str, int], Target]:
    """Several items at once (a page of the queue): a query per kind of item, not per item."""
    wanted: dict[str, list[int]] = {}
    for target_type, pk in keys:
        wanted.setdefault(target_type, []).append(pk)
    found: dict[tuple[str, int], Target] = {}
    note_ids = wanted.get(TargetType.NOTE, [])
    with_photos = set(
        Media.objects.filter(note_id__in=note_ids, is_text_cover=False).values_list(
            "note_id", flat=True
        )
    )
    for note in Note.objects.filter(pk__in=note_ids, status=Note.Status.PUBLISHED):
        found[TargetType.NOTE, note.pk] = _note_target(note, note.pk in with_photos)
    for comment in Comment.objects.filter(pk__in=wanted.get(TargetType.COMMENT, [])):
        found[TargetType.COMMENT, comment.pk] = _comment_target(comment)
    for member in Member.objects.filter(pk__in=wanted.get(TargetType.MEMBER, []), is_active=True):
        found[TargetType.MEMBER, member.pk] = _member_target(member)
    messages = Message.objects.filter(
        pk__in=wanted.get(TargetType.LIVE_MESSAGE, []), deleted_at__isnull=True
    )
    for message in messages:
        found[TargetType.LIVE_MESSAGE, message.pk] = _message_target(message)
    return found


def _note_target(note: Note, has_photos: bool | None = None) -> Target:
    if has_photos is None:
        has_photos = note.media.filter(is_text_cover=False).exists()
    kinds = ("CONTENT_TYPE_TEXT", "CONTENT_TYPE_IMAGE") if has_photos else ("CONTENT_TYPE_TEXT",)
    return Target(
        TargetType.NOTE,
        note.pk,
        note.author_id,
        note.moderation_state,
        note.moderation_rule,
        (note.published_at or note.created_at).date(),
        kinds,
        f"{note.title}\n{note.body}",
        note.language,
        note,
    )


def _comment_target(comment: Comment) -> Target:
    return Target(
        TargetType.COMMENT,
        comment.pk,
        comment.author_id,
        comment.moderation_state,
        comment.moderation_rule,
        comment.created_at.date(),
        ("CONTENT_TYPE_TEXT",),
        comment.body,
        comment.language,
        comment,
    )


def _message_target(message: Message) -> Target:
    return Target(
        TargetType.LIVE_MESSAGE,
        message.pk,
        message.author_id,
        message.moderation_state,
        message.moderation_rule,
        message.created_at.date(),
        ("CONTENT_TYPE_TEXT",),
        message.text,
        message.language,
        message,
    )


def _member_target(member: Member) -> Target:
    suspended = standing.is_suspended(member)
    return Target(
        TargetType.MEMBER,
        member.pk,
        member.pk,
        SUSPENDED if suspended else "",
        "",
        member.date_joined.date(),
        ("CONTENT_TYPE_TEXT", "CONTENT_TYPE_IMAGE") if member.avatar else ("CONTENT_TYPE_TEXT",),
        f"{member.display_name}\n{member.bio}",
        "",
        member,
    )


def set_state(target: Target, state: str, rule_code: str, until: dt.datetime | None) -> None:
    """Put the item in ``state`` (a ContentState, or for a member SUSPENDED until ``until``,
    or "" to lift it) and bring along what depends on it. Call inside a transaction."""
    if target.type == TargetType.MEMBER:
        # Reads leave out a suspended member's notes and comments by themselves.
        Member.objects.filter(pk=target.id).update(
            suspended_until=until if state == SUSPENDED else None
        )
        return
    code = rule_code if state else ""
    if target.type == TargetType.LIVE_MESSAGE:
        live_services.set_moderation_state(target.id, state, code)
        return
    if target.type == TargetType.NOTE:
        Note.objects.filter(pk=target.id).update(moderation_state=state, moderation_rule=code)
        search_services.note_changed(target.id)
        return
    Comment.objects.filter(pk=target.id).update(moderation_state=state, moderation_rule=code)
    _count_comment(target, was_hidden=target.is_hidden, hidden=state in HIDDEN_STATES)


def _count_comment(target: Target, *, was_hidden: bool, hidden: bool) -> None:
    """A hidden comment leaves its note's comment count (and its thread's reply count);
    shown again, it comes back. Only a change of visibility moves a counter."""
    if was_hidden == hidden:
        return
    step = -1 if hidden else 1
    comment = target.item
    Note.objects.filter(pk=comment.note_id).update(comment_count=F("comment_count") + step)
    if comment.parent_id:
        Comment.objects.filter(pk=comment.parent_id).update(reply_count=F("reply_count") + step)


def describe(target: Target) -> dict[str, Any]:
    """The item's moderation state for the audit log's before/after."""
    return {"state": target.state, "rule": target.rule_code}
