"""The member's live channel over WebSocket, through the real ASGI application."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from papercrane.accounts import services
from papercrane.accounts.models import Member
from papercrane.asgi import application
from papercrane.notifications.services import mark_read, push_to_member

pytestmark = pytest.mark.django_db(transaction=True)


def _communicator(cookie: str = "") -> WebsocketCommunicator:
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(application, "/ws/me/", headers=headers)


def test_anonymous_sockets_are_closed() -> None:
    async def scenario() -> None:
        communicator = _communicator()
        connected, code = await communicator.connect()
        assert not connected
        assert code == 4401

    async_to_sync(scenario)()


def test_member_receives_pushes(alice: Member) -> None:
    client = Client()
    client.force_login(alice)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    async def scenario() -> None:
        communicator = _communicator(cookie)
        connected, _ = await communicator.connect()
        assert connected
        await communicator.send_json_to({"type": "ping"})
        assert await communicator.receive_json_from() == {"type": "pong"}
        await sync_to_async(push_to_member)(alice.pk, {"type": "notification.count", "unread": 3})
        assert await communicator.receive_json_from(timeout=5) == {
            "type": "notification.count",
            "unread": 3,
        }
        await communicator.disconnect()

    async_to_sync(scenario)()


def test_a_new_follower_updates_the_badge_live(alice: Member, bob: Member) -> None:
    client = Client()
    client.force_login(alice)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    async def scenario() -> None:
        communicator = _communicator(cookie)
        connected, _ = await communicator.connect()
        assert connected
        await sync_to_async(services.follow)(member=bob, target=alice)
        assert await communicator.receive_json_from(timeout=5) == {
            "type": "notification.count",
            "unread": 1,
        }
        await sync_to_async(mark_read)(member=alice)
        assert await communicator.receive_json_from(timeout=5) == {
            "type": "notification.count",
            "unread": 0,
        }
        await communicator.disconnect()

    async_to_sync(scenario)()
