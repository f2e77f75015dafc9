"""Notes on the web: the composer (also without script), the note page, editing, topics."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from papercrane.accounts.models import Member
from papercrane.notes.models import Note
from papercrane.notes.services import NoteFields, create_note
from tests.helpers import image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices_browser(alice: Member) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def photo(name: str = "p.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes("JPEG", (600, 800)), "image/jpeg")


def test_composer_posts_photos_without_script(alices_browser: Client) -> None:
    response = alices_browser.post(
        "/post",
        {
            "title": "周末 brunch",
            "body": "#brunch 好吃",
            "topics": "food 美食",
            "photos": [photo(), photo("b.jpg")],
            "visibility": "public",
        },
    )
    note = Note.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/notes/{note.pk}"
    assert note.media.count() == 2
    assert [t.name for t in note.topics.all()] == ["food", "美食", "brunch"]


def test_composer_keeps_input_and_shows_errors(alices_browser: Client) -> None:
    response = alices_browser.post("/post", {"title": "好" * 25, "body": "keep me"})
    page = response.content.decode()
    assert response.status_code == 422
    assert "keep me" in page
    assert "Titles hold up to 20 Chinese or 40 Latin characters." in page
    assert not Note.objects.exists()


def test_composer_refuses_non_images(alices_browser: Client) -> None:
    svg = SimpleUploadedFile("x.jpg", b"<svg onload=alert(1)></svg>", "image/jpeg")
    response = alices_browser.post("/post", {"title": "bad", "photos": [svg]})
    assert response.status_code == 422
    assert not Note.objects.exists()


def test_save_a_draft_from_the_composer(alices_browser: Client) -> None:
    alices_browser.post("/post", {"title": "later", "save_draft": "1"})
    assert Note.objects.get().status == Note.Status.DRAFT


def test_note_page_escapes_text_and_links_topics_and_mentions(alice: Member, bob: Member) -> None:
    fields = NoteFields(title="<b>hi</b>", body="<script>x()</script> #成都美食 @bob @nobody")
    note = create_note(author=alice, fields=fields)
    page = Client().get(f"/notes/{note.pk}").content.decode()
    assert "<script>x()</script>" not in page and "&lt;script&gt;" in page
    assert "&lt;b&gt;hi&lt;/b&gt;" in page
    assert 'href="/topics/%E6%88%90%E9%83%BD%E7%BE%8E%E9%A3%9F"' in page
    assert 'class="mention" href="/@bob"' in page
    assert "/@nobody" not in page


def test_topic_page_lists_its_notes(alice: Member) -> None:
    create_note(author=alice, fields=NoteFields(title="a", topics=["Travel"]))
    page = Client().get("/topics/travel").content.decode()
    assert "#Travel" in page and 'class="card"' in page
    assert Client().get("/topics/nothing-here").status_code == 404


def test_edit_and_delete_on_the_web(alices_browser: Client, alice: Member) -> None:
    note = create_note(author=alice, fields=NoteFields(title="old", body="text"))
    page = alices_browser.get(f"/notes/{note.pk}/edit").content.decode()
    assert 'value="old"' in page
    response = alices_browser.post(
        f"/notes/{note.pk}/edit",
        {"title": "new", "body": "text", "version": note.version, "visibility": "public"},
    )
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.title == "new"
    stale = alices_browser.post(
        f"/notes/{note.pk}/edit", {"title": "stale", "version": 1, "visibility": "public"}
    )
    assert stale.status_code == 422
    alices_browser.post(f"/notes/{note.pk}/delete")
    assert not Note.objects.exists()


def test_others_cannot_edit_on_the_web(alice: Member, bob: Member) -> None:
    note = create_note(author=alice, fields=NoteFields(title="mine"))
    client = Client()
    client.force_login(bob)
    assert client.get(f"/notes/{note.pk}/edit").status_code == 404
    assert client.post(f"/notes/{note.pk}/delete").status_code == 404
    assert Note.objects.filter(pk=note.pk).exists()


def test_home_and_profile_show_cards(alice: Member, make_member: Callable[..., Member]) -> None:
    create_note(author=alice, fields=NoteFields(title="On the home page"))
    assert "On the home page" in Client().get("/").content.decode()
    assert "On the home page" in Client().get("/@alice").content.decode()


def test_a_rejected_post_keeps_the_uploaded_photos(alices_browser: Client, alice: Member) -> None:
    from papercrane.media import services as media_services

    media = media_services.upload(owner=alice, data=image_bytes("JPEG", (400, 300)))
    response = alices_browser.post("/post", {"title": "好" * 25, "media_ids": str(media.pk)})
    assert response.status_code == 422
    assert f'data-media-id="{media.pk}"' in response.content.decode()


def test_a_malformed_version_is_not_an_error_page(alices_browser: Client, alice: Member) -> None:
    note = create_note(author=alice, fields=NoteFields(title="v"))
    response = alices_browser.post(
        f"/notes/{note.pk}/edit", {"title": "w", "version": "abc", "visibility": "public"}
    )
    assert response.status_code == 302
