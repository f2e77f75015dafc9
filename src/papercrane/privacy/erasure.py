"""Every write for account deletion: ask for it (with the password), change one's mind, and
erase the accounts whose grace period is over.

Erasing a member removes every row that is theirs (``privacy.inventory`` lists them; most go
by ``on_delete=CASCADE`` when the member row is deleted), their photos and avatar from
storage, their notes from the search index and from what the feed precomputed, and the
cached translations of their texts. Only what others need stays, and it stays without
anything personal:

* A top-level comment of theirs that others replied to is kept as an empty comment by
  one shared "deleted member" placeholder account, so the replies still read as a thread
  (deleting it would cascade to the others' replies). Every other comment of theirs is
  deleted, and the counters it moved are moved back.
* Moderation decisions about them are kept, as the DSA requires of statements of reasons
  and transparency figures, with the placeholder as their subject and the moderator's
  facts (which may quote or name them) emptied; the same for their appeals, the cases
  about them and the reports they filed. Decisions they made as a moderator keep the
  placeholder as the moderator (``NULL`` would mean "automation decided").
* The audit log is append-only (the database refuses updates and deletes) and refers to
  actors by id with no foreign key: those ids stay. Once nothing else holds anything of
  the member, their former id identifies no one.

Each member is erased in one transaction, claimed with ``select_for_update`` on their row:
of two runs at once one erases and the other finds nothing; a failure midway leaves
everything as it was (files are deleted only after the commit).
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from papercrane import ratelimit
from papercrane.accounts.models import Follow, Member
from papercrane.engagement.models import Collect, Comment, CommentLike, CommentMention, Like
from papercrane.feed import queries as feed_queries
from papercrane.feed.models import Feedback, Neighbours, Profile, Snapshot
from papercrane.language import services as language_services
from papercrane.live.models import Message as LiveMessage
from papercrane.media.models import Media
from papercrane.moderation.models import Appeal, Case, CaseStatus, Decision, Flag, Report
from papercrane.notes.models import Mention, Note, NoteTopic, Topic
from papercrane.notifications.models import Notification
from papercrane.privacy import export
from papercrane.privacy.models import ExportRequest, SignIn
from papercrane.search import services as search_services
from papercrane.search.backends import SQLiteBackend
from papercrane.search.models import NoteVector, SearchDocument, SearchTerm

logger = logging.getLogger(__name__)

# Not a valid username (see accounts.services.USERNAME_PATTERN), so nobody can sign up as it.
PLACEHOLDER_USERNAME = "deleted-member"
WRONG_PASSWORDS = ratelimit.Rate(limit=10, period_seconds=900)
_CHUNK = 500

# Foreign keys to a member that do not cascade, and what erasure does with each instead. A
# test compares this with the models, so a new one cannot keep an erased member's data.
NOT_CASCADING = {
    "engagement.Comment.reply_to": "SET_NULL: the reply stays, no longer naming them",
    "moderation.Decision.moderator": "set to the placeholder",
    "moderation.Appeal.decided_by": "set to the placeholder",
    "moderation.AuditEntry.actor": "kept: append-only, ids without a foreign key",
    "live.Restriction.by": "SET_NULL: the mute or ban stays, no longer naming who set it",
}


class WrongPassword(Exception):
    """The password given to confirm the deletion is not the member's (the API's 403)."""

    @property
    def message(self) -> str:
        return _("The password is not right.")


# --- The member's choice ----------------------------------------------------------------------


def request_deletion(*, member: Member, password: str) -> datetime:
    """Schedule the member's erasure after ``DELETION_GRACE_DAYS``; the date it happens.

    The member stays signed in, with their tokens: signing in again is how they change their
    mind. Exports being prepared or waiting are cancelled and their files removed at once.
    """
    ratelimit.check("deletion-password", str(member.pk), WRONG_PASSWORDS)
    if not member.check_password(password):
        ratelimit.hit("deletion-password", str(member.pk), WRONG_PASSWORDS)
        raise WrongPassword
    erase_after = timezone.now() + timedelta(days=settings.DELETION_GRACE_DAYS)
    with transaction.atomic():
        Member.objects.filter(pk=member.pk).update(erase_after=erase_after)
        export.cancel_pending(member)
    member.erase_after = erase_after
    return erase_after


def cancel_deletion(member: Member) -> bool:
    """Keep the account after all (signing in again calls this); False if none was asked."""
    cancelled = Member.objects.filter(pk=member.pk, erase_after__isnull=False).update(
        erase_after=None
    )
    member.erase_after = None
    return bool(cancelled)


# --- Erasure ----------------------------------------------------------------------------------


def erase_due(now: datetime) -> int:
    """Erase every member whose grace period ended by ``now``; how many were erased.

    Each is erased in its own transaction: one that fails is logged and retried next run,
    and does not hold up the others.
    """
    due = Member.objects.filter(erase_after__lte=now).order_by("pk").values_list("pk", flat=True)
    erased = 0
    for member_id in list(due):
        try:
            erased += erase_member(member_id, due_by=now)
        except Exception:
            logger.exception("erasing member %s failed; retried on the next run", member_id)
    return erased


def erase_member(member_id: int, *, due_by: datetime | None = None) -> bool:
    """Erase one member now (with ``due_by``: only if their erasure was due by then).

    False when there was nothing to do: no such member (erased by a concurrent run) or not
    due. Raises on failure, with everything rolled back.
    """
    with transaction.atomic():
        claim = Member.objects.select_for_update().filter(pk=member_id)
        if due_by is not None:
            claim = claim.filter(erase_after__lte=due_by)
        member = claim.first()
        if member is None:
            return False
        placeholder = _placeholder()
        files = _erase(member, placeholder)
        transaction.on_commit(lambda: _delete_files(files), robust=True)
    return True


def _placeholder() -> Member:
    """The one account that erased members' kept comments and decisions point to."""
    found = Member.objects.filter(username=PLACEHOLDER_USERNAME).first()
    if found is not None:
        return found
    member = Member(username=PLACEHOLDER_USERNAME, is_active=False, feed_personalized=False)
    member.set_unusable_password()
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError:  # created by a concurrent erasure a moment ago
        return Member.objects.get(username=PLACEHOLDER_USERNAME)
    return member


