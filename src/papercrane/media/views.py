"""Serving media from the data dir (embedded mode; with S3 the bucket serves them)."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.views.static import serve

from papercrane.media import storage


def serve_media(request: HttpRequest, path: str) -> HttpResponseBase:
    """Files are named by their content, so they never change: let browsers keep them.
    Private files (data exports) are never served here."""
    if path.split("/", 1)[0] == storage.PRIVATE_DIRECTORY:
        raise Http404
    response = serve(request, path, document_root=str(settings.MEDIA_ROOT))
    response["Cache-Control"] = f"public, max-age={settings.MEDIA_CACHE_SECONDS}, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    )
    return response
