"""Every write for data exports: request one, build its zip, hand it over, cancel and expire.

The archive holds one JSON file per category of ``privacy.inventory`` (the rows of each
exported holder, shaped by ``SHAPES`` so no other member's private data goes with them),
the clean originals of the member's photos, an ActivityStreams 2.0 outbox of their notes so
another service can import them, and an ``index.html`` to read it all in a browser.

The zip lives in media storage under a random name: in embedded mode media files are served
to anyone who knows their name, so the name itself is what keeps it private until it expires.
"""

from __future__ import annotations

import json
import logging
import secrets
import tempfile
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import ForeignKey, Model, Q, QuerySet
from django.http import Http404
from django.utils import timezone, translation
from django.utils.html import format_html, format_html_join, linebreaks
from django.utils.translation import gettext as _

from papercrane import ratelimit
from papercrane.accounts.models import Member
from papercrane.media import storage
from papercrane.media.models import Media
from papercrane.notes.models import Note, NoteTopic
from papercrane.privacy import inventory
from papercrane.privacy.models import ExportRequest, ExportStatus

logger = logging.getLogger(__name__)

EXPORTS_PER_DAY = ratelimit.Rate(limit=3, period_seconds=24 * 3600)
KEPT_FOR = timedelta(days=7)
DIRECTORY = f"{storage.PRIVATE_DIRECTORY}/exports"
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"


class ExportInProgress(Exception):
    """The member already has an export being prepared: one at a time (the API's 409)."""

    @property
    def message(self) -> str:
        return _(
            "Your previous export is still being prepared. You will be notified when it is ready."
        )


class ExportNotReady(Exception):
    """The export is still being prepared: there is nothing to download yet."""


class Gone(Exception):
    """The export expired, was cancelled or failed: its file no longer exists (the API's 410)."""


@dataclass(frozen=True)
class Shape:
    """How a holder's rows appear in the archive.

    ``fields`` are ``QuerySet.values()`` paths; a foreign key to a member is written as that
    member's username (public on their profile), never as their other fields. ``mine``
    narrows the holder's lookups to the rows that are the member's own data: a notification
    the member caused belongs to its recipient, a decision they made as a moderator is about
    someone else.
    """

    fields: tuple[str, ...]
    mine: tuple[str, ...] | None = None


