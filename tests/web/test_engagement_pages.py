"""Liking, collecting and discussing on the note page, with and without htmx."""

from __future__ import annotations

import pytest
from django.test import Client

from papercrane.accounts.models import Member
from papercrane.engagement.models import Comment
from papercrane.notes.models import Note
from papercrane.notes.services import NoteFields, create_note

pytestmark = pytest.mark.django_db


@pytest.fixture
def note(alice: Member) -> Note:
    return create_note(author=alice, fields=NoteFields(title="Hotpot night", body="#火锅"))


@pytest.fixture
def bobs_browser(bob: Member) -> Client:
    client = Client()
    client.force_login(bob)
    return client


def test_like_and_collect_from_the_note_page(note: Note, bobs_browser: Client) -> None:
    response = bobs_browser.post(f"/notes/{note.pk}/like", headers={"HX-Request": "true"})
    assert 'aria-pressed="true"' in response.content.decode()
    bobs_browser.post(f"/notes/{note.pk}/collect")
    note.refresh_from_db()
    assert (note.like_count, note.collect_count) == (1, 1)
    bobs_browser.post(f"/notes/{note.pk}/like", {"action": "unlike"})
    note.refresh_from_db()
    assert note.like_count == 0


def test_comment_reply_and_escaping(note: Note, bobs_browser: Client, alice: Member) -> None:
    response = bobs_browser.post(
        f"/notes/{note.pk}/comments", {"body": "<script>x()</script> 好吃！"}
    )
    comment = Comment.objects.get()
    assert response["Location"].endswith(f"#comment-{comment.pk}")
    alices = Client()
    alices.force_login(alice)
    alices.post(f"/notes/{note.pk}/comments", {"body": "谢谢", "parent_id": comment.pk})
    page = Client().get(f"/notes/{note.pk}").content.decode()
    assert "&lt;script&gt;x()&lt;/script&gt; 好吃！" in page and "<script>x()" not in page
    assert "谢谢" in page
    assert Note.objects.get(pk=note.pk).comment_count == 2


def test_note_author_pins_and_deletes_comments(
    note: Note, bobs_browser: Client, alice: Member
) -> None:
    bobs_browser.post(f"/notes/{note.pk}/comments", {"body": "first"})
    comment = Comment.objects.get()
    assert bobs_browser.post(f"/comments/{comment.pk}/pin").status_code == 404
    alices = Client()
    alices.force_login(alice)
    alices.post(f"/comments/{comment.pk}/pin")
    assert Comment.objects.get().is_pinned
    alices.post(f"/comments/{comment.pk}/delete")
    assert not Comment.objects.exists()


def test_strangers_cannot_delete_others_comments(
    note: Note, bobs_browser: Client, make_member: object
) -> None:
    bobs_browser.post(f"/notes/{note.pk}/comments", {"body": "mine"})
    comment = Comment.objects.get()
    carol = Client()
    carol.force_login(make_member("carol"))  # type: ignore[operator]
    assert carol.post(f"/comments/{comment.pk}/delete").status_code == 404
    assert Comment.objects.exists()


def test_empty_comments_are_refused_with_a_message(note: Note, bobs_browser: Client) -> None:
    response = bobs_browser.post(f"/notes/{note.pk}/comments", {"body": "   "}, follow=True)
    assert response.status_code == 200
    assert not Comment.objects.exists()


def test_invisible_notes_and_odd_ids_are_not_found(alice: Member, bobs_browser: Client) -> None:
    private = create_note(author=alice, fields=NoteFields(title="mine only", visibility="private"))
    assert bobs_browser.post(f"/notes/{private.pk}/like").status_code == 404
    assert bobs_browser.post(f"/notes/{private.pk}/comments", {"body": "hi"}).status_code == 404
    assert (
        bobs_browser.post("/notes/1/comments", {"body": "hi", "parent_id": "²"}).status_code == 404
    )


def test_actions_need_a_login(note: Note) -> None:
    response = Client().post(f"/notes/{note.pk}/like")
    assert response.status_code == 302 and response["Location"].startswith("/login")


def test_boards_on_the_web(note: Note, bobs_browser: Client, bob: Member) -> None:
    response = bobs_browser.post("/boards", {"name": "Chengdu eats", "private": "on"})
    board_url = response["Location"]
    bobs_browser.post(f"/notes/{note.pk}/collect", {"board_id": board_url.rsplit("/", 1)[1]})
    assert "Hotpot night" in bobs_browser.get(board_url).content.decode()
    assert Client().get(board_url).status_code == 404  # private board
    assert bobs_browser.post(f"/notes/{note.pk}/collect", {"board_id": "999999"}).status_code == 404


def test_profile_tabs_show_boards_and_likes(note: Note, bobs_browser: Client, bob: Member) -> None:
    bobs_browser.post("/boards", {"name": "Eats"})
    bobs_browser.post("/boards", {"name": "Secret", "private": "on"})
    bobs_browser.post(f"/notes/{note.pk}/like")
    boards = Client().get("/@bob?tab=boards").content.decode()
    assert "Eats" in boards and "Secret" not in boards
    assert "Secret" in bobs_browser.get("/@bob?tab=boards").content.decode()
    assert "Hotpot night" in Client().get("/@bob?tab=liked").content.decode()
    Member.objects.filter(pk=bob.pk).update(likes_public=False)
    hidden = Client().get("/@bob?tab=liked").content.decode()
    assert "Hotpot night" not in hidden and "keeps their likes private" in hidden
    assert "Hotpot night" in bobs_browser.get("/@bob?tab=liked").content.decode()


def test_profile_counts_likes_and_collects_received(note: Note, bobs_browser: Client) -> None:
    bobs_browser.post(f"/notes/{note.pk}/like")
    bobs_browser.post(f"/notes/{note.pk}/collect")
    page = Client().get("/@alice").content.decode()
    assert "<strong>2</strong> Likes & collects" in page


def test_cards_like_and_collect_in_place(note: Note, bobs_browser: Client) -> None:
    home = bobs_browser.get("/").content.decode()
    assert f'id="card-actions-{note.pk}"' in home and 'aria-pressed="false"' in home
    response = bobs_browser.post(
        f"/notes/{note.pk}/collect", {"view": "card"}, headers={"HX-Request": "true"}
    )
    assert f'id="card-actions-{note.pk}"' in response.content.decode()
    assert "★" in response.content.decode()
    response = bobs_browser.post(
        f"/notes/{note.pk}/like", headers={"Referer": "http://testserver/"}
    )
    assert response["Location"] == "http://testserver/"
    offsite = bobs_browser.post(
        f"/notes/{note.pk}/like", {"action": "unlike"}, headers={"Referer": "https://evil.example/"}
    )
    assert offsite["Location"] == f"/notes/{note.pk}"
