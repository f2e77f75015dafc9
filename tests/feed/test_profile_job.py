"""The profile job, run by the real worker (so the database must be committed)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from papercrane.accounts.models import Member
from papercrane.cli import worker
from papercrane.engagement import services as engagement
from papercrane.feed.models import Profile
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
