"""The web side: the header badge, the notifications page, follow-request answers, privacy."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from papercrane.accounts import services
from papercrane.accounts.models import Follow, FollowRequest, Member, Mute
from papercrane.notes.models import Note
from papercrane.notifications.models import Notification
from papercrane.notifications.services import notify

pytestmark = pytest.mark.django_db

BADGE = re.compile(r'<span class="unread-badge[^"]*" data-unread-badge ?(hidden)?>.*?'
                   r"<span data-unread-count>(\d+)</span>", re.S)  # fmt: skip


def _client(member: Member, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(member)
    return client


def _badge(page: str) -> tuple[bool, int]:
    match = BADGE.search(page)
    assert match, "no badge in the header"
    return match.group(1) is None, int(match.group(2))


@pytest.fixture
def private_alice(alice: Member) -> Member:
    services.update_profile(member=alice, is_private=True)
    return alice


def test_the_bell_shows_the_unread_count(alice: Member, bob: Member) -> None:
    assert _badge(_client(alice).get("/").content.decode()) == (False, 0)
    notify(recipient_id=alice.pk, actor_id=bob.pk, verb="follow")
    assert _badge(_client(alice).get("/").content.decode()) == (True, 1)
    assert "data-unread-badge" not in Client().get("/").content.decode()


def test_viewing_the_page_lists_in_sentences_and_marks_read(
    alice: Member, make_member: Callable[..., Member]
) -> None:
    note = Note.objects.create(author=alice, title="Hotpot night", status="published")
    for name in ["fan_a", "fan_b", "fan_c"]:
        notify(
            recipient_id=alice.pk, actor_id=make_member(name).pk, verb="like_note", note_id=note.pk
        )
    client = _client(alice)
    page = client.get("/notifications", headers={"Accept-Language": "en"}).content.decode()
    assert re.search(r"fan_c</a> and 2 others liked your note", page)
    assert f'href="/notes/{note.pk}"' in page
    assert "is-unread" in page  # new this once
    assert _badge(page) == (False, 0)
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    assert "is-unread" not in client.get("/notifications").content.decode()


def test_the_page_renders_in_chinese_and_escapes_names(alice: Member, bob: Member) -> None:
    services.update_profile(member=alice, language="zh-Hans")
    mallory = services.create_member(
        username="mallory", password="paper-crane-flies-2026", display_name="<script>x()</script>"
    )
    notify(recipient_id=alice.pk, actor_id=mallory.pk, verb="follow")
    notify(recipient_id=alice.pk, actor_id=bob.pk, verb="mention", note_id=None, comment_id=3)
    page = _client(alice).get("/notifications").content.decode()
    assert "<h1>消息</h1>" in page
    assert "&lt;script&gt;x()&lt;/script&gt;" in page
    assert "<script>x()" not in page
    assert 'href="/@mallory"' in page and "小波" in page


def test_an_empty_page_says_so(alice: Member) -> None:
    page = _client(alice).get("/notifications").content.decode()
    assert "Nothing new." in page


def test_a_follow_request_is_approved_from_the_notifications_page(
    private_alice: Member,
    bob: Member,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.follow(member=bob, target=private_alice)
    client = _client(private_alice, csrf=True)
    page = client.get("/notifications").content.decode()
    assert 'action="/notifications/requests/bob/approve"' in page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/notifications/requests/bob/approve",
            {"csrfmiddlewaretoken": token.group(1), "next": "/notifications"},
        )
    assert response.status_code == 302
    assert response["Location"] == "/notifications"
    assert Follow.objects.filter(follower=bob, followee=private_alice).exists()
    assert Notification.objects.filter(recipient=bob, verb="follow_approved").exists()
    assert not Notification.objects.filter(recipient=private_alice).exists()


def test_answering_a_request_needs_login_csrf_and_the_target(
    private_alice: Member, bob: Member, make_member: Callable[..., Member]
) -> None:
    services.follow(member=bob, target=private_alice)
    path = "/notifications/requests/bob/approve"
    response = Client().post(path)
    assert response.status_code == 302 and response["Location"].startswith("/login")
    assert _client(private_alice, csrf=True).post(path).status_code == 403
    assert Client().get(path).status_code == 302
    assert _client(private_alice).get(path).status_code == 405
    carol = make_member("carol")
    assert _client(carol).post(path).status_code == 404
    assert _client(bob).post("/notifications/requests/alice/approve").status_code == 404
    assert _client(private_alice).post("/notifications/requests/nobody/decline").status_code == 404
    assert FollowRequest.objects.count() == 1
    response = _client(private_alice).post("/notifications/requests/BOB/decline")
    assert response.status_code == 302
    assert not FollowRequest.objects.exists() and not Follow.objects.exists()


def test_the_profile_shows_requested_and_hides_a_private_accounts_notes(
    private_alice: Member, bob: Member
) -> None:
    Note.objects.create(author=private_alice, title="secret hotpot", status="published")
    client = _client(bob)
    page = client.get("/@alice").content.decode()  # bob reads Papercrane in Chinese
    assert "这是私密账号。" in page and "secret hotpot" not in page
    client.post("/@alice/follow", {"action": "follow"})
    page = client.get("/@alice").content.decode()
    assert ">已请求</button>" in page
    client.post("/@alice/follow", {"action": "unfollow"})
    assert not FollowRequest.objects.exists()
    assert "secret hotpot" not in Client().get("/@alice").content.decode()


def test_mute_and_block_from_the_profile(alice: Member, bob: Member) -> None:
    client = _client(alice)
    client.post("/@bob/mute", {"action": "mute"})
    assert Mute.objects.filter(muter=alice, muted=bob).exists()
    assert ">Unmute</button>" in client.get("/@bob").content.decode()
    client.post("/@bob/mute", {"action": "unmute"})
    assert not Mute.objects.exists()
    client.post("/@bob/block", {"action": "block"})
    page = client.get("/@bob").content.decode()
    assert ">Unblock</button>" in page and "You blocked this member." in page
    assert _client(bob).get("/@alice").status_code == 404
    client.post("/@bob/block", {"action": "unblock"})
    assert _client(bob).get("/@alice").status_code == 200
    assert client.post("/@bob/block", {"action": "explode"}).status_code == 404
    assert client.post("/@nobody/mute", {"action": "mute"}).status_code == 404
    assert client.post("/@alice/mute", {"action": "mute"}).status_code == 302  # shown as error
    assert not Mute.objects.exists()


def test_privacy_toggles_on_the_settings_page(alice: Member) -> None:
    client = _client(alice)
    page = client.get("/settings").content.decode()
    assert 'name="is_private"' in page and 'name="likes_public"' in page
    form = {"display_name": "Alice", "bio": "", "language": "en", "time_zone": "UTC"}
    response = client.post("/settings", {**form, "is_private": "on"})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.is_private, alice.likes_public) == (True, False)
