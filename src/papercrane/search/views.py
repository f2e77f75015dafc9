"""The search page: notes, people and topics; suggestions as you type; trending and history.

Thin: the words and filters are read from the address (anything unknown falls back to the
default), reads go through ``search.queries`` and writes through ``search.services``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from papercrane.accounts.http import MemberRequest
from papercrane.accounts.models import Member
from papercrane.search import analysis, queries, services

PAGE_SIZE = 20  # notes per page (and per "Load more")
MEMBERS_SHOWN = 40
TOPICS_SHOWN = 40
TRENDING_SHOWN = 10
MAX_TOPIC_CHARS = 64
NOTE_PAGES = "note-pages"  # the element "Load more" appends pages of cards to

TABS: dict[str, Promise] = {
    "notes": gettext_lazy("Notes"),
    "users": gettext_lazy("Users"),
    "topics": gettext_lazy("Topics"),
}
SORTS: dict[str, Promise] = {
    "relevant": gettext_lazy("Relevant"),
    "newest": gettext_lazy("Newest"),
    "collected": gettext_lazy("Most collected"),
}
PERIODS: dict[str, Promise] = {
    "": gettext_lazy("Any time"),
    "day": gettext_lazy("Past day"),
    "week": gettext_lazy("Past week"),
    "month": gettext_lazy("Past month"),
    "year": gettext_lazy("Past year"),
}
# How each kind of suggestion is marked: an icon (hidden from screen readers) and a word.
SUGGESTION_KINDS: dict[str, tuple[str, Promise]] = {
    "history": ("↺", gettext_lazy("Recent")),
    "topic": ("#", gettext_lazy("Topic")),
    "query": ("↗", gettext_lazy("Popular")),
    "note": ("≡", gettext_lazy("Note")),
}


def _offset(value: str) -> int:
    if not (value.isascii() and value.isdigit() and len(value) <= 6):
        return 0
    return min(int(value), queries.MAX_RESULTS)


@dataclass(frozen=True)
class SearchParams:
    """The search as the address states it, each part valid (or its default)."""

    q: str = ""
    tab: str = "notes"
    sort: str = "relevant"
    period: str = ""
    topic: str = ""
    offset: int = 0

    @classmethod
    def from_query(cls, data: QueryDict) -> SearchParams:
        tab, sort, period = data.get("tab", ""), data.get("sort", ""), data.get("period", "")
        return cls(
            q=analysis.clean_query(data.get("q", "")),
            tab=tab if tab in TABS else "notes",
            sort=sort if sort in SORTS else "relevant",
            period=period if period in queries.PERIODS else "",
            topic=analysis.clean_query(data.get("topic", ""), MAX_TOPIC_CHARS).lstrip("#"),
            offset=_offset(data.get("offset", "")),
        )

    @property
    def searching(self) -> bool:
        """Whether there is anything to look for (the topic filter applies to notes only)."""
        return bool(self.q) or (self.tab == "notes" and bool(self.topic))

    def url(self, **changes: Any) -> str:
        """The search page's address for these parameters with ``changes``; defaults omitted."""
        changed = replace(self, **changes)
        pairs = [
            (field.name, getattr(changed, field.name))
            for field in fields(self)
            if getattr(changed, field.name) != field.default
        ]
        return reverse("search:search") + ("?" + urlencode(pairs) if pairs else "")

    def note_search(self) -> queries.NoteSearch:
        return queries.NoteSearch(text=self.q, topic=self.topic, period=self.period, sort=self.sort)


def _viewer(request: HttpRequest) -> Member | None:
    return request.user if request.user.is_authenticated else None


def _choices(params: SearchParams, name: str, labels: dict[str, Promise]) -> list[dict[str, Any]]:
    """Links to the same search with ``name`` set to each value, the current one marked."""
    current = getattr(params, name)
    return [
        {
            "label": label,
            "url": params.url(**{name: value, "offset": 0}),
            "current": value == current,
        }
        for value, label in labels.items()
    ]


