"""Web views of the language bridge: a comment's translation, swapped in by htmx."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from papercrane import ratelimit
from papercrane.engagement import queries as engagement_queries
from papercrane.language import queries, services


@require_GET
def comment_translation(request: HttpRequest, comment_id: int) -> HttpResponse:
    viewer = request.user if request.user.is_authenticated else None
    comment = engagement_queries.visible_comment(viewer, comment_id)
    if comment is None:
        raise Http404
    target = queries.reader_language(viewer)
    reader = str(viewer.pk) if viewer else ratelimit.client_ip(request)
    try:
        result = services.translate_for(reader, [comment.body], target, comment.language)
    except ratelimit.RateLimited as limited:
        return HttpResponse(
            limited.message, status=429, headers={"Retry-After": str(limited.retry_after)}
        )
    except services.TranslationUnavailable as error:
        return HttpResponse(services.unavailable_message(error), status=503)
    context = {"comment": comment, "translated": result.texts[0], "target": target}
    return render(request, "language/_comment_body.html", context)
