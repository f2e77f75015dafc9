"""Every write to engagement: likes, collects and boards, comments with replies, pins, mentions.

Each write is one transaction that creates or deletes the row a counter counts and moves the
counter with ``F()`` only when a row really changed, so counters stay exact however many requests
arrive at once. Callers pass objects the member may see (``queries`` finds them); the services
enforce what the member may *do* with them. Notifications go out after commit.

Locking: SQLite runs write transactions one at a time (IMMEDIATE). On PostgreSQL, rows that
several requests change together are locked ``FOR NO KEY UPDATE`` (rows referencing them can
still be inserted), always in the same order -- note, comment thread, reply; or board, collect,
note counter -- and no transaction takes a board or collect lock after a note lock, so two
transactions never wait for each other in a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, Model, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from papercrane import ratelimit
from papercrane.accounts import queries as account_queries
from papercrane.accounts.models import Audience, Block, Member
from papercrane.engagement.models import (
    Board,
    BoardEntry,
    Collect,
    Comment,
    CommentLike,
    CommentMention,
    Like,
)
from papercrane.language import detection
from papercrane.language import services as language_services
from papercrane.moderation import classifiers
from papercrane.moderation import services as moderation_services
from papercrane.notes import text
from papercrane.notes.models import Note

LIKES_PER_MEMBER = ratelimit.Rate(limit=300, period_seconds=60)  # likes and collects, both ways
COMMENTS_PER_MEMBER = ratelimit.Rate(limit=30, period_seconds=60)
COMMENTS_PER_NEW_MEMBER = ratelimit.Rate(limit=5, period_seconds=60)  # a spam-wave throttle
COMMENT_MAX_CHARS = 500
BOARD_NAME_MAX_CHARS = 30
BOARD_DESCRIPTION_MAX_CHARS = 200
MAX_BOARDS = 200
MAX_MENTIONS = 20
EDIT_WINDOW = timedelta(minutes=15)
AUTHOR_REPLY_BONUS = 10  # relevance: a thread the note's author answered ranks like 10 more likes
_RETRIES = 3


class NotFound(Http404):
    """The object went away while we worked on it (deleted by a concurrent request)."""


class CommentsClosed(PermissionDenied):
    """The note's author accepts comments only from their followers, or from nobody (a 403
    saying so in the API; a message on the web)."""


class EditWindowClosed(Exception):
    """Comments can be edited for ``EDIT_WINDOW`` after they are posted, not later."""


class DefaultBoardUndeletable(Exception):
    """Every member keeps their default board; it can be emptied, renamed, made private."""


@dataclass(frozen=True)
class Toggle:
    """The state after a like/collect change and the counter it moved."""

    active: bool
    count: int


def _field_error(field: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({field: [ValidationError(message, code=code)]})


def _move(model: type[Model], pk: int, field: str, step: int, **also: Any) -> None:
    """Move a counter in the database (never read-modify-write in Python)."""
    model._default_manager.filter(pk=pk).update(**{field: F(field) + step}, **also)


def _counter(model: type[Model], pk: int, field: str) -> int:
    return int(model._default_manager.filter(pk=pk).values_list(field, flat=True).first() or 0)


def _lock(model: type[Model], pk: int) -> None:
    """Lock a row for the rest of the transaction (see "Locking" above); NotFound if it was
    deleted meanwhile -- on SQLite too, where the check is what matters."""
    rows = model._default_manager.select_for_update(no_key=True).filter(pk=pk)
    if not list(rows.values_list("pk", flat=True)):
        raise NotFound


def _insert_new(model: type[Model], **values: Any) -> int | None:
    """Insert a row unless one with the same unique key exists; the new row's id, or None.

    ``INSERT … ON CONFLICT DO NOTHING RETURNING`` (the same SQL on SQLite ≥ 3.35 and
    PostgreSQL) does in one statement what ``get_or_create`` does in four (a select, and the
    insert inside a savepoint), and write transactions hold their locks for less time."""
    meta = model._meta
    fields = [meta.get_field(name) for name in values]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)  # type: ignore[union-attr]
    table, key = quote(meta.db_table), quote(str(meta.pk.column))
    placeholders = ", ".join(["%s"] * len(fields))
    # The names come from the model, never from input; the values are parameters.
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) ON CONFLICT DO NOTHING"  # noqa: S608
    params = [
        field.get_db_prep_save(value, connection)  # type: ignore[union-attr]
        for field, value in zip(fields, values.values(), strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING {key}", params)
        row = cursor.fetchone()
    return int(row[0]) if row else None


def _tell_notifications(action: str, **arguments: Any) -> None:
    """Call ``notifications.services.<action>`` once the transaction commits, if that app has
    it (it is built beside this one). A failure there is logged and never undoes the write."""

    def send() -> None:
        try:
            from papercrane.notifications import services as notifications
        except ImportError:  # pragma: no cover - the app is installed
            return
        function = getattr(notifications, action, None)
        if function is not None:
            function(**arguments)

    transaction.on_commit(send, robust=True)


def _notify(**event: Any) -> None:
    """Report an event to its recipient (after commit); nobody hears of their own actions."""
    if event["recipient_id"] != event["actor_id"]:
        _tell_notifications("notify", **event)


# --- Likes ----------------------------------------------------------------------------------------


def like_note(*, member: Member, note: Note) -> Toggle:
    """Idempotent: liking again changes nothing, notifies nobody and takes no write lock."""
    ratelimit.hit("engagement-like", str(member.pk), LIKES_PER_MEMBER)
    if Like.objects.filter(member=member, note=note).exists():
        return Toggle(True, note.like_count)
    with transaction.atomic():
        if _insert_new(Like, member=member.pk, note=note.pk, created_at=timezone.now()) is not None:
            _move(Note, note.pk, "like_count", +1)
            _notify(
                recipient_id=note.author_id, actor_id=member.pk, verb="like_note", note_id=note.pk
            )
    return Toggle(True, _counter(Note, note.pk, "like_count"))


def unlike_note(*, member: Member, note: Note) -> Toggle:
    ratelimit.hit("engagement-like", str(member.pk), LIKES_PER_MEMBER)
    if not Like.objects.filter(member=member, note=note).exists():
        return Toggle(False, note.like_count)
    with transaction.atomic():
        if Like.objects.filter(member=member, note=note).delete()[0]:
            _move(Note, note.pk, "like_count", -1)
    return Toggle(False, _counter(Note, note.pk, "like_count"))


def like_comment(*, member: Member, comment: Comment) -> Toggle:
    ratelimit.hit("engagement-like", str(member.pk), LIKES_PER_MEMBER)
    if CommentLike.objects.filter(member=member, comment=comment).exists():
        return Toggle(True, comment.like_count)
    with transaction.atomic():
        _lock(Comment, comment.pk)  # so a like cannot slip past a deletion of the comment
        values = {"member": member.pk, "comment": comment.pk, "created_at": timezone.now()}
        if _insert_new(CommentLike, **values) is not None:
            _move(Comment, comment.pk, "like_count", +1, score=F("score") + 1)
            _notify(
                recipient_id=comment.author_id,
                actor_id=member.pk,
                verb="like_comment",
                note_id=comment.note_id,
                comment_id=comment.pk,
            )
    return Toggle(True, _counter(Comment, comment.pk, "like_count"))


def unlike_comment(*, member: Member, comment: Comment) -> Toggle:
    ratelimit.hit("engagement-like", str(member.pk), LIKES_PER_MEMBER)
    if not CommentLike.objects.filter(member=member, comment=comment).exists():
        return Toggle(False, comment.like_count)
    with transaction.atomic():
        _lock(Comment, comment.pk)
        if CommentLike.objects.filter(member=member, comment=comment).delete()[0]:
            _move(Comment, comment.pk, "like_count", -1, score=F("score") - 1)
    return Toggle(False, _counter(Comment, comment.pk, "like_count"))


# --- Boards and collects --------------------------------------------------------------------------


def default_board(member: Member) -> Board:
    """The member's default board, made on first use (concurrent first uses make one)."""
    return Board.objects.get_or_create(owner=member, is_default=True)[0]


