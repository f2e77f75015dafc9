"""Private accounts: following asks first, the owner approves or declines, notes stay hidden."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from papercrane.accounts.models import Follow, FollowRequest, Member
from papercrane.notes.models import Note, Visibility
from papercrane.notifications.models import Notification
from tests.helpers import ApiClient, error_fields, problem

pytestmark = pytest.mark.django_db

RELATIONSHIP = {"following": False, "followed_by": False, "blocking": False, "muting": False}


@pytest.fixture
def private_alice(alice: Member) -> Member:
    Member.objects.filter(pk=alice.pk).update(is_private=True)
    alice.refresh_from_db()
    return alice


def _note(author: Member, title: str, visibility: str = Visibility.PUBLIC) -> Note:
    return Note.objects.create(
        author=author, title=title, visibility=visibility, status=Note.Status.PUBLISHED
    )


def _titles(client: ApiClient, username: str) -> set[str]:
    response = client.get(f"/accounts/{username}/notes")
    assert response.status_code == 200, response.content
    return {note["title"] for note in response.json()["items"]}


def test_privacy_settings_are_editable_through_the_api(
    alice: Member, as_member: Callable[[Member], ApiClient], api: ApiClient
) -> None:
    client = as_member(alice)
    assert client.get("/accounts/me").json()["is_private"] is False
    body = client.patch("/accounts/me", {"is_private": True, "likes_public": False}).json()
    assert (body["is_private"], body["likes_public"]) == (True, False)
    public = api.get("/accounts/alice").json()
    assert (public["is_private"], public["likes_public"]) == (True, False)
    assert error_fields(problem(client.patch("/accounts/me", {"is_private": "maybe"}), 422)) == {
        "is_private"
    }


def test_following_a_private_account_sends_a_request_that_approval_turns_into_a_follow(
    private_alice: Member,
    bob: Member,
    as_member: Callable[[Member], ApiClient],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    _note(private_alice, "public but private account")
    _note(private_alice, "for followers", Visibility.FOLLOWERS)
    _note(private_alice, "only me", Visibility.PRIVATE)
    alices, bobs = as_member(private_alice), as_member(bob)
    assert _titles(bobs, "alice") == set()
    assert _titles(ApiClient(), "alice") == set()
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            body = bobs.post("/accounts/alice/follow").json()
            assert body == {"username": "alice", **RELATIONSHIP, "requested": True}
    assert not Follow.objects.exists()
    assert Notification.objects.get().verb == "follow_request"
    requests = alices.get("/accounts/me/follow-requests").json()
    assert [member["username"] for member in requests["items"]] == ["bob"]

    with django_capture_on_commit_callbacks(execute=True):
        body = alices.post("/accounts/me/follow-requests/BOB/approve").json()
    assert body == {"username": "bob", **RELATIONSHIP, "followed_by": True, "requested": False}
    private_alice.refresh_from_db()
    assert private_alice.follower_count == 1
    assert not FollowRequest.objects.exists()
    assert list(Notification.objects.values_list("recipient__username", "verb")) == [
        ("bob", "follow_approved")
    ]  # the answered request left alice's notifications
    assert _titles(bobs, "alice") == {"public but private account", "for followers"}
    assert _titles(alices, "alice") == {
        "public but private account",
        "for followers",
        "only me",
    }
    assert alices.get("/accounts/me/follow-requests").json()["items"] == []


def test_a_declined_request_leaves_no_follow(
    private_alice: Member, bob: Member, as_member: Callable[[Member], ApiClient]
) -> None:
    as_member(bob).post("/accounts/alice/follow")
    body = as_member(private_alice).post("/accounts/me/follow-requests/bob/decline").json()
    assert body["followed_by"] is False
    assert not FollowRequest.objects.exists() and not Follow.objects.exists()
    assert as_member(bob).get("/accounts/alice").json()["relationship"]["requested"] is False


def test_the_requester_can_withdraw_a_request(
    private_alice: Member,
    bob: Member,
    as_member: Callable[[Member], ApiClient],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    bobs = as_member(bob)
    with django_capture_on_commit_callbacks(execute=True):
        bobs.post("/accounts/alice/follow")
        assert bobs.delete("/accounts/alice/follow").json()["requested"] is False
    assert not FollowRequest.objects.exists()
    assert not Notification.objects.exists()
    problem(as_member(private_alice).post("/accounts/me/follow-requests/bob/approve"), 404)


def test_blocking_clears_requests_both_ways(
    private_alice: Member, bob: Member, as_member: Callable[[Member], ApiClient]
) -> None:
    Member.objects.filter(pk=bob.pk).update(is_private=True)
    as_member(bob).post("/accounts/alice/follow")
    as_member(private_alice).post("/accounts/bob/follow")
    assert FollowRequest.objects.count() == 2
    as_member(private_alice).post("/accounts/bob/block")
    assert not FollowRequest.objects.exists()


def test_answering_needs_a_real_request_addressed_to_you(
    private_alice: Member,
    bob: Member,
    make_member: Callable[..., Member],
    as_member: Callable[[Member], ApiClient],
    api: ApiClient,
) -> None:
    carol = make_member("carol")
    as_member(bob).post("/accounts/alice/follow")
    carols = as_member(carol)
    for path in [
        "/accounts/me/follow-requests/bob/approve",  # bob asked alice, not carol
        "/accounts/me/follow-requests/nobody_here/approve",
        "/accounts/me/follow-requests/carol/decline",
        "/accounts/me/follow-requests/%E2%98%83/approve",
        "/accounts/me/follow-requests/bob%00/approve",
    ]:
        problem(carols.post(path), 404)
    problem(api.post("/accounts/me/follow-requests/bob/approve"), 401)
    assert FollowRequest.objects.count() == 1
    assert not Follow.objects.exists()


def test_followers_from_before_going_private_keep_seeing_notes(
    alice: Member, bob: Member, as_member: Callable[[Member], ApiClient]
) -> None:
    _note(alice, "hello")
    as_member(bob).post("/accounts/alice/follow")
    as_member(alice).patch("/accounts/me", {"is_private": True})
    assert _titles(as_member(bob), "alice") == {"hello"}
    assert _titles(ApiClient(), "alice") == set()
    problem(ApiClient().get(f"/notes/{Note.objects.get().pk}"), 404)


def test_going_public_lets_everyone_waiting_in(
    private_alice: Member,
    make_member: Callable[..., Member],
    as_member: Callable[[Member], ApiClient],
) -> None:
    for name in ["fan_one", "fan_two"]:
        as_member(make_member(name)).post("/accounts/alice/follow")
    as_member(private_alice).patch("/accounts/me", {"is_private": False})
    private_alice.refresh_from_db()
    assert private_alice.follower_count == 2
    assert not FollowRequest.objects.exists()