def _note_page(viewer: Member | None, params: SearchParams) -> dict[str, Any]:
    search = params.note_search()
    notes, has_more = queries.search_notes(viewer, search, offset=params.offset, limit=PAGE_SIZE)
    end = params.offset + PAGE_SIZE
    return {
        "notes": notes,
        "only_related": bool(notes) and params.offset == 0 and not queries.words_match(search),
        "more_url": params.url(offset=end) if has_more else "",
        "capped": bool(notes) and not has_more and end >= queries.MAX_RESULTS,
        "max_results": queries.MAX_RESULTS,
    }


def _start(viewer: Member | None) -> dict[str, Any]:
    """What the page offers before anything is typed: trending searches and, for members who
    keep it, their own history."""
    keeps = viewer is not None and viewer.keeps_search_history
    return {
        "trending": queries.trending(limit=TRENDING_SHOWN),
        "history": queries.history(viewer) if viewer is not None and keeps else [],
        "keeps_history": keeps,
    }


def _loads_more(request: HttpRequest) -> bool:
    """Whether htmx asks for the next page of cards (the "Load more" button)."""
    headers = request.headers
    return headers.get("HX-Request") == "true" and headers.get("HX-Target") == NOTE_PAGES


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    """The search page; for htmx's "Load more", just the next page of cards."""
    params = SearchParams.from_query(request.GET)
    viewer = _viewer(request)
    if _loads_more(request) and params.tab == "notes" and params.searching:
        response = render(
            request,
            "search/_note_page.html",
            {"params": params, "oob": True, **_note_page(viewer, params)},
        )
        patch_vary_headers(response, ["HX-Request"])
        return response

    if request.method == "GET" and params.q and params.offset == 0:
        services.record_search(member=viewer, visitor=services.searcher(request), query=params.q)

    context: dict[str, Any] = {
        "params": params,
        "tabs": [
            {"label": label, "url": params.url(tab=tab, offset=0), "current": tab == params.tab}
            for tab, label in TABS.items()
        ],
    }
    if not params.searching:
        context.update(_start(viewer))
    elif params.tab == "notes":
        context.update(_note_page(viewer, params))
        context["sorts"] = _choices(params, "sort", SORTS)
        context["periods"] = _choices(params, "period", PERIODS)
        context["without_topic"] = params.url(topic="", offset=0)
    elif params.tab == "users":
        context["members"] = queries.search_members(viewer, params.q, limit=MEMBERS_SHOWN)
    else:
        context["topics"] = queries.search_topics(params.q, limit=TOPICS_SHOWN)
    response = render(request, "search/search.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_safe
@never_cache  # holds the member's own history
def suggest(request: HttpRequest) -> HttpResponse:
    """The suggestion list under the search box, as an HTML fragment (see ``search.js``)."""
    text = analysis.clean_query(request.GET.get("q", ""))
    suggestions = [
        {
            "kind": suggestion.kind,
            "value": suggestion.text,  # what goes into the search box
            "text": suggestion.text.removeprefix("#")
            if suggestion.kind == "topic"
            else suggestion.text,
            "icon": SUGGESTION_KINDS.get(suggestion.kind, SUGGESTION_KINDS["query"])[0],
            "label": SUGGESTION_KINDS.get(suggestion.kind, SUGGESTION_KINDS["query"])[1],
            "note_id": suggestion.note_id,
        }
        for suggestion in queries.suggest(_viewer(request), text)
    ]
    return render(request, "search/_suggestions.html", {"suggestions": suggestions})


@login_required
@require_POST
def clear_history(request: MemberRequest) -> HttpResponse:
    services.clear_history(member=request.user)
    messages.success(request, _("Your search history is cleared."))
    return redirect("search:search")


@login_required
@require_POST
def keep_history(request: MemberRequest) -> HttpResponse:
    keep = request.POST.get("keep") == "1"
    services.set_keeps_history(member=request.user, keep=keep)
    if keep:
        messages.success(request, _("Your searches will be kept here, for you alone."))
    else:
        messages.success(request, _("Your searches are no longer kept; the kept ones are deleted."))
    return redirect("search:search")
