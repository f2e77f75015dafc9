"""Notifications about live rooms: a followed creator went live, an invitation to co-host."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from papercrane.accounts import services as account_services
from papercrane.accounts.models import Member
from papercrane.live import services as live_services
from papercrane.live.models import Room
from papercrane.notifications.models import Notification
from papercrane.notifications.services import notify, notify_member
from tests.helpers import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def room(alice: Member) -> Room:
    return live_services.create_room(host=alice, title="Chengdu hotpot night")


def _go_live(room: Room) -> Room:
    started = live_services.start_room(room=room, by=room.host)
    live_services.tell_followers(room.pk)
    return started


def _items(client: ApiClient) -> list[dict[str, Any]]:
    response = client.get("/notifications")
    assert response.status_code == 200, response.content
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _page(member: Member) -> str:
    client = Client()
    client.force_login(member)
    response = client.get("/notifications", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    return str(response.content.decode())


def test_followers_hear_that_a_creator_went_live(
    alice: Member, bob: Member, room: Room, as_member: Callable[[Member], ApiClient]
) -> None:
    account_services.follow(member=bob, target=alice)
    Notification.objects.all().delete()  # the follow's own notification
    _go_live(room)
    live_services.tell_followers(room.pk)  # told once per room, however often it runs
    (item,) = _items(as_member(bob))
    assert item["verb"] == "live_started"
    assert item["actors"][0]["username"] == "alice"
    assert item["room"] == {"id": str(room.pk), "title": "Chengdu hotpot night", "status": "live"}
    assert item["note"] is None
    assert not Notification.objects.filter(recipient=alice).exists()


def test_an_invitee_hears_of_the_invitation(
    alice: Member, bob: Member, room: Room, as_member: Callable[[Member], ApiClient]
) -> None:
    cohost = live_services.invite_cohost(room=room, by=alice, invitee=bob)
    live_services.tell_invitee(cohost.pk)
    (item,) = _items(as_member(bob))
    assert item["verb"] == "cohost_invite"
    assert item["room"] == {
        "id": str(room.pk),
        "title": "Chengdu hotpot night",
        "status": "scheduled",
    }


def test_other_notifications_have_no_room(
    alice: Member, bob: Member, as_member: Callable[[Member], ApiClient]
) -> None:
    notify(recipient_id=alice.pk, actor_id=bob.pk, verb="follow")
    assert _items(as_member(alice))[0]["room"] is None


def test_the_rooms_of_a_page_are_read_in_one_query(
    make_member: Callable[..., Member], bob: Member, as_member: Callable[[Member], ApiClient]
) -> None:
    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            _items(client)
        return len(captured.captured_queries)

    client = as_member(bob)
    hosts = [make_member(f"host_{n}") for n in range(4)]
    rooms = [
        live_services.create_room(host=host, title=f"Room {n}") for n, host in enumerate(hosts)
    ]
    notify(recipient_id=bob.pk, actor_id=hosts[0].pk, verb="live_started", room_id=rooms[0].pk)
    queries_for_page()  # the first request also notes when the token was last used
    one = queries_for_page()
    for host, room in zip(hosts[1:], rooms[1:], strict=True):
        notify(recipient_id=bob.pk, actor_id=host.pk, verb="live_started", room_id=room.pk)
    assert queries_for_page() == one
    assert {item["room"]["title"] for item in _items(client)} == {f"Room {n}" for n in range(4)}


def test_a_deleted_room_takes_its_notifications_with_it(
    alice: Member, bob: Member, room: Room, as_member: Callable[[Member], ApiClient]
) -> None:
    notify(recipient_id=bob.pk, actor_id=alice.pk, verb="cohost_invite", room_id=room.pk)
    room.delete()
    assert _items(as_member(bob)) == []


def test_the_page_says_it_in_sentences_and_links_to_the_room(
    alice: Member, bob: Member, make_member: Callable[..., Member]
) -> None:
    account_services.follow(member=bob, target=alice)
    live = live_services.create_room(host=alice, title="<b>Hotpot</b> & friends")
    _go_live(live)
    carol = make_member("carol", display_name="Carol")
    invite_room = live_services.create_room(host=carol, title="Knitting circle")
    cohost = live_services.invite_cohost(room=invite_room, by=carol, invitee=bob)
    live_services.tell_invitee(cohost.pk)

    page = _page(bob)  # bob reads the site in Chinese
    assert "Alice Wong</a> 开播了：&lt;b&gt;Hotpot&lt;/b&gt; &amp; friends" in page
    assert "<b>Hotpot</b>" not in page
    assert "Carol</a> 邀请你一起主持直播" in page
    assert f'href="/live/{live.pk}"' in page
    assert f'href="/live/{invite_room.pk}"' in page


def test_a_live_notification_without_a_room_still_reads(alice: Member, bob: Member) -> None:
    notify(recipient_id=bob.pk, actor_id=alice.pk, verb="live_started")
    assert "Alice Wong</a> 开播了" in _page(bob)


def test_an_export_ready_notification_renders(alice: Member) -> None:
    notify_member(recipient_id=alice.pk, verb="export_ready", decision_id=1)
    page = _page(alice)
    assert "Your data export is ready" in page
    assert 'href="/me/data"' in page
