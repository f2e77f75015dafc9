"""Read paths for notifications: the grouped list and the unread count, for the API and the web.

Grouping happens here, when reading: the likes (or collects) of one target share a
``group_key``; the newest visible row of a group is the list item ("head") and carries its id.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.db.models import Count, Exists, F, OuterRef, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils.text import Truncator

from papercrane.accounts import queries as account_queries
from papercrane.accounts.models import Member
from papercrane.live.models import Room
from papercrane.notes import queries as note_queries
from papercrane.notes.models import Note
from papercrane.notifications.models import GROUPED_VERBS, Notification

SHOWN_ACTORS = 3
COMMENT_EXCERPT = 200


@dataclass(frozen=True)
class Item:
    """One line of the notification list: a single event, or the likes of one target."""

    id: int
    verb: str
    actors: list[Member]
    actor_count: int
    note: Note | None
    comment: dict[str, str] | None
    created_at: datetime
    read: bool
    decision_id: int | None = None  # moderation verbs: the decision it is about
    room: Room | None = None  # live verbs: the room (its title and status)

    @property
    def others(self) -> int:
        """How many actors the sentence does not name ("A and 12 others")."""
        return self.actor_count - 1


def visible(recipient: Member | int) -> QuerySet[Notification]:
    """The recipient's notifications, without those from muted, blocked or departed members."""
    return (
        Notification.objects.filter(recipient=recipient, actor__is_active=True)
        .exclude(actor__in=account_queries.muted_ids(recipient))
        .exclude(actor__in=account_queries.blocked_ids(recipient))
        .exclude(actor__in=account_queries.blocker_ids(recipient))
    )


def heads(recipient: Member | int) -> QuerySet[Notification]:
    """One row per list item, the newest of its group; order by ``-pk`` to page newest first."""
    rows = visible(recipient)
    newer = rows.filter(group_key=OuterRef("group_key"), pk__gt=OuterRef("pk"))
    return rows.filter(~Exists(newer)).select_related("actor")


def unread_count(recipient: Member | int) -> int:
    """The badge: list items with something unread in them."""
    unread = visible(recipient).filter(read_at__isnull=True)
    return unread.values("group_key").distinct().count()


def items(recipient: Member, page: list[Notification]) -> list[Item]:
    """Shape a page of heads into list items, in a fixed number of queries."""
    grouped = [head.group_key for head in page if head.verb in GROUPED_VERBS]
    counts, actors = _group_counts(recipient, grouped), _group_actors(recipient, grouped)
    notes = _notes(recipient, {head.note_id for head in page if head.note_id})
    comments = _comments({head.comment_id for head in page if head.comment_id})
    rooms = _rooms({head.room_id for head in page if head.room_id})
    return [
        Item(
            id=head.pk,
            verb=head.verb,
            actors=actors.get(head.group_key, [head.actor]),
            actor_count=counts.get(head.group_key, 1),
            note=notes.get(head.note_id) if head.note_id else None,
            comment=comments.get(head.comment_id) if head.comment_id else None,
            created_at=head.created_at,
            read=head.read_at is not None,
            decision_id=head.decision_id,
            room=rooms.get(head.room_id) if head.room_id else None,
        )
        for head in page
    ]


def _group_counts(recipient: Member, keys: list[str]) -> dict[str, int]:
    """Actors per group (one row per actor: the dedupe key includes the actor)."""
    if not keys:
        return {}
    rows = visible(recipient).filter(group_key__in=keys).values("group_key")
    return {row["group_key"]: row["n"] for row in rows.annotate(n=Count("pk"))}


def _group_actors(recipient: Member, keys: list[str]) -> dict[str, list[Member]]:
    """The latest few actors of each group, newest first, in one query."""
    if not keys:
        return {}
    ranked = (
        visible(recipient)
        .filter(group_key__in=keys)
        .annotate(rank=Window(RowNumber(), partition_by=[F("group_key")], order_by=F("pk").desc()))
        .filter(rank__lte=SHOWN_ACTORS)
        .select_related("actor")
        .order_by("group_key", "-pk")
    )
    found: dict[str, list[Member]] = defaultdict(list)
    for row in ranked:
        found[row.group_key].append(row.actor)
    return found


def _notes(recipient: Member, ids: set[int]) -> dict[int, Note]:
    """The notes the items point at, as the recipient may see them (with cover media)."""
    if not ids:
        return {}
    notes = note_queries.with_details(note_queries.visible_notes(recipient)).filter(pk__in=ids)
    return {note.pk: note for note in notes}


def _rooms(ids: set[int]) -> dict[int, Room]:
    """The live rooms the items point at, in one query (only what an item shows)."""
    if not ids:
        return {}
    rows = Room.objects.filter(pk__in=ids).only("pk", "title", "status", "host_id")
    return {room.pk: room for room in rows}


def _comments(ids: set[int]) -> dict[int, dict[str, str]]:
    """Comment excerpts, once the engagement app (which owns comments) is installed."""
    if not ids:
        return {}
    try:
        comment_model: Any = apps.get_model("engagement", "Comment")
    except LookupError:
        return {}
    rows = comment_model.objects.filter(pk__in=ids).values_list("pk", "body")
    return {
        pk: {"id": str(pk), "body": Truncator(body).chars(COMMENT_EXCERPT)} for pk, body in rows
    }