SHAPES: dict[str, Shape] = {
    "accounts.Member": Shape(
        (
            "id", "username", "display_name", "bio", "email", "language", "time_zone",
            "is_private", "likes_public", "keeps_search_history", "feed_personalized",
            "auto_translate", "city", "follower_count", "following_count", "date_joined",
            "last_login", "suspended_until", "erase_after",
        )
    ),
    "notes.Note": Shape(
        (
            "id", "title", "body", "language", "status", "visibility", "place_name",
            "place_city", "like_count", "collect_count", "comment_count", "moderation_state",
            "created_at", "updated_at", "published_at",
        )
    ),
    "notes.Mention": Shape(("note", "member")),
    "media.Media": Shape(
        ("id", "note", "position", "mime_type", "width", "height", "alt_text", "created_at")
    ),
    "engagement.Comment": Shape(
        (
            "id", "note", "parent", "reply_to", "body", "language", "like_count",
            "reply_count", "moderation_state", "created_at", "edited_at",
        )
    ),
    "engagement.CommentMention": Shape(("comment", "member")),
    "live.Room": Shape(
        (
            "id", "title", "topic", "language", "stream_url", "status", "slow_mode_seconds",
            "peak_viewers", "created_at", "started_at", "ended_at",
        )
    ),
    "live.CoHost": Shape(("room", "status", "invited_at", "answered_at")),
    "live.Message": Shape(
        ("id", "room", "text", "language", "translations", "deleted_at", "moderation_state",
         "created_at")
    ),
    "live.Restriction": Shape(("room", "member", "kind", "until", "by", "created_at")),
    "engagement.Like": Shape(("note", "created_at")),
    "engagement.CommentLike": Shape(("comment", "created_at")),
    "engagement.Collect": Shape(("note", "created_at")),
    "engagement.Board": Shape(
        ("id", "name", "description", "private", "is_default", "created_at", "updated_at")
    ),
    "engagement.BoardEntry": Shape(("board", "collect__note", "created_at")),
    "accounts.Follow": Shape(("follower", "followee", "created_at")),
    "accounts.FollowRequest": Shape(("requester", "target", "created_at")),
    "accounts.Block": Shape(("blocked", "created_at")),
    "accounts.Mute": Shape(("muted", "created_at")),
    # What happened to the member's posts: the verb and the item, not who read what when.
    "notifications.Notification": Shape(
        ("verb", "note", "comment_id", "decision_id", "room", "created_at", "read_at"),
        mine=("recipient",),
    ),
    "feed.ChosenTopic": Shape(("topic__name", "created_at")),
    "feed.Feedback": Shape(("kind", "target_id", "created_at")),
    "feed.ShownDay": Shape(("day", "part", "note_ids")),
    "feed.Impression": Shape(("note", "day", "dwell_ms")),
    "search.HistoryEntry": Shape(("query", "searched_at")),
    "moderation.Report": Shape(
        (
            "id", "case__target_type", "case__target_id", "rule__code", "category",
            "details", "outcome", "created_at", "decided_at",
        )
    ),
    "moderation.Decision": Shape(
        (
            "id", "puid", "target_type", "target_id", "action", "rule__code", "category",
            "decision_facts", "content_date", "application_date",
            "end_date_account_restriction", "created_at", "reversed_at",
        ),
        mine=("subject",),
    ),
    "moderation.Appeal": Shape(
        ("decision", "text", "status", "created_at", "decided_at", "explanation"),
        mine=("member",),
    ),
    "privacy.SignIn": Shape(("created_at", "last_seen_at", "ended_at", "ip_address", "user_agent")),
    # The token's label and first characters, never its hash.
    "accounts.ApiToken": Shape(("name", "prefix", "created_at", "last_used_at", "revoked_at")),
    "privacy.ExportRequest": Shape(("id", "status", "created_at", "ready_at", "expires_at")),
}  # fmt: skip


# --- Requests ---------------------------------------------------------------------------------


def request_export(*, member: Member) -> ExportRequest:
    """Ask for a copy of the member's data; built in the background, announced when ready.

    One export is prepared at a time (ExportInProgress) and at most ``EXPORTS_PER_DAY`` are
    started a day (RateLimited): each reads everything the member has, photos included.
    """
    from papercrane.privacy.tasks import build_export as build_task

    with transaction.atomic():
        # Locking the member serialises two requests at once, so neither misses the other.
        Member.objects.select_for_update().filter(pk=member.pk).first()
        if ExportRequest.objects.filter(member=member, status=ExportStatus.PENDING).exists():
            raise ExportInProgress
        ratelimit.hit("privacy-export", str(member.pk), EXPORTS_PER_DAY)
        export = ExportRequest.objects.create(member=member, created_at=timezone.now())
        transaction.on_commit(lambda: build_task.enqueue(export_id=export.pk))
    return export


def export_of(*, member: Member, export_id: int | str) -> ExportRequest:
    """The member's own export; Http404 for anyone else's or an unknown id."""
    try:
        pk = int(export_id)
    except (TypeError, ValueError) as error:
        raise Http404 from error
    export = ExportRequest.objects.filter(pk=pk, member=member).first()
    if export is None:
        raise Http404
    return export


def download(*, member: Member, export_id: int | str) -> tuple[IO[bytes], str]:
    """The open zip and the name to save it as. Http404 for someone else's or an unknown
    export, ExportNotReady while it is prepared, Gone once it expired, failed or was
    cancelled."""
    export = export_of(member=member, export_id=export_id)
    if export.status == ExportStatus.PENDING:
        raise ExportNotReady
    expired = export.expires_at is not None and export.expires_at <= timezone.now()
    if export.status != ExportStatus.READY or expired or not export.file_name:
        raise Gone
    try:
        handle = default_storage.open(export.file_name, "rb")
    except FileNotFoundError as error:  # removed by the retention job a moment ago
        raise Gone from error
    day = (export.ready_at or export.created_at).date().isoformat()
    return handle, f"papercrane-{member.username}-{day}.zip"


