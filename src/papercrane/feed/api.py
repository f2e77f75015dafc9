"""Feeds API: Explore (with a reason per card), Following, Nearby, and the member's controls
("not interested", "fewer like this", chosen topics, reading time)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, overload

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import AuthenticationError

from papercrane.accounts.models import Member
from papercrane.api.auth import AuthedRequest, member_auth, viewer_of
from papercrane.api.pagination import paginate
from papercrane.api.problems import Problem, validation_problem
from papercrane.feed import queries, reasons, services
from papercrane.notes import queries as note_queries
from papercrane.notes.api import JSON, CardOut, CardPage, card_dicts, page_json

router = Router(tags=["feeds"])


class ReasonOut(Schema):
    kind: str
    note_id: str | None = None
    note_title: str = ""
    topic: str = ""
    language: str = ""


class ExploreCardOut(CardOut):
    why: ReasonOut | None = None


class ExplorePage(Schema):
    items: list[ExploreCardOut]
    next_cursor: str | None


class FeedbackIn(Schema):
    kind: Literal["note", "topic", "author"] = Field(
        ..., description="not interested in a note, or fewer like this for a topic or author"
    )
    target: str = Field(..., min_length=1, max_length=64, description="note id, topic, username")


class FeedbackOut(Schema):
    kind: str
    target: str
    active: bool


class TopicsIn(Schema):
    topics: list[str] = Field(..., max_length=services.MAX_CHOSEN_TOPICS)


class TopicsOut(Schema):
    topics: list[str]


class DwellIn(Schema):
    note_id: str = Field(..., max_length=20)
    dwell_ms: int = Field(..., ge=0, le=3_600_000)


def _invalid_cursor() -> Problem:
    hint = _("Use the next_cursor of a previous page.")
    return validation_problem([{"field": "cursor", "message": hint, "code": "invalid"}])


@overload
def explore_json(
    viewer: Member | None, *, cursor: str | None, limit: int, confirm: None = None
) -> bytes: ...
@overload
def explore_json(
    viewer: Member | None, *, cursor: str | None, limit: int, confirm: Callable[[], bool]
) -> bytes | None: ...
def explore_json(
    viewer: Member | None,
    *,
    cursor: str | None,
    limit: int,
    confirm: Callable[[], bool] | None = None,
) -> bytes | None:
    """The body of ``GET /feeds/explore`` (``ExplorePage``), for this route and the lean one
    in ``asgi.py`` alike; None if ``confirm`` says the viewer changed while it was read
    (``services.explore_page``). Raises ``queries.InvalidCursor``."""
    page = services.explore_page(viewer, cursor=cursor, limit=limit, confirm=confirm)
    if page is None:
        return None
    cards = card_dicts(page.note_ids, upcoming=page.upcoming, read_ahead=queries.READ_AHEAD)
    language = translation.get_language()
    items = [
        {**cards[note_id], **reasons.card_fields(page.reasons[note_id], language)}
        for note_id in page.note_ids
        if note_id in cards
    ]
    return page_json(items, page.next_cursor)


@router.get("/feeds/explore", response=ExplorePage, auth=None)
def explore(
    request: HttpRequest, cursor: str | None = None, limit: int = Query(20, ge=1, le=100)
) -> HttpResponse:
    """Notes chosen for the requester, each with why it is there. Logged-out visitors, and
    members who turned personalization off, get trending and new notes. A token that is not
    valid is refused (401), not taken for a visitor."""
    viewer = viewer_of(request)
    if viewer is None and "authorization" in request.headers:
        raise AuthenticationError
    try:
        return HttpResponse(explore_json(viewer, cursor=cursor, limit=limit), content_type=JSON)
    except queries.InvalidCursor as error:
        raise _invalid_cursor() from error


@router.get("/feeds/following", response=CardPage, auth=member_auth)
def following(
    request: AuthedRequest, cursor: str | None = None, limit: int = Query(20, ge=1, le=100)
) -> dict[str, Any]:
    """Notes of the people you follow, newest first."""
    notes, next_cursor = paginate(
        note_queries.for_cards(queries.following(request.auth)),
        cursor=cursor,
        limit=limit,
        ordering=("-published_at", "-pk"),
    )
    return {"items": notes, "next_cursor": next_cursor}


@router.get("/feeds/nearby", response=CardPage, auth=member_auth)
def nearby(
    request: AuthedRequest, cursor: str | None = None, limit: int = Query(20, ge=1, le=100)
) -> dict[str, Any]:
    """Notes placed in your city; empty until you set ``city`` on your account."""
    notes, next_cursor = paginate(
        note_queries.for_cards(queries.nearby(request.auth)),
        cursor=cursor,
        limit=limit,
        ordering=("-published_at", "-pk"),
    )
    return {"items": notes, "next_cursor": next_cursor}


def _target_id(request: AuthedRequest, payload: FeedbackIn) -> int:
    target = queries.feedback_target(request.auth, payload.kind, payload.target)
    if target is None:
        message = _("Nothing to hide by that name.")
        raise validation_problem([{"field": "target", "message": message, "code": "not_found"}])
    return target


@router.post("/feeds/feedback", response=FeedbackOut, auth=member_auth)
def give_feedback(request: AuthedRequest, payload: FeedbackIn) -> dict[str, Any]:
    """ "Not interested" in a note, or "fewer like this" for a topic or author; applied to
    your next page at once."""
    services.give_feedback(
        member=request.auth, kind=payload.kind, target_id=_target_id(request, payload)
    )
    return {"kind": payload.kind, "target": payload.target, "active": True}


@router.delete("/feeds/feedback", response=FeedbackOut, auth=member_auth)
def withdraw_feedback(request: AuthedRequest, payload: FeedbackIn) -> dict[str, Any]:
    services.withdraw_feedback(
        member=request.auth, kind=payload.kind, target_id=_target_id(request, payload)
    )
    return {"kind": payload.kind, "target": payload.target, "active": False}


@router.get("/feeds/topics", response=TopicsOut, auth=member_auth)
def chosen_topics(request: AuthedRequest) -> dict[str, Any]:
    """The topics you picked to start Explore with."""
    return {"topics": queries.chosen_topic_names(request.auth)}


@router.put("/feeds/topics", response=TopicsOut, auth=member_auth)
def choose_topics(request: AuthedRequest, payload: TopicsIn) -> dict[str, Any]:
    """Replace the topics you picked (unknown topics are ignored)."""
    services.choose_topics(member=request.auth, topic_ids=queries.topic_ids(payload.topics))
    return {"topics": queries.chosen_topic_names(request.auth)}


@router.post("/feeds/dwell", response={204: None}, auth=member_auth)
def dwell(request: AuthedRequest, payload: DwellIn) -> Status[None]:
    """Reading time on a note you opened (aggregated per day; kept 90 days at most)."""
    note = queries.readable_note(request.auth, payload.note_id)
    if note is not None and queries.personalized(request.auth):
        services.record_dwell(member=request.auth, note_id=note, dwell_ms=payload.dwell_ms)
    return Status(204, None)
