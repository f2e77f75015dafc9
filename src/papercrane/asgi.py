"""The ASGI application: Django for HTTP, Channels for WebSockets, in one process; and a
lean route for Explore's first pages, the busiest request there is."""

import asyncio
import contextvars
import gc
import io
import logging
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
from csp.middleware import CSPMiddleware  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.exceptions import DisallowedHost  # noqa: E402
from django.core.handlers.asgi import ASGIHandler, ASGIRequest  # noqa: E402
from django.db import connections  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.middleware.clickjacking import XFrameOptionsMiddleware  # noqa: E402
from django.middleware.locale import LocaleMiddleware  # noqa: E402
from django.middleware.security import SecurityMiddleware  # noqa: E402
from django.urls import get_resolver  # noqa: E402
from django.utils import timezone, translation  # noqa: E402

from papercrane.api.auth import bearer  # noqa: E402
from papercrane.feed.api import JSON, explore_json  # noqa: E402
from papercrane.feed.queries import InvalidCursor  # noqa: E402
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
# What start-up built (the dictionary, models, the URLconf: a million objects) lives as long
# as the process. Moved out of the collector's sight, a full collection no longer walks it:
# one took half a second of every request's time in this process.
gc.collect()
gc.freeze()

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


logger = logging.getLogger(__name__)
EXPLORE_PATH = "/api/v1/feeds/explore"
# The middleware that adds headers to API responses (security, language), innermost first as
# Django runs them on the way out; their own code adds the headers, so the routes agree.
_RESPONSE_MIDDLEWARE = [
    middleware(lambda request: HttpResponse())
    for middleware in (XFrameOptionsMiddleware, LocaleMiddleware, CSPMiddleware, SecurityMiddleware)
]
Answer = tuple[list[tuple[bytes, bytes]], bytes] | None  # headers and body, or None: Django's


class ExploreRoute:
    """``GET /api/v1/feeds/explore`` with a bearer token, without Django's request cycle
    (middleware, URL resolution, ninja: several milliseconds of CPU, more than the page).

    It uses what the API route uses: the same token check (``api.auth.bearer``), the same
    body (``feed.api.explore_json``: query and serialization) and the headers of the same
    middleware. Everything it does not answer goes to Django: cookies (sessions, CSRF),
    other methods and paths, parameters it does not take as they are, a token that is not
    valid, a forged cursor. Django answers those as the API always does (problem+json), so
    no error is written twice.

    The page is made on the event loop's own thread, in one go. Pages are CPU-bound Python
    that a process makes one at a time whatever thread it is on (they contend for the
    interpreter's lock), and handing each to a thread of its own and its answer back cost
    a tenth to a fifth of the server's CPU per page (the thread's wake-ups, the loop's, the
    lock passed back and forth; measured in paired runs of Explore's benchmark: 1.41 and
    1.43 ms a page with the thread, 1.26 and 1.16 without). Other requests of the process
    wait for the page, as they waited for the interpreter's lock before; the loop waits for
    the page's statement on PostgreSQL (a fraction of a millisecond) as the thread did, and
    the other processes use the cores meanwhile.
    """

    def __init__(self, django: Any) -> None:
        self.django = django
        # The context the pages run in, kept from one page to the next: Django's database
        # connections and active language are per context on an event loop's thread.
        self._context = contextvars.Context()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if not self.takes(scope):
            return await self.django(scope, receive, send)
        answer = self._page(scope)
        if answer is None:
            return await self.django(scope, receive, send)
        await send({"type": "http.response.start", "status": 200, "headers": answer[0]})
        await send({"type": "http.response.body", "body": answer[1]})

    @staticmethod
    def takes(scope: Any) -> bool:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] != EXPLORE_PATH:
            return False
        headers = dict(scope["headers"])
        return b"cookie" not in headers and headers.get(b"authorization", b"")[:7].lower() == (
            b"bearer "
        )

    def _page(self, scope: Any) -> Answer:
        """``_explore`` on this thread. Django refuses its database calls on a thread whose
        event loop is running (a guard against blocking the loop unawares): here blocking it
        for the page is what is meant, so the loop is set aside for the page's length (no
        await happens meanwhile, so no other coroutine runs in between)."""
        loop = asyncio.get_running_loop()
        asyncio.events._set_running_loop(None)
        try:
            return self._context.run(_explore_safely, scope)
        finally:
            asyncio.events._set_running_loop(loop)


def _explore_safely(scope: Any) -> Answer:
    try:
        return _explore(scope)
    except Exception:  # its own clean-up failed: Django answers instead
        logger.exception("Explore's lean route failed; Django answers instead")
        return None


def _explore(scope: Any) -> Answer:
    """Headers and body of the page, or None for Django to answer."""
    try:
        request = ASGIRequest(scope, io.BytesIO())
        body = _explore_body(request)
        if body is None:
            return None
    except Exception:  # Django answers (and reports) what went wrong, as for any request
        logger.exception("Explore's lean route failed; Django answers instead")
        return None
    else:
        return [*_response_headers(request), (b"content-length", str(len(body)).encode())], body
    finally:
        translation.deactivate()  # the token check activated the member's language and zone
        timezone.deactivate()
        _keep_connections()


def _keep_connections() -> None:
    """After each page, what Django does after each request (``close_old_connections``),
    but for the age of a connection: the route's context keeps its connections for the
    life of the process (as ``CONN_MAX_AGE = None`` would), rather than taking one from the
    pool and giving it back for every page (a twentieth of a page). One that failed, or was
    left outside autocommit, is closed as Django would close it."""
    for connection in connections.all(initialized_only=True):
        connection.close_at = None
        connection.close_if_unusable_or_obsolete()


_headers: dict[tuple[str, bool], list[tuple[bytes, bytes]]] = {}


def _response_headers(request: HttpRequest) -> list[tuple[bytes, bytes]]:
    """The middleware's headers for a page of this route, worked out once per language and
    scheme: for the one path, method and content type the route answers, they depend on
    nothing else (running the middleware took a tenth of the page's time)."""
    key = (translation.get_language(), request.is_secure())
    found = _headers.get(key)
    if found is None:
        response = HttpResponse(content_type=JSON)
        for middleware in _RESPONSE_MIDDLEWARE:
            middleware.process_response(request, response)
        found = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.items()]
        _headers[key] = found
    return found


def _explore_body(request: HttpRequest) -> bytes | None:
    try:
        request.get_host()  # ALLOWED_HOSTS
    except DisallowedHost:
        return None
    limit = request.GET.get("limit", "20")
    if settings.SECURE_SSL_REDIRECT and not request.is_secure():
        return None
    if not (limit.isdigit() and 1 <= int(limit) <= 100):
        return None
    cursor = request.GET.get("cursor") or None
    if cursor is None:
        # A first page: its query reads the log of changes, which says whether the token
        # as the process held it still stands; then it costs no query of its own.
        held = bearer.held(request)
        if held is None:
            return None
        member, confirm = held.token.member, held.still_valid
        body = explore_json(member, cursor=None, limit=int(limit), confirm=confirm)
        if body is not None:
            return body
    # The next page of a visit reads no log: its token is read now, as it is when the member
    # behind a held token changed meanwhile (the page is then read again, as of now).
    viewer = bearer(request)
    if viewer is None:
        return None
    try:
        return explore_json(viewer, cursor=cursor, limit=int(limit))
    except InvalidCursor:
        return None


application = ProtocolTypeRouter(
    {
        "http": ExploreRoute(PooledThreadASGIHandler()),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns + live_websockets))
        ),
    }
)