def cancel_pending(member: Member) -> int:
    """Cancel the member's exports that are being prepared or waiting to be downloaded, and
    remove their files once this commits (deletion of the account calls this). A build still
    running notices the cancellation when it finishes and throws its file away."""
    with transaction.atomic():
        exports = ExportRequest.objects.select_for_update().filter(
            member=member, status__in=[ExportStatus.PENDING, ExportStatus.READY]
        )
        names = [name for name in exports.values_list("file_name", flat=True) if name]
        cancelled = exports.update(status=ExportStatus.CANCELLED, file_name="", size=0)
        transaction.on_commit(lambda: _remove_files(names), robust=True)
    return cancelled


def expire_exports(now: datetime) -> int:
    """Remove the files of exports whose seven days are over; the rows stay, as "expired"."""
    with transaction.atomic():
        exports = ExportRequest.objects.select_for_update().filter(
            status=ExportStatus.READY, expires_at__lte=now
        )
        names = [name for name in exports.values_list("file_name", flat=True) if name]
        expired = exports.update(status=ExportStatus.EXPIRED, file_name="", size=0)
        transaction.on_commit(lambda: _remove_files(names), robust=True)
    return expired


def _remove_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


# --- Building the archive ---------------------------------------------------------------------


def build_export(export_id: int) -> None:
    """Write the zip of a pending export to storage, mark it ready and tell the member.

    Any failure marks the export failed with a reason and leaves no file behind. An export
    cancelled (or whose member was erased) while it was built keeps no file either.
    """
    export = (
        ExportRequest.objects.select_related("member")
        .filter(pk=export_id, status=ExportStatus.PENDING)
        .first()
    )
    if export is None:
        return
    name = f"{DIRECTORY}/{secrets.token_urlsafe(32)}.zip"  # unguessable: see the module's doc
    stored = ""
    try:
        with tempfile.TemporaryFile() as archive:
            with translation.override(export.member.language):
                _write_archive(archive, export.member)
            size = archive.tell()
            archive.seek(0)
            stored = str(default_storage.save(name, File(archive, name=name)))
        now = timezone.now()
        ready = ExportRequest.objects.filter(pk=export.pk, status=ExportStatus.PENDING).update(
            status=ExportStatus.READY,
            file_name=stored,
            size=size,
            ready_at=now,
            expires_at=now + KEPT_FOR,
        )
    except Exception as error:  # any failure: record why, keep nothing half-written
        logger.exception("building export %s failed", export.pk)
        if stored:
            default_storage.delete(stored)
        ExportRequest.objects.filter(pk=export.pk, status=ExportStatus.PENDING).update(
            status=ExportStatus.FAILED,
            failure_reason=(str(error) or type(error).__name__)[:200],
        )
        return
    if not ready:  # cancelled or erased meanwhile: nobody may download it
        default_storage.delete(stored)
        return
    from papercrane.notifications import services as notifications

    notifications.notify_member(
        recipient_id=export.member_id, verb="export_ready", decision_id=export.pk
    )


def _dumps(data: Any) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


def _member_fk(model: type[Model], path: str) -> bool:
    if "__" in path:
        return False
    field = model._meta.get_field(path)
    return isinstance(field, ForeignKey) and field.related_model is Member


def _rows(holder: inventory.Holder, member_id: int) -> list[dict[str, Any]]:
    """The holder's rows of the member as plain values, shaped by ``SHAPES``."""
    model = holder.model_class()
    shape = SHAPES[model._meta.label]
    rows: QuerySet[Model]
    if shape.mine is None:
        rows = holder.rows_of(member_id)
    else:
        condition = Q()
        for lookup in shape.mine:
            condition |= Q(**{lookup: member_id})
        rows = model._default_manager.filter(condition)
    paths = {key: f"{key}__username" if _member_fk(model, key) else key for key in shape.fields}
    values = rows.order_by("pk").values(*paths.values())
    return [{key.replace("__", "_"): row[path] for key, path in paths.items()} for row in values]


