"""Private defaults, and the privacy settings doing what they say: reading is not recorded
unless asked for, members who are not discoverable are not browsed to, and comments and
mentions come only from whom a member accepts them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from papercrane.accounts import services as account_services
from papercrane.accounts.models import Audience, Member
from papercrane.engagement.models import CommentMention
from papercrane.feed import queries as feed_queries
from papercrane.feed import services as feed_services
from papercrane.feed.models import Impression, ShownDay
from papercrane.notes import services as note_services
from papercrane.notes.models import Mention, Note
from papercrane.search import queries as search_queries
from tests.helpers import ApiClient, problem


@pytest.fixture
def post() -> Callable[..., Note]:
    def make(author: Member, title: str = "周末去爬山 Weekend hike", **fields: Any) -> Note:
        return note_services.create_note(
            author=author, fields=note_services.NoteFields(title=title, **fields)
        )

    return make


def test_a_new_member_starts_with_private_defaults(alice: Member) -> None:
    alice.refresh_from_db()
    assert alice.records_reading is False
    assert alice.keeps_search_history is False
    assert alice.city == ""
    assert alice.discoverable is True
    assert (alice.comments_from, alice.mentions_from) == (Audience.EVERYONE, Audience.EVERYONE)


def test_the_api_reads_and_changes_the_privacy_settings(
    alice: Member, as_member: Callable[[Member], ApiClient]
) -> None:
    client = as_member(alice)
    me = client.get("/accounts/me").json()
    assert (me["records_reading"], me["discoverable"], me["comments_from"]) == (
        False,
        True,
        "everyone",
    )
    changed = client.patch(
        "/accounts/me",
        {
            "records_reading": True,
            "discoverable": False,
            "comments_from": "followers",
            "mentions_from": "nobody",
        },
    )
    assert changed.status_code == 200, changed.content
    alice.refresh_from_db()
    assert (alice.records_reading, alice.discoverable) == (True, False)
    assert (alice.comments_from, alice.mentions_from) == ("followers", "nobody")
    body = problem(client.patch("/accounts/me", {"comments_from": "friends"}), 422)
    assert body["errors"][0]["field"].endswith("comments_from")


def test_the_settings_page_groups_the_privacy_settings(alice: Member) -> None:
    client = Client()
    client.force_login(alice)
    page = client.get("/settings").content.decode()
    privacy = page[page.index('id="privacy"') :]
    for name in (
        "is_private",
        "discoverable",
        "comments_from",
        "mentions_from",
        "likes_public",
        "feed_personalized",
        "records_reading",
        "keeps_search_history",
        "city",
    ):
        assert f'name="{name}"' in privacy
    response = client.post(
        "/settings",
        {
            "display_name": "Alice",
            "language": "en",
            "time_zone": "UTC",
            "records_reading": "on",
            "comments_from": "nobody",
            "mentions_from": "followers",
        },
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.records_reading and not alice.discoverable
    assert (alice.comments_from, alice.mentions_from) == ("nobody", "followers")


# --- Reading is recorded only when asked for ------------------------------------------------------


def test_a_member_who_does_not_record_reading_leaves_no_impressions_or_dwell(
    alice: Member,
    bob: Member,
    as_member: Callable[[Member], ApiClient],
    post: Callable[..., Note],
) -> None:
    note = post(bob)
    feed_services.refresh_snapshots()
    client = as_member(alice)
    assert str(note.pk) in [item["id"] for item in client.get("/feeds/explore").json()["items"]]
    web = Client()
    web.force_login(alice)
    assert web.get("/").status_code == 200
    dwell = client.post("/feeds/dwell", {"note_id": str(note.pk), "dwell_ms": 20_000})
    assert dwell.status_code == 204
    assert not Impression.objects.filter(member=alice).exists()
    feed_services.flush_impressions()
    assert not ShownDay.objects.filter(member=alice).exists()
    assert "data-dwell-note" not in web.get(f"/notes/{note.pk}").content.decode()

    account_services.update_profile(member=alice, records_reading=True)
    client.get("/feeds/explore")
    client.post("/feeds/dwell", {"note_id": str(note.pk), "dwell_ms": 20_000})
    assert Impression.objects.get(member=alice, note=note).dwell_ms == 20_000
    feed_services.flush_impressions()
    assert note.pk in feed_queries.seen_notes(alice.pk)
    assert ShownDay.objects.filter(member=alice).exists()
    assert "data-dwell-note" in web.get(f"/notes/{note.pk}").content.decode()

    account_services.update_profile(member=alice, records_reading=False)  # forgets, too
    assert not Impression.objects.filter(member=alice).exists()
    assert not ShownDay.objects.filter(member=alice).exists()


# --- Discoverable ---------------------------------------------------------------------------------


def test_a_member_who_is_not_discoverable_is_not_found_by_browsing(
    alice: Member, make_member: Callable[..., Member], api: ApiClient
) -> None:
    hidden = make_member("alicia", display_name="Alice in hiding")
    account_services.update_profile(member=hidden, discoverable=False)
    assert [m.username for m in search_queries.search_members(None, "ali")] == ["alice"]
    found = api.get("/search/users", data={"q": "Alice"}).json()["items"]
    assert [item["username"] for item in found] == ["alice"]
    page = Client().get("/search", {"q": "ali", "tab": "users"}).content.decode()
    assert "@alice" in page and "alicia" not in page
    suggestions = api.get("/search/suggest", data={"q": "ali"}).json()
    assert "alicia" not in str(suggestions)
    # Typing the exact username still finds them: the profile is public at /@alicia anyway.
    exact = api.get("/search/users", data={"q": "@Alicia"}).json()["items"]
    assert [item["username"] for item in exact] == ["alicia"]


# --- Comments and mentions -----------------------------------------------------------------------


def test_comments_from_followers_refuses_others_with_a_clear_error(
    alice: Member,
    bob: Member,
    make_member: Callable[..., Member],
    as_member: Callable[[Member], ApiClient],
    post: Callable[..., Note],
) -> None:
    account_services.update_profile(member=alice, comments_from=Audience.FOLLOWERS)
    note = post(alice)
    body = problem(as_member(bob).post(f"/notes/{note.pk}/comments", {"body": "好美!"}), 403)
    assert body["detail"] == "只有关注了作者的人才能评论这篇笔记。"  # in Bob's language
    fan = make_member("fan")
    account_services.follow(member=fan, target=alice)
    for member in (fan, alice):  # a follower, and the author herself
        response = as_member(member).post(f"/notes/{note.pk}/comments", {"body": "Lovely"})
        assert response.status_code == 201

    web = Client()
    web.force_login(bob)
    response = web.post(f"/notes/{note.pk}/comments", {"body": "好美!"}, follow=True)
    assert "只有关注了作者的人才能评论这篇笔记。" in response.content.decode()
    assert note.comments.count() == 2


def test_comments_from_nobody_leaves_only_the_author(
    alice: Member, bob: Member, as_member: Callable[[Member], ApiClient], post: Callable[..., Note]
) -> None:
    account_services.update_profile(member=alice, comments_from=Audience.NOBODY)
    account_services.follow(member=bob, target=alice)
    note = post(alice)
    problem(as_member(bob).post(f"/notes/{note.pk}/comments", {"body": "hi"}), 403)
    assert as_member(alice).post(f"/notes/{note.pk}/comments", {"body": "me"}).status_code == 201


def test_a_mention_from_someone_not_accepted_is_not_linked(
    alice: Member,
    bob: Member,
    make_member: Callable[..., Member],
    as_member: Callable[[Member], ApiClient],
    post: Callable[..., Note],
) -> None:
    account_services.update_profile(member=bob, mentions_from=Audience.FOLLOWERS)
    fan = make_member("fan")
    account_services.follow(member=fan, target=bob)
    note = post(alice, body="Hiking with @bob and @fan")
    assert list(Mention.objects.filter(note=note).values_list("member__username", flat=True)) == [
        "fan"
    ]
    by_fan = post(fan, body="Thanks @bob")
    assert Mention.objects.filter(note=by_fan, member=bob).exists()

    comment = as_member(alice).post(f"/notes/{by_fan.pk}/comments", {"body": "@bob look"})
    assert comment.status_code == 201
    assert not CommentMention.objects.filter(member=bob).exists()
    assert comment.json().get("mentions", []) == []
