"""The ASGI application: Django for HTTP, Channels for WebSockets, in one process."""

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "papercrane.settings")

import django

django.setup(set_prefix=False)

from asgiref.sync import ThreadSensitiveContext  # noqa: E402
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from papercrane.language.gloss import dictionary  # noqa: E402
from papercrane.live.routing import websocket_urlpatterns as live_websockets  # noqa: E402
from papercrane.moderation.classifiers import toxicity  # noqa: E402
from papercrane.notifications.routing import websocket_urlpatterns  # noqa: E402

# Import the URLconf (and with it every view and API router) now, not during the first
# requests, which would otherwise wait on each other for Python's import lock.
get_resolver().url_patterns  # noqa: B018
# Build the learners' dictionary (a few seconds) and load the profanity model that screens
# every comment and chat message (a second) before the first request, not during it.
dictionary()
toxicity(["warm up"])

IDLE_REQUEST_THREADS = 32


class PooledThreadASGIHandler(ASGIHandler):
    """Django's ASGI handler, reusing the thread each request runs its sync code on.

    Django gives every request its own thread for sync code (views, most middleware, the ORM)
    and creates it, plus a new database connection, per request: on a small server that is
    about half the CPU of a simple request. Borrowing a thread from a pool keeps the isolation
    (one request per thread at a time) while threads and their connections live on.
    """

    def __init__(self) -> None:
        super().__init__()
        self._idle: list[ThreadPoolExecutor] = []  # touched only from the event loop

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = self._idle.pop() if self._idle else ThreadPoolExecutor(max_workers=1)
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            if len(self._idle) < IDLE_REQUEST_THREADS:
                self._idle.append(executor)
            else:
                executor.shutdown(wait=False)


application = ProtocolTypeRouter(
    {
        "http": PooledThreadASGIHandler(),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns + live_websockets))
        ),
    }
)
