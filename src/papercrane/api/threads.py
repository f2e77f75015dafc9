"""Running slow synchronous work from async API handlers without serialising it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.db import close_old_connections

T = TypeVar("T")


async def in_worker_thread(func: Callable[..., T], /, **kwargs: Any) -> T:
    """Run ``func`` in a pool thread, so CPU-bound work (Argon2 hashing) uses every core.

    Django runs sync views one at a time on a single thread under ASGI; password hashing there
    would cap signups and logins at one core. The thread's database connection is released
    afterwards (back to the pool on PostgreSQL), as a request thread's would be.
    """

    def call() -> T:
        try:
            return func(**kwargs)
        finally:
            close_old_connections()

    return await sync_to_async(call, thread_sensitive=False)()
