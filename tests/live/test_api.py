"""The live rooms API: rooms, co-hosts, the transcript and room moderation, as clients use it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from papercrane.accounts import services as account_services
from papercrane.accounts.models import Member
from papercrane.live import services
from papercrane.live.api import refusal_problem
from papercrane.live.models import CoHost, Message, Restriction, Room
from tests.helpers import ApiClient, error_fields, problem
from tests.live.conftest import aged

pytestmark = pytest.mark.django_db

Login = Callable[[Member], ApiClient]


@pytest.fixture
def host(alice: Member, as_member: Login) -> ApiClient:
    aged(alice)
    return as_member(alice)


@pytest.fixture
def viewer(bob: Member, as_member: Login) -> ApiClient:
    aged(bob)
    return as_member(bob)


def _room(client: ApiClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/live/rooms", {"title": "Knitting by the window", **fields})
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


def _say(room: Room, author: Member, *texts: str) -> list[Message]:
    return [services.post_message(room=room, author=author, body=text) for text in texts]


# --- Rooms ---------------------------------------------------------------------------------------


def test_a_member_opens_a_room_that_starts_scheduled(host: ApiClient) -> None:
    room = _room(host, topic="#knitting", language="en")
    assert isinstance(room["id"], str) and room["id"].isdigit()
    assert room["title"] == "Knitting by the window"
    assert room["topic"] == "knitting"
    assert room["status"] == "scheduled"
    assert room["host"] == {"username": "alice", "name": "Alice Wong", "role": "host"}
    assert room["cohosts"] == [] and room["invited"] == [] and room["pinned"] is None
    assert room["started_at"] is None and room["viewers"] == 0
    assert host.get(f"/live/rooms/{room['id']}").json() == room


def test_bad_fields_are_listed_together(host: ApiClient) -> None:
    body = problem(
        host.post(
            "/live/rooms",
            {"title": "  ", "topic": "two words", "language": "xx", "stream_url": "http://a/b"},
        ),
        422,
    )
    assert error_fields(body) == {"title", "topic", "language", "stream_url"}
    assert not Room.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"title": "x" * 100_000},
        {"title": "x" * 81},
        {"title": 123},
        {"title": ["a"]},
        {"title": None},
        {},
        {"title": "ok", "topic": "t" * 31},
        {"title": "ok", "stream_url": "https://cdn.example/live.mp4"},
        {"title": "ok", "stream_url": "https://cdn.example/\x00live.m3u8"},
        {"title": "ok", "stream_url": "javascript:alert(1)//.m3u8"},
        {"title": "ok", "language": "\x00"},
        {"title": "\x00\x01\x02"},
    ],
)
def test_hostile_room_bodies_get_422(host: ApiClient, body: dict[str, Any]) -> None:
    problem(host.post("/live/rooms", body), 422)
    assert not Room.objects.exists()


def test_control_characters_are_cleaned_and_lone_surrogates_refused(host: ApiClient) -> None:
    room = _room(host, title="  火锅\x00 night\n\t🔥  ")
    assert room["title"] == "火锅 night 🔥"
    assert error_fields(problem(host.post("/live/rooms", {"title": "hi \ud800"}), 422)) == {"title"}


def test_non_json_bodies_are_refused(host: ApiClient) -> None:
    assert problem(host.post("/live/rooms", ["title"]), 400)["type"].endswith("malformed-json")
    response = host.client.post(
        "/api/v1/live/rooms",
        data="title=x",
        content_type="application/x-www-form-urlencoded",
        headers=host._headers(),
    )
    problem(response, 415)


def test_signed_out_visitors_read_but_do_not_write(api: ApiClient, live_room: Room) -> None:
    problem(api.post("/live/rooms", {"title": "Mine"}), 401)
    problem(api.patch(f"/live/rooms/{live_room.pk}", {"title": "Mine"}), 401)
    problem(api.post(f"/live/rooms/{live_room.pk}/end"), 401)
    assert api.get(f"/live/rooms/{live_room.pk}").json()["status"] == "live"
    assert api.get(f"/live/rooms/{live_room.pk}/messages").status_code == 200


@pytest.mark.parametrize("room_id", ["abc", "-1", str(10**30), "0", "1.5", "%C2%B2", "999999"])
def test_unknown_rooms_are_404(api: ApiClient, host: ApiClient, room_id: str) -> None:
    for response in (
        api.get(f"/live/rooms/{room_id}"),
        api.get(f"/live/rooms/{room_id}/messages"),
        host.patch(f"/live/rooms/{room_id}", {"title": "x"}),
        host.post(f"/live/rooms/{room_id}/start"),
        host.post(f"/live/rooms/{room_id}/end"),
        host.post(f"/live/rooms/{room_id}/cohosts", {"username": "bob"}),
        host.post(f"/live/rooms/{room_id}/cohosts/accept"),
        host.delete(f"/live/rooms/{room_id}/cohosts/bob"),
        host.get(f"/live/rooms/{room_id}/restrictions"),
        host.post(f"/live/rooms/{room_id}/restrictions", {"username": "bob", "kind": "mute"}),
        host.delete(f"/live/rooms/{room_id}/restrictions/mute/bob"),
        host.delete(f"/live/rooms/{room_id}/messages/1"),
    ):
        assert problem(response, 404)["type"] == "urn:papercrane:problem:not-found"


def test_the_host_starts_and_ends_the_room(host: ApiClient, viewer: ApiClient) -> None:
    room = _room(host)
    path = f"/live/rooms/{room['id']}"
    refused = problem(viewer.post(f"{path}/start"), 403)
    assert refused["type"] == "urn:papercrane:problem:live-not-host"
    assert refused["detail"]
    started = host.post(f"{path}/start")
    assert started.status_code == 200, started.content
    assert started.json()["status"] == "live" and started.json()["started_at"]
    again = problem(host.post(f"{path}/start"), 409)
    assert again["type"] == "urn:papercrane:problem:live-not-scheduled"
    problem(viewer.post(f"{path}/end"), 403)
    ended = host.post(f"{path}/end").json()
    assert ended["status"] == "ended" and ended["ended_at"]
    assert host.post(f"{path}/end").json()["status"] == "ended"  # ending twice is harmless
    over = problem(host.patch(path, {"title": "Encore"}), 409)
    assert over["type"] == "urn:papercrane:problem:live-room-ended"


def test_opening_rooms_is_rate_limited(host: ApiClient) -> None:
    for n in range(services.ROOMS_PER_MEMBER.limit):
        _room(host, title=f"Room {n}")
    response = host.post("/live/rooms", {"title": "One too many"})
    assert problem(response, 429)["type"] == "urn:papercrane:problem:rate-limited"
    assert int(response["Retry-After"]) > 0


def test_refusals_map_to_statuses() -> None:
    cases = {
        "not_host": 403,
        "banned": 403,
        "muted": 403,
        "suspended": 403,
        "not_scheduled": 409,
        "room_ended": 409,
        "not_live": 409,
        "not_invited": 409,
        "rate_limited": 429,
        "slow_mode": 429,
    }
    for code, status in cases.items():
        found = refusal_problem(services.LiveRefused(code, "Why", retry_after=10))
        assert found.status == status
        assert found.kind == "live-" + code.replace("_", "-")
        assert found.detail == "Why"
        assert found.headers == ({"Retry-After": "10"} if status == 429 else {})


# --- Listing -------------------------------------------------------------------------------------


def test_live_rooms_are_listed_newest_first_page_by_page(
    settings: Any, make_member: Callable[..., Member], api: ApiClient
) -> None:
    settings.RATELIMIT_ENABLED = False
    hosts = [make_member(f"host_{n}") for n in range(5)]
    rooms = []
    for member in hosts:
        room = services.create_room(host=member, title=f"Room of {member.username}")
        rooms.append(services.start_room(room=room, by=member))
    services.create_room(host=hosts[0], title="Not started yet")
    services.end_room(room=rooms[0], by=hosts[0])

    first = api.get("/live/rooms?limit=2").json()
    assert [item["id"] for item in first["items"]] == [str(rooms[4].pk), str(rooms[3].pk)]
    second = api.get(f"/live/rooms?limit=2&cursor={first['next_cursor']}").json()
    assert [item["id"] for item in second["items"]] == [str(rooms[2].pk), str(rooms[1].pk)]
    assert second["next_cursor"] is None
    assert api.get("/live/rooms?status=live").json()["items"] == first["items"] + second["items"]


def test_my_rooms_are_those_i_host_or_cohost(
    host: ApiClient, viewer: ApiClient, alice: Member, bob: Member, api: ApiClient
) -> None:
    problem(api.get("/live/rooms?status=mine"), 401)
    mine = _room(host, title="Alice's room")
    theirs = services.create_room(host=bob, title="Bob's room")
    assert [r["id"] for r in host.get("/live/rooms?status=mine").json()["items"]] == [mine["id"]]
    services.invite_cohost(room=theirs, by=bob, invitee=alice)
    assert len(host.get("/live/rooms?status=mine").json()["items"]) == 1  # invited is not enough
    services.answer_invite(room=theirs, member=alice, accept=True)
    listed = host.get("/live/rooms?status=mine").json()["items"]
    assert [r["id"] for r in listed] == [str(theirs.pk), mine["id"]]
    assert listed[0]["cohosts"][0]["username"] == "alice"


@pytest.mark.parametrize(
    "query", ["status=all", "limit=0", "limit=101", "limit=abc", f"limit={10**30}"]
)
def test_bad_list_queries_are_422(api: ApiClient, query: str) -> None:
    problem(api.get(f"/live/rooms?{query}"), 422)


@pytest.mark.parametrize("cursor", ["abc", "x" * 5000, "%00"])
def test_forged_cursors_are_400(api: ApiClient, live_room: Room, cursor: str) -> None:
    problem(api.get(f"/live/rooms?cursor={cursor}"), 400)
    problem(api.get(f"/live/rooms/{live_room.pk}/messages?cursor={cursor}"), 400)


def test_blocked_members_do_not_see_each_others_rooms(
    live_room: Room, alice: Member, bob: Member, viewer: ApiClient
) -> None:
    account_services.block(member=alice, target=bob)
    problem(viewer.get(f"/live/rooms/{live_room.pk}"), 404)
    problem(viewer.get(f"/live/rooms/{live_room.pk}/messages"), 404)
    assert viewer.get("/live/rooms").json()["items"] == []


def test_a_suspended_hosts_room_is_gone_for_others(
    live_room: Room, alice: Member, api: ApiClient, host: ApiClient
) -> None:
    Member.objects.filter(pk=alice.pk).update(suspended_until=None, is_active=False)
    problem(api.get(f"/live/rooms/{live_room.pk}"), 404)
    assert api.get("/live/rooms").json()["items"] == []


# --- Changing a room -----------------------------------------------------------------------------


def test_hosts_change_title_slow_mode_and_pin(
    live_room: Room, alice: Member, bob: Member, host: ApiClient
) -> None:
    aged(bob)
    (message,) = _say(live_room, bob, "The broth is ready!")
    path = f"/live/rooms/{live_room.pk}"
    changed = host.patch(
        path,
        {
            "title": "Hotpot, second round",
            "slow_mode_seconds": 10,
            "pinned_message_id": str(message.pk),
        },
    )
    assert changed.status_code == 200, changed.content
    room = changed.json()
    assert room["title"] == "Hotpot, second round"
    assert room["slow_mode_seconds"] == 10
    assert room["pinned"]["id"] == str(message.pk)
    assert room["pinned"]["author"] == {"username": "bob", "name": "小波", "role": "viewer"}
    untouched = host.patch(path, {"title": "Hotpot, third round"}).json()
    assert untouched["pinned"]["id"] == str(message.pk) and untouched["slow_mode_seconds"] == 10
    unpinned = host.patch(path, {"pinned_message_id": None}).json()
    assert unpinned["pinned"] is None and unpinned["title"] == "Hotpot, third round"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slow_mode_seconds": 7}, "slow_mode_seconds"),
        ({"slow_mode_seconds": 10**30}, "slow_mode_seconds"),
        ({"slow_mode_seconds": -1}, "slow_mode_seconds"),
        ({"slow_mode_seconds": "fast"}, "slow_mode_seconds"),
        ({"slow_mode_seconds": True}, "slow_mode_seconds"),
        ({"slow_mode_seconds": 2.5}, "slow_mode_seconds"),
        ({"pinned_message_id": "abc"}, "pinned_message_id"),
        ({"pinned_message_id": "-1"}, "pinned_message_id"),
        ({"pinned_message_id": str(10**30)}, "pinned_message_id"),
        ({"pinned_message_id": "999999"}, "pinned_message_id"),
        ({"pinned_message_id": 5}, "pinned_message_id"),
        ({"title": ""}, "title"),
        ({"title": "y" * 5000}, "title"),
        ({"stream_url": "ftp://cdn.example/a.m3u8"}, "stream_url"),
    ],
)
def test_bad_changes_name_their_field(
    live_room: Room, host: ApiClient, body: dict[str, Any], field: str
) -> None:
    assert error_fields(problem(host.patch(f"/live/rooms/{live_room.pk}", body), 422)) == {field}
    live_room.refresh_from_db()
    assert live_room.title == "Chengdu hotpot night" and live_room.slow_mode_seconds == 0


def test_only_messages_of_the_room_can_be_pinned(
    live_room: Room, alice: Member, host: ApiClient
) -> None:
    other = services.start_room(room=services.create_room(host=alice, title="Other"), by=alice)
    (elsewhere,) = _say(other, alice, "Over here")
    response = host.patch(f"/live/rooms/{live_room.pk}", {"pinned_message_id": str(elsewhere.pk)})
    assert error_fields(problem(response, 422)) == {"pinned_message_id"}


def test_viewers_cannot_change_the_room(live_room: Room, viewer: ApiClient) -> None:
    body = problem(viewer.patch(f"/live/rooms/{live_room.pk}", {"title": "Mine now"}), 403)
    assert body["type"] == "urn:papercrane:problem:live-not-host"
    live_room.refresh_from_db()
    assert live_room.title == "Chengdu hotpot night"


def test_a_stream_url_is_set_and_cleared(live_room: Room, host: ApiClient) -> None:
    url = "https://cdn.example/live/hotpot.m3u8"
    path = f"/live/rooms/{live_room.pk}"
    assert host.patch(path, {"stream_url": url}).json()["stream_url"] == url
    assert host.patch(path, {"stream_url": ""}).json()["stream_url"] == ""


# --- Co-hosts ------------------------------------------------------------------------------------


def test_a_cohost_is_invited_and_accepts(
    live_room: Room, host: ApiClient, viewer: ApiClient, bob: Member
) -> None:
    path = f"/live/rooms/{live_room.pk}/cohosts"
    problem(viewer.post(f"{path}/accept"), 409)  # not invited yet
    invited = host.post(path, {"username": "BOB"})
    assert invited.status_code == 201, invited.content
    assert invited.json() == {"username": "bob", "status": "invited"}
    assert host.get(f"/live/rooms/{live_room.pk}").json()["invited"] == ["bob"]
    accepted = viewer.post(f"{path}/accept")
    assert accepted.json() == {"username": "bob", "status": "accepted"}
    room = viewer.get(f"/live/rooms/{live_room.pk}").json()
    assert room["cohosts"] == [{"username": "bob", "name": "小波", "role": "cohost"}]
    assert room["invited"] == []
    # A co-host may change the room, but not start or end it.
    assert viewer.patch(f"/live/rooms/{live_room.pk}", {"slow_mode_seconds": 3}).status_code == 200
    problem(viewer.post(f"/live/rooms/{live_room.pk}/end"), 403)
    assert viewer.delete(f"{path}/bob").status_code == 204  # stepping down
    assert not CoHost.objects.exists()


def test_an_invitee_declines(live_room: Room, host: ApiClient, viewer: ApiClient) -> None:
    path = f"/live/rooms/{live_room.pk}/cohosts"
    host.post(path, {"username": "bob"})
    assert viewer.post(f"{path}/decline").json() == {"username": "bob", "status": "declined"}
    body = problem(viewer.post(f"{path}/accept"), 409)
    assert body["type"] == "urn:papercrane:problem:live-not-invited"
    assert host.post(path, {"username": "bob"}).json()["status"] == "invited"  # asked again


@pytest.mark.parametrize(
    "username", ["nobody", "", "x" * 150, "\x00", "alice", "../bob", "bob'; --"]
)
def test_inviting_an_unknown_or_unfit_member_is_422(
    live_room: Room, host: ApiClient, username: str
) -> None:
    body = problem(host.post(f"/live/rooms/{live_room.pk}/cohosts", {"username": username}), 422)
    assert error_fields(body) == {"username"}
    assert not CoHost.objects.exists()


def test_huge_or_mistyped_usernames_are_422(live_room: Room, host: ApiClient) -> None:
    for value in ["x" * 10_000, 42, None, ["bob"]]:
        response = host.post(f"/live/rooms/{live_room.pk}/cohosts", {"username": value})
        assert error_fields(problem(response, 422)) == {"username"}


def test_only_the_host_invites_or_removes(
    live_room: Room,
    viewer: ApiClient,
    make_member: Callable[..., Member],
    as_member: Login,
) -> None:
    carol = make_member("carol")
    path = f"/live/rooms/{live_room.pk}/cohosts"
    problem(viewer.post(path, {"username": "carol"}), 403)
    services.invite_cohost(room=live_room, by=live_room.host, invitee=carol)
    problem(viewer.delete(f"{path}/carol"), 403)
    assert CoHost.objects.filter(member=carol).exists()
    problem(viewer.delete(f"{path}/nobody_at_all"), 404)


def test_members_named_like_the_answers_can_be_removed(
    live_room: Room, host: ApiClient, make_member: Callable[..., Member], as_member: Login
) -> None:
    for name in ("accept", "decline"):
        member = make_member(name)
        services.invite_cohost(room=live_room, by=live_room.host, invitee=member)
        services.answer_invite(room=live_room, member=member, accept=True)
        assert host.delete(f"/live/rooms/{live_room.pk}/cohosts/{name}").status_code == 204
    assert not CoHost.objects.exists()


def test_at_most_four_cohosts(
    live_room: Room, host: ApiClient, make_member: Callable[..., Member]
) -> None:
    for n in range(services.MAX_COHOSTS):
        make_member(f"helper_{n}")
        response = host.post(f"/live/rooms/{live_room.pk}/cohosts", {"username": f"helper_{n}"})
        assert response.status_code == 201
    make_member("helper_extra")
    response = host.post(f"/live/rooms/{live_room.pk}/cohosts", {"username": "helper_extra"})
    assert error_fields(problem(response, 422)) == {"username"}


# --- The transcript ------------------------------------------------------------------------------


def test_the_transcript_reads_oldest_first_page_by_page(
    live_room: Room, alice: Member, bob: Member, api: ApiClient
) -> None:
    aged(bob)
    sent = _say(live_room, alice, "Welcome!", "The broth is spicy")
    sent += _say(live_room, bob, "好辣", "再来一份")
    path = f"/live/rooms/{live_room.pk}/messages"
    first = api.get(f"{path}?limit=3").json()
    assert [m["id"] for m in first["items"]] == [str(m.pk) for m in sent[:3]]
    assert [m["author"]["role"] for m in first["items"]] == ["host", "host", "viewer"]
    rest = api.get(f"{path}?limit=3&cursor={first['next_cursor']}").json()
    assert [m["text"] for m in rest["items"]] == ["再来一份"] and rest["next_cursor"] is None


def test_each_reader_gets_the_translation_into_their_language(
    live_room: Room, alice: Member, bob: Member, api: ApiClient, viewer: ApiClient, host: ApiClient
) -> None:
    (message,) = _say(live_room, alice, "The broth is spicy")
    Message.objects.filter(pk=message.pk).update(translations={"zh-Hans": "汤底很辣"})
    path = f"/live/rooms/{live_room.pk}/messages"
    (as_bob,) = viewer.get(path).json()["items"]  # bob reads Simplified Chinese
    assert as_bob["text"] == "The broth is spicy"
    assert as_bob["translation"] == {"language": "zh-Hans", "text": "汤底很辣"}
    assert host.get(path).json()["items"][0]["translation"] is None  # alice reads English
    (signed_out,) = api.get(path, headers={"Accept-Language": "zh-Hans"}).json()["items"]
    assert signed_out["translation"] == {"language": "zh-Hans", "text": "汤底很辣"}
    assert (
        api.get(path, headers={"Accept-Language": "en"}).json()["items"][0]["translation"] is None
    )


def test_deleted_messages_leave_the_transcript(
    live_room: Room, alice: Member, bob: Member, host: ApiClient, viewer: ApiClient
) -> None:
    aged(bob)
    mine, theirs = _say(live_room, bob, "oops")[0], _say(live_room, alice, "Hello")[0]
    path = f"/live/rooms/{live_room.pk}/messages"
    problem(viewer.delete(f"{path}/{theirs.pk}"), 403)  # a viewer deletes only their own
    assert viewer.delete(f"{path}/{mine.pk}").status_code == 204
    problem(viewer.delete(f"{path}/{mine.pk}"), 404)  # already gone
    assert [m["text"] for m in viewer.get(path).json()["items"]] == ["Hello"]
    assert host.delete(f"{path}/{theirs.pk}").status_code == 204
    assert viewer.get(path).json()["items"] == []


def test_a_host_deletes_a_viewers_message_and_its_pin_goes(
    live_room: Room, bob: Member, host: ApiClient
) -> None:
    aged(bob)
    (message,) = _say(live_room, bob, "Pin me")
    host.patch(f"/live/rooms/{live_room.pk}", {"pinned_message_id": str(message.pk)})
    assert host.delete(f"/live/rooms/{live_room.pk}/messages/{message.pk}").status_code == 204
    assert host.get(f"/live/rooms/{live_room.pk}").json()["pinned"] is None


@pytest.mark.parametrize("message_id", ["abc", "-1", str(10**30), "0"])
def test_unknown_messages_are_404(live_room: Room, host: ApiClient, message_id: str) -> None:
    problem(host.delete(f"/live/rooms/{live_room.pk}/messages/{message_id}"), 404)


def test_a_message_is_deleted_only_through_its_own_room(
    live_room: Room, alice: Member, host: ApiClient
) -> None:
    other = services.create_room(host=alice, title="Other")
    services.start_room(room=other, by=alice)
    (message,) = _say(live_room, alice, "Here")
    problem(host.delete(f"/live/rooms/{other.pk}/messages/{message.pk}"), 404)
    assert Message.objects.get(pk=message.pk).deleted_at is None


# --- Mutes and bans ------------------------------------------------------------------------------


def test_hosts_mute_list_and_lift(
    live_room: Room, bob: Member, host: ApiClient, viewer: ApiClient
) -> None:
    path = f"/live/rooms/{live_room.pk}/restrictions"
    problem(viewer.get(path), 403)
    muted = host.post(path, {"username": "bob", "kind": "mute", "minutes": 10})
    assert muted.status_code == 201, muted.content
    assert muted.json()["username"] == "bob" and muted.json()["kind"] == "mute"
    assert muted.json()["until"] is not None
    listed = host.get(path).json()
    assert [(r["username"], r["kind"]) for r in listed] == [("bob", "mute")]
    with pytest.raises(services.LiveRefused) as refused:
        _say(live_room, bob, "hello?")
    assert refused.value.code == "muted"
    assert host.delete(f"{path}/mute/bob").status_code == 204
    assert host.get(path).json() == []
    assert _say(live_room, bob, "hello!")


def test_a_banned_member_cannot_read_the_chat(
    live_room: Room, host: ApiClient, viewer: ApiClient
) -> None:
    path = f"/live/rooms/{live_room.pk}"
    banned = host.post(f"{path}/restrictions", {"username": "bob", "kind": "ban"})
    assert banned.status_code == 201 and banned.json()["until"] is None
    body = problem(viewer.get(f"{path}/messages"), 403)
    assert body["type"] == "urn:papercrane:problem:live-banned"
    assert host.delete(f"{path}/restrictions/ban/bob").status_code == 204
    assert viewer.get(f"{path}/messages").status_code == 200


def test_a_banned_member_does_not_see_the_pinned_message(
    live_room: Room, alice: Member, host: ApiClient, viewer: ApiClient
) -> None:
    (said,) = _say(live_room, alice, "secret recipe")
    path = f"/live/rooms/{live_room.pk}"
    assert host.patch(path, {"pinned_message_id": str(said.pk)}).status_code == 200
    assert viewer.get(path).json()["pinned"]["text"] == "secret recipe"
    host.post(f"{path}/restrictions", {"username": "bob", "kind": "ban"})
    assert viewer.get(path).json()["pinned"] is None
    listed = viewer.get("/live/rooms").json()["items"]
    assert [room["pinned"] for room in listed] == [None]
    assert host.get(path).json()["pinned"]["text"] == "secret recipe"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "alice", "kind": "mute"}, "username"),  # the host
        ({"username": "nobody", "kind": "mute"}, "username"),
        ({"username": "bob", "kind": "kick"}, "kind"),
        ({"username": "bob", "kind": "mute", "minutes": 0}, "minutes"),
        ({"username": "bob", "kind": "mute", "minutes": -5}, "minutes"),
        ({"username": "bob", "kind": "mute", "minutes": 10**30}, "minutes"),
        ({"username": "bob", "kind": "mute", "minutes": "soon"}, "minutes"),
        ({"username": "bob", "kind": "mute", "minutes": 1.5}, "minutes"),
        ({"username": ["bob"], "kind": "mute"}, "username"),
        ({"username": "bob"}, "kind"),
    ],
)
def test_bad_restrictions_name_their_field(
    live_room: Room, host: ApiClient, bob: Member, body: dict[str, Any], field: str
) -> None:
    response = host.post(f"/live/rooms/{live_room.pk}/restrictions", body)
    assert error_fields(problem(response, 422)) == {field}
    assert not Restriction.objects.exists()


def test_viewers_cannot_restrict(
    live_room: Room, viewer: ApiClient, make_member: Callable[..., Member]
) -> None:
    make_member("carol")
    path = f"/live/rooms/{live_room.pk}/restrictions"
    problem(viewer.post(path, {"username": "carol", "kind": "ban"}), 403)
    problem(viewer.delete(f"{path}/ban/carol"), 403)
    problem(viewer.delete(f"{path}/kick/carol"), 422)
    assert not Restriction.objects.exists()


def test_lifting_for_an_unknown_member_is_404(live_room: Room, host: ApiClient) -> None:
    problem(host.delete(f"/live/rooms/{live_room.pk}/restrictions/mute/nobody"), 404)


def test_restrictions_need_an_open_room(
    live_room: Room, alice: Member, bob: Member, host: ApiClient
) -> None:
    services.end_room(room=live_room, by=alice)
    response = host.post(
        f"/live/rooms/{live_room.pk}/restrictions", {"username": "bob", "kind": "mute"}
    )
    assert problem(response, 409)["type"] == "urn:papercrane:problem:live-room-ended"


# --- The contract --------------------------------------------------------------------------------


def test_the_endpoints_are_documented(api: ApiClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    assert {"/api/v1/live/rooms", "/api/v1/live/rooms/{room_id}"} <= set(paths)
    assert "delete" in paths["/api/v1/live/rooms/{room_id}/cohosts/{username}"]
    assert "post" in paths["/api/v1/live/rooms/{room_id}/cohosts/accept"]