def _clean_board_fields(
    owner: Member, board: Board | None, name: str | None, description: str | None
) -> dict[str, str]:
    """Cleaned name/description for a new board or an edit; ValidationError naming each field."""
    errors: dict[str, list[ValidationError]] = {}
    cleaned: dict[str, str] = {}
    if name is not None:
        cleaned["name"] = " ".join(text.clean_text(name).split())
        named_boards = Board.objects.filter(owner=owner, name__iexact=cleaned["name"])
        if board is not None:
            named_boards = named_boards.exclude(pk=board.pk)
        if not cleaned["name"] and not (board is not None and board.is_default):
            errors["name"] = [ValidationError(_("Give your board a name."), code="required")]
        elif len(cleaned["name"]) > BOARD_NAME_MAX_CHARS:
            message = _("Board names hold up to %(count)s characters.")
            errors["name"] = [
                ValidationError(message % {"count": BOARD_NAME_MAX_CHARS}, code="too_long")
            ]
        elif cleaned["name"] and named_boards.exists():
            message = _("You already have a board with this name.")
            errors["name"] = [ValidationError(message, code="taken")]
    if description is not None:
        cleaned["description"] = text.clean_text(description)
        if len(cleaned["description"]) > BOARD_DESCRIPTION_MAX_CHARS:
            message = _("Descriptions hold up to %(count)s characters.")
            errors["description"] = [
                ValidationError(message % {"count": BOARD_DESCRIPTION_MAX_CHARS}, code="too_long")
            ]
    if errors:
        raise ValidationError(errors)
    return cleaned


