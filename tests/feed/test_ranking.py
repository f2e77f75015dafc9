"""A member's stored Explore ranking: visits merge into it what changed since, at once."""

from __future__ import annotations

import io
import json
import random
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from papercrane.accounts import services as accounts
from papercrane.accounts.models import Follow, Member
from papercrane.engagement import services as engagement
from papercrane.feed import queries, services, shown
from papercrane.feed.models import Impression, Ranking, ShownDay
from papercrane.notes.models import Note, Visibility
from tests.helpers import ApiClient

pytestmark = pytest.mark.django_db


def explore(client: ApiClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/feeds/explore", data=params)
    assert response.status_code == 200, response.content
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def computed_at(member: Member) -> Any:
    return Ranking.objects.get(member=member).computed_at


def cook_followed_by(member: Member) -> Member:
    """The cook, followed by ``member`` before their ranking was stored."""
    cook = Member.objects.get(username="cook")
    accounts.follow(member=member, target=cook)
    services.refresh_ranking(member.pk)
    return cook


def assert_first_as_followed(items: list[dict[str, Any]], note: Note) -> None:
    assert items[0]["id"] == str(note.pk)
    assert items[0]["why"]["kind"] == "following"


def test_a_visit_is_served_from_the_stored_ranking(
    alice: Member, as_member: Callable[[Member], ApiClient], library: dict[str, Note]
) -> None:
    engagement.like_note(member=alice, note=library["trail"])
    client = as_member(alice)
    first = explore(client)  # no ranking yet: this visit ranks and stores it
    stored = Ranking.objects.get(member=alice)
    assert [row[0] for row in json.loads(stored.items)][:2] == [int(i) for i in ids(first)[:2]]
    # What the next visit serves is the stored list, whatever ranking would say now.
    lonely = library["lonely"]
    stored.items = json.dumps([[lonely.pk, lonely.author_id, [], "trending", None, "", ""]])
    stored.save()
    ShownDay.objects.all().delete()
    assert ids(explore(client)) == [str(lonely.pk)]
    assert computed_at(alice) == stored.computed_at


def test_engagement_since_the_ranking_makes_the_next_visit_rank_afresh(
    alice: Member, as_member: Callable[[Member], ApiClient], library: dict[str, Note]
) -> None:
    services.refresh_ranking(alice.pk)
    before = computed_at(alice)
    engagement.like_note(member=alice, note=library["noodles"])
    items = explore(as_member(alice), limit=1)
    assert ids(items) == [str(library["dumplings"].pk)]
    assert items[0]["why"]["kind"] == "liked"
    assert computed_at(alice) > before


def test_feedback_applies_to_the_stored_ranking_at_once(
    alice: Member, as_member: Callable[[Member], ApiClient], library: dict[str, Note]
) -> None:
    engagement.like_note(member=alice, note=library["trail"])
    services.refresh_ranking(alice.pk)
    before = computed_at(alice)
    client = as_member(alice)
    client.post("/feeds/feedback", {"kind": "note", "target": str(library["boots"].pk)})
    client.post("/feeds/feedback", {"kind": "topic", "target": "#camping"})
    ShownDay.objects.all().delete()
    shown = ids(explore(client))
    assert str(library["boots"].pk) not in shown
    assert shown.index(str(library["tent"].pk)) > shown.index(str(library["noodles"].pk))
    assert computed_at(alice) == before  # merged, not ranked again


def test_a_followed_creators_new_note_shows_on_the_next_visit(
    alice: Member,
    as_member: Callable[[Member], ApiClient],
    library: dict[str, Note],
    post: Callable[..., Note],
) -> None:
    cook = cook_followed_by(alice)
    fresh = post(cook, "Just out of the steamer", topics=["cooking"])
    items = explore(as_member(alice))
    assert_first_as_followed(items, fresh)
    assert items[0]["reason"] == "From someone you follow"


def test_a_followed_creators_new_note_waits_for_the_process_to_read_new_notes_again(
    alice: Member,
    as_member: Callable[[Member], ApiClient],
    library: dict[str, Note],
    post: Callable[..., Note],
    settings: Any,
) -> None:
    settings.FEED_NEW_NOTES_SECONDS = 60
    cook = cook_followed_by(alice)
    client = as_member(alice)
    explore(client)  # the process reads the notes published lately, and keeps them
    fresh = post(cook, "Just out of the steamer", topics=["cooking"])
    assert str(fresh.pk) not in ids(explore(client))
    settings.FEED_NEW_NOTES_SECONDS = 0  # as when the process's list is a minute old
    items = explore(client)
    assert_first_as_followed(items, fresh)


def test_a_ranking_older_than_the_new_notes_still_gets_followed_creators_notes(
    alice: Member,
    as_member: Callable[[Member], ApiClient],
    library: dict[str, Note],
    post: Callable[..., Note],
) -> None:
    cook = cook_followed_by(alice)
    now = timezone.now()
    ranked_at = now - queries.NEW_NOTES_WINDOW - timedelta(minutes=10)
    Ranking.objects.filter(member=alice).update(computed_at=ranked_at)
    earlier = ranked_at - timedelta(days=1)
    Follow.objects.filter(follower=alice).update(created_at=earlier)
    Note.objects.filter(author=cook).update(published_at=earlier)
    # Published after the ranking, before what the process reads as new notes: the visit
    # finds it in the database.
    fresh = post(cook, "Steamed buns, an hour in", topics=["cooking"])
    Note.objects.filter(pk=fresh.pk).update(published_at=ranked_at + timedelta(minutes=5))
    items = explore(as_member(alice))
    assert_first_as_followed(items, fresh)


def test_each_followed_creator_comes_first_with_their_newest_note_they_share(
    alice: Member,
    as_member: Callable[[Member], ApiClient],
    library: dict[str, Note],
    post: Callable[..., Note],
) -> None:
    cook, hiker = Member.objects.get(username="cook"), library["boots"].author
    for creator in (cook, hiker):
        accounts.follow(member=alice, target=creator)
    services.refresh_ranking(alice.pk)
    shared = post(cook, "Dumplings, folded three ways", topics=["cooking"])
    held = post(cook, "Dumpling dough, the long way", topics=["cooking"])
    Note.objects.filter(pk=held.pk).update(moderation_state="held")
    post(cook, "Dumplings for my eyes only", visibility=Visibility.PRIVATE)
    older = post(hiker, "Boots after a month", topics=["camping"])
    newer = post(hiker, "Boots after a year", topics=["camping"])
    items = explore(as_member(alice))
    # One note per creator, their newest that they share and moderation leaves in Explore.
    assert ids(items)[:2] == [str(newer.pk), str(shared.pk)]
    assert {item["why"]["kind"] for item in items[:2]} == {"following"}
    assert str(older.pk) not in ids(items)[:2]


def test_a_creator_followed_since_the_ranking_shows_on_the_next_visit(
    alice: Member,
    as_member: Callable[[Member], ApiClient],
    library: dict[str, Note],
    post: Callable[..., Note],
) -> None:
    cook = Member.objects.get(username="cook")
    earlier = post(cook, "Steamed buns for the week", topics=["cooking"])
    services.refresh_ranking(alice.pk)  # before Alice follows the cook
    accounts.follow(member=alice, target=cook)
    items = explore(as_member(alice))
    assert_first_as_followed(items, earlier)


def test_a_ranked_note_of_a_creator_followed_since_moves_up_as_followed(
    alice: Member, as_member: Callable[[Member], ApiClient], library: dict[str, Note]
) -> None:
    services.refresh_ranking(alice.pk)
    stored = Ranking.objects.get(member=alice)
    boots = library["boots"]
    stored.items = json.dumps(
        [[n.pk, n.author_id, [], "trending", None, "", ""] for n in library.values()]
    )
    stored.save()
    accounts.follow(member=alice, target=boots.author)
    items = explore(as_member(alice))
    assert_first_as_followed(items, boots)
    assert [item["id"] for item in items].count(str(boots.pk)) == 1


def test_unfollowing_a_creator_ranks_afresh_without_the_follow(
    alice: Member,
    as_member: Callable[[Member], ApiClient],
    library: dict[str, Note],
    django_capture_on_commit_callbacks: Any,
) -> None:
    cook = cook_followed_by(alice)
    client = as_member(alice)
    assert "following" in {item["why"]["kind"] for item in explore(client)}  # the cook's
    with django_capture_on_commit_callbacks(execute=True):
        accounts.unfollow(member=alice, target=cook)
    assert not Ranking.objects.filter(member=alice).exists()
    ShownDay.objects.all().delete()
    items = explore(client)
    assert items and "following" not in {item["why"]["kind"] for item in items}
    assert Ranking.objects.filter(member=alice).exists()


def test_a_reason_does_not_name_a_note_the_member_can_no_longer_see(
    alice: Member,
    as_member: Callable[[Member], ApiClient],
    library: dict[str, Note],
    settings: Any,
) -> None:
    settings.CARD_SECONDS = 0  # titles read anew for each page
    engagement.collect_note(member=alice, note=library["trail"])
    services.refresh_ranking(alice.pk)
    client = as_member(alice)
    why = [item["why"] for item in explore(client) if item["why"]["kind"] == "collected"]
    assert why and why[0]["note_title"] == library["trail"].title
    Note.objects.filter(pk=library["trail"].pk).update(visibility=Visibility.PRIVATE)
    ShownDay.objects.all().delete()
    items = [item for item in explore(client) if item["why"]["kind"] == "collected"]
    assert items and all(item["why"]["note_title"] == "" for item in items)
    assert all(item["why"]["note_id"] is None for item in items)
    assert {item["reason"] for item in items} == {"Because of a note you collected"}
    assert library["trail"].title not in client.get("/feeds/explore").content.decode()


def test_blocks_mutes_visibility_and_moderation_apply_to_the_stored_ranking(
    alice: Member, as_member: Callable[[Member], ApiClient], library: dict[str, Note]
) -> None:
    services.refresh_ranking(alice.pk)
    client = as_member(alice)
    everything = set(ids(explore(client)))
    assert {str(library[name].pk) for name in ("trail", "tent", "noodles")} <= everything
    hiker, camper = Member.objects.get(username="hiker"), Member.objects.get(username="camper")
    accounts.block(member=hiker, target=alice)  # blocked by the author: hidden both ways
    accounts.mute(member=alice, target=camper)
    Note.objects.filter(pk=library["noodles"].pk).update(moderation_state="removed")
    Note.objects.filter(pk=library["dumplings"].pk).update(visibility=Visibility.PRIVATE)
    shown = set(ids(explore(client)))
    gone = {str(library[name].pk) for name in ("trail", "boots", "tent", "noodles", "dumplings")}
    assert shown and not shown & gone


def test_personalization_off_drops_the_ranking_and_serves_the_general_explore(
    alice: Member, as_member: Callable[[Member], ApiClient], library: dict[str, Note]
) -> None:
    services.refresh_ranking(alice.pk)
    client = as_member(alice)
    client.patch("/accounts/me", {"feed_personalized": False})
    assert not Ranking.objects.filter(member=alice).exists()
    kinds = {item["why"]["kind"] for item in explore(client)}
    assert kinds <= {"trending", "new_creator", "language"}
    assert not Ranking.objects.filter(member=alice).exists()
    services.refresh_ranking(alice.pk)
    assert not Ranking.objects.filter(member=alice).exists()


def test_a_stored_ranking_past_its_refresh_is_served_and_recomputed_by_a_task(
    alice: Member, as_member: Callable[[Member], ApiClient], library: dict[str, Note]
) -> None:
    services.refresh_ranking(alice.pk)
    old = Ranking.objects.get(member=alice)
    Ranking.objects.filter(member=alice).update(
        computed_at=old.computed_at.replace(year=old.computed_at.year - 1)
    )
    explore(as_member(alice))  # too old to serve: ranked afresh
    assert computed_at(alice) > old.computed_at
    ranking, _changes = queries.stored_visit(alice)
    assert ranking is not None and not ranking.due()


def shown_on(member: Member, day: date | None = None) -> list[int]:
    """The notes written as shown to ``member`` on ``day`` (today), in order."""
    parts = ShownDay.objects.filter(member=member, day=day or timezone.now().date())
    listed = "".join(parts.order_by("part").values_list("note_ids", flat=True))
    return [int(note_id) for note_id in listed.split(",") if note_id]


def test_impressions_are_buffered_and_still_count_as_seen(
    alice: Member,
    bob: Member,
    as_member: Callable[[Member], ApiClient],
    post: Callable[..., Note],
    settings: Any,
) -> None:
    settings.FEED_IMPRESSION_FLUSH_SECONDS = 3600  # written only when flushed below
    for n in range(8):
        post(bob if n % 2 else Member.objects.create(username=f"maker{n}"), f"Card {n}")
    services.refresh_snapshots()
    client = as_member(alice)
    first = ids(explore(client, limit=3))
    assert ShownDay.objects.count() == 0  # nothing written during the requests
    again = ids(explore(client))
    assert not set(again[:3]) & set(first)  # yet what was shown comes last
    # Recorded once a day each, in the order first shown.
    once = first + [note_id for note_id in again if note_id not in first]
    assert len(once) < len(first) + len(again)  # the second visit showed some again
    assert services.flush_impressions() == len(once)
    assert shown_on(alice) == [int(note_id) for note_id in once]
    assert services.flush_impressions() == 0
    assert ShownDay.objects.count() == 1 and Impression.objects.count() == 0


def test_a_note_is_recorded_as_shown_once_a_day(
    alice: Member,
    as_member: Callable[[Member], ApiClient],
    post: Callable[..., Note],
    settings: Any,
) -> None:
    settings.FEED_IMPRESSION_FLUSH_SECONDS = 3600
    notes = [post(Member.objects.create(username=f"maker{n}"), f"Card {n}") for n in range(4)]
    services.refresh_snapshots()
    yesterday = timezone.now().date() - timedelta(days=1)
    ShownDay.objects.create(member=alice, day=yesterday, note_ids=f"{notes[0].pk},")
    client = as_member(alice)
    first = ids(explore(client))
    assert first[-1] == str(notes[0].pk)  # seen yesterday: last
    assert services.flush_impressions() == 4  # today's record has it too: seen a week from now
    again = ids(explore(client))  # today's list, as written, is read back
    assert sorted(again) == sorted(first)  # every note seen: shown again, seen first last
    assert services.flush_impressions() == 0  # and not recorded again
    assert shown_on(alice) == [int(note_id) for note_id in first]
    assert shown_on(alice, yesterday) == [notes[0].pk]


def test_buffered_impressions_of_a_member_who_stopped_the_record_are_not_written(
    alice: Member, bob: Member, post: Callable[..., Note], settings: Any
) -> None:
    settings.FEED_IMPRESSION_FLUSH_SECONDS = 3600
    note = post(bob, "Seen once")
    services.record_shown(member=alice, note_ids=[note.pk])
    services.set_records_reading(member=alice, records=False)
    services.record_shown(member=bob, note_ids=[note.pk])  # bob does not record: nothing
    services.flush_impressions()
    assert ShownDay.objects.count() == 0
    accounts.update_profile(member=alice, records_reading=True)
    services.record_shown(member=alice, note_ids=[note.pk])
    Member.objects.filter(pk=alice.pk).update(records_reading=False)  # turned off elsewhere
    services.flush_impressions()
    assert ShownDay.objects.count() == 0


def test_cards_kept_in_memory_still_vanish_at_once_when_hidden(
    alice: Member,
    bob: Member,
    as_member: Callable[[Member], ApiClient],
    post: Callable[..., Note],
    settings: Any,
) -> None:
    settings.CARD_SECONDS = 60
    note = post(bob, "Soon removed")
    services.refresh_snapshots()
    client = as_member(alice)
    assert str(note.pk) in ids(explore(client))
    Note.objects.filter(pk=note.pk).update(moderation_state="removed")
    assert str(note.pk) not in ids(explore(client))


def test_flushes_add_to_the_days_list_up_to_its_bound(
    alice: Member,
    bob: Member,
    post: Callable[..., Note],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.FEED_IMPRESSION_FLUSH_SECONDS = 3600
    first, second = post(bob, "First"), post(bob, "Second")
    services.record_shown(member=alice, note_ids=[first.pk, second.pk])
    services.flush_impressions()
    services.record_shown(member=alice, note_ids=[second.pk])
    services.flush_impressions()
    assert shown_on(alice) == [first.pk, second.pk, second.pk]
    assert ShownDay.objects.count() == 1  # appended to the day's part
    monkeypatch.setattr(services, "MAX_SHOWN_PARTS", 1)  # full: no longer grows
    monkeypatch.setattr(services, "SHOWN_PART_CHARS", 1)
    services.record_shown(member=alice, note_ids=[first.pk])
    assert services.flush_impressions() == 1
    assert shown_on(alice) == [first.pk, second.pk, second.pk]


def test_a_long_days_list_goes_on_in_parts_that_all_count_as_seen(
    alice: Member,
    bob: Member,
    post: Callable[..., Note],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.FEED_IMPRESSION_FLUSH_SECONDS = 3600
    notes = [post(bob, f"Shown {n}").pk for n in range(6)]
    # A part takes the flushes that find it shorter than this: two notes' ids, about.
    monkeypatch.setattr(services, "SHOWN_PART_CHARS", len(f"{notes[0]},{notes[1]},"))
    for note_id in notes:
        services.record_shown(member=alice, note_ids=[note_id])
        services.flush_impressions()
    assert shown_on(alice) == notes  # in the order shown, across the parts
    parts = list(ShownDay.objects.order_by("part").values_list("part", "note_ids"))
    assert [part for part, _ids in parts] == [0, 1, 2]
    assert all(len(ids) <= services.SHOWN_PART_CHARS for _part, ids in parts)
    assert queries.seen_notes(alice.pk) == set(notes)
    assert queries.filters_now(alice).seen == set(notes)
    monkeypatch.setattr(services, "MAX_SHOWN_PARTS", 3)  # the day is full: no fourth part
    late = post(bob, "Shown late").pk
    services.record_shown(member=alice, note_ids=[late])
    services.flush_impressions()
    assert shown_on(alice) == notes


def test_reading_time_of_deleted_notes_and_members_goes_with_the_sweep(
    alice: Member,
    bob: Member,
    post: Callable[..., Note],
    make_member: Callable[..., Member],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(services, "ORPHAN_BATCH", 1)  # the sweep reads a range at a time
    kept, deleted = post(bob, "Stays"), post(bob, "Goes")
    carol = accounts.update_profile(member=make_member("carol"), records_reading=True)
    for member in (alice, carol):
        services.record_shown(member=member, note_ids=[kept.pk])
        for note in (kept, deleted):
            services.record_dwell(member=member, note_id=note.pk, dwell_ms=9_000)
    services.flush_impressions()
    carol.delete()  # the model's cascade
    assert set(ShownDay.objects.values_list("member_id", flat=True)) == {alice.pk}
    assert set(Impression.objects.values_list("member_id", flat=True)) == {alice.pk}
    deleted.delete()
    # Rows written for a member as they were deleted (no database constraint stops them).
    today = timezone.now().date()
    Impression.objects.create(member_id=10**9, note=kept, day=today, dwell_ms=1)
    ShownDay.objects.create(member_id=10**9, day=today, note_ids=f"{kept.pk},")
    assert services.forget_orphan_impressions() == 3
    assert list(Impression.objects.values_list("member_id", "note_id")) == [(alice.pk, kept.pk)]
    assert list(ShownDay.objects.values_list("member_id", flat=True)) == [alice.pk]


def test_a_busy_seconds_impressions_are_written_in_one_flush(
    alice: Member, bob: Member, post: Callable[..., Note], settings: Any
) -> None:
    settings.FEED_IMPRESSION_FLUSH_SECONDS = 3600
    notes = [post(bob, f"Shown {n}").pk for n in range(6)]
    members = [Member(username=f"reader{n}", records_reading=True) for n in range(1000)]
    members = Member.objects.bulk_create(members)
    for member in members:
        services.record_shown(member=member, note_ids=notes)
    with CaptureQueriesContext(connection) as queries_run:
        assert services.flush_impressions() == 6000
    assert len([q for q in queries_run if "INSERT" in q["sql"]]) == 1
    assert ShownDay.objects.count() == 1000
    assert {tuple(shown_on(member)) for member in members} == {tuple(notes)}


def test_seen_notes_are_those_of_the_last_week_written_or_pending(
    alice: Member, bob: Member, post: Callable[..., Note], settings: Any
) -> None:
    settings.FEED_IMPRESSION_FLUSH_SECONDS = 3600
    old, recent, elsewhere, pending = (post(bob, title) for title in ("Old", "New", "Far", "Now"))
    today = timezone.now().date()
    week_ago = today - timedelta(days=queries.SEEN_DAYS + 1)
    ShownDay.objects.create(member=alice, day=week_ago, note_ids=f"{old.pk},")
    ShownDay.objects.create(member=alice, day=today, note_ids=f"{recent.pk},{elsewhere.pk},")
    ShownDay.objects.create(member=bob, day=today - timedelta(days=1), note_ids="")
    services.record_shown(member=alice, note_ids=[pending.pk])  # buffered, not written yet
    assert queries.seen_notes(alice.pk) == {recent.pk, elsewhere.pk, pending.pk}
    assert queries.seen_notes(bob.pk) == set()
    # A visit reads them with its changes, in the same statement.
    assert queries.filters_now(alice).seen == {recent.pk, elsewhere.pk, pending.pk}
    assert queries.filters_now(bob).seen == set()
    services.flush_impressions()  # nothing left buffered after the test's database is gone


def test_impressions_a_flush_could_not_write_are_kept_for_the_next(
    alice: Member, bob: Member, post: Callable[..., Note], settings: Any
) -> None:
    settings.FEED_IMPRESSION_FLUSH_SECONDS = 3600
    note, later = post(bob, "Shown while the database refused"), post(bob, "Shown after")
    services.record_shown(member=alice, note_ids=[note.pk])
    table = ShownDay._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO moved_away")
    with pytest.raises(DatabaseError):
        services.flush_impressions()
    assert shown.pending_for(alice.pk) == {note.pk}
    services.record_shown(member=alice, note_ids=[later.pk])
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE moved_away RENAME TO {table}")
    assert services.flush_impressions() == 2
    assert shown_on(alice) == [note.pk, later.pk]  # in the order shown


def test_a_process_flushes_on_one_thread_of_its_own_within_the_delay() -> None:
    """The flushing thread runs what it is given (the database's side is tested above), on
    one thread for the process, within the delay, and again after a flush that failed."""
    ran: list[tuple[str, float]] = []
    flushed = threading.Event()

    def flush() -> None:
        ran.append((threading.current_thread().name, time.monotonic()))
        if len(ran) == 1:
            raise DatabaseError("the database refused")  # logged, and tried again
        flushed.set()

    shown.flush_later(0.05, flush)
    assert flushed.wait(10)
    assert [name for name, _at in ran] == ["shown-flush", "shown-flush"]
    flushed.clear()
    asked = time.monotonic()
    shown.flush_later(0.05, flush)
    assert flushed.wait(10)
    assert len(ran) == 3 and ran[2][0] == "shown-flush"
    assert ran[2][1] - asked >= 0.05  # a delay's pages together, not a flush per page


def _spaced_one_by_one(items: list[queries.Item], window: int) -> list[queries.Item]:
    """What ``spaced`` promises, done the plain way: each next card is the first held back
    whose author is not among the last ``window - 1`` cards' authors."""
    out: list[queries.Item] = []
    waiting: list[queries.Item] = []
    for item in items:
        waiting.append(item)
        while True:
            recent = {card.author_id for card in out[-(window - 1) :]}
            fits = next((card for card in waiting if card.author_id not in recent), None)
            if fits is None:
                break
            waiting.remove(fits)
            out.append(fits)
    return out + waiting


@pytest.mark.django_db(databases=[])
def test_spacing_keeps_authors_apart_moving_cards_down_only_as_far_as_they_must() -> None:
    rng = random.Random(7)
    for _ in range(300):
        authors = rng.randint(1, 8)
        items = [
            queries.Item(n, rng.choice(range(authors)) if rng.random() < 0.7 else 0, [], "trending")
            for n in range(rng.randint(0, 80))
        ]
        whole = _spaced_one_by_one(items, queries.AUTHOR_WINDOW)
        assert queries.spaced(items) == whole
        first = rng.randint(1, 100)  # a page needs only the cards up to its own
        assert queries.spaced(iter(items), first=first) == whole[:first]
    # A prolific author's notes gathered at the end are spread out, the rest kept in order.
    items = [queries.Item(n, 1 if n >= 10 else n + 2, [], "trending") for n in range(30)]
    authors = [item.author_id for item in queries.spaced(items)]
    assert authors[:10] == list(range(2, 12)) and authors[10:] == [1] * 20


@pytest.mark.django_db(databases=[])
def test_merging_puts_followed_notes_first_drops_hidden_and_moves_fewer_and_seen_down() -> None:
    rng = random.Random(11)
    for _ in range(300):
        items = [
            queries.Item(n, rng.randint(1, 9), rng.sample(range(5), rng.randint(0, 2)), "topic")
            for n in range(rng.randint(0, 60))
        ]
        followed = [queries.Item(n, rng.randint(1, 9), [], "following") for n in (3, 70)]
        changes = queries.Changes(
            hidden_authors={1},
            not_interested=set(rng.sample(range(60), 5)),
            fewer_topics={rng.randrange(5)} if rng.random() < 0.5 else set(),
            fewer_authors={rng.randint(1, 9)} if rng.random() < 0.5 else set(),
            seen=set(rng.sample(range(80), rng.randint(0, 60))),
            followed=followed[: rng.randint(0, 2)],
        )
        for personal in (True, False):
            # The plain way: the followed notes, then the rest, each put in its group in turn.
            groups: list[list[queries.Item]] = [[], [], [], []]
            firsts = {item.note_id for item in changes.followed}
            for item in [*changes.followed, *(i for i in items if i.note_id not in firsts)]:
                if item.note_id in changes.not_interested or item.author_id == 1:
                    continue
                fewer = personal and (
                    item.author_id in changes.fewer_authors
                    or bool(changes.fewer_topics.intersection(item.topics))
                )
                groups[2 * (item.note_id in changes.seen) + fewer].append(item)
            expected = [item for group in groups for item in group]
            assert queries.merged(items, changes, personal=personal) == expected


def test_a_member_going_private_leaves_the_explore_of_non_followers_at_once(
    alice: Member, as_member: Callable[[Member], ApiClient], library: dict[str, Note]
) -> None:
    services.refresh_ranking(alice.pk)
    client = as_member(alice)
    hikes = {str(library["trail"].pk), str(library["boots"].pk)}
    assert hikes <= set(ids(explore(client)))  # and now held as seen by everyone
    Member.objects.filter(username="hiker").update(is_private=True)  # by any process
    assert not hikes & set(ids(explore(client)))


@pytest.mark.django_db(transaction=True)
def test_two_processes_flushing_the_same_members_do_not_deadlock(
    make_member: Callable[..., Member],
) -> None:
    """Each process writes its buffer in one statement; a member's pages go to any process,
    so two flushes often share members, and must lock their rows in one order."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's writers take turns")
    first, second = make_member("first"), make_member("second")
    Member.objects.filter(pk__in=[first.pk, second.pk]).update(records_reading=True)
    day, errors = timezone.now().date(), []
    holding, release = threading.Event(), threading.Event()

    def in_thread(work: Callable[[], object]) -> threading.Thread:
        def run() -> None:
            try:
                work()
            except Exception as error:
                errors.append(error)
            finally:
                connections.close_all()

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    def other_process() -> None:  # holds the first member's row, then writes the second's
        with transaction.atomic():
            services._write_shown({first.pk: {day: [1]}})
            holding.set()
            release.wait(10)
            services._write_shown({second.pk: {day: [2]}})

    other = in_thread(other_process)
    assert holding.wait(10)
    # This process's buffer holds the second member first: it must not lock that row first.
    this = in_thread(lambda: services._write_shown({second.pk: {day: [3]}, first.pk: {day: [4]}}))
    deadline = time.monotonic() + 10
    while not _waiting_for_a_lock() and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    other.join(20)
    this.join(20)
    assert errors == []
    written = dict(ShownDay.objects.values_list("member_id", "note_ids"))
    assert written == {first.pk: "1,4,", second.pk: "2,3,"}


def _waiting_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
        return bool(cursor.fetchone()[0])


def test_refresh_explore_recomputes_its_lists_now(alice: Member, post: Callable[..., Note]) -> None:
    note = post(alice, "Fresh off the press")
    output = io.StringIO()
    call_command("refresh_explore", stdout=output)
    assert "Explore refreshed: snapshots" in output.getvalue()
    assert note.pk in [row["id"] for row in queries.snapshot(queries.FRESH)["notes"]]
    assert note.pk in [row["id"] for row in queries.snapshot(queries.TRENDING)["notes"]]
