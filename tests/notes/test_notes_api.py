"""Notes through the API: compose with photos, read, edit, delete, and every bad input."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import close_old_connections

from papercrane.accounts.models import Member
from papercrane.cli import worker
from papercrane.media.models import Media
from papercrane.notes.models import Note, Topic
from tests.helpers import ApiClient, error_fields, image_bytes, problem

pytestmark = pytest.mark.django_db(transaction=True)


_colours = itertools.count(1)


def upload(client: ApiClient, content: bytes | None = None, **form: str) -> Any:
    """Upload a photo; each call makes a different one (identical photos share their files)."""
    content = content or image_bytes(
        "JPEG", (800, 600), f"#{next(_colours) * 40503 % 0xFFFFFF:06x}"
    )
    photo = SimpleUploadedFile("photo.jpg", content, "image/jpeg")
    return client.client.post("/api/v1/media", {"file": photo, **form}, headers=client._headers())


def media_ids(client: ApiClient, count: int) -> list[str]:
    return [upload(client).json()["id"] for _ in range(count)]


@pytest.fixture
def alices(alice: Member, as_member: Callable[[Member], ApiClient]) -> ApiClient:
    return as_member(alice)


def test_post_a_note_with_photos_topics_and_mentions(alices: ApiClient, bob: Member) -> None:
    ids = media_ids(alices, 3)
    response = alices.post(
        "/notes",
        {
            "title": "成都三日 citywalk",
            "body": "第一天去了 #玉林路，和 @BOB 喝咖啡 #成都美食",
            "media_ids": [ids[2], ids[0], ids[1]],
            "topics": ["Travel"],
            "place": {"name": "玉林路", "city": "成都"},
        },
    )
    assert response.status_code == 201, response.content
    note = response.json()
    assert [m["id"] for m in note["media"]] == [ids[2], ids[0], ids[1]]
    assert note["topics"] == ["Travel", "玉林路", "成都美食"]
    assert note["mentions"] == ["bob"]
    assert note["place"] == {"name": "玉林路", "city": "成都"}
    assert note["cover"]["width"] == 800 and note["cover"]["height"] == 600
    assert note["counts"] == {"likes": 0, "collects": 0, "comments": 0}
    assert note["author"]["username"] == "alice"
    assert Topic.objects.get(key="travel").note_count == 1


def test_cards_get_placeholders_and_variants_once_processed(alices: ApiClient) -> None:
    ids = media_ids(alices, 1)
    assert alices.get(f"/media/{ids[0]}").json()["status"] == "processing"
    note_id = alices.post("/notes", {"title": "Sunset", "media_ids": ids}).json()["id"]
    worker(["--batch"])
    note = ApiClient().get(f"/notes/{note_id}").json()
    media = note["media"][0]
    assert media["status"] == "ready"
    assert [v["width"] for v in media["variants"]] == [360, 720]
    assert note["cover"]["blurhash"] and note["cover"]["dominant_color"].startswith("#")
    assert note["cover"]["placeholder"].startswith("data:image/png;base64,")
    assert note["cover"]["url"].endswith("-720.webp")


def test_text_only_notes_get_a_generated_cover(alices: ApiClient) -> None:
    note = alices.post("/notes", {"title": "今天也要好好吃饭", "body": "没有照片的一天"}).json()
    assert note["cover"] is not None
    assert len(note["media"]) == 1
    assert Media.objects.get(pk=note["media"][0]["id"]).is_text_cover


def test_drafts_are_private_until_published(
    alices: ApiClient, bob: Member, as_member: Callable[[Member], ApiClient]
) -> None:
    note = alices.post("/notes", {"title": "Not yet", "draft": True}).json()
    assert note["status"] == "draft"
    problem(as_member(bob).get(f"/notes/{note['id']}"), 404)
    assert [card["id"] for card in alices.get("/notes/drafts").json()["items"]] == [note["id"]]
    published = alices.patch(f"/notes/{note['id']}", {"draft": False}).json()
    assert published["status"] == "published" and published["published_at"]
    assert as_member(bob).get(f"/notes/{note['id']}").status_code == 200


@pytest.mark.parametrize(
    ("visibility", "stranger", "follower"),
    [("public", 200, 200), ("followers", 404, 200), ("private", 404, 404)],
)
def test_visibility(
    alices: ApiClient,
    bob: Member,
    make_member: Callable[..., Member],
    as_member: Callable[[Member], ApiClient],
    visibility: str,
    stranger: int,
    follower: int,
) -> None:
    fan = as_member(make_member("fan"))
    fan.post("/accounts/alice/follow")
    note_id = alices.post("/notes", {"title": "Hello", "visibility": visibility}).json()["id"]
    assert as_member(bob).get(f"/notes/{note_id}").status_code == stranger
    assert ApiClient().get(f"/notes/{note_id}").status_code == stranger
    assert fan.get(f"/notes/{note_id}").status_code == follower
    assert alices.get(f"/notes/{note_id}").status_code == 200


def test_blocked_members_do_not_see_each_others_notes(
    alices: ApiClient, bob: Member, as_member: Callable[[Member], ApiClient]
) -> None:
    note_id = alices.post("/notes", {"title": "Hello"}).json()["id"]
    alices.post("/accounts/bob/block")
    problem(as_member(bob).get(f"/notes/{note_id}"), 404)


def test_edit_reorders_replaces_and_removes_photos(alices: ApiClient) -> None:
    first, second, third = media_ids(alices, 3)
    note_id = alices.post("/notes", {"title": "Edit me", "media_ids": [first, second]}).json()["id"]
    dropped = Media.objects.get(pk=first)
    edited = alices.patch(
        f"/notes/{note_id}", {"media_ids": [third, second], "title": "Edited"}
    ).json()
    assert [m["id"] for m in edited["media"]] == [third, second]
    assert edited["title"] == "Edited" and edited["version"] == 2
    assert not Media.objects.filter(pk=first).exists()
    assert not default_storage.exists(dropped.original)


def test_identical_photos_share_files_until_the_last_one_goes(alices: ApiClient) -> None:
    same = image_bytes("JPEG", (500, 500), "teal")
    first, second = (upload(alices, same).json()["id"] for _ in range(2))
    name = Media.objects.get(pk=first).original
    assert Media.objects.get(pk=second).original == name
    assert alices.delete(f"/media/{first}").status_code == 204
    assert default_storage.exists(name)
    alices.delete(f"/media/{second}")
    assert not default_storage.exists(name)


def test_delete_removes_the_note_and_its_files(alices: ApiClient) -> None:
    ids = media_ids(alices, 2)
    note_id = alices.post("/notes", {"title": "Bye", "media_ids": ids, "topics": ["gone"]}).json()[
        "id"
    ]
    worker(["--batch"])
    files = []
    for media in Media.objects.filter(note_id=note_id):
        files += [media.original, *(v["name"] for v in media.variants)]
    assert files and all(default_storage.exists(name) for name in files)
    assert alices.delete(f"/notes/{note_id}").status_code == 204
    assert not Note.objects.filter(pk=note_id).exists()
    assert not any(default_storage.exists(name) for name in files)
    assert Topic.objects.get(key="gone").note_count == 0


def test_others_cannot_edit_or_delete(
    alices: ApiClient, bob: Member, as_member: Callable[[Member], ApiClient]
) -> None:
    note_id = alices.post("/notes", {"title": "Mine"}).json()["id"]
    bobs = as_member(bob)
    problem(bobs.patch(f"/notes/{note_id}", {"title": "Yours"}), 404)
    problem(bobs.delete(f"/notes/{note_id}"), 404)
    assert Note.objects.get(pk=note_id).title == "Mine"


def test_someone_elses_or_unknown_media_ids_are_refused(
    alices: ApiClient, bob: Member, as_member: Callable[[Member], ApiClient]
) -> None:
    bobs_media = media_ids(as_member(bob), 1)
    for ids in (bobs_media, ["999999"], ["abc"], ["1 OR 1=1"]):
        body = problem(alices.post("/notes", {"title": "Steal", "media_ids": ids}), 422)
        assert error_fields(body) == {"media_ids"}
    assert not Note.objects.exists()
    assert Media.objects.get(pk=bobs_media[0]).note_id is None


def test_media_already_in_another_note_is_refused(alices: ApiClient) -> None:
    ids = media_ids(alices, 1)
    alices.post("/notes", {"title": "First", "media_ids": ids})
    problem(alices.post("/notes", {"title": "Second", "media_ids": ids}), 422)


def test_nineteen_images_are_too_many(alices: ApiClient) -> None:
    body = problem(
        alices.post("/notes", {"title": "Too many", "media_ids": [str(i) for i in range(19)]}), 422
    )
    assert error_fields(body) == {"media_ids"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "好" * 21}, "title"),
        ({"title": "a" * 41}, "title"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "ok", "body": "字" * 1001}, "body"),
        ({"title": "ok", "topics": [f"t{i}" for i in range(11)]}, "topics"),
        ({"title": "ok", "body": " ".join(f"#t{i}" for i in range(11))}, "topics"),
        ({"title": "ok", "visibility": "everyone"}, "visibility"),
        ({"title": "ok", "media_ids": "1,2"}, "media_ids"),
    ],
)
def test_bad_notes_name_the_field_and_store_nothing(
    alices: ApiClient, payload: dict[str, Any], field: str
) -> None:
    body = problem(alices.post("/notes", payload), 422)
    assert field in error_fields(body)
    assert not Note.objects.exists()


def test_html_is_stored_as_text(alices: ApiClient) -> None:
    payload = {
        "title": "<script>alert(1)</script>",
        "body": "<img src=x onerror=alert(1)> #<b>bold</b>",
    }
    note = alices.post("/notes", payload).json()
    assert note["title"] == "<script>alert(1)</script>"
    assert note["body"].startswith("<img src=x onerror=alert(1)>")


def test_stale_version_is_a_conflict(alices: ApiClient) -> None:
    note_id = alices.post("/notes", {"title": "v1"}).json()["id"]
    assert alices.patch(f"/notes/{note_id}", {"title": "v2", "version": 1}).status_code == 200
    problem(alices.patch(f"/notes/{note_id}", {"title": "v2b", "version": 1}), 409)
    assert Note.objects.get(pk=note_id).title == "v2"


def test_concurrent_edits_of_one_version_let_exactly_one_through(
    alice: Member, as_member: Callable[[Member], ApiClient]
) -> None:
    note_id = as_member(alice).post("/notes", {"title": "v1", "body": "start"}).json()["id"]
    statuses: list[int] = []

    def edit(number: int) -> None:
        try:
            response = as_member(alice).patch(
                f"/notes/{note_id}", {"body": f"edit {number}", "version": 1}
            )
            statuses.append(response.status_code)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409, 409, 409]
    note = Note.objects.get(pk=note_id)
    assert note.version == 2 and note.body.startswith("edit ")


def test_author_notes_are_listed_newest_first(alices: ApiClient) -> None:
    for title in ["one", "two", "three"]:
        alices.post("/notes", {"title": title})
    page = ApiClient().get("/accounts/alice/notes?limit=2").json()
    assert [card["title"] for card in page["items"]] == ["three", "two"]
    rest = ApiClient().get(f"/accounts/alice/notes?limit=2&cursor={page['next_cursor']}").json()
    assert [card["title"] for card in rest["items"]] == ["one"]


def test_topic_suggestions(alices: ApiClient) -> None:
    alices.post("/notes", {"title": "a", "topics": ["成都美食", "成都咖啡", "travel"]})
    assert set(ApiClient().get("/topics/suggest?q=成都").json()["items"]) == {
        "成都美食",
        "成都咖啡",
    }


def test_notes_need_auth(api: ApiClient) -> None:
    problem(api.post("/notes", {"title": "anon"}), 401)


def test_editing_the_body_keeps_explicit_topics(alices: ApiClient) -> None:
    note_id = alices.post("/notes", {"title": "t", "topics": ["Travel", "Food"]}).json()["id"]
    edited = alices.patch(f"/notes/{note_id}", {"body": "hello again #extra"}).json()
    assert edited["topics"] == ["Travel", "Food", "extra"]


def test_null_fields_in_a_patch_change_nothing(alices: ApiClient) -> None:
    note_id = alices.post("/notes", {"title": "keep", "body": "me"}).json()["id"]
    edited = alices.patch(
        f"/notes/{note_id}", {"title": None, "body": None, "media_ids": None}
    ).json()
    assert (edited["title"], edited["body"]) == ("keep", "me")


@pytest.mark.parametrize("odd_id", ["²", "１", "1e3", "-1", "9" * 30])
def test_odd_ids_are_not_found(alices: ApiClient, odd_id: str) -> None:
    problem(alices.get(f"/notes/{odd_id}"), 404)
    problem(alices.get(f"/media/{odd_id}"), 404)
    problem(alices.post("/notes", {"title": "x", "media_ids": [odd_id]}), 422)


def test_topics_with_slashes_or_overlong_keys_are_refused(alices: ApiClient) -> None:
    note = alices.post("/notes", {"title": "slash", "body": "see #a/b"}).json()
    assert note["topics"] == ["a"]
    assert ApiClient().get(f"/notes/{note['id']}").status_code == 200
    problem(alices.post("/notes", {"title": "x", "topics": ["x/y"]}), 422)
    problem(alices.post("/notes", {"title": "x", "topics": ["ß" * 30]}), 422)


def test_a_photo_in_a_note_cannot_be_deleted_on_its_own(alices: ApiClient) -> None:
    ids = media_ids(alices, 1)
    note_id = alices.post("/notes", {"title": "keep my cover", "media_ids": ids}).json()["id"]
    problem(alices.delete(f"/media/{ids[0]}"), 409)
    assert ApiClient().get(f"/notes/{note_id}").json()["cover"] is not None


def test_deactivated_members_notes_disappear(alices: ApiClient, alice: Member) -> None:
    note_id = alices.post("/notes", {"title": "gone soon"}).json()["id"]
    Member.objects.filter(pk=alice.pk).update(is_active=False)
    problem(ApiClient().get(f"/notes/{note_id}"), 404)


def test_topics_of_private_notes_are_not_suggested(alices: ApiClient) -> None:
    alices.post("/notes", {"title": "secret", "topics": ["mysecret"], "visibility": "private"})
    alices.post("/notes", {"title": "draft", "topics": ["mydraft"], "draft": True})
    assert ApiClient().get("/topics/suggest?q=my").json()["items"] == []