def _erase(member: Member, placeholder: Member) -> list[str]:
    """Everything of the erasure but the file deletions; the files to delete after commit."""
    member_id = member.pk
    note_ids = list(Note.objects.filter(author_id=member_id).values_list("pk", flat=True))
    # Subqueries rather than lists of ids while the notes exist: a member may have many.
    authored = Note.objects.filter(author_id=member_id).values("pk")
    media = Media.objects.filter(Q(owner_id=member_id) | Q(note_id__in=authored))
    media_files = {
        sha256: [original, *(variant["name"] for variant in variants)]
        for sha256, original, variants in media.values_list("sha256", "original", "variants")
    }
    files = [name for name in (member.avatar.name, member.avatar_thumbnail.name) if name]
    files += [
        name
        for name in ExportRequest.objects.filter(member_id=member_id).values_list(
            "file_name", flat=True
        )
        if name
    ]
    export.cancel_pending(member)
    _forget_translations(member)
    _undo_counters(member_id)
    _erase_comments(member_id, placeholder)
    mentioned_in = list(
        Mention.objects.filter(member_id=member_id)
        .exclude(note__author_id=member_id)
        .values_list("note_id", flat=True)
    )
    Mention.objects.filter(member_id=member_id).delete()
    CommentMention.objects.filter(member_id=member_id).delete()
    mentioned_in += _unmention(member)
    media.delete()  # before the notes: their photos' rows would lose the note to find them
    _delete_notes(member_id, note_ids)
    _unindex(note_ids, mentioned_in)
    _clean_feed(member_id, set(note_ids))
    _anonymise_moderation(member_id, placeholder)
    _end_sessions(member_id)
    member.delete()  # cascades to everything else the inventory lists
    # Content-addressed files another member's photo also uses must stay.
    still_used = set(
        Media.objects.filter(sha256__in=list(media_files)).values_list("sha256", flat=True)
    )
    for sha256, names in media_files.items():
        if sha256 not in still_used:
            files += [name for name in names if name]
    return files


