"""Explore: candidates, the learned co-engagement, reasons, controls and visibility."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from papercrane import ratelimit
from papercrane.accounts import services as accounts
from papercrane.accounts.models import Member
from papercrane.engagement import services as engagement
from papercrane.feed import learning, queries, services
from papercrane.feed.models import Impression, Profile, ShownDay
from papercrane.notes.models import Note, Visibility
from tests.helpers import ApiClient, problem

pytestmark = pytest.mark.django_db


def explore_ids(api: ApiClient, **params: Any) -> list[str]:
    response = api.get("/feeds/explore", data=params)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_a_like_brings_what_others_engaged_with_together_with_its_reason(
    alice: Member, as_member: Callable[[Member], ApiClient], library: dict[str, Note]
) -> None:
    engagement.collect_note(member=alice, note=library["trail"])
    response = as_member(alice).get("/feeds/explore", data={"limit": 3})
    items = response.json()["items"]
    top = {item["id"] for item in items[:2]}
    assert top == {str(library["boots"].pk), str(library["tent"].pk)}
    why = items[0]["why"]
    assert why["kind"] == "collected" and why["note_id"] == str(library["trail"].pk)
    assert items[0]["reason"] == f"Because you collected “{library['trail'].title}”"
    assert str(library["trail"].pk) not in explore_ids(as_member(alice))  # engaged: not again


def test_explore_adapts_before_the_profile_job_runs(
    alice: Member, as_member: Callable[[Member], ApiClient], library: dict[str, Note]
) -> None:
    services.refresh_profile(alice.pk)  # a profile from before she engaged
    engagement.like_note(member=alice, note=library["noodles"])
    assert explore_ids(as_member(alice), limit=1) == [str(library["dumplings"].pk)]


def test_visitors_get_trending_without_profiling(api: ApiClient, library: dict[str, Note]) -> None:
    items = api.get("/feeds/explore").json()["items"]
    assert {item["why"]["kind"] for item in items} <= {"trending", "new_creator", "language"}
    assert items[0]["id"] in {str(library[name].pk) for name in ("trail", "boots", "tent")}
    assert Profile.objects.count() == 0 and ShownDay.objects.count() == 0


def test_not_interested_and_fewer_like_this_apply_at_once(
    alice: Member, as_member: Callable[[Member], ApiClient], library: dict[str, Note]
) -> None:
    client = as_member(alice)
    engagement.like_note(member=alice, note=library["trail"])
    response = client.post("/feeds/feedback", {"kind": "note", "target": str(library["boots"].pk)})
    assert response.json() == {"kind": "note", "target": str(library["boots"].pk), "active": True}
    shown = explore_ids(client)
    assert str(library["boots"].pk) not in shown
    client.post("/feeds/feedback", {"kind": "topic", "target": "#camping"})
    ShownDay.objects.all().delete()  # order by score alone, not by what was shown
    shown = explore_ids(client)
    assert shown.index(str(library["tent"].pk)) > shown.index(str(library["noodles"].pk))


def test_personalization_off_forgets_and_stops_profiling(
    alice: Member, as_member: Callable[[Member], ApiClient], library: dict[str, Note]
) -> None:
    client = as_member(alice)
    engagement.like_note(member=alice, note=library["trail"])
    services.refresh_profile(alice.pk)
    assert Profile.objects.filter(member=alice).exists()
    assert (
        client.patch("/accounts/me", {"feed_personalized": False}).json()["feed_personalized"]
        is False
    )
    assert not Profile.objects.filter(member=alice).exists()
    items = client.get("/feeds/explore").json()["items"]
    assert {item["why"]["kind"] for item in items} <= {"trending", "new_creator", "language"}
    services.refresh_profile(alice.pk)
    assert not Profile.objects.filter(member=alice).exists()


def test_blocked_muted_private_and_followers_only_notes_never_show(
    alice: Member,
    make_member: Callable[..., Member],
    as_member: Callable[[Member], ApiClient],
    post: Callable[..., Note],
    crowd: list[Member],
) -> None:
    rude, loud, shy = make_member("rude"), make_member("loud"), make_member("shy")
    accounts.update_profile(member=shy, is_private=True)
    notes = [
        post(rude, "Blocked author"),
        post(loud, "Muted author"),
        post(shy, "Private account"),
        post(loud, "Followers only", visibility=Visibility.FOLLOWERS),
        post(loud, "Only me", visibility=Visibility.PRIVATE),
    ]
    for fan in crowd:
        for note in notes:
            Note.objects.filter(pk=note.pk).update(like_count=note.like_count + 10)
        engagement.like_note(member=fan, note=notes[0])
    accounts.block(member=alice, target=rude)
    accounts.mute(member=alice, target=loud)
    services.refresh_snapshots()
    assert explore_ids(as_member(alice)) == []


def test_seen_notes_are_not_repeated_and_pages_do_not_overlap(
    alice: Member,
    as_member: Callable[[Member], ApiClient],
    make_member: Callable[..., Member],
    post: Callable[..., Note],
) -> None:
    authors = [make_member(f"author{n}") for n in range(5)]
    for n in range(15):
        post(authors[n % 5], f"Note number {n}")
    services.refresh_snapshots()
    client = as_member(alice)
    first = client.get("/feeds/explore", data={"limit": 6}).json()
    second = client.get("/feeds/explore", data={"limit": 6, "cursor": first["next_cursor"]}).json()
    pages = [item["id"] for item in first["items"] + second["items"]]
    assert len(pages) == len(set(pages)) == 12
    authors_in_row = [item["author"]["username"] for item in first["items"]]
    assert all(a != b for a, b in itertools.pairwise(authors_in_row))
    again = explore_ids(client)  # a new visit: what was not shown yet comes first
    assert len(again) == 15 and not set(again[:3]) & set(pages)


def test_bad_cursor_and_limit_are_clear_errors(api: ApiClient) -> None:
    problem(api.get("/feeds/explore", data={"cursor": "forged"}), 422)
    problem(api.get("/feeds/explore", data={"cursor": "AAAAAAAAAAAA.99999"}), 422)
    problem(api.get("/feeds/explore", data={"cursor": "AAAAAAAAAAAA.-1"}), 422)
    problem(api.get("/feeds/explore", data={"limit": 0}), 422)


def test_a_cursor_reads_only_its_own_members_visit(
    alice: Member,
    bob: Member,
    as_member: Callable[[Member], ApiClient],
    make_member: Callable[..., Member],
    post: Callable[..., Note],
) -> None:
    """Cursors are not signed: another member's cursor, or a made-up one, finds no visit of
    the member asking, who then starts one from its first page."""
    authors = [make_member(f"author{n}") for n in range(4)]
    for n in range(12):
        post(authors[n % 4], f"Note number {n}")
    services.refresh_snapshots()
    alices = as_member(alice).get("/feeds/explore", data={"limit": 4}).json()
    alices_cursor = alices["next_cursor"]
    bobs = as_member(bob).get("/feeds/explore", data={"limit": 4, "cursor": alices_cursor})
    assert bobs.status_code == 200
    assert [item["id"] for item in bobs.json()["items"]] == [i["id"] for i in alices["items"]]
    made_up = as_member(alice).get("/feeds/explore", data={"cursor": "AAAAAAAAAAAA.4", "limit": 4})
    assert made_up.status_code == 200
    shown = {item["id"] for item in alices["items"]}  # alice's new visit puts them last
    assert shown.isdisjoint(item["id"] for item in made_up.json()["items"])


def test_feedback_validates_its_target(
    alice: Member, as_member: Callable[[Member], ApiClient], api: ApiClient
) -> None:
    client = as_member(alice)
    body = problem(client.post("/feeds/feedback", {"kind": "note", "target": "99999"}), 422)
    assert body["errors"][0]["field"] == "target"
    problem(client.post("/feeds/feedback", {"kind": "planet", "target": "1"}), 422)
    problem(client.post("/feeds/feedback", {"kind": "author", "target": "alice"}), 422)
    assert api.post("/feeds/feedback", {"kind": "topic", "target": "x"}).status_code == 401


def test_chosen_topics_start_a_new_members_explore(
    alice: Member, as_member: Callable[[Member], ApiClient], library: dict[str, Note]
) -> None:
    client = as_member(alice)
    assert queries.needs_onboarding(alice)
    response = client.request("put", "/feeds/topics", {"topics": ["#Cooking", "nonexistent"]})
    assert response.json() == {"topics": ["cooking"]}
    items = client.get("/feeds/explore", data={"limit": 5}).json()["items"]  # one author per 4
    cooking = {str(library["noodles"].pk), str(library["dumplings"].pk)}
    assert items[0]["id"] in cooking and cooking < {item["id"] for item in items}
    assert items[0]["why"] == {
        "kind": "chosen",
        "note_id": None,
        "note_title": "",
        "topic": "cooking",
        "language": "",
    }
    assert not queries.needs_onboarding(alice)


def test_dwell_is_recorded_for_readable_notes_only(
    alice: Member,
    bob: Member,
    as_member: Callable[[Member], ApiClient],
    post: Callable[..., Note],
) -> None:
    public, hidden = post(bob, "Public"), post(bob, "Mine", visibility=Visibility.PRIVATE)
    client = as_member(alice)
    for note in (public, public, hidden):
        assert (
            client.post("/feeds/dwell", {"note_id": str(note.pk), "dwell_ms": 9000}).status_code
            == 204
        )
    assert list(Impression.objects.values_list("note_id", "dwell_ms")) == [(public.pk, 18000)]
    problem(client.post("/feeds/dwell", {"note_id": str(public.pk), "dwell_ms": -1}), 422)
    assert queries.engagement_of(alice.pk).weights == {
        public.pk: learning.engagement_weight(0, 0, 0, 18000)
    }


def test_impressions_expire_after_the_declared_retention(
    alice: Member, bob: Member, post: Callable[..., Note], settings: Any
) -> None:
    note = post(bob, "Old news")
    today = timezone.now().date()
    for days_ago in (91, 89):
        day = today - timedelta(days=days_ago)
        Impression.objects.create(member=alice, note=note, day=day, dwell_ms=9_000)
        ShownDay.objects.create(member=alice, day=day, note_ids=f"{note.pk},")
    assert services.expire_impressions() == 2
    assert Impression.objects.count() == 1 and ShownDay.objects.count() == 1


def test_feedback_cannot_name_another_members_hidden_note(
    alice: Member,
    bob: Member,
    as_member: Callable[[Member], ApiClient],
    post: Callable[..., Note],
) -> None:
    secret = post(bob, "Only for me", visibility=Visibility.PRIVATE)
    response = as_member(alice).post("/feeds/feedback", {"kind": "note", "target": str(secret.pk)})
    assert problem(response, 422)["errors"][0]["field"] == "target"


def test_a_stream_of_visits_leaves_rate_limit_windows_in_the_cache(
    bob: Member, post: Callable[..., Note]
) -> None:
    post(bob, "Somewhere to go")
    services.refresh_snapshots()
    rate = ratelimit.Rate(limit=1, period_seconds=3600)
    ratelimit.hit("test", "mallory", rate)
    for _ in range(400):  # each visit keeps its list for the next pages
        assert queries.explore(None).note_ids
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.hit("test", "mallory", rate)
