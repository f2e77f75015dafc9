"""Reading a note in another language on the web: translation, learning mode, comments."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from papercrane.accounts import services as accounts
from papercrane.accounts.models import Member
from papercrane.engagement import services as engagement
from papercrane.notes import services as notes
from papercrane.notes.models import Note
from tests.language.translation_double import TranslationDouble

pytestmark = pytest.mark.django_db


@pytest.fixture
def chinese_note(bob: Member, alice: Member) -> Note:
    note = notes.create_note(
        author=bob,
        fields=notes.NoteFields(
            title="成都火锅", body="周末吃火锅 <script>alert(1)</script> #成都", topics=["美食"]
        ),
    )
    engagement.add_comment(author=bob, note=note, body="真的很好吃！")
    return note


def page(member: Member | None, path: str) -> str:
    client = Client()
    if member is not None:
        client.force_login(member)
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_a_foreign_note_offers_translation_and_learning(chinese_note: Note, alice: Member) -> None:
    html = page(alice, f"/notes/{chinese_note.pk}")
    assert "?view=translated#reading" in html and "?view=learn#reading" in html


def test_the_readers_own_language_offers_nothing(chinese_note: Note, bob: Member) -> None:
    assert "?view=translated" not in page(bob, f"/notes/{chinese_note.pk}")


def test_see_translation_escapes_what_comes_back(
    libretranslate: TranslationDouble, chinese_note: Note, alice: Member
) -> None:
    html = page(alice, f"/notes/{chinese_note.pk}?view=translated")
    assert "[en] 成都火锅" in html
    assert "&lt;SCRIPT&gt;ALERT(1)&lt;/SCRIPT&gt;" in html
    assert "<SCRIPT>" not in html
    assert "[en] 真的很好吃！" in html  # comments too
    assert '<span class="topic-translation" lang="en">([en] 美食)</span>' in html
    assert '>#成都</a> <span class="topic-translation">([en] 成都)</span>' in html  # in the body


def test_automatic_translation_is_one_setting(
    libretranslate: TranslationDouble, chinese_note: Note, alice: Member
) -> None:
    accounts.update_profile(member=alice, auto_translate=True)
    assert "[en] 成都火锅" in page(alice, f"/notes/{chinese_note.pk}")
    assert "[en] 成都火锅" not in page(alice, f"/notes/{chinese_note.pk}?view=original")


def test_learning_mode_shows_pinyin_and_meanings(chinese_note: Note) -> None:
    html = page(None, f"/notes/{chinese_note.pk}?view=learn")
    assert "<ruby>火锅<rt>huǒ guō</rt></ruby>" in html
    assert "hotpot" in html


def test_without_a_provider_the_note_stays_readable(
    settings: Any, chinese_note: Note, alice: Member
) -> None:
    settings.TRANSLATION_PROVIDERS = []
    html = page(alice, f"/notes/{chinese_note.pk}?view=translated")
    assert "成都火锅" in html
    assert "no translation service set up" in html


def test_one_comment_translated_in_place(
    libretranslate: TranslationDouble, chinese_note: Note, alice: Member
) -> None:
    comment = chinese_note.comments.get()
    html = page(alice, f"/comments/{comment.pk}/translation")
    assert "[en] 真的很好吃！" in html and "真的很好吃！" in html


def test_a_hidden_comment_is_not_translated(
    libretranslate: TranslationDouble, bob: Member, alice: Member
) -> None:
    private = notes.create_note(
        author=bob, fields=notes.NoteFields(title="私密", visibility="private")
    )
    comment = engagement.add_comment(author=bob, note=private, body="秘密")
    client = Client()
    client.force_login(alice)
    assert client.get(f"/comments/{comment.pk}/translation").status_code == 404
    assert libretranslate.requests == []


@pytest.mark.django_db(transaction=True)
def test_card_titles_are_translated_for_automatic_readers(
    libretranslate: TranslationDouble, bob: Member, alice: Member
) -> None:
    from papercrane.cli import worker

    notes.create_note(author=bob, fields=notes.NoteFields(title="成都火锅", topics=["美食"]))
    worker(["--batch"])  # index the note
    accounts.update_profile(member=alice, auto_translate=True)

    first = page(alice, "/topics/美食")
    assert "成都火锅" in first and "[en] 成都火锅" not in first  # cards never wait
    worker(["--batch"])  # the titles are translated in the background
    again = page(alice, "/topics/美食")
    assert '<h3 class="card-title" lang="en" title="成都火锅">[en] 成都火锅</h3>' in again

    assert "[en] 成都火锅" not in page(bob, "/topics/美食")  # bob reads Chinese


def test_the_composer_detects_or_takes_the_authors_language(alice: Member) -> None:
    client = Client()
    client.force_login(alice)
    response = client.post("/post", {"title": "成都火锅", "body": "很好吃", "publish": "1"})
    assert response.status_code == 302
    note = Note.objects.get(title="成都火锅")
    assert (note.language, note.language_chosen) == ("zh-Hans", False)
    # Detected, not chosen: the editor keeps offering detection.
    assert (
        '<option value="zh-Hans" selected>'
        not in client.get(f"/notes/{note.pk}/edit").content.decode()
    )

    client.post(
        f"/notes/{note.pk}/edit",
        {"title": "成都火锅", "body": "很好吃", "language": "zh-Hant", "version": note.version},
    )
    note.refresh_from_db()
    assert (note.language, note.language_chosen) == ("zh-Hant", True)
    assert (
        '<option value="zh-Hant" selected>' in client.get(f"/notes/{note.pk}/edit").content.decode()
    )

    response = client.post(
        f"/notes/{note.pk}/edit", {"title": "成都火锅", "language": "xx", "version": note.version}
    )
    assert "Choose a language from the list" in response.content.decode()


def test_photo_descriptions_are_translated_too(
    libretranslate: TranslationDouble, bob: Member, alice: Member
) -> None:
    from papercrane.media import services as media
    from tests.helpers import image_bytes

    photo = media.upload(owner=bob, data=image_bytes(), alt_text="一锅红油火锅")
    note = notes.create_note(
        author=bob, fields=notes.NoteFields(title="成都火锅", media_ids=[str(photo.pk)])
    )
    assert 'alt="一锅红油火锅"' in page(alice, f"/notes/{note.pk}")
    assert 'alt="[en] 一锅红油火锅"' in page(alice, f"/notes/{note.pk}?view=translated")
