"""Likes, collects and boards through the API: idempotent toggles, exact counts, privacy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from papercrane import ratelimit
from papercrane.accounts.models import Follow, Member
from papercrane.engagement import services
from papercrane.engagement.models import Board, BoardEntry, Collect, Like
from papercrane.notes.models import Note
from tests.helpers import ApiClient, error_fields, problem

pytestmark = pytest.mark.django_db


def counts(note: Note) -> tuple[int, int, int]:
    note.refresh_from_db()
    return note.like_count, note.collect_count, note.comment_count


def test_like_is_idempotent_and_counted(note: Note, bobs: ApiClient, alices: ApiClient) -> None:
    assert bobs.post(f"/notes/{note.pk}/like").json() == {"liked": True, "count": 1}
    assert bobs.post(f"/notes/{note.pk}/like").json() == {"liked": True, "count": 1}
    assert alices.post(f"/notes/{note.pk}/like").json() == {"liked": True, "count": 2}
    assert bobs.delete(f"/notes/{note.pk}/like").json() == {"liked": False, "count": 1}
    assert bobs.delete(f"/notes/{note.pk}/like").json() == {"liked": False, "count": 1}
    assert counts(note)[0] == Like.objects.filter(note=note).count() == 1


def test_note_shows_the_viewers_like_and_collect(
    note: Note, bobs: ApiClient, alices: ApiClient
) -> None:
    bobs.post(f"/notes/{note.pk}/like")
    bobs.post(f"/notes/{note.pk}/collect", {})
    detail = bobs.get(f"/notes/{note.pk}").json()
    assert detail["viewer"] == {"liked": True, "collected": True}
    assert detail["counts"] == {"likes": 1, "collects": 1, "comments": 0}
    assert alices.get(f"/notes/{note.pk}").json()["viewer"] == {"liked": False, "collected": False}
    assert ApiClient().get(f"/notes/{note.pk}").json()["viewer"] == {
        "liked": False,
        "collected": False,
    }


def test_likes_and_collects_need_auth(note: Note, api: ApiClient) -> None:
    problem(api.post(f"/notes/{note.pk}/like"), 401)
    problem(api.post(f"/notes/{note.pk}/collect", {}), 401)
    assert not Like.objects.exists()


def test_collect_goes_to_the_default_board_once(note: Note, bob: Member, bobs: ApiClient) -> None:
    assert bobs.post(f"/notes/{note.pk}/collect", {}).json() == {"collected": True, "count": 1}
    assert bobs.post(f"/notes/{note.pk}/collect", {}).json() == {"collected": True, "count": 1}
    default = Board.objects.get(owner=bob)
    assert default.is_default and BoardEntry.objects.filter(board=default).count() == 1
    boards = bobs.get("/boards").json()["items"]
    assert [(b["name"], b["is_default"], b["counts"]["notes"]) for b in boards] == [
        ("默认专辑", True, 1)  # Bob reads Papercrane in Chinese
    ]
    assert boards[0]["cover"]["url"]


def test_a_note_in_several_boards_counts_one_collector(
    note: Note, bob: Member, bobs: ApiClient
) -> None:
    trip = bobs.post("/boards", {"name": "Trips"}).json()
    food = bobs.post("/boards", {"name": "Food", "description": "好吃的", "private": True}).json()
    for board in (trip, food):
        response = bobs.post(f"/notes/{note.pk}/collect", {"board_id": board["id"]})
        assert response.json() == {"collected": True, "count": 1}
    assert bobs.get(f"/boards/{trip['id']}").json()["counts"]["notes"] == 1
    still = bobs.delete(f"/notes/{note.pk}/collect?board_id={trip['id']}").json()
    assert still == {"collected": True, "count": 1}
    gone = bobs.request("delete", f"/notes/{note.pk}/collect", {"board_id": food["id"]}).json()
    assert gone == {"collected": False, "count": 0}
    assert not Collect.objects.exists() and counts(note)[1] == 0


def test_uncollect_without_a_board_leaves_every_board(note: Note, bobs: ApiClient) -> None:
    board = bobs.post("/boards", {"name": "Trips"}).json()
    bobs.post(f"/notes/{note.pk}/collect", {})
    bobs.post(f"/notes/{note.pk}/collect", {"board_id": board["id"]})
    assert bobs.delete(f"/notes/{note.pk}/collect").json() == {"collected": False, "count": 0}
    assert not BoardEntry.objects.exists()


def test_collecting_into_someone_elses_board_stores_nothing(
    note: Note, alices: ApiClient, bobs: ApiClient
) -> None:
    alices_board = alices.post("/boards", {"name": "Mine"}).json()
    for board_id in (alices_board["id"], "999999", "abc", "²"):
        body = problem(bobs.post(f"/notes/{note.pk}/collect", {"board_id": board_id}), 422)
        assert error_fields(body) == {"board_id"}
    problem(bobs.delete(f"/notes/{note.pk}/collect?board_id={alices_board['id']}"), 422)
    assert not Collect.objects.exists() and not BoardEntry.objects.exists()
    assert counts(note)[1] == 0


def test_board_crud(bobs: ApiClient, note: Note) -> None:
    created = bobs.post("/boards", {"name": "  Weekend\tideas ", "description": "周末"})
    assert created.status_code == 201, created.content
    board = created.json()
    assert (board["name"], board["description"], board["private"]) == (
        "Weekend ideas",
        "周末",
        False,
    )
    assert board["counts"] == {"notes": 0} and board["cover"] is None
    edited = bobs.patch(f"/boards/{board['id']}", {"name": "周末去哪", "private": True}).json()
    assert (edited["name"], edited["private"], edited["description"]) == ("周末去哪", True, "周末")
    bobs.post(f"/notes/{note.pk}/collect", {"board_id": board["id"]})
    assert bobs.delete(f"/boards/{board['id']}").status_code == 204
    problem(bobs.get(f"/boards/{board['id']}"), 404)
    assert counts(note)[1] == 0 and not Collect.objects.exists()


def test_deleting_a_board_keeps_notes_collected_elsewhere(note: Note, bobs: ApiClient) -> None:
    board = bobs.post("/boards", {"name": "Trips"}).json()
    bobs.post(f"/notes/{note.pk}/collect", {})
    bobs.post(f"/notes/{note.pk}/collect", {"board_id": board["id"]})
    bobs.delete(f"/boards/{board['id']}")
    assert counts(note)[1] == 1
    assert bobs.get(f"/notes/{note.pk}").json()["viewer"]["collected"] is True


def test_the_default_board_cannot_be_deleted_but_can_be_renamed(
    bob: Member, bobs: ApiClient, alices: ApiClient
) -> None:
    default = bobs.get("/boards").json()["items"][0]
    problem(bobs.delete(f"/boards/{default['id']}"), 409)
    assert bobs.patch(f"/boards/{default['id']}", {"name": "收藏"}).json()["name"] == "收藏"
    assert bobs.patch(f"/boards/{default['id']}", {"name": ""}).json()["name"] == "默认专辑"
    assert alices.get("/boards").json()["items"][0]["name"] == "Default board"
    assert Board.objects.filter(owner=bob).count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 31}, "name"),
        ({"name": "ok", "description": "字" * 201}, "description"),
        ({"name": "ok", "private": "maybe"}, "private"),
    ],
)
def test_bad_boards_name_the_field(
    bobs: ApiClient, bob: Member, payload: dict[str, Any], field: str
) -> None:
    assert field in error_fields(problem(bobs.post("/boards", payload), 422))
    assert not Board.objects.filter(owner=bob).exists()


def test_board_names_are_unique_per_member(bobs: ApiClient, alices: ApiClient) -> None:
    bobs.post("/boards", {"name": "Trips"})
    assert error_fields(problem(bobs.post("/boards", {"name": "trips"}), 422)) == {"name"}
    assert alices.post("/boards", {"name": "Trips"}).status_code == 201


def test_private_boards_are_the_owners_alone(
    note: Note, bob: Member, bobs: ApiClient, alices: ApiClient
) -> None:
    secret = bobs.post("/boards", {"name": "Secret", "private": True}).json()
    public = bobs.post("/boards", {"name": "Public"}).json()
    bobs.post(f"/notes/{note.pk}/collect", {"board_id": secret["id"]})
    for client in (alices, ApiClient()):
        problem(client.get(f"/boards/{secret['id']}"), 404)
        problem(client.get(f"/boards/{secret['id']}/notes"), 404)
        listed = client.get("/accounts/bob/boards").json()["items"]
        assert [b["id"] for b in listed] == [public["id"]]
    assert {b["id"] for b in bobs.get("/accounts/bob/boards").json()["items"]} >= {
        secret["id"],
        public["id"],
    }
    problem(alices.patch(f"/boards/{public['id']}", {"name": "Taken"}), 404)
    problem(alices.delete(f"/boards/{public['id']}"), 404)
    assert Board.objects.get(pk=public["id"]).name == "Public"


def test_board_notes_are_cards_of_visible_notes(
    alice: Member,
    note: Note,
    bobs: ApiClient,
    make_note: Callable[..., Note],
    make_member: Callable[..., Member],
    as_member: Callable[[Member], ApiClient],
) -> None:
    later = make_note(alice, "第二篇")
    hidden = make_note(alice, "only me", visibility="private")
    board = bobs.post("/boards", {"name": "Trips"}).json()
    for item in (note, later):
        bobs.post(f"/notes/{item.pk}/collect", {"board_id": board["id"]})
    Note.objects.filter(pk=later.pk).update(visibility="followers")
    cards = bobs.get(f"/boards/{board['id']}/notes").json()
    assert [card["id"] for card in cards["items"]] == [str(note.pk)]
    assert cards["items"][0]["cover"]["url"] and cards["items"][0]["author"]["username"] == "alice"
    carol = as_member(make_member("carol"))
    carol.post("/accounts/alice/follow")
    first = carol.get(f"/boards/{board['id']}/notes?limit=1").json()
    assert [card["id"] for card in first["items"]] == [str(later.pk)]
    rest = carol.get(f"/boards/{board['id']}/notes?limit=1&cursor={first['next_cursor']}").json()
    assert [card["id"] for card in rest["items"]] == [str(note.pk)]
    problem(bobs.post(f"/notes/{hidden.pk}/collect", {"board_id": board["id"]}), 404)


def test_liked_notes_are_listed_newest_first(
    alice: Member, note: Note, bobs: ApiClient, make_note: Callable[..., Note]
) -> None:
    later = make_note(alice, "later")
    bobs.post(f"/notes/{note.pk}/like")
    bobs.post(f"/notes/{later.pk}/like")
    page = ApiClient().get("/accounts/bob/liked").json()
    assert [card["id"] for card in page["items"]] == [str(later.pk), str(note.pk)]
    assert page["items"][0]["counts"]["likes"] == 1


def test_liked_notes_respect_a_private_setting(
    bob: Member, note: Note, bobs: ApiClient, alices: ApiClient
) -> None:
    Member.objects.filter(pk=bob.pk).update(likes_public=False)
    bobs.post(f"/notes/{note.pk}/like")
    problem(alices.get("/accounts/bob/liked"), 403)
    assert len(bobs.get("/accounts/bob/liked").json()["items"]) == 1


def test_blocked_members_cannot_like_or_collect(
    note: Note, bobs: ApiClient, alices: ApiClient
) -> None:
    board = bobs.post("/boards", {"name": "Mine"}).json()
    alices.post("/accounts/bob/block")
    problem(bobs.post(f"/notes/{note.pk}/like"), 404)
    problem(bobs.post(f"/notes/{note.pk}/collect", {}), 404)
    problem(alices.get(f"/boards/{board['id']}"), 404)
    problem(alices.get("/accounts/bob/boards"), 404)
    assert counts(note) == (0, 0, 0)


def test_invisible_notes_cannot_be_liked(
    alice: Member, bobs: ApiClient, make_note: Callable[..., Note]
) -> None:
    for hidden in (make_note(alice, "me", visibility="private"), make_note(alice, "d", draft=True)):
        problem(bobs.post(f"/notes/{hidden.pk}/like"), 404)
        problem(bobs.post(f"/notes/{hidden.pk}/collect", {}), 404)
    assert not Like.objects.exists()


@pytest.mark.parametrize("odd_id", ["²", "abc", "-1", "1e3", "9" * 30])
def test_odd_ids_are_not_found(bobs: ApiClient, odd_id: str) -> None:
    for path in (
        f"/notes/{odd_id}/like",
        f"/notes/{odd_id}/collect",
        f"/notes/{odd_id}/comments",
        f"/comments/{odd_id}/like",
        f"/comments/{odd_id}/pin",
    ):
        problem(bobs.post(path, {"body": "hi"}), 404)
    for path in (f"/boards/{odd_id}", f"/boards/{odd_id}/notes", f"/comments/{odd_id}/replies"):
        problem(bobs.get(path), 404)
    problem(bobs.patch(f"/comments/{odd_id}", {"body": "x"}), 404)
    problem(bobs.delete(f"/boards/{odd_id}"), 404)


def test_likes_are_rate_limited(
    note: Note, bobs: ApiClient, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.RATELIMIT_ENABLED = True
    assert (services.LIKES_PER_MEMBER.limit, services.LIKES_PER_MEMBER.period_seconds) == (300, 60)
    monkeypatch.setattr(services, "LIKES_PER_MEMBER", ratelimit.Rate(limit=4, period_seconds=3600))
    for verb in (bobs.post, bobs.delete, bobs.post, bobs.delete):
        assert verb(f"/notes/{note.pk}/like").status_code == 200
    response = bobs.post(f"/notes/{note.pk}/like")
    problem(response, 429)
    assert int(response["Retry-After"]) > 0
    problem(bobs.post(f"/notes/{note.pk}/collect", {}), 429)
    assert counts(note) == (0, 0, 0) and Like.objects.count() == 0


def test_deleting_a_note_removes_its_engagement(
    note: Note, bobs: ApiClient, alices: ApiClient
) -> None:
    bobs.post(f"/notes/{note.pk}/like")
    bobs.post(f"/notes/{note.pk}/collect", {})
    bobs.post(f"/notes/{note.pk}/comments", {"body": "好看"})
    assert alices.delete(f"/notes/{note.pk}").status_code == 204
    assert not Like.objects.exists() and not Collect.objects.exists()
    assert bobs.get("/boards").json()["items"][0]["counts"]["notes"] == 0


def test_a_private_accounts_boards_and_likes_are_for_its_followers(
    note: Note,
    alice: Member,
    bob: Member,
    bobs: ApiClient,
    alices: ApiClient,
    make_member: Callable[..., Member],
    as_member: Callable[[Member], ApiClient],
) -> None:
    board = bobs.post("/boards", {"name": "Trips"}).json()
    bobs.post(f"/notes/{note.pk}/collect", {"board_id": board["id"]})
    bobs.post(f"/notes/{note.pk}/like")
    Member.objects.filter(pk=bob.pk).update(is_private=True)
    stranger = as_member(make_member("carol"))
    for client in (stranger, ApiClient()):
        problem(client.get(f"/boards/{board['id']}"), 404)
        assert client.get("/accounts/bob/boards").json()["items"] == []
        assert client.get("/accounts/bob/liked").json()["items"] == []
    Follow.objects.create(follower=alice, followee=bob)  # an approved follower
    assert [b["id"] for b in alices.get("/accounts/bob/boards").json()["items"]] == [board["id"]]
    assert len(alices.get(f"/boards/{board['id']}/notes").json()["items"]) == 1
    assert len(alices.get("/accounts/bob/liked").json()["items"]) == 1
    assert len(bobs.get("/accounts/bob/liked").json()["items"]) == 1
