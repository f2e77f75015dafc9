"""The profile job, run by the real worker (so the database must be committed)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from papercrane.accounts.models import Member
from papercrane.cli import worker
from papercrane.engagement import services as engagement
from papercrane.feed import queries, services
from papercrane.feed.models import Profile, Ranking
from papercrane.notes.models import Note
from tests.helpers import ApiClient

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_visit_has_the_worker_precompute_the_members_profile(
    alice: Member, as_member: Callable[[Member], ApiClient], library: dict[str, Note]
) -> None:
    engagement.like_note(member=alice, note=library["trail"])
    as_member(alice).get("/feeds/explore")
    worker(["--batch"])
    profile = Profile.objects.get(member=alice)
    assert profile.engaged == {str(library["trail"].pk): "liked"}
    top_two = {row[0] for row in profile.candidates[:2]}  # best first
    assert top_two == {library["boots"].pk, library["tent"].pk}
    assert Ranking.objects.filter(member=alice).exists()  # the visit's, then the worker's


def test_a_ranking_due_for_refresh_is_served_and_the_worker_ranks_again(
    alice: Member, as_member: Callable[[Member], ApiClient], library: dict[str, Note]
) -> None:
    engagement.like_note(member=alice, note=library["trail"])
    services.refresh_ranking(alice.pk)
    due = timezone.now() - timedelta(seconds=queries.RANKING_REFRESH_SECONDS + 60)
    Ranking.objects.filter(member=alice).update(computed_at=due)
    items = as_member(alice).get("/feeds/explore").json()["items"]
    assert items and Ranking.objects.get(member=alice).computed_at == due  # served as stored
    worker(["--batch"])
    assert Ranking.objects.get(member=alice).computed_at > due