def _photo_path(media_id: int, original: str) -> str:
    return f"photos/{media_id}{PurePosixPath(original).suffix}"


def _write_archive(archive: IO[bytes], member: Member) -> None:
    counts: dict[str, int] = {}
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        photos: dict[int, str] = {}
        # Photos are already compressed: stored as they are, which is much faster.
        for media_id, original in (
            Media.objects.filter(owner=member).order_by("pk").values_list("pk", "original")
        ):
            if not original:
                continue
            try:
                data = storage.read(original)
            except FileNotFoundError:
                logger.warning("export of %s: photo %s has no file", member.pk, media_id)
                continue
            path = _photo_path(media_id, original)
            zipped.writestr(path, data, compress_type=zipfile.ZIP_STORED)
            photos[media_id] = path
        avatar = _write_avatar(zipped, member)
        for category in inventory.categories():
            content: dict[str, Any] = {}
            for holder in category.holders:
                if not holder.exported:
                    continue
                rows = _rows(holder, member.pk)
                if holder.model == "media.Media":
                    for row in rows:
                        row["file"] = photos.get(row["id"])
                if holder.model == "notes.Note":
                    _add_topics(rows)
                if holder.model == "accounts.Member":
                    for row in rows:
                        row["avatar"] = avatar
                content[holder.model_class()._meta.label] = rows
            counts[category.key] = sum(len(rows) for rows in content.values())
            document = {"category": category.key, "title": str(category.title), **content}
            zipped.writestr(f"{category.key}.json", _dumps(document))
        zipped.writestr("actor.json", _dumps(_actor(member, avatar)))
        outbox = _outbox(member, photos)
        zipped.writestr("outbox.json", _dumps(outbox))
        zipped.writestr("index.html", _index(member, counts, outbox["totalItems"]))


def _write_avatar(zipped: zipfile.ZipFile, member: Member) -> str | None:
    name = member.avatar.name
    if not name:
        return None
    path = f"photos/avatar{PurePosixPath(name).suffix}"
    try:
        zipped.writestr(path, storage.read(name), compress_type=zipfile.ZIP_STORED)
    except FileNotFoundError:
        return None
    return path


def _topics_of(note_ids: list[int]) -> dict[int, list[str]]:
    topics: dict[int, list[str]] = defaultdict(list)
    for note_id, name in (
        NoteTopic.objects.filter(note_id__in=note_ids)
        .order_by("note_id", "position")
        .values_list("note_id", "topic__name")
    ):
        topics[note_id].append(name)
    return topics


def _add_topics(rows: list[dict[str, Any]]) -> None:
    topics = _topics_of([row["id"] for row in rows])
    for row in rows:
        row["topics"] = topics.get(row["id"], [])


# --- ActivityStreams 2.0 ------------------------------------------------------------------------


def _actor(member: Member, avatar: str | None) -> dict[str, Any]:
    actor: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": "actor.json",
        "type": "Person",
        "preferredUsername": member.username,
        "name": member.name,
        "summary": linebreaks(member.bio, autoescape=True) if member.bio else "",
        "outbox": "outbox.json",
    }
    if avatar:
        actor["icon"] = {"type": "Image", "url": avatar}
    return actor