def _delete_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # one unreachable file must not keep the others
            logger.exception("could not delete %s of an erased member", name)


def _forget_translations(member: Member) -> None:
    authored = Note.objects.filter(author_id=member.pk)
    notes = authored.values_list("title", "body")
    texts = [text for pair in notes for text in pair]
    texts += Comment.objects.filter(Q(author_id=member.pk) | Q(note__in=authored)).values_list(
        "body", flat=True
    )
    texts += Media.objects.filter(Q(owner_id=member.pk) | Q(note__in=authored)).values_list(
        "alt_text", flat=True
    )
    # Chat in the member's rooms goes with the rooms (as comments go with a note).
    texts += LiveMessage.objects.filter(
        Q(author_id=member.pk) | Q(room__host_id=member.pk)
    ).values_list("text", flat=True)
    texts += [member.bio, member.display_name]
    language_services.forget([text for text in texts if text])


def _undo_counters(member_id: int) -> None:
    """Others' counters that the member's likes, collects and follows moved, moved back
    (each row counted once, so each counter moves by one)."""
    liked = Like.objects.filter(member_id=member_id).exclude(note__author_id=member_id)
    Note.objects.filter(pk__in=liked.values("note_id")).update(like_count=F("like_count") - 1)
    collected = Collect.objects.filter(member_id=member_id).exclude(note__author_id=member_id)
    Note.objects.filter(pk__in=collected.values("note_id")).update(
        collect_count=F("collect_count") - 1
    )
    liked_comments = CommentLike.objects.filter(member_id=member_id).exclude(
        comment__note__author_id=member_id
    )
    Comment.objects.filter(pk__in=liked_comments.values("comment_id")).update(
        like_count=F("like_count") - 1, score=F("score") - 1
    )
    followed = Follow.objects.filter(follower_id=member_id).values("followee_id")
    Member.objects.filter(pk__in=followed).update(follower_count=F("follower_count") - 1)
    followers = Follow.objects.filter(followee_id=member_id).values("follower_id")
    Member.objects.filter(pk__in=followers).update(following_count=F("following_count") - 1)


def _erase_comments(member_id: int, placeholder: Member) -> None:
    """The member's comments under others' notes (those under their own notes go with the
    notes): replies deleted, threads deleted unless others replied, then kept empty."""
    theirs = Comment.objects.filter(author_id=member_id).exclude(note__author_id=member_id)
    others_replied = Comment.objects.filter(parent_id=OuterRef("pk")).exclude(author_id=member_id)
    kept = list(
        theirs.filter(parent__isnull=True)
        .filter(Exists(others_replied))
        .values_list("pk", flat=True)
    )
    replies = list(theirs.filter(parent__isnull=False).values_list("pk", "parent_id", "note_id"))
    threads = list(
        theirs.filter(parent__isnull=True).exclude(pk__in=kept).values_list("pk", "note_id")
    )
    removed_from_note: Counter[int] = Counter()
    removed_from_thread: Counter[int] = Counter()
    for _pk, parent_id, note_id in replies:
        removed_from_note[note_id] += 1
        removed_from_thread[parent_id] += 1
    for _pk, note_id in threads:
        removed_from_note[note_id] += 1
    deleted = [pk for pk, _parent, _note in replies] + [pk for pk, _note in threads]
    for ids in _chunks(deleted):
        Comment.objects.filter(pk__in=ids).delete()
    for note_id, count in removed_from_note.items():
        Note.objects.filter(pk=note_id).update(comment_count=F("comment_count") - count)
    for parent_id, count in removed_from_thread.items():
        Comment.objects.filter(pk=parent_id).update(reply_count=F("reply_count") - count)
    CommentMention.objects.filter(comment_id__in=kept).delete()
    Comment.objects.filter(pk__in=kept).update(
        author=placeholder,
        body="",
        language="",
        edited_at=None,
        is_pinned=False,
        moderation_state="",
        moderation_rule="",
    )
    notified = Notification.objects.filter(comment_id__in=deleted)
    recipients = set(notified.values_list("recipient_id", flat=True))
    notified.delete()
    from papercrane.notifications import services as notifications

    def push(recipient_id: int) -> Callable[[], None]:
        return lambda: notifications.push_unread_count(recipient_id)

    for recipient_id in recipients - {member_id}:
        transaction.on_commit(push(recipient_id), robust=True)


