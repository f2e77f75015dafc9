"""Fixed-window rate limits kept in the Django cache (local memory embedded, Redis at scale)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Rate:
    limit: int
    period_seconds: int


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited, retry after {retry_after}s")
        self.retry_after = retry_after

    @property
    def message(self) -> str:
        """What to tell the person, in their language."""
        return _("Please wait %(seconds)s seconds and try again.") % {"seconds": self.retry_after}


def _window(scope: str, key: str, rate: Rate) -> tuple[str, int]:
    now = int(time.time())
    window = now // rate.period_seconds
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]  # keys may hold IPs: never store raw
    retry_after = rate.period_seconds - now % rate.period_seconds
    return f"ratelimit:{scope}:{digest}:{window}", retry_after


def check(scope: str, key: str, rate: Rate) -> None:
    """Raise RateLimited if ``key`` has used up ``rate`` in the current window; count nothing."""
    if not settings.RATELIMIT_ENABLED:
        return
    cache_key, retry_after = _window(scope, key, rate)
    if (cache.get(cache_key) or 0) >= rate.limit:
        raise RateLimited(retry_after)


def hit(scope: str, key: str, rate: Rate) -> None:
    """Count one attempt by ``key``; raise RateLimited once it goes over ``rate``."""
    if not settings.RATELIMIT_ENABLED:
        return
    cache_key, retry_after = _window(scope, key, rate)
    if cache.add(cache_key, 1, timeout=rate.period_seconds + 1):
        return
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add() and incr()
        cache.set(cache_key, 1, timeout=rate.period_seconds + 1)
        count = 1
    if count > rate.limit:
        raise RateLimited(retry_after)


def refusal_page(request: HttpRequest, error: RateLimited) -> HttpResponse:
    """The web's "too many attempts" page, with ``Retry-After``."""
    from django.shortcuts import render

    response = render(request, "web/rate_limited.html", {"seconds": error.retry_after}, status=429)
    response["Retry-After"] = str(error.retry_after)
    return response


def client_ip(request: HttpRequest) -> str:
    """The client's address; behind a trusted proxy, the hop the proxy appended last."""
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return str(request.META.get("REMOTE_ADDR") or "unknown")
