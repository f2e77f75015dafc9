"""The retention sweep deletes what outlived its declared retention, and schedules itself."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from papercrane.accounts import services as account_services
from papercrane.accounts.models import ApiToken, Member
from papercrane.feed.models import Impression, ShownDay
from papercrane.notes import services as note_services
from papercrane.notes.models import Note
from papercrane.privacy import services, tasks
from papercrane.privacy.models import SignIn


@pytest.fixture
def post() -> Callable[..., Note]:
    def make(author: Member, title: str = "周末去爬山 Weekend hike", **fields: Any) -> Note:
        return note_services.create_note(
            author=author, fields=note_services.NoteFields(title=title, **fields)
        )

    return make


def sign_in(member: Member, days_ago: int, **fields: Any) -> SignIn:
    when = timezone.now() - timedelta(days=days_ago)
    return SignIn.objects.create(
        member=member,
        session_key=f"s{days_ago}",
        ip_address="203.0.113.9",
        user_agent="Firefox",
        created_at=when,
        last_seen_at=when,
        **fields,
    )


def test_addresses_are_cleared_after_30_days_and_sign_ins_deleted_after_90(alice: Member) -> None:
    fresh, month, old = sign_in(alice, 2), sign_in(alice, 31), sign_in(alice, 91)
    counts = services.purge_expired(timezone.now())
    fresh.refresh_from_db()
    month.refresh_from_db()
    assert (fresh.ip_address, fresh.user_agent) == ("203.0.113.9", "Firefox")
    assert (month.ip_address, month.user_agent) == (None, "")
    assert not SignIn.objects.filter(pk=old.pk).exists()
    assert counts["sign_in_addresses"] == 1 and counts["sign_ins"] == 1
    again = services.purge_expired(timezone.now())
    assert again["sign_in_addresses"] == 0 and again["sign_ins"] == 0


def test_sessions_unused_beyond_their_lifetime_end(alice: Member) -> None:
    stale = sign_in(alice, 45)
    services.purge_expired(timezone.now())
    stale.refresh_from_db()
    assert stale.ended_at is not None


def test_old_impressions_and_long_revoked_tokens_go(
    alice: Member, post: Callable[..., Note]
) -> None:
    note = post(alice)
    today = timezone.now().date()
    for days_ago in (91, 3):
        day = today - timedelta(days=days_ago)
        Impression.objects.create(member=alice, note=note, day=day, dwell_ms=9_000)
        ShownDay.objects.create(member=alice, day=day, note_ids=f"{note.pk},")
    live = account_services.issue_token(member=alice, name="live").token
    recent = account_services.issue_token(member=alice, name="recent").token
    old = account_services.issue_token(member=alice, name="old").token
    ApiToken.objects.filter(pk=recent.pk).update(revoked_at=timezone.now() - timedelta(days=5))
    ApiToken.objects.filter(pk=old.pk).update(revoked_at=timezone.now() - timedelta(days=31))
    counts = services.purge_expired(timezone.now())
    assert counts["impressions"] == 2
    assert Impression.objects.count() == 1 and ShownDay.objects.count() == 1
    assert counts["api_tokens"] == 1
    assert set(ApiToken.objects.values_list("pk", flat=True)) == {live.pk, recent.pk}


def test_the_sweep_runs_as_of_the_time_it_is_given(alice: Member) -> None:
    week_old = sign_in(alice, 7)
    services.purge_expired(timezone.now() + timedelta(days=30))
    week_old.refresh_from_db()
    assert week_old.ip_address is None


def test_the_command_runs_the_sweep_now_and_prints_its_counts(alice: Member) -> None:
    sign_in(alice, 95)
    out = StringIO()
    call_command("privacy_sweep", stdout=out)
    counts = json.loads(out.getvalue())
    assert counts["sign_ins"] == 1
    assert {"sign_in_addresses", "impressions", "api_tokens", "exports", "erased_members"} <= set(
        counts
    )


def test_the_sweep_is_enqueued_once_per_period(
    alice: Member, django_capture_on_commit_callbacks: Any
) -> None:
    # Counted where it is enqueued (on commit), so the same on the database queue and RQ.
    with django_capture_on_commit_callbacks() as enqueued:
        services.sweep_if_due()
        services.sweep_if_due()
    assert len(enqueued) == 1
    assert enqueued[0] == tasks.sweep.enqueue