def _unmention(member: Member) -> list[int]:
    """Others' notes and comments that @-mention the member name the placeholder instead:
    the username is theirs, and someone signing up with it later must not inherit the
    mentions. The ids of the notes changed (to be reindexed)."""
    mention = f"@{member.username}"
    pattern = re.compile(re.escape(mention) + r"(?![A-Za-z0-9_])", re.IGNORECASE)
    instead = f"@{PLACEHOLDER_USERNAME}"
    changed = []
    notes = Note.objects.exclude(author_id=member.pk).filter(
        Q(title__icontains=mention) | Q(body__icontains=mention)
    )
    for pk, title, body in notes.values_list("pk", "title", "body"):
        new_title, new_body = pattern.sub(instead, title), pattern.sub(instead, body)
        if (new_title, new_body) != (title, body):
            language_services.forget([title, body])
            Note.objects.filter(pk=pk).update(
                title=new_title, body=new_body, version=F("version") + 1
            )
            changed.append(pk)
    comments = Comment.objects.exclude(author_id=member.pk).filter(body__icontains=mention)
    for pk, body in comments.values_list("pk", "body"):
        new_body = pattern.sub(instead, body)
        if new_body != body:
            language_services.forget([body])
            Comment.objects.filter(pk=pk).update(body=new_body)
    return changed


def _delete_notes(member_id: int, note_ids: list[int]) -> None:
    """Delete the member's notes; the topics they used count them no more."""
    per_topic = Counter(
        NoteTopic.objects.filter(note__author_id=member_id).values_list("topic_id", flat=True)
    )
    for topic_id, count in per_topic.items():
        Topic.objects.filter(pk=topic_id).update(note_count=F("note_count") - count)
    for ids in _chunks(note_ids):
        Note.objects.filter(pk__in=ids).delete()


def _unindex(note_ids: list[int], mentioned_in: list[int]) -> None:
    """Take the member's notes out of the search index now (not in a task that could run
    after the erasure is reported done), and reindex others' notes that mentioned them.
    Terms no document holds any more go too: they are words of the erased texts."""
    secure = _secure_fts_delete()
    terms = search_services.unindex_notes(note_ids)
    for ids in _chunks(mentioned_in):
        documents = SearchDocument.objects.filter(note_id__in=ids)
        for title_terms, body_terms in documents.values_list("title_terms", "body_terms"):
            terms.update(title_terms.split())
            terms.update(body_terms.split())
    for note_id in dict.fromkeys(mentioned_in):
        search_services.index_note(note_id)
    if not secure and (terms or mentioned_in):
        _merge_fts()
    for ids in _chunks(note_ids):
        NoteVector.objects.filter(note_id__in=ids).delete()
    for chunk in _chunks(sorted(term[:64] for term in terms)):
        SearchTerm.objects.filter(term__in=chunk, df__lt=0.5).delete()


# SQLite's full-text index (FTS5) only marks a deleted document's tokens as deleted; they stay
# in its older segments until those are merged. From SQLite 3.42 "secure-delete" removes
# them at once; before it, the index is merged whole ("optimize") after an erasure. (On
# PostgreSQL the tokens are a column of the document row and go with it.)
SECURE_FTS_DELETE = sqlite3.sqlite_version_info >= (3, 42, 0)


def _secure_fts_delete() -> bool:
    if connection.vendor != "sqlite" or not SECURE_FTS_DELETE:
        return connection.vendor != "sqlite"
    fts = SQLiteBackend.FTS
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {fts}({fts}, rank) VALUES ('secure-delete', 1)")  # noqa: S608
    return True


def _merge_fts() -> None:
    fts = SQLiteBackend.FTS
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {fts}({fts}) VALUES ('optimize')")  # noqa: S608


