"""Chat in a live room over WebSocket, through the real ASGI application and channel layer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from papercrane.accounts.models import Member
from papercrane.live import services
from papercrane.live.models import Message, Room
from tests.language.translation_double import TranslationDouble
from tests.live.conftest import aged, communicator, frames_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_viewers_receive_what_a_member_says(
    live_room: Room, alice: Member, bob: Member, cookie_of: Callable[[Member], str]
) -> None:
    aged(bob)
    bob_cookie = cookie_of(bob)

    async def scenario() -> None:
        viewer = communicator(live_room.pk)  # signed out: reads only
        connected, _ = await viewer.connect()
        assert connected
        state = await viewer.receive_json_from(timeout=5)
        assert state["type"] == "room.state"
        assert state["room"]["title"] == "Chengdu hotpot night"
        assert state["viewer"]["can_send"] is False

        speaker = communicator(live_room.pk, cookie=bob_cookie)
        assert (await speaker.connect())[0]
        state = await speaker.receive_json_from(timeout=5)
        assert state["viewer"] == {
            "username": "bob",
            "role": "viewer",
            "language": "zh-Hans",
            "can_send": True,
        }
        await speaker.send_json_to({"type": "chat.send", "text": "大家好", "client_id": "c1"})
        frames = await frames_until(speaker, "chat.ack")
        ack = frames[-1]
        assert ack["client_id"] == "c1" and ack["held"] is False
        message = [f for f in await frames_until(viewer, "chat.message")][-1]
        assert message["id"] == ack["id"]
        assert message["text"] == "大家好"
        assert message["language"] == "zh-Hans"
        assert message["author"] == {"username": "bob", "name": "小波", "role": "viewer"}

        await viewer.send_json_to({"type": "chat.send", "text": "hi"})
        refused = [f for f in await frames_until(viewer, "error")][-1]
        assert refused["code"] == "read_only"
        await viewer.disconnect()
        await speaker.disconnect()

    async_to_sync(scenario)()
    assert Message.objects.get().text == "大家好"


def test_a_reconnecting_client_gets_what_it_missed(live_room: Room, alice: Member) -> None:
    sent = [services.post_message(room=live_room, author=alice, body=f"msg {n}") for n in range(3)]

    async def scenario() -> None:
        socket = communicator(live_room.pk, query=f"after={sent[0].pk}")
        assert (await socket.connect())[0]
        frames = [await socket.receive_json_from(timeout=5) for _ in range(3)]
        assert [f["type"] for f in frames] == ["room.state", "chat.message", "chat.message"]
        assert [f["text"] for f in frames[1:]] == ["msg 1", "msg 2"]
        assert frames[1]["author"]["role"] == "host"
        await socket.disconnect()

    async_to_sync(scenario)()


def test_bad_frames_get_error_frames_and_the_room_goes_on(
    live_room: Room, alice: Member, cookie_of: Callable[[Member], str]
) -> None:
    alice_cookie = cookie_of(alice)

    async def scenario() -> None:
        socket = communicator(live_room.pk, cookie=alice_cookie)
        assert (await socket.connect())[0]
        await socket.receive_json_from(timeout=5)
        for raw, code in [
            ("not json", "malformed"),
            ("[1, 2]", "malformed"),
            ('{"type": 3}', "malformed"),
            ('{"type": "dance"}', "unknown_type"),
            ("x" * 5000, "too_large"),
            ('{"type": "chat.send", "text": 42}', "invalid"),
            ('{"type": "chat.send", "text": "   "}', "empty"),
            ('{"type": "chat.send", "text": "' + "长" * 301 + '"}', "too_long"),
            ('{"type": "chat.send", "text": "\\ud800"}', "empty"),
        ]:
            await socket.send_to(text_data=raw)
            frame = (await frames_until(socket, "error"))[-1]
            assert frame["code"] == code, raw
        await socket.send_json_to({"type": "chat.send", "text": "still here"})
        assert (await frames_until(socket, "chat.ack"))[-1]["type"] == "chat.ack"
        await socket.disconnect()

    async_to_sync(scenario)()
    assert list(Message.objects.values_list("text", flat=True)) == ["still here"]


def test_unknown_and_ended_rooms_close_with_a_reason(live_room: Room, alice: Member) -> None:
    async def scenario() -> None:
        for room_id in ("999999", "abc"):
            socket = communicator(room_id)
            assert (await socket.connect())[0]
            assert (await socket.receive_json_from(timeout=5))["code"] == "not_found"
            assert (await socket.receive_output(timeout=5))["code"] == 4404

        open_socket = communicator(live_room.pk)
        assert (await open_socket.connect())[0]
        await open_socket.receive_json_from(timeout=5)
        await sync_to_async(services.end_room)(room=live_room, by=alice)
        assert (await frames_until(open_socket, "room.ended"))[-1]["room"] == str(live_room.pk)
        assert (await open_socket.receive_output(timeout=5))["code"] == 4410

        late = communicator(live_room.pk)
        assert (await late.connect())[0]
        assert (await late.receive_json_from(timeout=5))["code"] == "room_ended"

    async_to_sync(scenario)()


def test_viewer_counts_reach_the_room_even_when_joins_come_close_together(
    live_room: Room,
) -> None:
    async def scenario() -> None:
        first, second, third = (communicator(live_room.pk) for _ in range(3))
        for socket in (first, second, third):
            assert (await socket.connect())[0]
        # The first join is announced at once; the two right after it, together, a moment later.
        counts = [(await frames_until(first, "presence"))[-1]["viewers"]]
        while counts[-1] != 3:
            counts.append((await frames_until(first, "presence", timeout=5))[-1]["viewers"])
        assert counts[0] in {1, 2, 3} and counts[-1] == 3
        await third.disconnect()
        await second.disconnect()
        while (await frames_until(first, "presence", timeout=5))[-1]["viewers"] != 1:
            pass
        await first.disconnect()

    async_to_sync(scenario)()


def test_a_slow_translation_holds_back_only_its_own_message(
    live_room: Room,
    alice: Member,
    bob: Member,
    cookie_of: Callable[[Member], str],
    libretranslate: TranslationDouble,
) -> None:
    aged(bob)
    alice.language = "zh-Hans"  # everyone reads Chinese: only alice's English is translated
    alice.save(update_fields=["language"])
    libretranslate.delay = 2.0  # and the provider takes its time over it
    alice_cookie, bob_cookie = cookie_of(alice), cookie_of(bob)

    async def scenario() -> None:
        reader = communicator(live_room.pk, cookie=bob_cookie)  # reads Chinese
        assert (await reader.connect())[0]
        await frames_until(reader, "room.state")
        host = communicator(live_room.pk, cookie=alice_cookie)
        assert (await host.connect())[0]
        await frames_until(host, "room.state")
        await host.send_json_to({"type": "chat.send", "text": "Welcome everyone to the show"})
        while not libretranslate.requests:  # alice's message is with the provider
            await asyncio.sleep(0.01)
        await reader.send_json_to({"type": "chat.send", "text": "主播好"})
        sent = time.monotonic()
        first = (await frames_until(reader, "chat.message"))[-1]
        assert first["text"] == "主播好"
        assert time.monotonic() - sent < 1.5  # not stuck behind the translation of alice's
        second = (await frames_until(reader, "chat.message"))[-1]
        assert second["translation"]["text"] == "[zh] WELCOME EVERYONE TO THE SHOW"
        await reader.disconnect()
        await host.disconnect()

    async_to_sync(scenario)()
