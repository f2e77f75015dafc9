"""The Following feed (newest first, at once) and Nearby (city-level, opt-in)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from papercrane.accounts import services as accounts
from papercrane.accounts.models import Member
from papercrane.notes.models import Note
from tests.helpers import ApiClient

pytestmark = pytest.mark.django_db


def test_following_shows_followed_creators_newest_first_immediately(
    alice: Member,
    bob: Member,
    make_member: Callable[..., Member],
    as_member: Callable[[Member], ApiClient],
    post: Callable[..., Note],
) -> None:
    stranger = make_member("stranger")
    accounts.follow(member=alice, target=bob)
    older, _other, newer = post(bob, "First"), post(stranger, "Not followed"), post(bob, "Second")
    client = as_member(alice)
    page = client.get("/feeds/following", data={"limit": 1}).json()
    assert [item["id"] for item in page["items"]] == [str(newer.pk)]
    rest = client.get("/feeds/following", data={"cursor": page["next_cursor"]}).json()
    assert [item["id"] for item in rest["items"]] == [str(older.pk)]
    assert rest["next_cursor"] is None


def test_nearby_needs_an_opted_in_city(
    alice: Member, bob: Member, as_member: Callable[[Member], ApiClient], post: Callable[..., Note]
) -> None:
    here = post(bob, "Hotpot street", place_city="Chengdu")
    post(bob, "Elsewhere", place_city="Paris")
    client = as_member(alice)
    assert client.get("/feeds/nearby").json()["items"] == []
    assert client.patch("/accounts/me", {"city": "  chengdu "}).json()["city"] == "chengdu"
    assert [item["id"] for item in client.get("/feeds/nearby").json()["items"]] == [str(here.pk)]


def test_feeds_of_a_member_need_auth(api: ApiClient) -> None:
    assert api.get("/feeds/following").status_code == 401
    assert api.get("/feeds/nearby").status_code == 401