def create_board(
    *, owner: Member, name: str, description: str = "", private: bool = False
) -> Board:
    cleaned = _clean_board_fields(owner, None, name, description)
    if Board.objects.filter(owner=owner).count() >= MAX_BOARDS:
        message = _("You can have at most %(count)s boards.") % {"count": MAX_BOARDS}
        raise _field_error("name", message, "too_many")
    return Board.objects.create(owner=owner, private=private, **cleaned)


def update_board(
    *,
    board: Board,
    name: str | None = None,
    description: str | None = None,
    private: bool | None = None,
) -> Board:
    """Change the given fields; the default board may be renamed (blank restores its name)."""
    changes: dict[str, Any] = _clean_board_fields(board.owner, board, name, description)
    if private is not None:
        changes["private"] = private
    for field, value in changes.items():
        setattr(board, field, value)
    board.save(update_fields=[*changes, "updated_at"])
    return board


def _drop_empty_collects(collect_ids: list[int]) -> None:
    """Delete the collects among ``collect_ids`` left in no board, and un-count them.

    The caller holds their row locks. A member has one collect per note, so the notes are
    distinct and one UPDATE moves each counter by exactly one."""
    empty = Collect.objects.filter(pk__in=collect_ids).exclude(
        pk__in=BoardEntry.objects.filter(collect_id__in=collect_ids).values("collect_id")
    )
    note_ids = list(empty.values_list("note_id", flat=True))
    if note_ids:
        Collect.objects.filter(pk__in=collect_ids, note_id__in=note_ids).delete()
        Note.objects.filter(pk__in=note_ids).update(collect_count=F("collect_count") - 1)


