"""Who may see a note: the database logs every change to it, however it was made, and the
notes everyone may see are kept in each process only until such a change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from papercrane.accounts import services as accounts
from papercrane.accounts.models import ApiToken, Member
from papercrane.api.auth import held_token
from papercrane.feed import queries as feed_queries
from papercrane.notes import discoverability
from papercrane.notes import services as notes
from papercrane.notes.models import Note, Visibility, VisibilityChange

pytestmark = pytest.mark.django_db


def read_log(member: Member) -> None:
    """Read the log of changes as a visit of ``member`` does, in its statement."""
    feed_queries.filters_now(member)


def logged() -> set[tuple[str, int]]:
    rows = VisibilityChange.objects.values_list("note_id", "member_id")
    return {("note", note) if note else ("member", member) for note, member in rows}


def publish(author: Member, title: str) -> Note:
    return notes.create_note(author=author, fields=notes.NoteFields(title=title))


def test_every_change_to_who_may_see_a_note_is_logged_and_nothing_else(
    alice: Member, bob: Member
) -> None:
    kept, hidden, private, taken, gone = (publish(alice, f"Note {n}") for n in range(5))
    VisibilityChange.objects.all().delete()
    Note.objects.filter(pk=kept.pk).update(title="A new title", like_count=3)
    Member.objects.filter(pk=bob.pk).update(display_name="Bob", last_login=timezone.now())
    assert logged() == set()
    Note.objects.filter(pk=hidden.pk).update(moderation_state="held")  # as a bulk update
    private.visibility = Visibility.PRIVATE
    private.save()  # and as a save of every column
    Note.objects.filter(pk=taken.pk).update(status=Note.Status.DRAFT)
    gone_id = gone.pk
    gone.delete()
    Member.objects.filter(pk=alice.pk).update(is_private=True)
    Member.objects.filter(pk=bob.pk).update(suspended_until=timezone.now() + timedelta(days=1))
    assert logged() == {
        *(("note", note.pk) for note in (hidden, private, taken)),
        ("note", gone_id),
        ("member", alice.pk),
        ("member", bob.pk),
    }
    stamps = VisibilityChange.objects.values_list("at_ms", flat=True)
    now_ms = timezone.now().timestamp() * 1000
    assert all(abs(stamp - now_ms) < 60_000 for stamp in stamps)  # the database's clock, in ms


def test_what_everyone_may_see_is_kept_until_the_log_says_it_changed(
    alice: Member, bob: Member, make_member: Callable[..., Member]
) -> None:
    carol = make_member("carol")
    accounts.follow(member=carol, target=bob)
    first, second = publish(bob, "First"), publish(bob, "Second")
    read_log(alice)
    assert discoverability.among(alice, [first.pk, second.pk], set()) == {first.pk, second.pk}
    Member.objects.filter(pk=bob.pk).update(is_private=True)
    # Not read yet: what the process holds still stands...
    assert discoverability.among(alice, [first.pk], set()) == {first.pk}
    # ...and a block read with the visit hides it all the same.
    assert discoverability.among(alice, [first.pk], {bob.pk}) == set()
    read_log(alice)
    assert discoverability.among(alice, [first.pk, second.pk], set()) == set()
    # A private account's notes are for its followers: asked of the database each time.
    assert discoverability.among(carol, [first.pk, second.pk], set()) == {first.pk, second.pk}


def test_a_full_read_of_the_log_forgets_everything(alice: Member, bob: Member) -> None:
    note = publish(bob, "Held")
    read_log(alice)
    assert discoverability.among(alice, [note.pk], set()) == {note.pk}
    Note.objects.filter(pk=note.pk).update(moderation_state="removed")
    position = discoverability.log_position()
    discoverability.forget([], [], read_from=position, next_from=position, full=True)
    assert discoverability.among(alice, [note.pk], set()) == set()


def test_notes_read_ahead_are_held_for_the_next_pages(
    alice: Member, bob: Member, django_assert_num_queries: Any
) -> None:
    page, upcoming = publish(bob, "Now"), [publish(bob, f"Later {n}").pk for n in range(3)]
    read_log(alice)
    with django_assert_num_queries(1):
        discoverability.among(alice, [page.pk], set(), upcoming=upcoming, read_ahead=3)
    with django_assert_num_queries(0):
        assert discoverability.among(alice, upcoming, set()) == set(upcoming)


def test_the_log_is_kept_an_hour(alice: Member) -> None:
    note = publish(alice, "Soon private")
    Note.objects.filter(pk=note.pk).update(visibility=Visibility.FOLLOWERS)
    hour_ago_ms = (timezone.now().timestamp() - 3601) * 1000
    VisibilityChange.objects.create(note_id=note.pk, seq=0, at_ms=hour_ago_ms)
    assert notes.forget_old_visibility_changes() == 1
    assert logged() == {("note", note.pk)}


def test_the_first_read_of_the_log_forgets_what_was_read_before_it(
    alice: Member, bob: Member
) -> None:
    note = publish(bob, "Read early")
    read_log(alice)
    assert discoverability.among(alice, [note.pk], set()) == {note.pk}
    Note.objects.filter(pk=note.pk).update(moderation_state="held")
    # A read that began before any other (as one on another thread may): where the log
    # stood when the note was read is unknown, so nothing held is trusted.
    discoverability.forget([], [], read_from=discoverability.NOT_YET, next_from=0, full=False)
    assert discoverability.among(alice, [note.pk], set()) == set()


def test_each_read_of_the_log_goes_on_where_the_last_stopped(alice: Member, bob: Member) -> None:
    first, second = publish(bob, "First"), publish(bob, "Second")
    read_log(alice)
    discoverability.among(alice, [first.pk, second.pk], set())
    Note.objects.filter(pk=first.pk).update(visibility=Visibility.FOLLOWERS)
    read_log(alice)
    assert discoverability.among(alice, [first.pk, second.pk], set()) == {second.pk}
    Note.objects.filter(pk=first.pk).update(visibility=Visibility.PUBLIC)
    read_log(alice)
    Note.objects.filter(pk=second.pk).update(status=Note.Status.DRAFT)
    read_log(alice)  # the first change is behind it; the second is not
    assert discoverability.among(alice, [first.pk, second.pk], set()) == {first.pk}


def test_emptying_a_table_forgets_everything(alice: Member, bob: Member) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite deletes row by row, as the other tests show")
    note = publish(bob, "Emptied")
    read_log(alice)
    assert discoverability.among(alice, [note.pk], set()) == {note.pk}
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's own pending checks
        cursor.execute("TRUNCATE notes_note CASCADE")
    read_log(alice)
    assert discoverability.among(alice, [note.pk], set()) == set()


def test_a_held_token_costs_no_query_until_the_log_names_its_member(
    alice: Member, bob: Member, django_assert_num_queries: Any
) -> None:
    secret = accounts.issue_token(member=alice, name="held").secret
    read_log(bob)
    first = held_token(secret)
    assert first is not None and first.token.member == alice
    with django_assert_num_queries(0):
        assert held_token(secret) is first and first.still_valid()
    Member.objects.filter(pk=alice.pk).update(time_zone="Asia/Shanghai")
    assert first.still_valid()  # the log is not read yet: the page's own query reads it
    read_log(bob)
    assert not first.still_valid()
    again = held_token(secret)
    assert again is not None and again.token.member.time_zone == "Asia/Shanghai"
    assert held_token("not a token") is None


def test_tokens_and_explore_settings_name_their_member_in_the_log(
    alice: Member, bob: Member, make_member: Callable[..., Member]
) -> None:
    carol = make_member("carol")
    revoked = accounts.issue_token(member=alice, name="revoked")
    deleted = accounts.issue_token(member=bob, name="deleted")
    VisibilityChange.objects.all().delete()
    ApiToken.objects.filter(pk=revoked.token.pk).update(last_used_at=timezone.now())
    assert logged() == set()  # using a token changes nothing
    accounts.revoke_token(member=alice, token_id=revoked.token.pk)
    ApiToken.objects.filter(pk=deleted.token.pk).delete()
    Member.objects.filter(pk=carol.pk).update(feed_personalized=False)
    assert logged() == {("member", alice.pk), ("member", bob.pk), ("member", carol.pk)}
