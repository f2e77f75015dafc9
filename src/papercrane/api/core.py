"""The one ninja API object at /api/v1; each app contributes its router from ``<app>/api.py``."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.parser import Parser

from papercrane.accounts.api import router as accounts_router
from papercrane.api import problems
from papercrane.engagement.api import router as engagement_router
from papercrane.feed.api import router as feed_router
from papercrane.language.api import router as language_router
from papercrane.live.api import router as live_router
from papercrane.media.api import router as media_router
from papercrane.moderation.api import router as moderation_router
from papercrane.notes.api import router as notes_router
from papercrane.notifications.api import router as notifications_router
from papercrane.privacy.api import router as privacy_router
from papercrane.search.api import router as search_router


class StrictJSONParser(Parser):
    """JSON bodies must say so: a form or text body sent to a JSON endpoint is a 415."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        if request.body and request.content_type != "application/json":
            raise problems.Problem(
                415,
                "unsupported-media-type",
                _("Unsupported content type"),
                _("Send the body as application/json."),
            )
        try:
            data = json.loads(request.body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise problems.Problem(
                400, "malformed-json", _("The request body is not valid JSON")
            ) from error
        if not isinstance(data, dict):
            raise problems.Problem(
                400, "malformed-json", _("The request body must be a JSON object")
            )
        return data


api = NinjaAPI(
    title="Papercrane API",
    version="1",
    description="The public HTTP API of Papercrane. Errors are RFC 9457 problem+json.",
    urls_namespace="api",
    parser=StrictJSONParser(),
)
problems.install(api)
api.add_router("/", accounts_router)
api.add_router("/", media_router)
api.add_router("/", notes_router)
api.add_router("/", engagement_router)
api.add_router("/", notifications_router)
api.add_router("/", search_router)
api.add_router("/", feed_router)
api.add_router("/", language_router)
api.add_router("/", moderation_router)
api.add_router("/", privacy_router)
api.add_router("/", live_router)


def api_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Unknown paths under /api/ answer in the API's language: problem+json, not an HTML page."""
    return problems.problem_response(request, problems.not_found())