def _clean_feed(member_id: int, note_ids: set[int]) -> None:
    """Remove the member and their notes from what Explore precomputed for others."""
    Feedback.objects.filter(kind=Feedback.Kind.AUTHOR, target_id=member_id).delete()
    for ids in _chunks(sorted(note_ids)):
        Feedback.objects.filter(kind=Feedback.Kind.NOTE, target_id__in=ids).delete()
    author_key = str(member_id)
    changed_profiles = []
    for profile in Profile.objects.exclude(member_id=member_id).iterator(chunk_size=2000):
        candidates = [
            row
            for row in profile.candidates
            if row[0] not in note_ids and (len(row) < 3 or row[2] not in note_ids)
        ]
        engaged = {k: v for k, v in profile.engaged.items() if int(k) not in note_ids}
        if (
            len(candidates) != len(profile.candidates)
            or len(engaged) != len(profile.engaged)
            or author_key in profile.authors
        ):
            profile.candidates, profile.engaged = candidates, engaged
            profile.authors = {k: v for k, v in profile.authors.items() if k != author_key}
            changed_profiles.append(profile)
    Profile.objects.bulk_update(
        changed_profiles, ["candidates", "engaged", "authors"], batch_size=500
    )
    if note_ids:
        changed_neighbours = []
        for row in Neighbours.objects.iterator(chunk_size=2000):  # theirs went with the notes
            items = [item for item in row.items if item[0] not in note_ids]
            if len(items) != len(row.items):
                row.items = items
                changed_neighbours.append(row)
        Neighbours.objects.bulk_update(changed_neighbours, ["items"], batch_size=500)
    for name in (feed_queries.TRENDING, feed_queries.FRESH):
        snapshot = Snapshot.objects.select_for_update().filter(name=name).first()
        if snapshot is None:
            continue
        rows = snapshot.data.get("notes", [])
        kept = [r for r in rows if r.get("author") != member_id and r.get("id") not in note_ids]
        if len(kept) != len(rows):
            snapshot.data = {**snapshot.data, "notes": kept, "version": timezone.now().timestamp()}
            # Only the data: its age still says when the next full refresh is due.
            Snapshot.objects.filter(name=name).update(data=snapshot.data)

            def forget(name: str = name) -> None:
                cache.delete(f"feed:snapshot:{name}")
                feed_queries.forget_snapshot(name)

            transaction.on_commit(forget, robust=True)


def _anonymise_moderation(member_id: int, placeholder: Member) -> None:
    """Keep what the DSA needs (statements of reasons, transparency counts) about nobody."""
    member_target = Q(target_type="member", target_id=member_id)
    Decision.objects.filter(member_target).update(target_id=placeholder.pk)
    Decision.objects.filter(subject_id=member_id).update(subject=placeholder, decision_facts="")
    Decision.objects.filter(moderator_id=member_id).update(moderator=placeholder)
    Appeal.objects.filter(member_id=member_id).update(member=placeholder, text="", explanation="")
    Appeal.objects.filter(decided_by_id=member_id).update(decided_by=placeholder, explanation="")
    cases = Case.objects.filter(subject_id=member_id)
    Flag.objects.filter(case__in=cases).delete()  # details can quote the item
    now = timezone.now()
    # Nothing is left to decide on: the item is gone. The reports about it stay counted.
    cases.filter(status=CaseStatus.OPEN).update(status=CaseStatus.CLOSED, closed_at=now)
    Case.objects.filter(member_target).update(target_id=placeholder.pk)
    cases.update(subject=placeholder)
    filed = Report.objects.filter(reporter_id=member_id)
    # One report per reporter and case: where the placeholder already has one, ours goes.
    taken = Report.objects.filter(reporter=placeholder, case_id=OuterRef("case_id"))
    filed.filter(Exists(taken)).delete()
    filed.update(reporter=placeholder, details="", language="")


def _end_sessions(member_id: int) -> None:
    keys = [
        key
        for key in SignIn.objects.filter(member_id=member_id).values_list("session_key", flat=True)
        if key
    ]
    store: Any = import_module(settings.SESSION_ENGINE).SessionStore
    for key in keys:
        store(session_key=key).delete()


def _chunks(values: list[Any]) -> list[list[Any]]:
    return [values[start : start + _CHUNK] for start in range(0, len(values), _CHUNK)]
