"""Live-room fixtures: rooms made through the services, sockets through the real ASGI app."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.utils import timezone

from papercrane.accounts.models import Member
from papercrane.asgi import application
from papercrane.live import services
from papercrane.live.models import Room
from tests.language.translation_double import TranslationDouble, serve


def session_cookie(member: Member) -> str:
    client = Client()
    client.force_login(member)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def communicator(
    room_id: object, *, cookie: str = "", query: str = "", token: str = ""
) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    path = f"/ws/live/{room_id}/" + (f"?{query}" if query else "")
    return WebsocketCommunicator(application, path, headers=headers)


async def frames_until(socket: WebsocketCommunicator, kind: str, timeout: float = 5) -> list[Any]:
    """Frames received up to and including the first of type ``kind``."""
    received = []
    while True:
        frame = await socket.receive_json_from(timeout=timeout)
        received.append(frame)
        if frame["type"] == kind:
            return received


def aged(member: Member) -> Member:
    """A member past the new-account throttles."""
    member.date_joined = timezone.now() - dt.timedelta(days=30)
    member.save(update_fields=["date_joined"])
    return member


@pytest.fixture
def live_room(alice: Member) -> Room:
    room = services.create_room(host=aged(alice), title="Chengdu hotpot night", topic="food")
    return services.start_room(room=room, by=alice)


@pytest.fixture
def libretranslate(settings: Any) -> Iterator[TranslationDouble]:
    """LibreTranslate as the translation provider, served by the test double."""
    for double in serve():
        settings.TRANSLATION_PROVIDERS = ["libretranslate"]
        settings.LIBRETRANSLATE_URL = double.url
        yield double


@pytest.fixture
def cookie_of() -> Callable[[Member], str]:
    return session_cookie
