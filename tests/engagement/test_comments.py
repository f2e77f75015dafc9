"""Comments through the API: threads one level deep, edits, deletes, pins, sorting, likes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from papercrane import ratelimit
from papercrane.accounts.models import Member
from papercrane.engagement import services
from papercrane.engagement.models import Comment, CommentLike, CommentMention
from papercrane.notes.models import Note
from tests.helpers import ApiClient, error_fields, problem

pytestmark = pytest.mark.django_db


def comment(client: ApiClient, note: Note, body: str, parent: str | None = None) -> Any:
    payload = {"body": body} if parent is None else {"body": body, "parent_id": parent}
    response = client.post(f"/notes/{note.pk}/comments", payload)
    assert response.status_code == 201, response.content
    return response.json()


def comment_count(note: Note) -> int:
    note.refresh_from_db()
    return note.comment_count


@pytest.fixture
def carols(
    make_member: Callable[..., Member], as_member: Callable[[Member], ApiClient]
) -> ApiClient:
    return as_member(make_member("carol", display_name="Carol 陈"))


def test_post_and_list_a_comment(note: Note, bobs: ApiClient) -> None:
    posted = comment(bobs, note, "  好看！\r\n想去\x00 ")
    assert posted["body"] == "好看！\n想去"
    assert posted["author"]["username"] == "bob" and posted["parent_id"] is None
    assert posted["counts"] == {"likes": 0, "replies": 0} and posted["replies"] == []
    assert posted["viewer"] == {"liked": False, "can_edit": True, "can_delete": True}
    assert posted["pinned"] is False and posted["reply_to"] is None and posted["edited_at"] is None
    page = ApiClient().get(f"/notes/{note.pk}/comments").json()
    assert [item["id"] for item in page["items"]] == [posted["id"]]
    assert page["items"][0]["viewer"] == {"liked": False, "can_edit": False, "can_delete": False}
    assert page["next_cursor"] is None
    assert comment_count(note) == 1


def test_html_is_stored_as_text(note: Note, bobs: ApiClient) -> None:
    body = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    assert comment(bobs, note, body)["body"] == body
    assert Comment.objects.get().body == body


@pytest.mark.parametrize(
    ("body", "status"), [("", 422), ("   \n\t", 422), ("\x00\x07", 422), ("字" * 501, 422)]
)
def test_bad_bodies_are_refused(note: Note, bobs: ApiClient, body: str, status: int) -> None:
    response = bobs.post(f"/notes/{note.pk}/comments", {"body": body})
    assert error_fields(problem(response, status)) == {"body"}
    assert not Comment.objects.exists() and comment_count(note) == 0


def test_five_hundred_characters_fit(note: Note, bobs: ApiClient) -> None:
    assert len(comment(bobs, note, "字" * 500)["body"]) == 500


def test_missing_or_mistyped_body_is_422(note: Note, bobs: ApiClient) -> None:
    assert "body" in error_fields(problem(bobs.post(f"/notes/{note.pk}/comments", {}), 422))
    problem(bobs.post(f"/notes/{note.pk}/comments", {"body": ["x"]}), 422)


def test_replies_stay_one_level_deep_and_record_whom_they_answer(
    note: Note, bobs: ApiClient, alices: ApiClient, carols: ApiClient
) -> None:
    top = comment(bobs, note, "去过吗？")
    first = comment(carols, note, "去过！", parent=top["id"])
    answer = comment(bobs, note, "哪天去的", parent=first["id"])
    assert first["parent_id"] == top["id"] and first["reply_to"] is None
    assert answer["parent_id"] == top["id"]
    assert answer["reply_to"] == {"username": "carol", "display_name": "Carol 陈"}
    comment(alices, note, "作者来了", parent=top["id"])
    comment(carols, note, "第四条", parent=top["id"])
    listed = ApiClient().get(f"/notes/{note.pk}/comments").json()["items"]
    assert len(listed) == 1
    assert listed[0]["counts"]["replies"] == 4
    assert [reply["body"] for reply in listed[0]["replies"]] == ["去过！", "哪天去的", "作者来了"]
    assert all("replies" not in reply for reply in listed[0]["replies"])
    replies = ApiClient().get(f"/comments/{answer['id']}/replies?limit=3").json()
    assert [reply["body"] for reply in replies["items"]] == ["去过！", "哪天去的", "作者来了"]
    rest = ApiClient().get(f"/comments/{top['id']}/replies?cursor={replies['next_cursor']}")
    assert [reply["body"] for reply in rest.json()["items"]] == ["第四条"]
    assert comment_count(note) == 5


def test_replying_to_a_comment_on_another_note_is_refused(
    alice: Member, note: Note, bobs: ApiClient, make_note: Callable[..., Note]
) -> None:
    other = make_note(alice, "另一篇")
    elsewhere = comment(bobs, other, "hi")
    for parent in (elsewhere["id"], "999999", "abc"):
        response = bobs.post(f"/notes/{note.pk}/comments", {"body": "x", "parent_id": parent})
        assert error_fields(problem(response, 422)) == {"parent_id"}
    assert comment_count(note) == 0


def test_edit_within_fifteen_minutes(note: Note, bobs: ApiClient, alices: ApiClient) -> None:
    posted = comment(bobs, note, "typo")
    edited = bobs.patch(f"/comments/{posted['id']}", {"body": "fixed"}).json()
    assert edited["body"] == "fixed" and edited["edited_at"] is not None
    problem(alices.patch(f"/comments/{posted['id']}", {"body": "hijack"}), 404)
    problem(bobs.patch(f"/comments/{posted['id']}", {"body": ""}), 422)
    Comment.objects.filter(pk=posted["id"]).update(
        created_at=timezone.now() - timedelta(minutes=16)
    )
    late = problem(bobs.patch(f"/comments/{posted['id']}", {"body": "too late"}), 409)
    assert late["type"].endswith("edit-window-closed")
    assert Comment.objects.get(pk=posted["id"]).body == "fixed"
    listed = bobs.get(f"/notes/{note.pk}/comments").json()["items"][0]
    assert listed["viewer"] == {"liked": False, "can_edit": False, "can_delete": True}


def test_delete_own_and_note_author_deletes_any(
    note: Note, bobs: ApiClient, alices: ApiClient, carols: ApiClient
) -> None:
    mine = comment(bobs, note, "mine")
    theirs = comment(carols, note, "rude")
    problem(carols.delete(f"/comments/{mine['id']}"), 404)
    assert alices.get(f"/notes/{note.pk}/comments").json()["items"][0]["viewer"]["can_delete"]
    assert bobs.delete(f"/comments/{mine['id']}").status_code == 204
    assert alices.delete(f"/comments/{theirs['id']}").status_code == 204
    problem(bobs.delete(f"/comments/{mine['id']}"), 404)
    assert not Comment.objects.exists() and comment_count(note) == 0


def test_deleting_a_thread_deletes_its_replies_and_fixes_counts(
    note: Note, bobs: ApiClient, carols: ApiClient
) -> None:
    top = comment(bobs, note, "thread")
    keep = comment(carols, note, "other thread")
    replies = [comment(carols, note, f"reply {n}", parent=top["id"]) for n in range(3)]
    carols.post(f"/comments/{replies[0]['id']}/like")
    assert comment_count(note) == 5
    assert carols.delete(f"/comments/{replies[1]['id']}").status_code == 204
    assert Comment.objects.get(pk=top["id"]).reply_count == 2 and comment_count(note) == 4
    assert bobs.delete(f"/comments/{top['id']}").status_code == 204
    assert list(Comment.objects.values_list("pk", flat=True)) == [int(keep["id"])]
    assert not CommentLike.objects.exists() and comment_count(note) == 1


def test_only_the_note_author_pins_one_comment(
    note: Note, bobs: ApiClient, alices: ApiClient, carols: ApiClient
) -> None:
    first = comment(bobs, note, "first")
    second = comment(carols, note, "second")
    reply = comment(carols, note, "reply", parent=first["id"])
    problem(bobs.post(f"/comments/{first['id']}/pin"), 404)
    assert alices.post(f"/comments/{first['id']}/pin").json()["pinned"] is True
    assert alices.post(f"/comments/{second['id']}/pin").json()["pinned"] is True
    assert list(Comment.objects.filter(is_pinned=True).values_list("pk", flat=True)) == [
        int(second["id"])
    ]
    assert error_fields(problem(alices.post(f"/comments/{reply['id']}/pin"), 422)) == {"comment"}
    problem(carols.delete(f"/comments/{second['id']}/pin"), 404)
    assert alices.delete(f"/comments/{second['id']}/pin").json()["pinned"] is False
    assert not Comment.objects.filter(is_pinned=True).exists()


def test_relevance_and_time_sorting(
    note: Note,
    bobs: ApiClient,
    alices: ApiClient,
    carols: ApiClient,
    make_member: Callable[..., Member],
    as_member: Callable[[Member], ApiClient],
) -> None:
    old = comment(bobs, note, "old")
    liked = comment(carols, note, "liked")
    answered = comment(bobs, note, "answered")
    pinned = comment(carols, note, "pinned")
    newest = comment(bobs, note, "newest")
    for number in range(3):
        as_member(make_member(f"fan{number}")).post(f"/comments/{liked['id']}/like")
    comment(alices, note, "作者回复", parent=answered["id"])
    alices.post(f"/comments/{pinned['id']}/pin")
    by_relevance = ApiClient().get(f"/notes/{note.pk}/comments?sort=relevance").json()["items"]
    assert [item["body"] for item in by_relevance] == [
        "pinned",
        "answered",
        "liked",
        "newest",
        "old",
    ]
    by_time = ApiClient().get(f"/notes/{note.pk}/comments?sort=time").json()["items"]
    assert [item["id"] for item in by_time] == [
        newest["id"],
        pinned["id"],
        answered["id"],
        liked["id"],
        old["id"],
    ]
    first = ApiClient().get(f"/notes/{note.pk}/comments?limit=2").json()
    rest = ApiClient().get(f"/notes/{note.pk}/comments?cursor={first['next_cursor']}").json()
    assert [item["body"] for item in first["items"] + rest["items"]] == [
        item["body"] for item in by_relevance
    ]
    problem(ApiClient().get(f"/notes/{note.pk}/comments?sort=best"), 422)
    problem(ApiClient().get(f"/notes/{note.pk}/comments?cursor=forged"), 400)


def test_the_author_reply_bonus_goes_with_the_last_author_reply(
    note: Note, bobs: ApiClient, alices: ApiClient
) -> None:
    top = comment(bobs, note, "question")
    answer = comment(alices, note, "answer", parent=top["id"])
    assert Comment.objects.get(pk=top["id"]).score > 0
    alices.delete(f"/comments/{answer['id']}")
    thread = Comment.objects.get(pk=top["id"])
    assert (thread.score, thread.author_replied, thread.reply_count) == (0, False, 0)


def test_comment_likes_are_idempotent(note: Note, bobs: ApiClient, carols: ApiClient) -> None:
    posted = comment(bobs, note, "like me")
    path = f"/comments/{posted['id']}/like"
    assert carols.post(path).json() == {"liked": True, "count": 1}
    assert carols.post(path).json() == {"liked": True, "count": 1}
    assert bobs.post(path).json() == {"liked": True, "count": 2}
    assert carols.delete(path).json() == {"liked": False, "count": 1}
    assert carols.delete(path).json() == {"liked": False, "count": 1}
    listed = bobs.get(f"/notes/{note.pk}/comments").json()["items"][0]
    assert listed["viewer"]["liked"] is True and listed["counts"]["likes"] == 1
    assert Comment.objects.get(pk=posted["id"]).like_count == CommentLike.objects.count() == 1


def test_comments_on_invisible_notes_are_not_found(
    alice: Member, bobs: ApiClient, alices: ApiClient, make_note: Callable[..., Note]
) -> None:
    hidden = make_note(alice, "only me", visibility="private")
    own = comment(alices, hidden, "note to self")
    problem(bobs.post(f"/notes/{hidden.pk}/comments", {"body": "hi"}), 404)
    problem(bobs.get(f"/notes/{hidden.pk}/comments"), 404)
    for path in (f"/comments/{own['id']}/like", f"/comments/{own['id']}/pin"):
        problem(bobs.post(path), 404)
    problem(bobs.get(f"/comments/{own['id']}/replies"), 404)
    problem(bobs.delete(f"/comments/{own['id']}"), 404)
    assert comment_count(hidden) == 1


def test_blocked_members_cannot_comment_or_see_each_others_comments(
    note: Note, bob: Member, bobs: ApiClient, alices: ApiClient, carols: ApiClient
) -> None:
    carols_comment = comment(carols, note, "hello")
    carols.post("/accounts/bob/block")
    problem(bobs.post(f"/comments/{carols_comment['id']}/like"), 404)
    body = {"body": "hi", "parent_id": carols_comment["id"]}
    assert "parent_id" in error_fields(problem(bobs.post(f"/notes/{note.pk}/comments", body), 422))
    assert bobs.get(f"/notes/{note.pk}/comments").json()["items"] == []
    alices.post("/accounts/bob/block")
    problem(bobs.post(f"/notes/{note.pk}/comments", {"body": "hi"}), 404)
    problem(bobs.get(f"/notes/{note.pk}/comments"), 404)
    assert comment_count(note) == 1


def test_mentions_are_recorded_and_notified(
    note: Note,
    bob: Member,
    bobs: ApiClient,
    carols: ApiClient,
    notified: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        posted = comment(carols, note, "@bob @Alice @nobody @carol 一起去")
    assert sorted(posted["mentions"]) == ["alice", "bob"]
    assert set(CommentMention.objects.values_list("member__username", flat=True)) == {
        "alice",
        "bob",
    }
    verbs = sorted((event["verb"], event["recipient_id"]) for event in notified)
    alice_id = note.author_id
    assert verbs == sorted([("comment", alice_id), ("mention", bob.pk)])


def test_events_for_notifications(
    note: Note,
    bob: Member,
    bobs: ApiClient,
    alices: ApiClient,
    carols: ApiClient,
    notified: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        bobs.post(f"/notes/{note.pk}/like")
        bobs.post(f"/notes/{note.pk}/like")  # idempotent: no second event
        bobs.post(f"/notes/{note.pk}/collect", {})
        top = comment(bobs, note, "hi")
        bobs.post(f"/comments/{top['id']}/like")  # own comment: nobody to tell
        carols.post(f"/comments/{top['id']}/like")
        comment(carols, note, "re", parent=top["id"])
        alices.post(f"/notes/{note.pk}/like")  # own note: nobody to tell
    assert [(event["verb"], event["recipient_id"]) for event in notified] == [
        ("like_note", note.author_id),
        ("collect", note.author_id),
        ("comment", note.author_id),
        ("like_comment", bob.pk),
        ("reply", bob.pk),
    ]
    assert notified[3]["comment_id"] == int(top["id"]) and notified[3]["note_id"] == note.pk


def test_comments_are_rate_limited(
    note: Note, bobs: ApiClient, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.RATELIMIT_ENABLED = True
    assert (
        services.COMMENTS_PER_MEMBER.limit == 30
        and services.COMMENTS_PER_MEMBER.period_seconds == 60
    )
    for name in ("COMMENTS_PER_MEMBER", "COMMENTS_PER_NEW_MEMBER"):
        monkeypatch.setattr(services, name, ratelimit.Rate(limit=3, period_seconds=3600))
    for number in range(3):
        comment(bobs, note, f"spam {number}")
    response = bobs.post(f"/notes/{note.pk}/comments", {"body": "one more"})
    problem(response, 429)
    assert int(response["Retry-After"]) > 0
    assert comment_count(note) == 3


def test_comments_need_auth_to_post_but_not_to_read(note: Note, api: ApiClient) -> None:
    problem(api.post(f"/notes/{note.pk}/comments", {"body": "anon"}), 401)
    assert api.get(f"/notes/{note.pk}/comments").status_code == 200


def test_a_page_of_comments_costs_a_fixed_number_of_queries(
    note: Note,
    bobs: ApiClient,
    carols: ApiClient,
    settings: Any,
) -> None:
    settings.RATELIMIT_ENABLED = False

    def add_threads(count: int) -> None:
        for number in range(count):
            top = comment(bobs, note, f"@carol thread {number}")
            for reply in range(4):
                comment(carols, note, f"@bob reply {reply}", parent=top["id"])
            carols.post(f"/comments/{top['id']}/like")

    add_threads(2)
    with CaptureQueriesContext(connection) as small:
        bobs.get(f"/notes/{note.pk}/comments")
    assert len(small.captured_queries) <= 6
    add_threads(8)
    with CaptureQueriesContext(connection) as large:
        page = bobs.get(f"/notes/{note.pk}/comments").json()
    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(page["items"]) == 10 and all(len(item["replies"]) == 3 for item in page["items"])
    assert page["items"][0]["mentions"] == ["carol"]
    assert page["items"][0]["replies"][0]["mentions"] == ["bob"]


def test_deleted_comments_are_discarded_from_notifications(
    note: Note,
    bobs: ApiClient,
    carols: ApiClient,
    notified: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    top = comment(bobs, note, "thread")
    replies = [comment(carols, note, f"reply {n}", parent=top["id"]) for n in range(2)]
    with django_capture_on_commit_callbacks(execute=True):
        carols.delete(f"/comments/{replies[0]['id']}")
        bobs.delete(f"/comments/{top['id']}")
    discarded = [event["comment_id"] for event in notified if event["verb"] == "discarded"]
    assert discarded == [int(replies[0]["id"]), int(top["id"]), int(replies[1]["id"])]
