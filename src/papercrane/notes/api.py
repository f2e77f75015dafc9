"""Notes API: create, read, edit and delete notes; list a member's notes; suggest topics."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from papercrane.accounts import queries as account_queries
from papercrane.accounts.api import AuthorOut
from papercrane.accounts.models import Member
from papercrane.api.auth import AuthedRequest, member_auth, viewer_of
from papercrane.api.pagination import paginate
from papercrane.api.problems import Problem, not_found
from papercrane.engagement import queries as engagement_queries
from papercrane.media.api import MediaOut
from papercrane.media.models import Media
from papercrane.memo import Memo
from papercrane.notes import queries, services
from papercrane.notes.models import Note, Visibility
from papercrane.search import queries as search_queries

router = Router(tags=["notes"])


class CoverOut(Schema):
    url: str
    width: int
    height: int
    blurhash: str | None
    dominant_color: str | None
    placeholder: str | None


class CountsOut(Schema):
    likes: int
    collects: int
    comments: int


class PlaceOut(Schema):
    name: str
    city: str


class ViewerOut(Schema):
    liked: bool = False
    collected: bool = False


class CardOut(Schema):
    id: str
    title: str
    cover: CoverOut | None
    author: AuthorOut
    counts: CountsOut
    language: str
    reason: str | None = None

    @staticmethod
    def resolve_id(note: Note) -> str:
        return str(note.pk)

    @staticmethod
    def resolve_cover(note: Note) -> dict[str, Any] | None:
        return queries.cover_of(note)

    @staticmethod
    def resolve_counts(note: Note) -> dict[str, int]:
        return {
            "likes": note.like_count,
            "collects": note.collect_count,
            "comments": note.comment_count,
        }


class NoteOut(CardOut):
    body: str
    media: list[MediaOut]
    topics: list[str]
    mentions: list[str]
    place: PlaceOut | None
    visibility: str
    status: str
    version: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    viewer: ViewerOut

    @staticmethod
    def resolve_media(note: Note) -> list[Media]:
        return queries.photos(note)

    @staticmethod
    def resolve_topics(note: Note) -> list[str]:
        return [topic.name for topic in note.topics.all()]

    @staticmethod
    def resolve_mentions(note: Note) -> list[str]:
        return [member.username for member in note.mentions.all()]

    @staticmethod
    def resolve_place(note: Note) -> dict[str, str] | None:
        if not (note.place_name or note.place_city):
            return None
        return {"name": note.place_name, "city": note.place_city}

    @staticmethod
    def resolve_viewer(note: Note, context: dict[str, Any] | None = None) -> dict[str, bool]:
        """Whether the requesting member liked and collected the note (one query)."""
        request = (context or {}).get("request")
        if request is None:
            return {"liked": False, "collected": False}
        # Authentication already put the member on the request; don't look the token up again.
        user = getattr(request, "user", None)
        viewer = user if isinstance(user, Member) else viewer_of(request)
        return engagement_queries.viewer_flags(viewer, note.pk)


class CardPage(Schema):
    items: list[CardOut]
    next_cursor: str | None


JSON = "application/json; charset=utf-8"
COVER_KEYS = tuple(CoverOut.model_fields)
# The cards, kept in the process for ``CARD_SECONDS`` (how stale a card's title, cover and
# counts may be): the same notes fill many pages, and validating a card through the schema
# costs more than reading it.
_cards: Memo[int, dict[str, Any]] = Memo(lambda: settings.CARD_SECONDS, size=20_000)


def card_dicts(
    note_ids: list[int], *, upcoming: Sequence[int] = (), read_ahead: int = 0
) -> dict[int, dict[str, Any]]:
    """Cards as ``CardOut`` gives them, by note id (whether a card shows at all is the
    page's to decide, every time). Callers must not change them. ``upcoming``: the notes
    of the next pages, up to ``read_ahead`` of them read with any card that must be."""
    return _cards.get_many(note_ids, _read_cards, upcoming=upcoming, read_ahead=read_ahead)


def _read_cards(note_ids: list[int]) -> dict[int, dict[str, Any]]:
    return {
        note.pk: _card(note, author, cover) for note, author, cover in queries.card_parts(note_ids)
    }


def _card(note: Note, author: Member, cover: Media | None) -> dict[str, Any]:
    """``CardOut``'s output, through its own resolvers (a test holds the two equal)."""
    cover_fields = queries.cover_fields(cover)
    return {
        "id": CardOut.resolve_id(note),
        "title": note.title,
        "cover": None if cover_fields is None else {k: cover_fields[k] for k in COVER_KEYS},
        "author": {
            "id": AuthorOut.resolve_id(author),
            "username": author.username,
            "display_name": AuthorOut.resolve_display_name(author),
            "avatar_url": AuthorOut.resolve_avatar_url(author),
        },
        "counts": CardOut.resolve_counts(note),
        "language": note.language,
        "reason": None,
    }


def page_json(items: list[dict[str, Any]], next_cursor: str | None) -> bytes:
    """A page of cards (``CardPage``, or a schema extending it) as compact JSON, serialised
    once: the cards are ``CardOut``'s output already, and validating them again would double
    the page's cost."""
    # orjson: the same compact UTF-8 as json.dumps(ensure_ascii=False, separators=(",", ":")),
    # in a twentieth of the time (0.15 ms for a page of Explore).
    return orjson.dumps({"items": items, "next_cursor": next_cursor})


def card_page(items: list[dict[str, Any]], next_cursor: str | None) -> HttpResponse:
    """A ``CardPage`` response of ``card_dicts``."""
    return HttpResponse(page_json(items, next_cursor), JSON)


class PlaceIn(Schema):
    name: str = Field("", max_length=100)
    city: str = Field("", max_length=100)


class NoteIn(Schema):
    title: str = Field(..., max_length=80)
    body: str = Field("", max_length=1000)
    media_ids: list[str] = Field(default_factory=list, max_length=18)
    topics: list[str] = Field(default_factory=list, max_length=10)
    language: str = Field("", max_length=16)
    visibility: Visibility = Visibility.PUBLIC
    place: PlaceIn | None = None
    draft: bool = False


class NotePatch(Schema):
    title: str | None = Field(None, max_length=80)
    body: str | None = Field(None, max_length=1000)
    media_ids: list[str] | None = Field(None, max_length=18)
    topics: list[str] | None = Field(None, max_length=10)
    language: str | None = Field(None, max_length=16)
    visibility: Visibility | None = None
    place: PlaceIn | None = None
    draft: bool | None = None
    version: int | None = Field(None, description="the version you edited; 409 if it changed")


class TopicSuggestions(Schema):
    items: list[str]


def _fields(payload: dict[str, Any], note: Note | None = None) -> services.NoteFields:
    place = payload.pop("place", None)
    if place is not None:
        payload["place_name"], payload["place_city"] = place.get("name", ""), place.get("city", "")
    if note is not None:
        base = {
            "title": note.title,
            "body": note.body,
            "language": note.language,
            "visibility": note.visibility,
            "place_name": note.place_name,
            "place_city": note.place_city,
            "draft": note.status == Note.Status.DRAFT,
            "topics": [topic.name for topic in note.topics.all()],
        }
        payload = {**base, **payload}
    return services.NoteFields(**payload)


def _reloaded(viewer: Any, note: Note) -> Note:
    refreshed = queries.visible_note(viewer, note.pk)
    if refreshed is None:  # pragma: no cover - the author always sees their own note
        raise not_found()
    return refreshed


@router.post("/notes", response={201: NoteOut}, auth=member_auth)
def create(request: AuthedRequest, payload: NoteIn) -> Status[Note]:
    note = services.create_note(author=request.auth, fields=_fields(payload.dict()))
    return Status(201, _reloaded(request.auth, note))


@router.get("/notes/drafts", response=CardPage, auth=member_auth)
def drafts(
    request: AuthedRequest, cursor: str | None = None, limit: int = Query(20, ge=1, le=100)
) -> dict[str, Any]:
    rows, next_cursor = paginate(
        queries.drafts(request.auth), cursor=cursor, limit=limit, ordering=("-pk",)
    )
    return {"items": rows, "next_cursor": next_cursor}


@router.get("/notes/{note_id}", response=NoteOut, auth=None)
def detail(request: HttpRequest, note_id: str) -> Note:
    note = queries.visible_note(viewer_of(request), note_id)
    if note is None:
        raise not_found()
    return note


@router.patch("/notes/{note_id}", response=NoteOut, auth=member_auth)
def edit(request: AuthedRequest, note_id: str, payload: NotePatch) -> Note:
    note = queries.editable_note(request.auth, note_id)
    if note is None:
        raise not_found()
    changes = payload.dict(exclude_unset=True, exclude_none=True)  # null means "leave as is"
    version = changes.pop("version", None)
    changed = set(changes) | ({"place_name", "place_city"} if "place" in changes else set())
    try:
        updated = services.update_note(
            note=note, fields=_fields(changes, note), changed=changed, version=version
        )
    except services.EditConflict as error:
        raise Problem(
            409,
            "edit-conflict",
            _("The note changed since you loaded it"),
            _("Reload it and edit again."),
        ) from error
    return _reloaded(request.auth, updated)


@router.delete("/notes/{note_id}", response={204: None}, auth=member_auth)
def delete(request: AuthedRequest, note_id: str) -> Status[None]:
    note = queries.editable_note(request.auth, note_id)
    if note is None:
        raise not_found()
    services.delete_note(note=note)
    return Status(204, None)


@router.get("/accounts/{username}/notes", response=CardPage, auth=None)
def author_notes(
    request: HttpRequest,
    username: str,
    cursor: str | None = None,
    limit: int = Query(20, ge=1, le=100),
) -> dict[str, Any]:
    viewer = viewer_of(request)
    author = account_queries.visible_member(viewer, username)
    if author is None:
        raise not_found()
    rows, next_cursor = paginate(
        queries.by_author(viewer, author),
        cursor=cursor,
        limit=limit,
        ordering=("-published_at", "-pk"),
    )
    return {"items": rows, "next_cursor": next_cursor}


@router.get("/topics/suggest", response=TopicSuggestions, auth=None)
def suggest_topics(request: HttpRequest, q: str = Query("", max_length=30)) -> dict[str, list[str]]:
    """Topics for the composer as the author types: the most used public ones first."""
    return {"items": [hit.name for hit in search_queries.search_topics(q, limit=8)]}
