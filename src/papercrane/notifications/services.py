"""Every write to notifications (store, retract, mark read) and live delivery to open pages."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db.models import Q
from django.utils import timezone

from papercrane.accounts.models import Block, Member, Mute
from papercrane.notes.queries import visible_notes
from papercrane.notifications.models import GROUPED_VERBS, Notification, Verb
from papercrane.notifications.queries import unread_count

logger = logging.getLogger(__name__)


def member_group(member_id: int) -> str:
    return f"member.{member_id}"


def push_to_member(member_id: int, event: dict[str, Any]) -> None:
    """Send ``event`` to every WebSocket the member has open, in any process."""
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(
        member_group(member_id), {"type": "member.event", "event": event}
    )


def push_unread_count(member_id: int) -> None:
    """Tell the member's open pages their new badge count. Best effort: a stored notification
    must not be lost, nor a request fail, because the channel layer is unreachable."""
    try:
        push_to_member(member_id, {"type": "notification.count", "unread": unread_count(member_id)})
    except Exception:  # the layer (Redis) is down: the badge catches up on the next page load
        logger.warning("could not push the notification count", exc_info=True)


def _keys(
    verb: str, actor_id: int, note_id: int | None, comment_id: int | None, room_id: int | None
) -> tuple[str, str]:
    """(group_key, dedupe_key): rows of one list item share the first; repeats share both."""
    target = f"{verb}:{note_id or '-'}:{comment_id or '-'}"
    if room_id is not None:
        target += f":room{room_id}"
    dedupe_key = f"{target}:{actor_id}"
    return (target if verb in GROUPED_VERBS else dedupe_key), dedupe_key


def _silenced(recipient_id: int, actor_id: int) -> bool:
    """True when the recipient must not hear from the actor: gone, blocked either way, muted."""
    if not Member.objects.filter(pk=recipient_id, is_active=True).exists():
        return True
    blocked = Block.objects.filter(
        Q(blocker_id=recipient_id, blocked_id=actor_id)
        | Q(blocker_id=actor_id, blocked_id=recipient_id)
    ).exists()
    return blocked or Mute.objects.filter(muter_id=recipient_id, muted_id=actor_id).exists()


def _can_see_note(recipient_id: int, note_id: int) -> bool:
    recipient = Member.objects.filter(pk=recipient_id).first()
    return recipient is not None and visible_notes(recipient).filter(pk=note_id).exists()


def notify(
    *,
    recipient_id: int,
    actor_id: int,
    verb: str,
    note_id: int | None = None,
    comment_id: int | None = None,
    room_id: int | None = None,
) -> None:
    """Store that ``actor`` did ``verb`` to something of ``recipient``'s and update their badge.

    Silently does nothing for oneself, across a block, from a muted actor, about a note the
    recipient cannot see (a mention in a followers-only note must not reveal it), or when the
    same event was already stored (like, unlike, like again notifies once). Call it on commit.
    """
    if verb not in Verb.values:
        raise ValueError(f"unknown notification verb {verb!r}")
    if recipient_id == actor_id or _silenced(recipient_id, actor_id):
        return
    if note_id is not None and not _can_see_note(recipient_id, note_id):
        return
    group_key, dedupe_key = _keys(verb, actor_id, note_id, comment_id, room_id)
    created = Notification.objects.get_or_create(
        recipient_id=recipient_id,
        dedupe_key=dedupe_key,
        defaults={
            "actor_id": actor_id,
            "verb": verb,
            "note_id": note_id,
            "comment_id": comment_id,
            "room_id": room_id,
            "group_key": group_key,
        },
    )[1]
    if created:
        push_unread_count(recipient_id)


MODERATION_VERBS = frozenset({Verb.DECISION, Verb.APPEAL_DECIDED, Verb.REPORT_OUTCOME})
# What concerns the recipient alone and has no other member as its actor.
OWN_VERBS = MODERATION_VERBS | {Verb.EXPORT_READY}


def notify_member(*, recipient_id: int, verb: str, decision_id: int) -> None:
    """Tell a member about a moderation decision (about them, their appeal or their report),
    or that their data export is ready (``decision_id`` is then the export's id: it only
    tells two exports apart, the notification links to the "Your data" page). No one is
    named: the member is their own "actor". Call it on commit."""
    if verb not in OWN_VERBS:
        raise ValueError(f"not a verb about the member alone: {verb!r}")
    key = f"{verb}:{decision_id}"
    created = Notification.objects.get_or_create(
        recipient_id=recipient_id,
        dedupe_key=key,
        defaults={
            "actor_id": recipient_id,
            "verb": verb,
            "decision_id": decision_id if verb in MODERATION_VERBS else None,
            "group_key": key,
        },
    )[1]
    if created:
        push_unread_count(recipient_id)


def retract(
    *,
    recipient_id: int,
    actor_id: int,
    verb: str,
    note_id: int | None = None,
    comment_id: int | None = None,
) -> None:
    """Remove a notification that no longer holds (a follow request answered or withdrawn)."""
    dedupe_key = _keys(verb, actor_id, note_id, comment_id, None)[1]
    deleted, _unused = Notification.objects.filter(
        recipient_id=recipient_id, dedupe_key=dedupe_key
    ).delete()
    if deleted:
        push_unread_count(recipient_id)


def discard_comment(comment_id: int) -> None:
    """Forget every notification about a deleted comment (notes cascade by foreign key)."""
    recipients = set(
        Notification.objects.filter(comment_id=comment_id).values_list("recipient_id", flat=True)
    )
    Notification.objects.filter(comment_id=comment_id).delete()
    for recipient_id in recipients:
        push_unread_count(recipient_id)


def mark_read(*, member: Member, ids: Iterable[int] | None = None) -> None:
    """Mark the member's notifications read: all of them, or the list items ``ids`` name.

    An item id is the newest row of its group; the rows up to it are marked, so likes that
    arrive after the member looked stay unread. Ids of other members' rows are ignored.
    """
    unread = Notification.objects.filter(recipient=member, read_at__isnull=True)
    if ids is not None:
        heads = Notification.objects.filter(recipient=member, pk__in=list(ids))
        condition = Q(pk__in=[])
        for pk, group_key in heads.values_list("pk", "group_key"):
            condition |= Q(group_key=group_key, pk__lte=pk)
        unread = unread.filter(condition)
    if unread.update(read_at=timezone.now()):
        push_unread_count(member.pk)
