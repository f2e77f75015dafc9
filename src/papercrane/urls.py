from django.contrib import admin
from django.urls import include, path, re_path

from papercrane.api.core import api, api_not_found
from papercrane.api.health import healthz
from papercrane.media.views import serve_media

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
    path("admin/", admin.site.urls),
    # Embedded mode serves uploaded media itself; with S3 the bucket serves it.
    re_path(r"^media/(?P<path>.*)$", serve_media),
    path("", include("papercrane.notes.urls")),
    path("", include("papercrane.engagement.urls")),
    path("", include("papercrane.search.urls")),
    path("", include("papercrane.feed.urls")),
    path("", include("papercrane.language.urls")),
    path("", include("papercrane.moderation.urls")),
    path("", include("papercrane.privacy.urls")),
    path("", include("papercrane.live.urls")),
    path("", include("papercrane.web.urls")),
]
