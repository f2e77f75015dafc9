"""The live-room web pages: the list of rooms, the room page and the forms hosts run it with."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from papercrane.accounts import services as account_services
from papercrane.accounts.models import Member
from papercrane.live import services
from papercrane.live.models import CoHost, Message, Restriction, Room
from tests.live.conftest import aged

pytestmark = pytest.mark.django_db

JSON = {"Accept": "application/json"}


@pytest.fixture
def client_of() -> Callable[[Member], Client]:
    def make(member: Member) -> Client:
        client = Client()
        client.force_login(member)
        return client

    return make


@pytest.fixture
def carol(make_member: Callable[..., Member]) -> Member:
    return aged(make_member("carol", display_name="Carol"))


def _said(room: Room, author: Member, text: str, **translations: str) -> Message:
    return Message.objects.create(
        room=room, author=author, text=text, language="en", translations=translations
    )


def _directives(policy: str) -> dict[str, list[str]]:
    parts = [directive.split() for directive in policy.split(";") if directive.strip()]
    return {name: values for name, *values in parts}


# --- The list of rooms ------------------------------------------------------------------------


def test_anyone_sees_the_rooms_live_now(client: Client, live_room: Room) -> None:
    page = client.get("/live")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Chengdu hotpot night" in body
    assert f'href="/live/{live_room.pk}"' in body
    assert "Start a room" not in body  # signed out: no form to open one


def test_a_member_opens_a_room_from_the_form(
    client_of: Callable[[Member], Client], alice: Member
) -> None:
    client = client_of(alice)
    assert "Start a room" in client.get("/live").content.decode()
    answer = client.post(
        "/live/new",
        {
            "title": "Morning market walk",
            "topic": "#food",
            "language": "en",
            "stream_url": "https://video.example/market/live.m3u8",
        },
    )
    room = Room.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/live/{room.pk}"
    assert (room.title, room.topic, room.language, room.status) == (
        "Morning market walk",
        "food",
        "en",
        Room.Status.SCHEDULED,
    )
    assert room.stream_url == "https://video.example/market/live.m3u8"
    mine = client.get("/live").content.decode()
    assert "Your rooms" in mine and "Morning market walk" in mine


def test_the_form_shows_what_is_wrong_and_keeps_what_was_typed(
    client_of: Callable[[Member], Client], alice: Member
) -> None:
    answer = client_of(alice).post(
        "/live/new", {"title": "  ", "topic": "two words", "stream_url": "http://x.example/a"}
    )
    assert answer.status_code == 422
    body = answer.content.decode()
    assert "Give the room a title." in body
    assert "Topics are single words" in body
    assert "HLS stream" in body
    assert 'value="http://x.example/a"' in body
    assert not Room.objects.exists()


def test_signed_out_visitors_cannot_open_rooms(client: Client) -> None:
    answer = client.post("/live/new", {"title": "Sneaky"})
    assert answer.status_code == 302 and answer["Location"].startswith("/login")
    assert not Room.objects.exists()


def test_invitations_are_answered_from_the_list(
    client_of: Callable[[Member], Client], live_room: Room, alice: Member, bob: Member
) -> None:
    host = client_of(alice)
    assert host.post(f"/live/{live_room.pk}/cohosts", {"username": "@bob"}).status_code == 302
    assert CoHost.objects.get().status == CoHost.Status.INVITED
    guest = client_of(bob)
    listing = guest.get("/live").content.decode()
    assert "连麦邀请" in listing  # bob reads the site in Chinese
    assert f'action="/live/{live_room.pk}/invitation"' in listing
    answer = guest.post(f"/live/{live_room.pk}/invitation", {"answer": "accept", "next": "index"})
    assert answer.status_code == 302 and answer["Location"] == f"/live/{live_room.pk}"
    assert CoHost.objects.get().status == CoHost.Status.ACCEPTED
    room_page = guest.get(f"/live/{live_room.pk}").content.decode()
    assert "管理直播间" in room_page  # co-hosts get the settings and message tools
    assert f'action="/live/{live_room.pk}/end"' not in room_page  # only the host ends it
    assert "不再联合主持" in room_page


def test_a_declined_invitation_goes_back_to_the_list(
    client_of: Callable[[Member], Client], live_room: Room, alice: Member, bob: Member
) -> None:
    services.invite_cohost(room=live_room, by=alice, invitee=bob)
    answer = client_of(bob).post(
        f"/live/{live_room.pk}/invitation", {"answer": "decline", "next": "index"}
    )
    assert answer["Location"] == "/live"
    assert CoHost.objects.get().status == CoHost.Status.DECLINED


# --- The room page ----------------------------------------------------------------------------


def test_a_signed_out_reader_watches_and_is_asked_to_sign_in(
    client: Client, live_room: Room
) -> None:
    page = client.get(f"/live/{live_room.pk}")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Chengdu hotpot night" in body
    assert 'href="/topics/food"' in body
    assert "Alice Wong" in body
    assert "Sign in to chat" in body
    assert "data-live-send" not in body
    assert "Run the room" not in body
    assert "web/live.js" in body
    assert 'data-lang="en"' in body


def test_a_member_gets_the_send_box_and_the_hosts_their_tools(
    client_of: Callable[[Member], Client], live_room: Room, alice: Member, bob: Member
) -> None:
    viewer = client_of(bob).get(f"/live/{live_room.pk}").content.decode()
    assert "data-live-send" in viewer
    assert "Sign in to chat" not in viewer
    assert "管理直播间" not in viewer and "Run the room" not in viewer
    assert 'data-lang="zh-Hans"' in viewer
    assert 'data-report-url="/report/live_message/__id__"' in viewer
    host = client_of(alice).get(f"/live/{live_room.pk}").content.decode()
    assert "Run the room" in host
    assert f'action="/live/{live_room.pk}/end"' in host
    assert f'action="/live/{live_room.pk}/cohosts"' in host
    assert 'data-live-action="ban"' in host


def test_the_host_goes_live_and_ends_the_room(
    client_of: Callable[[Member], Client], alice: Member
) -> None:
    room = services.create_room(host=alice, title="Tea tasting")
    host = client_of(alice)
    page = host.get(f"/live/{room.pk}").content.decode()
    assert "Go live" in page and "The chat opens when the room goes live." in page
    assert host.post(f"/live/{room.pk}/start").status_code == 302
    room.refresh_from_db()
    assert room.status == Room.Status.LIVE
    assert "You are live." in host.get(f"/live/{room.pk}").content.decode()
    assert host.post(f"/live/{room.pk}/end").status_code == 302
    room.refresh_from_db()
    assert room.status == Room.Status.ENDED


def test_the_ended_room_shows_its_transcript_in_the_readers_language(
    client_of: Callable[[Member], Client],
    client: Client,
    live_room: Room,
    alice: Member,
    bob: Member,
) -> None:
    _said(live_room, alice, "Welcome to hotpot night", **{"zh-Hans": "欢迎来到火锅之夜"})
    gone = _said(live_room, bob, "this one was deleted")
    services.delete_message(message=gone, by=alice)
    services.end_room(room=live_room, by=alice)

    chinese = client_of(bob).get(f"/live/{live_room.pk}").content.decode()
    assert "Chat transcript" in chinese or "data-live-transcript" in chinese
    assert "Welcome to hotpot night" in chinese
    assert "欢迎来到火锅之夜" in chinese
    assert "this one was deleted" not in chinese
    assert "data-live-chat" not in chinese  # no socket for an ended room
    english = client.get(f"/live/{live_room.pk}").content.decode()
    assert "Welcome to hotpot night" in english
    assert "欢迎来到火锅之夜" not in english


def test_titles_and_messages_are_shown_as_text(
    client_of: Callable[[Member], Client], client: Client, alice: Member
) -> None:
    payload = "<script>alert(1)</script>"
    room = services.create_room(host=alice, title=f"Hot {payload}")
    services.start_room(room=room, by=alice)
    _said(room, alice, '<img src=x onerror="alert(2)">')
    services.update_room(room=room, by=alice, pinned_message_id=Message.objects.get().pk)
    for url in ("/live", f"/live/{room.pk}", "/"):
        body = client.get(url).content.decode()
        assert payload not in body
        assert "<img src=x" not in body
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get(f"/live/{room.pk}").content.decode()
    )
    services.end_room(room=room, by=alice)
    transcript = client_of(alice).get(f"/live/{room.pk}").content.decode()
    assert "<img src=x" not in transcript
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in transcript


@pytest.mark.parametrize("room_id", ["abc", "999999", "²", "1.0", "-1", "9" * 40])
def test_rooms_that_do_not_exist_are_404(client: Client, room_id: str) -> None:
    assert client.get(f"/live/{room_id}").status_code == 404


def test_a_room_behind_a_block_is_404(
    client_of: Callable[[Member], Client], live_room: Room, alice: Member, bob: Member
) -> None:
    account_services.block(member=alice, target=bob)
    assert client_of(bob).get(f"/live/{live_room.pk}").status_code == 404


def test_only_the_room_page_allows_its_stream(
    client: Client, alice: Member, live_room: Room
) -> None:
    streamed = services.create_room(
        host=alice, title="Night market", stream_url="https://cdn.example:8443/night/live.m3u8"
    )
    page = client.get(f"/live/{streamed.pk}")
    policy = _directives(page["Content-Security-Policy"])
    assert "https://cdn.example:8443" in policy["media-src"]
    assert "https://cdn.example:8443" in policy["connect-src"]
    for other in ("script-src", "img-src", "default-src", "style-src"):
        assert "https://cdn.example:8443" not in policy[other], other
    assert 'data-src="https://cdn.example:8443/night/live.m3u8"' in page.content.decode()
    assert "vendor/hls.light" in page.content.decode()
    assert "cdn.example" not in client.get(f"/live/{live_room.pk}")["Content-Security-Policy"]
    assert "cdn.example" not in client.get("/live")["Content-Security-Policy"]


def test_explore_shows_the_rooms_live_now(client: Client, live_room: Room, alice: Member) -> None:
    assert "Live now" in client.get("/").content.decode()
    services.end_room(room=live_room, by=alice)
    assert "live-strip" not in client.get("/").content.decode()


# --- Who may run the room ---------------------------------------------------------------------


def test_another_member_cannot_end_or_change_the_room(
    client_of: Callable[[Member], Client], live_room: Room, bob: Member, carol: Member
) -> None:
    intruder = client_of(carol)
    for url, data in (
        (f"/live/{live_room.pk}/end", {}),
        (f"/live/{live_room.pk}/settings", {"title": "Mine now", "slow_mode_seconds": "60"}),
        (f"/live/{live_room.pk}/cohosts", {"username": "bob"}),
    ):
        answer = intruder.post(url, data, headers=JSON)
        assert answer.status_code == 403, url
        assert answer.json()["ok"] is False
    live_room.refresh_from_db()
    assert (live_room.status, live_room.title, live_room.slow_mode_seconds) == (
        Room.Status.LIVE,
        "Chengdu hotpot night",
        0,
    )
    assert not CoHost.objects.exists()
    flashed = intruder.post(f"/live/{live_room.pk}/end", follow=True).content.decode()
    assert "Only the room&#x27;s host can end it." in flashed


def test_another_member_cannot_moderate_the_chat(
    client_of: Callable[[Member], Client],
    live_room: Room,
    alice: Member,
    bob: Member,
    carol: Member,
) -> None:
    message = _said(live_room, bob, "hello")
    intruder = client_of(carol)
    for action in ("pin", "delete", "mute", "ban"):
        url = f"/live/{live_room.pk}/messages/{message.pk}/{action}"
        assert intruder.post(url, headers=JSON).status_code == 403, action
    message.refresh_from_db()
    live_room.refresh_from_db()
    assert message.deleted_at is None and live_room.pinned_message is None
    assert not Restriction.objects.exists()
    assert intruder.get(f"/live/{live_room.pk}/messages/{message.pk}/delete").status_code == 405


def test_hosts_pin_delete_mute_and_ban_from_the_chat(
    client_of: Callable[[Member], Client],
    live_room: Room,
    alice: Member,
    bob: Member,
    carol: Member,
) -> None:
    host = client_of(alice)
    first, second = _said(live_room, bob, "first"), _said(live_room, carol, "second")
    base = f"/live/{live_room.pk}/messages"
    answer = host.post(f"{base}/{first.pk}/pin", headers=JSON)
    assert answer.json() == {"ok": True, "message": "Pinned."}
    live_room.refresh_from_db()
    assert live_room.pinned_message == first
    assert "first" in host.get(f"/live/{live_room.pk}").content.decode()
    assert host.post(f"/live/{live_room.pk}/settings", {"unpin": "1"}, headers=JSON).json()["ok"]
    live_room.refresh_from_db()
    assert live_room.pinned_message is None

    assert host.post(f"{base}/{first.pk}/mute", headers=JSON).json()["ok"]
    mute = Restriction.objects.get(member=bob)
    assert mute.kind == "mute" and mute.until is not None
    assert "muted" in client_of(bob).get(f"/live/{live_room.pk}").content.decode()
    assert host.post(f"{base}/{second.pk}/ban", headers=JSON).json()["ok"]
    assert Restriction.objects.get(member=carol).kind == "ban"
    banned = client_of(carol).get(f"/live/{live_room.pk}").content.decode()
    assert "The hosts removed you from this room." in banned
    assert "data-live-chat" not in banned
    assert "Muted and banned" in host.get(f"/live/{live_room.pk}").content.decode()
    assert host.post(f"/live/{live_room.pk}/restrictions/carol/lift", {"kind": "ban"}).status_code
    assert not Restriction.objects.filter(member=carol).exists()

    assert host.post(f"{base}/{second.pk}/delete").status_code == 302
    second.refresh_from_db()
    assert second.deleted_at is not None
    gone = host.post(f"{base}/{second.pk}/delete", headers=JSON)
    assert gone.status_code == 409 and gone.json()["message"] == "This message is gone."


def test_hosts_cannot_mute_themselves_or_co_hosts(
    client_of: Callable[[Member], Client], live_room: Room, alice: Member
) -> None:
    mine = _said(live_room, alice, "hi all")
    answer = client_of(alice).post(f"/live/{live_room.pk}/messages/{mine.pk}/mute", headers=JSON)
    assert answer.status_code == 422
    assert not Restriction.objects.exists()


def test_authors_delete_their_own_messages(
    client_of: Callable[[Member], Client], live_room: Room, bob: Member
) -> None:
    mine = _said(live_room, bob, "oops")
    answer = client_of(bob).post(f"/live/{live_room.pk}/messages/{mine.pk}/delete", headers=JSON)
    assert answer.json()["ok"]
    mine.refresh_from_db()
    assert mine.deleted_at is not None


@pytest.mark.parametrize(
    "tail", ["messages/abc/pin", "messages/1/explode", "messages/²/delete", "start"]
)
def test_bad_room_and_message_ids_are_404(
    client_of: Callable[[Member], Client], alice: Member, tail: str
) -> None:
    assert client_of(alice).post(f"/live/999999/{tail}").status_code == 404
    assert client_of(alice).post(f"/live/nope/{tail}").status_code == 404


def test_slow_mode_is_chosen_from_the_list(
    client_of: Callable[[Member], Client], live_room: Room, alice: Member
) -> None:
    host = client_of(alice)
    assert host.post(f"/live/{live_room.pk}/settings", {"slow_mode_seconds": "10"}).status_code
    live_room.refresh_from_db()
    assert live_room.slow_mode_seconds == 10
    for wrong in ("7", "ten", "99999999999999999999"):
        answer = host.post(
            f"/live/{live_room.pk}/settings", {"slow_mode_seconds": wrong}, headers=JSON
        )
        assert answer.status_code == 422, wrong
    live_room.refresh_from_db()
    assert live_room.slow_mode_seconds == 10


def test_the_host_invites_and_removes_co_hosts(
    client_of: Callable[[Member], Client], live_room: Room, alice: Member, bob: Member
) -> None:
    host = client_of(alice)
    nobody = host.post(f"/live/{live_room.pk}/cohosts", {"username": "nobody"}, headers=JSON)
    assert nobody.status_code == 422
    assert "There is no member with this username." in nobody.json()["message"]
    host.post(f"/live/{live_room.pk}/cohosts", {"username": "bob"})
    services.answer_invite(room=live_room, member=bob, accept=True)
    page = host.get(f"/live/{live_room.pk}").content.decode()
    assert f'action="/live/{live_room.pk}/cohosts/bob/remove"' in page
    assert host.post(f"/live/{live_room.pk}/cohosts/bob/remove").status_code == 302
    assert not CoHost.objects.exists()


def test_odd_slow_mode_values_are_422_not_errors(
    client_of: Callable[[Member], Client], live_room: Room, alice: Member
) -> None:
    host = client_of(alice)
    for wrong in ("²", "٣", "9" * 5000, "", "-3"):
        answer = host.post(
            f"/live/{live_room.pk}/settings", {"slow_mode_seconds": wrong}, headers=JSON
        )
        assert answer.status_code == 422, wrong[:10]


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.example;script-src/live.m3u8",
        "https://cdn.example,evil/live.m3u8",
        "https://user:pass@cdn.example/live.m3u8",
        "https://cdn.example:99999/live.m3u8",
        "https://cdn.example:port/live.m3u8",
        "https://[/live.m3u8",
    ],
)
def test_stream_addresses_that_could_bend_the_policy_are_refused(
    client_of: Callable[[Member], Client], alice: Member, url: str
) -> None:
    answer = client_of(alice).post("/live/new", {"title": "Night market", "stream_url": url})
    assert answer.status_code == 422
    assert not Room.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "javascript://cdn.example/live.m3u8",
        "http://cdn.example/live.m3u8",
        "https://cdn.example;script-src/live.m3u8",
        "https://user@cdn.example/live.m3u8",
        "https://[/live.m3u8",
    ],
)
def test_the_page_allows_only_an_https_stream_origin(
    client: Client, alice: Member, url: str
) -> None:
    room = Room.objects.create(host=alice, title="Old row", stream_url=url)  # stored long ago
    page = client.get(f"/live/{room.pk}")
    assert page.status_code == 200
    policy = _directives(page["Content-Security-Policy"])
    assert not any("cdn.example" in value for value in policy.get("media-src", []))
    assert not any("script-src" in value for value in policy.get("media-src", []))


def test_a_banned_member_does_not_read_the_ended_rooms_transcript_or_pin(
    client_of: Callable[[Member], Client], live_room: Room, alice: Member, bob: Member
) -> None:
    said = _said(live_room, alice, "secret recipe")
    services.update_room(room=live_room, by=alice, pinned_message_id=said.pk)
    services.restrict(room=live_room, by=alice, member=bob, kind="ban")
    live_page = client_of(bob).get(f"/live/{live_room.pk}").content.decode()
    assert "secret recipe" not in live_page
    services.end_room(room=live_room, by=alice)
    page = client_of(bob).get(f"/live/{live_room.pk}").content.decode()
    assert 'role="alert"' in page  # why there is nothing to read
    assert "secret recipe" not in page and "data-live-transcript" not in page
    report = client_of(bob).get(f"/report/live_message/{said.pk}")
    assert "secret recipe" not in report.content.decode()
    assert "secret recipe" in client_of(alice).get(f"/live/{live_room.pk}").content.decode()


def test_a_long_transcript_is_shown_page_by_page(
    client: Client, live_room: Room, alice: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    from papercrane.live import queries

    monkeypatch.setattr(queries, "TRANSCRIPT_PAGE", 3)
    said = [_said(live_room, alice, f"line {n}") for n in range(7)]
    services.end_room(room=live_room, by=alice)
    first = client.get(f"/live/{live_room.pk}").content.decode()
    assert "line 2" in first and "line 3" not in first
    assert f'href="?after={said[2].pk}"' in first
    second = client.get(f"/live/{live_room.pk}?after={said[2].pk}").content.decode()
    assert "line 3" in second and "line 5" in second and "line 2" not in second
    last = client.get(f"/live/{live_room.pk}?after={said[5].pk}").content.decode()
    assert "line 6" in last and 'href="?after=' not in last
    for junk in ("abc", "9" * 40, "²", "-1"):
        assert client.get(f"/live/{live_room.pk}?after={junk}").status_code == 200
