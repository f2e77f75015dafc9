"""Search API: notes (as cards), members, topics, suggestions, trending and history."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from papercrane.accounts.api import AccountOut
from papercrane.accounts.models import Language
from papercrane.api.auth import AuthedRequest, member_auth, viewer_of
from papercrane.api.pagination import offset_cursor, read_offset_cursor
from papercrane.api.problems import validation_problem
from papercrane.notes.api import CardPage, card_dicts, card_page
from papercrane.search import analysis, queries, services

router = Router(tags=["search"])

QUERY_FIELD = Query(
    "", max_length=analysis.MAX_QUERY_CHARS, description="what to look for, in any language"
)


class NoteFilters(Schema):
    q: str = QUERY_FIELD
    topic: str = Query("", max_length=30, description="only notes under this #topic")
    language: Language | Literal[""] = Query("", description="only notes in this language")
    period: Literal["", "day", "week", "month", "year"] = Query("", description="how recent")
    sort: Literal["relevant", "newest", "collected"] = "relevant"
    limit: int = Query(20, ge=1, le=100)
    cursor: str | None = None


class AccountPage(Schema):
    items: list[AccountOut]
    next_cursor: str | None = None


class TopicOut(Schema):
    name: str
    notes: int


class TopicPage(Schema):
    items: list[TopicOut]
    next_cursor: str | None = None


class SuggestionOut(Schema):
    kind: str
    text: str
    note_id: str | None = None

    @staticmethod
    def resolve_note_id(suggestion: Any) -> str | None:
        return None if suggestion.note_id is None else str(suggestion.note_id)


class Suggestions(Schema):
    items: list[SuggestionOut]


class Queries(Schema):
    items: list[str]


def _required_query(text: str) -> str:
    if not text.strip():
        message = _("Type something to search for.")
        raise validation_problem([{"field": "q", "message": message, "code": "required"}])
    return text


@router.get("/search/notes", response=CardPage, auth=None)
def search_notes(request: HttpRequest, filters: Query[NoteFilters]) -> HttpResponse:
    """Notes the requester may see, best first. ``q`` or ``topic`` is required."""
    if not filters.topic.strip():
        _required_query(filters.q)
    offset = read_offset_cursor(filters.cursor, maximum=queries.MAX_RESULTS)
    viewer = viewer_of(request)
    search = queries.NoteSearch(
        text=filters.q,
        topic=filters.topic,
        language=filters.language,
        period=filters.period,
        sort=filters.sort,
    )
    note_ids, more = queries.search_note_ids(viewer, search, offset=offset, limit=filters.limit)
    if offset == 0 and filters.q.strip():
        services.record_search(member=viewer, visitor=services.searcher(request), query=filters.q)
    cards = card_dicts(note_ids)
    items = [cards[note_id] for note_id in note_ids if note_id in cards]
    return card_page(items, offset_cursor(offset + filters.limit) if more else None)


@router.get("/search/users", response=AccountPage, auth=None)
def search_users(
    request: HttpRequest, q: str = QUERY_FIELD, limit: int = Query(20, ge=1, le=100)
) -> dict[str, Any]:
    members = queries.search_members(viewer_of(request), _required_query(q), limit=limit)
    return {"items": members}


@router.get("/search/topics", response=TopicPage, auth=None)
def search_topics(
    request: HttpRequest, q: str = QUERY_FIELD, limit: int = Query(20, ge=1, le=100)
) -> dict[str, Any]:
    return {"items": queries.search_topics(_required_query(q), limit=limit)}


@router.get("/search/suggest", response=Suggestions, auth=None)
def suggest(request: HttpRequest, q: str = QUERY_FIELD) -> dict[str, Any]:
    """As-you-type suggestions: the requester's kept history, topics, popular queries and
    note titles; with an empty ``q``, history and trending searches."""
    return {"items": queries.suggest(viewer_of(request), q)}


@router.get("/search/trending", response=Queries, auth=None)
def trending(request: HttpRequest, limit: int = Query(10, ge=1, le=50)) -> dict[str, Any]:
    """What many people searched for recently (aggregate counts only)."""
    return {"items": queries.trending(limit=limit)}


@router.get("/search/history", response=Queries, auth=member_auth)
def history(request: AuthedRequest) -> dict[str, Any]:
    """Your recent searches (kept only while ``keeps_search_history`` is on)."""
    return {"items": queries.history(request.auth)}


@router.delete("/search/history", response={204: None}, auth=member_auth)
def clear_history(request: AuthedRequest) -> Status[None]:
    services.clear_history(member=request.auth)
    return Status(204, None)
