"""Live rooms through their services: hosting, co-hosting, room moderation, screening, reports,
and translation into each language the room is read in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.core.exceptions import ValidationError

from papercrane.accounts import services as account_services
from papercrane.accounts.models import Member
from papercrane.live import queries, realtime, services
from papercrane.live.models import CoHost, Message, Restriction, Room
from papercrane.live.services import LiveRefused
from papercrane.moderation import screening, targets
from papercrane.moderation import services as moderation_services
from papercrane.moderation.models import Case, KeywordPattern, Rule, TargetType
from papercrane.notifications.models import Notification
from tests.helpers import ApiClient
from tests.language.translation_double import TranslationDouble
from tests.live.conftest import aged, communicator, frames_until

Login = Callable[[Member], ApiClient]


@pytest.fixture
def carol(make_member: Callable[..., Member]) -> Member:
    return aged(make_member("carol", language="zh-Hans"))


def refused(call: Callable[[], object]) -> str:
    with pytest.raises(LiveRefused) as error:
        call()
    return error.value.code


@pytest.mark.django_db
def test_a_room_needs_a_title_and_a_real_https_stream(alice: Member) -> None:
    with pytest.raises(ValidationError) as error:
        services.create_room(
            host=alice,
            title="  ",
            topic="two words",
            language="xx",
            stream_url="javascript:alert(1)//.m3u8",
        )
    assert set(error.value.error_dict) == {"title", "topic", "language", "stream_url"}
    room = services.create_room(
        host=alice,
        title="<b>Hotpot</b> night",
        topic="#美食",
        stream_url="https://cdn.example.com/live/abc.m3u8",
    )
    assert (room.title, room.topic, room.status) == ("<b>Hotpot</b> night", "美食", "scheduled")
    assert room.language == "en"


@pytest.mark.django_db
def test_only_the_host_starts_and_ends_and_followers_hear_of_it(
    alice: Member, bob: Member, carol: Member
) -> None:
    account_services.follow(member=bob, target=alice)
    room = services.create_room(host=alice, title="Morning market")
    assert refused(lambda: services.start_room(room=room, by=bob)) == "not_host"
    services.start_room(room=room, by=alice)
    assert refused(lambda: services.start_room(room=room, by=alice)) == "not_scheduled"
    services.tell_followers(room.pk)  # what the task runs
    services.tell_followers(room.pk)  # twice: still one notification
    assert list(Notification.objects.values_list("recipient__username", "verb", "room")) == [
        ("bob", "live_started", room.pk)
    ]
    assert refused(lambda: services.end_room(room=room, by=carol)) == "not_host"
    room = services.end_room(room=room, by=alice)
    assert room.status == Room.Status.ENDED and room.ended_at is not None
    assert refused(lambda: services.post_message(room=room, author=alice, body="hi")) == (
        "room_ended"
    )


@pytest.mark.django_db
def test_cohosts_are_invited_accept_or_decline_and_are_limited(
    live_room: Room, alice: Member, bob: Member, carol: Member, make_member: Any
) -> None:
    services.invite_cohost(room=live_room, by=alice, invitee=bob)
    assert refused(lambda: services.invite_cohost(room=live_room, by=bob, invitee=carol)) == (
        "not_host"
    )
    assert not queries.is_host(live_room, bob)  # invited is not yet a co-host
    services.answer_invite(room=live_room, member=bob, accept=True)
    live_room = queries.room_with_hosts(live_room.pk)
    assert queries.role_of(live_room, bob) == "cohost"
    assert refused(lambda: services.answer_invite(room=live_room, member=carol, accept=True)) == (
        "not_invited"
    )
    services.invite_cohost(room=live_room, by=alice, invitee=carol)
    services.answer_invite(room=live_room, member=carol, accept=False)
    assert CoHost.objects.get(member=carol).status == CoHost.Status.DECLINED
    for n in range(services.MAX_COHOSTS - 1):
        services.invite_cohost(room=live_room, by=alice, invitee=make_member(f"guest{n}"))
    with pytest.raises(ValidationError):
        services.invite_cohost(room=live_room, by=alice, invitee=make_member("one_too_many"))
    with pytest.raises(ValidationError):
        services.invite_cohost(room=live_room, by=alice, invitee=alice)
    services.remove_cohost(room=live_room, by=bob, member=bob)  # a co-host steps down
    assert not CoHost.objects.filter(member=bob).exists()


@pytest.mark.django_db
def test_a_blocked_member_cannot_be_invited_nor_join(
    live_room: Room, alice: Member, bob: Member
) -> None:
    account_services.block(member=alice, target=bob)
    with pytest.raises(ValidationError):
        services.invite_cohost(room=live_room, by=alice, invitee=bob)
    assert queries.room(bob, live_room.pk) is None
    assert queries.is_banned(live_room, bob)


@pytest.mark.django_db
def test_hosts_mute_and_ban_but_not_each_other(
    live_room: Room, alice: Member, bob: Member, carol: Member
) -> None:
    aged(bob)
    services.invite_cohost(room=live_room, by=alice, invitee=bob)
    services.answer_invite(room=live_room, member=bob, accept=True)
    live_room = queries.room_with_hosts(live_room.pk)
    with pytest.raises(ValidationError):
        services.restrict(room=live_room, by=bob, member=alice, kind="ban")
    assert refused(
        lambda: services.restrict(room=live_room, by=carol, member=bob, kind="mute")
    ) == ("not_host")
    services.restrict(room=live_room, by=bob, member=carol, kind="mute", minutes=5)
    assert refused(lambda: services.post_message(room=live_room, author=carol, body="hi")) == (
        "muted"
    )
    services.lift_restriction(room=live_room, by=alice, member=carol, kind="mute")
    services.post_message(room=live_room, author=carol, body="thanks")
    services.restrict(room=live_room, by=alice, member=carol, kind="ban")
    assert refused(lambda: services.post_message(room=live_room, author=carol, body="hi")) == (
        "banned"
    )
    assert Restriction.objects.get(kind="ban").by == alice


@pytest.mark.django_db(transaction=True)
def test_a_banned_member_is_closed_out_and_cannot_come_back(
    live_room: Room, alice: Member, carol: Member, cookie_of: Callable[[Member], str]
) -> None:
    cookie = cookie_of(carol)

    async def scenario() -> None:
        socket = communicator(live_room.pk, cookie=cookie)
        assert (await socket.connect())[0]
        await socket.receive_json_from(timeout=5)
        await sync_to_async(services.restrict)(room=live_room, by=alice, member=carol, kind="ban")
        assert (await frames_until(socket, "error"))[-1]["code"] == "banned"
        assert (await socket.receive_output(timeout=5))["code"] == services.BANNED_CLOSE_CODE
        again = communicator(live_room.pk, cookie=cookie)
        assert (await again.connect())[0]
        assert (await again.receive_json_from(timeout=5))["code"] == "banned"
        assert (await again.receive_output(timeout=5))["code"] == services.BANNED_CLOSE_CODE

    async_to_sync(scenario)()


@pytest.mark.django_db
def test_slow_mode_and_the_rate_limit_hold_back_floods(
    live_room: Room, alice: Member, bob: Member, make_member: Any
) -> None:
    services.update_room(room=live_room, by=alice, slow_mode_seconds=30)
    services.post_message(room=live_room, author=bob, body="first")
    with pytest.raises(LiveRefused) as error:
        services.post_message(room=live_room, author=bob, body="second")
    assert error.value.code == "slow_mode" and error.value.retry_after == 30
    services.post_message(room=live_room, author=alice, body="hosts are exempt")
    services.post_message(room=live_room, author=alice, body="from slow mode")
    with pytest.raises(ValidationError):
        services.update_room(room=live_room, by=alice, slow_mode_seconds=7)

    services.update_room(room=live_room, by=alice, slow_mode_seconds=0)
    newcomer = make_member("newcomer")  # joined today: the tighter limit
    for n in range(services.MESSAGES_PER_NEW_MEMBER.limit):
        services.post_message(room=live_room, author=newcomer, body=f"hello {n}")
    assert refused(lambda: services.post_message(room=live_room, author=newcomer, body="x")) == (
        "rate_limited"
    )


@pytest.mark.django_db
def test_a_keyword_rule_keeps_a_message_from_the_room_and_queues_it(
    live_room: Room, bob: Member
) -> None:
    aged(bob)
    spam = Rule.objects.get(code="spam")
    KeywordPattern.objects.create(rule=spam, pattern="代开發票", language="zh", hides=True)
    screening.lists_changed()
    message = services.post_message(room=live_room, author=bob, body="代开发票 加我")
    assert message.moderation_state == "held"
    message.refresh_from_db()
    assert message.moderation_state == "held"
    assert not queries.shown_messages(live_room).exists()
    case = Case.objects.get()
    assert (case.target_type, case.target_id, case.held) == ("live_message", message.pk, True)
    fine = services.post_message(room=live_room, author=bob, body="火锅真好吃")
    assert list(queries.shown_messages(live_room)) == [fine]


@pytest.mark.django_db
def test_viewers_report_a_message_and_a_moderator_removes_it(
    live_room: Room, alice: Member, bob: Member, carol: Member, as_member: Login
) -> None:
    message = services.post_message(room=live_room, author=carol, body="buy followers here")
    response = as_member(bob).post(
        "/reports",
        {"target_type": "live_message", "target_id": str(message.pk), "reason": "spam"},
    )
    assert response.status_code == 201, response.content
    assert Case.objects.get().target_type == TargetType.LIVE_MESSAGE
    moderator = account_services.grant_moderator(username=alice.username)
    target = targets.load(TargetType.LIVE_MESSAGE, message.pk)
    assert target is not None
    moderation_services.decide(
        moderator=moderator,
        target=target,
        request=moderation_services.DecisionRequest(
            action="remove", rule=Rule.objects.get(code="spam"), explanation="Selling followers."
        ),
    )
    message.refresh_from_db()
    assert message.moderation_state == "removed"
    assert not queries.shown_messages(live_room).exists()
    # What one cannot see cannot be reported.
    other = as_member(bob).post(
        "/reports", {"target_type": "live_message", "target_id": "999999", "reason": "spam"}
    )
    assert other.status_code in {404, 422}


@pytest.mark.django_db
def test_a_message_is_translated_into_each_language_the_room_is_read_in(
    live_room: Room, alice: Member, libretranslate: TranslationDouble
) -> None:
    realtime.joined(live_room.pk, "zh-Hans")
    realtime.joined(live_room.pk, "en")
    message = services.post_message(room=live_room, author=alice, body="The broth is spicy")
    assert message.translations == {"zh-Hans": "[zh] THE BROTH IS SPICY"}
    requests = len(libretranslate.requests)
    again = services.post_message(room=live_room, author=alice, body="The broth is spicy")
    assert again.translations == message.translations
    assert len(libretranslate.requests) == requests  # cached: translated once
    realtime.left(live_room.pk, "zh-Hans")
    alone = services.post_message(room=live_room, author=alice, body="Anyone still here")
    assert alone.translations == {}  # nobody reads Chinese now: nothing to translate
    fields = queries.message_fields(message, alice, "host", "zh-Hans")
    assert fields["translation"] == {"language": "zh-Hans", "text": "[zh] THE BROTH IS SPICY"}
    assert queries.message_fields(message, alice, "host", "en")["translation"] is None


@pytest.mark.django_db
def test_deleted_messages_leave_the_room_and_its_pin(
    live_room: Room, alice: Member, bob: Member, carol: Member
) -> None:
    aged(bob)
    message = services.post_message(room=live_room, author=bob, body="pin me")
    services.update_room(room=live_room, by=alice, pinned_message_id=message.pk)
    assert queries.room_state(queries.room_with_hosts(live_room.pk))["pinned"]["text"] == "pin me"
    assert refused(lambda: services.delete_message(message=message, by=carol)) == "not_host"
    services.delete_message(message=message, by=alice)
    assert queries.room_state(queries.room_with_hosts(live_room.pk))["pinned"] is None
    assert not queries.shown_messages(live_room).exists()
    assert Message.objects.filter(pk=message.pk).exists()  # kept for moderation and export


def test_a_member_blocked_while_in_the_room_can_no_longer_write(
    live_room: Room, alice: Member, bob: Member
) -> None:
    services.post_message(room=live_room, author=aged(bob), body="hello")
    account_services.block(member=alice, target=bob)
    with pytest.raises(LiveRefused) as refused:
        services.post_message(room=live_room, author=bob, body="still here?")
    assert refused.value.code == "banned"


def test_a_topic_longer_than_its_column_is_refused(alice: Member) -> None:
    with pytest.raises(ValidationError) as error:
        services.create_room(host=alice, title="Accents", topic="e\u0301" * 20)
    assert "topic" in error.value.message_dict
