"""Notifications: who hears about what, grouping of likes, unread counts and marking read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from papercrane.accounts import services as account_services
from papercrane.accounts.models import Member
from papercrane.notes import services as note_services
from papercrane.notes.models import Note
from papercrane.notifications.models import Notification
from papercrane.notifications.services import notify
from tests.helpers import ApiClient, error_fields, problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def note(alice: Member) -> Note:
    return note_services.create_note(
        author=alice, fields=note_services.NoteFields(title="成都三日", body="火锅 hotpot")
    )


@pytest.fixture
def fans(make_member: Callable[..., Member]) -> list[Member]:
    return [make_member(f"fan_{n}", display_name=f"Fan {n}") for n in range(4)]


def _items(client: ApiClient, query: str = "") -> list[dict[str, Any]]:
    response = client.get(f"/notifications{query}")
    assert response.status_code == 200, response.content
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_nobody_is_notified_of_their_own_doing(alice: Member, note: Note) -> None:
    notify(recipient_id=alice.pk, actor_id=alice.pk, verb="like_note", note_id=note.pk)
    assert not Notification.objects.exists()


def test_a_block_either_way_silences(alice: Member, bob: Member, note: Note) -> None:
    account_services.block(member=bob, target=alice)
    notify(recipient_id=alice.pk, actor_id=bob.pk, verb="like_note", note_id=note.pk)
    account_services.unblock(member=bob, target=alice)
    account_services.block(member=alice, target=bob)
    notify(recipient_id=alice.pk, actor_id=bob.pk, verb="comment", note_id=note.pk, comment_id=1)
    assert not Notification.objects.exists()


def test_a_muted_actor_is_not_heard(alice: Member, bob: Member, note: Note) -> None:
    account_services.mute(member=alice, target=bob)
    notify(recipient_id=alice.pk, actor_id=bob.pk, verb="collect", note_id=note.pk)
    assert not Notification.objects.exists()
    notify(recipient_id=bob.pk, actor_id=alice.pk, verb="follow")  # muting is one-way
    assert Notification.objects.filter(recipient=bob).count() == 1


def test_like_unlike_like_notifies_once(alice: Member, bob: Member, note: Note) -> None:
    for _ in range(3):
        notify(recipient_id=alice.pk, actor_id=bob.pk, verb="like_note", note_id=note.pk)
    assert Notification.objects.count() == 1
    notify(recipient_id=alice.pk, actor_id=bob.pk, verb="collect", note_id=note.pk)
    assert Notification.objects.count() == 2


def test_unknown_verbs_are_a_programming_error(alice: Member, bob: Member) -> None:
    with pytest.raises(ValueError, match="verb"):
        notify(recipient_id=alice.pk, actor_id=bob.pk, verb="poke")


def test_likes_of_one_note_are_one_item(
    alice: Member, note: Note, fans: list[Member], as_member: Callable[[Member], ApiClient]
) -> None:
    for fan in fans[:3]:
        notify(recipient_id=alice.pk, actor_id=fan.pk, verb="like_note", note_id=note.pk)
    notify(recipient_id=alice.pk, actor_id=fans[3].pk, verb="follow")
    items = _items(as_member(alice))
    assert [(item["verb"], item["actor_count"]) for item in items] == [
        ("follow", 1),
        ("like_note", 3),
    ]
    likes = items[1]
    assert [actor["username"] for actor in likes["actors"]] == ["fan_2", "fan_1", "fan_0"]
    assert likes["note"]["id"] == str(note.pk)
    assert likes["note"]["title"] == "成都三日"
    assert likes["note"]["cover"]["url"]
    assert likes["comment"] is None and likes["read"] is False
    assert set(likes) == {
        "id",
        "verb",
        "actors",
        "actor_count",
        "note",
        "comment",
        "created_at",
        "read",
        "decision_id",
        "room",
    }
    assert likes["decision_id"] is None
    assert as_member(alice).get("/notifications/unread-count").json() == {"unread": 2}


def test_a_new_like_brings_its_group_back_to_the_top(
    alice: Member, note: Note, fans: list[Member], as_member: Callable[[Member], ApiClient]
) -> None:
    notify(recipient_id=alice.pk, actor_id=fans[0].pk, verb="like_note", note_id=note.pk)
    notify(recipient_id=alice.pk, actor_id=fans[1].pk, verb="follow")
    notify(recipient_id=alice.pk, actor_id=fans[2].pk, verb="like_note", note_id=note.pk)
    items = _items(as_member(alice))
    assert [(item["verb"], item["actor_count"]) for item in items] == [
        ("like_note", 2),
        ("follow", 1),
    ]
    assert items[0]["actors"][0]["username"] == "fan_2"


def test_comments_are_individual_items(
    alice: Member, bob: Member, note: Note, as_member: Callable[[Member], ApiClient]
) -> None:
    for comment_id in [11, 12]:
        notify(
            recipient_id=alice.pk,
            actor_id=bob.pk,
            verb="comment",
            note_id=note.pk,
            comment_id=comment_id,
        )
    items = _items(as_member(alice))
    assert [item["actor_count"] for item in items] == [1, 1]


def test_pages_of_groups(
    alice: Member, note: Note, fans: list[Member], as_member: Callable[[Member], ApiClient]
) -> None:
    for fan in fans:
        notify(recipient_id=alice.pk, actor_id=fan.pk, verb="follow")
        notify(recipient_id=alice.pk, actor_id=fan.pk, verb="like_note", note_id=note.pk)
    client = as_member(alice)
    first = client.get("/notifications?limit=2").json()
    rest = client.get(f"/notifications?limit=10&cursor={first['next_cursor']}").json()
    assert rest["next_cursor"] is None
    verbs = [item["verb"] for item in first["items"] + rest["items"]]
    assert verbs == ["like_note", "follow", "follow", "follow", "follow"]
    problem(client.get("/notifications?cursor=forged"), 400)


def test_marking_read_by_id_and_all(
    alice: Member,
    bob: Member,
    note: Note,
    fans: list[Member],
    as_member: Callable[[Member], ApiClient],
) -> None:
    for fan in fans[:2]:
        notify(recipient_id=alice.pk, actor_id=fan.pk, verb="like_note", note_id=note.pk)
    notify(recipient_id=alice.pk, actor_id=fans[2].pk, verb="follow")
    notify(recipient_id=bob.pk, actor_id=fans[3].pk, verb="follow")
    alices = as_member(alice)
    likes, follow = next(i for i in _items(alices) if i["verb"] == "like_note"), _items(alices)[0]
    assert alices.post("/notifications/read", {"ids": [likes["id"]]}).json() == {"unread": 1}
    assert Notification.objects.filter(verb="like_note", read_at__isnull=True).count() == 0
    # a like arriving after the member looked is new again
    notify(recipient_id=alice.pk, actor_id=fans[3].pk, verb="like_note", note_id=note.pk)
    assert alices.get("/notifications/unread-count").json() == {"unread": 2}
    assert alices.post("/notifications/read", {}).json() == {"unread": 0}
    assert all(item["read"] for item in _items(alices))
    assert follow["verb"] == "follow"


def test_only_your_own_notifications_can_be_marked(
    alice: Member, bob: Member, as_member: Callable[[Member], ApiClient], api: ApiClient
) -> None:
    notify(recipient_id=bob.pk, actor_id=alice.pk, verb="follow")
    bobs_id = str(Notification.objects.get().pk)
    alices = as_member(alice)
    assert alices.post("/notifications/read", {"ids": [bobs_id, "999999"]}).json() == {"unread": 0}
    assert as_member(bob).get("/notifications/unread-count").json() == {"unread": 1}
    body = problem(alices.post("/notifications/read", {"ids": ["1; DROP", "²"]}), 422)
    assert error_fields(body) == {"ids"}
    problem(alices.post("/notifications/read", {"ids": "all"}), 422)
    problem(alices.post("/notifications/read", {"ids": [str(n) for n in range(101)]}), 422)
    for path in ["/notifications", "/notifications/unread-count"]:
        problem(api.get(path), 401)
    problem(api.post("/notifications/read"), 401)


def test_following_notifies_and_approval_notifies_back(
    alice: Member,
    bob: Member,
    as_member: Callable[[Member], ApiClient],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        as_member(bob).post("/accounts/alice/follow")
        as_member(bob).delete("/accounts/alice/follow")
        as_member(bob).post("/accounts/alice/follow")
    items = _items(as_member(alice))
    assert [(item["verb"], item["actors"][0]["username"]) for item in items] == [("follow", "bob")]


def test_a_note_the_recipient_may_no_longer_see_is_left_out(
    alice: Member, bob: Member, as_member: Callable[[Member], ApiClient]
) -> None:
    bobs_note = Note.objects.create(author=bob, title="@alice look", status="published")
    notify(recipient_id=alice.pk, actor_id=bob.pk, verb="mention", note_id=bobs_note.pk)
    assert _items(as_member(alice))[0]["note"]["title"] == "@alice look"
    Note.objects.filter(pk=bobs_note.pk).update(visibility="private")
    item = _items(as_member(alice))[0]
    assert (item["verb"], item["note"]) == ("mention", None)


def test_no_notification_about_a_note_the_recipient_cannot_see(alice: Member, bob: Member) -> None:
    """A mention in a followers-only note must not reveal the note to someone outside it."""
    from papercrane.notes.services import NoteFields, create_note
    from papercrane.notifications import services as notifications
    from papercrane.notifications.models import Notification

    note = create_note(
        author=alice, fields=NoteFields(title="for followers", visibility="followers")
    )
    notifications.notify(recipient_id=bob.pk, actor_id=alice.pk, verb="mention", note_id=note.pk)
    assert not Notification.objects.filter(recipient=bob).exists()
    public = create_note(author=alice, fields=NoteFields(title="for all"))
    notifications.notify(recipient_id=bob.pk, actor_id=alice.pk, verb="mention", note_id=public.pk)
    assert Notification.objects.filter(recipient=bob).count() == 1