def _outbox(member: Member, photos: dict[int, str]) -> dict[str, Any]:
    """The member's published notes as Create activities, oldest first, in a form Mastodon
    and other ActivityPub software read: the ids are relative to the archive, the photos
    are its files, the #topics are Hashtag tags."""
    notes = list(
        Note.objects.filter(author=member, status=Note.Status.PUBLISHED)
        .order_by("published_at", "pk")
        .values("pk", "title", "body", "language", "visibility", "published_at", "created_at")
    )
    ids = [note["pk"] for note in notes]
    topics = _topics_of(ids)
    attachments: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for media in (
        Media.objects.filter(note_id__in=ids, is_text_cover=False)
        .order_by("note_id", "position", "pk")
        .values("pk", "note_id", "mime_type", "width", "height", "alt_text")
    ):
        if media["pk"] in photos:
            attachments[media["note_id"]].append(
                {
                    "type": "Image",
                    "mediaType": media["mime_type"],
                    "url": photos[media["pk"]],
                    "name": media["alt_text"],
                    "width": media["width"],
                    "height": media["height"],
                }
            )
    items = []
    for note in notes:
        published = (note["published_at"] or note["created_at"]).isoformat()
        note_id = f"notes/{note['pk']}"
        addressed = (
            {"to": [f"{AS_CONTEXT}#Public"]} if note["visibility"] == "public" else {"to": []}
        )
        content = format_html("<p><strong>{}</strong></p>", note["title"]) + linebreaks(
            note["body"], autoescape=True
        )
        obj: dict[str, Any] = {
            "id": note_id,
            "type": "Note",
            "attributedTo": "actor.json",
            "name": note["title"],
            "content": content,
            "published": published,
            "attachment": attachments.get(note["pk"], []),
            "tag": [{"type": "Hashtag", "name": f"#{name}"} for name in topics.get(note["pk"], [])],
            **addressed,
        }
        if note["language"]:
            obj["contentMap"] = {note["language"]: content}
        items.append(
            {
                "id": f"{note_id}/activity",
                "type": "Create",
                "actor": "actor.json",
                "published": published,
                "object": obj,
                **addressed,
            }
        )
    return {
        "@context": AS_CONTEXT,
        "id": "outbox.json",
        "type": "OrderedCollection",
        "totalItems": len(items),
        "orderedItems": items,
    }


# --- index.html ---------------------------------------------------------------------------------


def _index(member: Member, counts: dict[str, int], outbox_items: int) -> str:
    """A page to read the archive in a browser, in the member's language; every value is
    escaped (titles and names are the member's own text)."""
    rows = format_html_join(
        "\n",
        '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td></tr>',
        (
            (f"{category.key}.json", str(category.title), str(category.what), counts[category.key])
            for category in inventory.categories()
        ),
    )
    language = translation.get_language() or settings.LANGUAGE_CODE
    return format_html(
        """<!doctype html>
<html lang="{language}">
<head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
td,th{{padding:.3rem .6rem;text-align:left;vertical-align:top;border-bottom:1px solid #ddd}}</style>
</head>
<body>
<h1>{title}</h1>
<p>{intro}</p>
<table>
<thead><tr><th>{category}</th><th>{what}</th><th>{count}</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
<h2>{notes_heading}</h2>
<p><a href="outbox.json">outbox.json</a> ({notes_count}) &middot;
<a href="actor.json">actor.json</a></p>
<p>{outbox_help}</p>
<h2>{photos_heading}</h2>
<p>{photos_help}</p>
</body>
</html>
""",
        language=language,
        title=_("Your data at %(site)s") % {"site": settings.OPERATOR_NAME},
        intro=_("Everything %(site)s keeps about @%(username)s (%(name)s), as of %(date)s.")
        % {
            "site": settings.OPERATOR_NAME,
            "username": member.username,
            "name": member.name,
            "date": timezone.now().date().isoformat(),
        },
        category=_("Category"),
        what=_("What is kept"),
        count=_("Items"),
        rows=rows,
        notes_heading=_("Your notes for another service"),
        notes_count=_("%(count)s notes") % {"count": outbox_items},
        outbox_help=_(
            "An ActivityStreams 2.0 collection of your published notes, with their photos and "
            "topics, that other services can import."
        ),
        photos_heading=_("Photos"),
        photos_help=_(
            "The folder photos/ holds the originals of your photos as we keep them, without "
            "any metadata (no location, no camera details)."
        ),
    )