def delete_board(*, board: Board) -> None:
    """Delete a named board; notes that were in no other board of the owner are uncollected."""
    if board.is_default:
        raise DefaultBoardUndeletable
    with transaction.atomic():
        _lock(Board, board.pk)
        in_board = BoardEntry.objects.filter(board=board).values("collect_id")
        collect_ids = list(
            Collect.objects.select_for_update(no_key=True)
            .filter(pk__in=in_board)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        Board.objects.filter(pk=board.pk).delete()
        _drop_empty_collects(collect_ids)


def _locked_collect(member: Member, note: Note) -> tuple[int, bool]:
    """The id of the member's collect of ``note``, locked for this transaction and created if
    missing, and whether it was created.

    Holding this lock, collects and uncollects of one note by one member happen one at a time,
    so a collect row exists exactly while some board holds it."""
    for _attempt in range(_RETRIES):
        locked = Collect.objects.select_for_update(no_key=True).filter(member=member, note=note)
        pk = locked.values_list("pk", flat=True).first()
        if pk is not None:
            return pk, False
        pk = _insert_new(Collect, member=member.pk, note=note.pk, created_at=timezone.now())
        if pk is not None:
            return pk, True
        # a concurrent request created it and has committed: lock theirs on the next turn
    raise NotFound  # pragma: no cover - it kept being created and deleted under us


def _check_owner(member: Member, board: Board | None) -> None:
    if board is not None and board.owner_id != member.pk:
        raise _field_error("board_id", _("Unknown board."), "unknown")


def collect_note(*, member: Member, note: Note, board: Board | None = None) -> Toggle:
    """Put ``note`` in ``board`` (the default board when None); idempotent per board.

    ``Note.collect_count`` counts members, so it moves only on a member's first board."""
    _check_owner(member, board)
    ratelimit.hit("engagement-like", str(member.pk), LIKES_PER_MEMBER)
    named = board is not None
    board = board or default_board(member)
    if BoardEntry.objects.filter(board=board, collect__member=member, collect__note=note).exists():
        return Toggle(True, note.collect_count)  # already there: no write lock taken
    with transaction.atomic():
        if named:
            _lock(Board, board.pk)  # named boards can be deleted meanwhile; default ones cannot
        collect_id, created = _locked_collect(member, note)
        if created or not BoardEntry.objects.filter(board=board, collect_id=collect_id).exists():
            BoardEntry.objects.create(board=board, collect_id=collect_id)
        if created:
            _move(Note, note.pk, "collect_count", +1)
            _notify(
                recipient_id=note.author_id, actor_id=member.pk, verb="collect", note_id=note.pk
            )
    return Toggle(True, _counter(Note, note.pk, "collect_count"))


def uncollect_note(*, member: Member, note: Note, board: Board | None = None) -> Toggle:
    """Take ``note`` out of ``board``, or out of all the member's boards when None."""
    _check_owner(member, board)
    ratelimit.hit("engagement-like", str(member.pk), LIKES_PER_MEMBER)
    entries = BoardEntry.objects.filter(collect__member=member, collect__note=note)
    if board is not None:
        entries = entries.filter(board=board)
    if entries.exists():
        with transaction.atomic():
            locked = Collect.objects.select_for_update(no_key=True).filter(member=member, note=note)
            collect_id = locked.values_list("pk", flat=True).first()
            if collect_id is not None:
                in_boards = BoardEntry.objects.filter(collect_id=collect_id)
                (in_boards if board is None else in_boards.filter(board=board)).delete()
                _drop_empty_collects([collect_id])
        note.collect_count = _counter(Note, note.pk, "collect_count")
    collected = Collect.objects.filter(member=member, note=note).exists()
    return Toggle(collected, note.collect_count)


# --- Comments -------------------------------------------------------------------------------------


def clean_comment_body(body: str) -> str:
    """Control characters removed, line endings normalised; 1 to 500 characters. The body is
    stored as typed: clients show it as text, never as HTML."""
    cleaned = text.clean_text(body)
    if not cleaned:
        raise _field_error("body", _("Write something first."), "required")
    if len(cleaned) > COMMENT_MAX_CHARS:
        message = _("Comments hold up to %(count)s characters.") % {"count": COMMENT_MAX_CHARS}
        raise _field_error("body", message, "too_long")
    return cleaned


def _mentioned_ids(body: str, author_id: int) -> set[int]:
    """Members named with @username who exist, are active, are not the author, have not
    blocked the author (they would not be reachable) and accept mentions from the author."""
    usernames = sorted({name.lower() for name in text.mentions_in(body)})[:MAX_MENTIONS]
    if not usernames:
        return set()
    named = Q()
    for username in usernames:
        named |= Q(username__iexact=username)
    blocked_by = Block.objects.filter(blocked_id=author_id).values("blocker")
    members = (
        Member.objects.filter(named, is_active=True)
        .filter(account_queries.accepting_from("mentions_from", author_id))
        .exclude(pk__in=blocked_by)
        .exclude(pk=author_id)
    )
    return set(members.values_list("pk", flat=True))


def check_accepts_comments(author: Member, note: Note) -> None:
    """Raise ``CommentsClosed`` unless the note's author accepts comments from ``author``."""
    if account_queries.accepts_from(note.author_id, "comments_from", author.pk):
        return
    setting = Member.objects.values_list("comments_from", flat=True).get(pk=note.author_id)
    if setting == Audience.FOLLOWERS:
        raise CommentsClosed(_("Only people who follow the author can comment on this note."))
    raise CommentsClosed(_("The author has turned comments off for their notes."))


def _set_mentions(comment: Comment, wanted: set[int], *, skip: set[int], new: bool) -> None:
    """Store the comment's mentions (``wanted``, from ``_mentioned_ids``); notify the newly
    mentioned, except those in ``skip`` (already told about this comment)."""
    current: set[int] = set()
    if not new:
        stored = CommentMention.objects.filter(comment=comment)
        current = set(stored.values_list("member_id", flat=True))
        stored.exclude(member_id__in=wanted).delete()
    if wanted - current:
        CommentMention.objects.bulk_create(
            [CommentMention(comment=comment, member_id=pk) for pk in wanted - current]
        )
    for member_id in sorted(wanted - current - skip):
        _notify(
            recipient_id=member_id,
            actor_id=comment.author_id,
            verb="mention",
            note_id=comment.note_id,
            comment_id=comment.pk,
        )


def _add_reply(author: Member, note: Note, answered: Comment, body: str) -> Comment:
    """A reply in ``answered``'s thread; answering a reply records whom it answers."""
    thread_id = answered.parent_id or answered.pk
    _lock(Note, note.pk)
    thread = Comment.objects.select_for_update(no_key=True).filter(pk=thread_id, note=note).first()
    if thread is None:
        raise _field_error("parent_id", _("This comment no longer exists."), "gone")
    reply = Comment.objects.create(
        note=note,
        author=author,
        parent=thread,
        reply_to=answered.author if answered.parent_id else None,
        body=body,
        language=detection.detect(body),
    )
    changes: dict[str, Any] = {}
    if author.pk == note.author_id and not thread.author_replied:
        changes = {"author_replied": True, "score": F("score") + AUTHOR_REPLY_BONUS}
    _move(Comment, thread.pk, "reply_count", +1, **changes)
    return reply


def add_comment(*, author: Member, note: Note, body: str, parent: Comment | None = None) -> Comment:
    """Comment on ``note``, or reply to ``parent`` (a comment on the same note). Replies stay
    one level deep: answering a reply joins the top-level thread."""
    rate = (
        COMMENTS_PER_NEW_MEMBER
        if classifiers.is_new_account(timezone.now() - author.date_joined)
        else COMMENTS_PER_MEMBER
    )
    ratelimit.check("engagement-comment", str(author.pk), rate)
    check_accepts_comments(author, note)
    body = clean_comment_body(body)
    if parent is not None and parent.note_id != note.pk:
        raise _field_error("parent_id", _("Reply to a comment on this note."), "other_note")
    ratelimit.hit("engagement-comment", str(author.pk), rate)
    mentioned = _mentioned_ids(body, author.pk)  # read before the write transaction starts
    with transaction.atomic():
        if parent is None:
            comment = Comment.objects.create(
                note=note, author=author, body=body, language=detection.detect(body)
            )
            recipient, verb = note.author_id, "comment"
        else:
            comment = _add_reply(author, note, parent, body)
            recipient, verb = parent.author_id, "reply"
        _notify(
            recipient_id=recipient,
            actor_id=author.pk,
            verb=verb,
            note_id=note.pk,
            comment_id=comment.pk,
        )
        _set_mentions(comment, mentioned, skip={recipient}, new=True)
        _move(Note, note.pk, "comment_count", +1)  # last: the note's row lock is held briefly
        moderation_services.posted("comment", comment.pk)
    return comment


def note_author_of(comment: Comment) -> int:
    """The id of the author of the comment's note (annotated by queries; else one lookup)."""
    annotated = getattr(comment, "note_author_id", None)
    if annotated is not None:
        return int(annotated)
    return int(Note.objects.values_list("author_id", flat=True).get(pk=comment.note_id))


def can_edit(member: Member | None, comment: Comment) -> bool:
    """Authors edit their own comments for 15 minutes after posting."""
    return (
        member is not None
        and member.pk == comment.author_id
        and timezone.now() - comment.created_at <= EDIT_WINDOW
    )


def can_delete(member: Member | None, comment: Comment) -> bool:
    """Authors delete their own comments; a note's author deletes any comment on it."""
    return member is not None and member.pk in {comment.author_id, note_author_of(comment)}


def can_pin(member: Member | None, comment: Comment) -> bool:
    return member is not None and member.pk == note_author_of(comment)


def edit_comment(*, comment: Comment, body: str) -> Comment:
    """Replace the body within the edit window; newly @mentioned members are notified."""
    if timezone.now() - comment.created_at > EDIT_WINDOW:
        raise EditWindowClosed
    comment.body = clean_comment_body(body)
    comment.edited_at = timezone.now()
    mentioned = _mentioned_ids(comment.body, comment.author_id)
    with transaction.atomic():
        if not Comment.objects.filter(pk=comment.pk).update(
            body=comment.body, edited_at=comment.edited_at
        ):
            raise NotFound
        _set_mentions(comment, mentioned, skip=set(), new=False)
        moderation_services.posted("comment", comment.pk)
    return comment


def _delete_thread(comment: Comment) -> list[int]:
    """Delete a top-level comment and its replies; the ids of the comments deleted."""
    _lock(Comment, comment.pk)  # replies are added under this lock: none can appear now
    replies = Comment.objects.select_for_update(no_key=True).filter(parent_id=comment.pk)
    ids = [comment.pk, *replies.values_list("pk", flat=True)]  # locked: none can be liked now
    deleted = Comment.objects.filter(pk=comment.pk).delete()[1].get(Comment._meta.label, 0)
    assert deleted == len(ids), "replies appeared or vanished under the thread's lock"
    return ids


def _delete_reply(reply: Comment, note_author_id: int) -> list[int]:
    """Delete one reply and update its thread's counters (and the author-replied bonus)."""
    assert reply.parent_id is not None
    _lock(Comment, reply.parent_id)
    _lock(Comment, reply.pk)
    Comment.objects.filter(pk=reply.pk).delete()
    changes: dict[str, Any] = {}
    if reply.author_id == note_author_id:
        author_still_replied = Comment.objects.filter(
            parent_id=reply.parent_id, author_id=note_author_id
        ).exists()
        thread_had_bonus = Comment.objects.filter(pk=reply.parent_id, author_replied=True)
        if not author_still_replied and thread_had_bonus.exists():
            changes = {"author_replied": False, "score": F("score") - AUTHOR_REPLY_BONUS}
    _move(Comment, reply.parent_id, "reply_count", -1, **changes)
    return [reply.pk]


def delete_comment(*, comment: Comment) -> None:
    """Delete a comment (a thread goes with its replies) and fix the note's comment count."""
    note_author_id = note_author_of(comment)
    with transaction.atomic():
        _lock(Note, comment.note_id)
        thread = Comment.objects.filter(Q(pk=comment.pk) | Q(parent_id=comment.pk))
        language_services.forget(list(thread.values_list("body", flat=True)))
        if comment.parent_id is None:
            deleted = _delete_thread(comment)
        else:
            deleted = _delete_reply(comment, note_author_id)
        _move(Note, comment.note_id, "comment_count", -len(deleted))
        for comment_id in deleted:
            _tell_notifications("discard_comment", comment_id=comment_id)


def pin_comment(*, comment: Comment) -> None:
    """Pin a top-level comment; the note's previously pinned comment is unpinned."""
    if comment.parent_id is not None:
        raise _field_error("comment", _("Only top-level comments can be pinned."), "reply")
    with transaction.atomic():
        _lock(Note, comment.note_id)  # pins of one note happen one at a time
        pinned = Comment.objects.filter(note_id=comment.note_id, is_pinned=True)
        pinned.exclude(pk=comment.pk).update(is_pinned=False)
        if not Comment.objects.filter(pk=comment.pk).update(is_pinned=True):
            raise NotFound


def unpin_comment(*, comment: Comment) -> None:
    Comment.objects.filter(pk=comment.pk).update(is_pinned=False)
