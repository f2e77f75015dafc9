"""Muting: the muted member disappears from the muter's notifications, and is never told."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from papercrane.accounts import queries
from papercrane.accounts.models import Member, Mute
from papercrane.notifications.services import notify
from tests.helpers import ApiClient, problem

pytestmark = pytest.mark.django_db


def test_mute_is_idempotent_and_shown_only_to_the_muter(
    alice: Member, bob: Member, as_member: Callable[[Member], ApiClient]
) -> None:
    alices = as_member(alice)
    for _ in range(2):
        body = alices.post("/accounts/bob/mute").json()
        assert (body["muting"], body["following"], body["blocking"]) == (True, False, False)
    assert list(queries.muted_ids(alice)) == [bob.pk]
    assert as_member(bob).get("/accounts/alice").json()["relationship"]["muting"] is False
    for _ in range(2):
        assert alices.delete("/accounts/bob/mute").json()["muting"] is False
    assert not Mute.objects.exists()


def test_muting_needs_a_token_a_real_member_and_someone_else(
    alice: Member, as_member: Callable[[Member], ApiClient], api: ApiClient
) -> None:
    problem(api.post("/accounts/alice/mute"), 401)
    alices = as_member(alice)
    body = problem(alices.post("/accounts/alice/mute"), 422)
    assert body["errors"][0] == {
        "field": "username",
        "message": "You cannot mute yourself.",
        "code": "self",
    }
    for name in ["nobody_here", "%E2%98%83", "a%00b", "x" * 300]:
        problem(alices.post(f"/accounts/{name}/mute"), 404)
    assert not Mute.objects.exists()


def test_muted_members_are_hidden_from_notifications(
    alice: Member, bob: Member, as_member: Callable[[Member], ApiClient]
) -> None:
    alices = as_member(alice)
    notify(recipient_id=alice.pk, actor_id=bob.pk, verb="follow")
    assert alices.get("/notifications/unread-count").json() == {"unread": 1}
    alices.post("/accounts/bob/mute")
    assert alices.get("/notifications").json()["items"] == []
    assert alices.get("/notifications/unread-count").json() == {"unread": 0}
    notify(recipient_id=alice.pk, actor_id=bob.pk, verb="mention", note_id=None, comment_id=7)
    alices.delete("/accounts/bob/mute")
    verbs = [item["verb"] for item in alices.get("/notifications").json()["items"]]
    assert verbs == ["follow"]  # what came while muted was never stored
