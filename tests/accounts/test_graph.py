"""Following and blocking: exact counters, no self-follows, mutual invisibility after a block."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from papercrane.accounts.models import Follow, Member
from tests.helpers import ApiClient, problem

pytestmark = pytest.mark.django_db


def test_follow_is_idempotent_and_counted(
    alice: Member, bob: Member, as_member: Callable[[Member], ApiClient]
) -> None:
    client = as_member(alice)
    for _ in range(2):
        body = client.post("/accounts/bob/follow").json()
        assert body == {
            "username": "bob",
            "following": True,
            "followed_by": False,
            "blocking": False,
            "requested": False,
            "muting": False,
        }
    bob.refresh_from_db()
    alice.refresh_from_db()
    assert (bob.follower_count, alice.following_count) == (1, 1)
    assert [m["username"] for m in client.get("/accounts/bob/followers").json()["items"]] == [
        "alice"
    ]
    for _ in range(2):
        assert client.delete("/accounts/bob/follow").json()["following"] is False
    bob.refresh_from_db()
    assert bob.follower_count == 0


def test_following_needs_a_token(alice: Member, api: ApiClient) -> None:
    problem(api.post("/accounts/alice/follow"), 401)


def test_a_member_cannot_follow_themself(
    alice: Member, as_member: Callable[[Member], ApiClient]
) -> None:
    problem(as_member(alice).post("/accounts/alice/follow"), 422)


def test_block_ends_follows_and_hides_both_ways(
    alice: Member, bob: Member, as_member: Callable[[Member], ApiClient]
) -> None:
    alices, bobs = as_member(alice), as_member(bob)
    alices.post("/accounts/bob/follow")
    bobs.post("/accounts/alice/follow")
    assert alices.post("/accounts/bob/block").json()["blocking"] is True
    assert not Follow.objects.exists()
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert (
        alice.follower_count,
        alice.following_count,
        bob.follower_count,
        bob.following_count,
    ) == (0, 0, 0, 0)
    problem(bobs.get("/accounts/alice"), 404)
    problem(bobs.post("/accounts/alice/follow"), 404)
    problem(alices.get("/accounts/bob"), 404)
    assert alices.delete("/accounts/bob/block").json()["blocking"] is False
    assert bobs.get("/accounts/alice").status_code == 200


def test_profile_shows_the_viewers_relationship(
    alice: Member, bob: Member, as_member: Callable[[Member], ApiClient]
) -> None:
    as_member(bob).post("/accounts/alice/follow")
    body = as_member(alice).get("/accounts/bob").json()
    assert body["relationship"] == {
        "username": "bob",
        "following": False,
        "followed_by": True,
        "blocking": False,
        "requested": False,
        "muting": False,
    }
    assert body["counts"] == {"followers": 0, "following": 1}


def test_followers_are_listed_newest_first_in_pages(
    alice: Member, make_member: Callable[..., Member], as_member: Callable[[Member], ApiClient]
) -> None:
    for name in ["fan_one", "fan_two", "fan_three"]:
        as_member(make_member(name)).post("/accounts/alice/follow")
    api = ApiClient()
    first = api.get("/accounts/alice/followers?limit=2").json()
    assert [m["username"] for m in first["items"]] == ["fan_three", "fan_two"]
    rest = api.get(f"/accounts/alice/followers?limit=2&cursor={first['next_cursor']}").json()
    assert [m["username"] for m in rest["items"]] == ["fan_one"]
    assert rest["next_cursor"] is None
    following = api.get("/accounts/fan_one/following").json()["items"]
    assert [m["username"] for m in following] == ["alice"]


def test_follow_floods_are_rate_limited(
    alice: Member, make_member: Callable[..., Member], as_member: Callable[[Member], ApiClient]
) -> None:
    from papercrane.accounts import services

    client = as_member(alice)
    for number in range(services.FOLLOWS_PER_MEMBER.limit):
        make_member(f"star{number}")
    targets = [f"star{n}" for n in range(services.FOLLOWS_PER_MEMBER.limit)]
    for username in targets:
        assert client.post(f"/accounts/{username}/follow").status_code == 200
    make_member("one_more")
    response = client.post("/accounts/one_more/follow")
    problem(response, 429)
    assert int(response["Retry-After"]) > 0
