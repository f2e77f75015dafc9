"""Translations and glosses over the API: visibility, validation, errors, forgetting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from papercrane.accounts.models import Member
from papercrane.engagement import services as engagement
from papercrane.language.models import Translation
from papercrane.notes import services as notes
from papercrane.notes.models import Note
from tests.helpers import ApiClient, error_fields, problem
from tests.language.translation_double import TranslationDouble

pytestmark = pytest.mark.django_db


def note_by(author: Member, title: str, body: str = "", **fields: Any) -> Note:
    return notes.create_note(
        author=author, fields=notes.NoteFields(title=title, body=body, **fields)
    )


def test_a_chinese_note_read_in_english(
    libretranslate: TranslationDouble,
    bob: Member,
    alice: Member,
    as_member: Callable[..., ApiClient],
) -> None:
    note = note_by(bob, "成都火锅", "周末和朋友去吃火锅 #美食 @alice")

    response = as_member(alice).post(f"/notes/{note.pk}/translation", {})

    assert response.status_code == 200, response.content
    assert response.json() == {
        "title": "[en] 成都火锅",
        "body": "[en] 周末和朋友去吃火锅 #美食 @alice",
        "source_language": "zh-Hans",
        "target_language": "en",  # alice reads English
        "provider": "libretranslate",
    }


def test_signed_out_readers_translate_into_the_page_language(
    libretranslate: TranslationDouble, alice: Member, api: ApiClient
) -> None:
    note = note_by(alice, "Weekend hotpot", "Best hotpot in town")
    response = api.post(f"/notes/{note.pk}/translation", {}, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert response.json()["target_language"] == "zh-Hans"
    assert response.json()["title"] == "[zh] WEEKEND HOTPOT"


def test_a_note_in_the_readers_language_is_returned_as_is(
    libretranslate: TranslationDouble, alice: Member, as_member: Callable[..., ApiClient]
) -> None:
    note = note_by(alice, "Weekend hotpot")
    body = as_member(alice).post(f"/notes/{note.pk}/translation", {"target_language": "en"}).json()
    assert (body["title"], body["provider"]) == ("Weekend hotpot", "")
    assert libretranslate.requests == []


def test_someone_elses_private_note_cannot_be_translated(
    libretranslate: TranslationDouble,
    bob: Member,
    alice: Member,
    as_member: Callable[..., ApiClient],
) -> None:
    note = note_by(bob, "只给朋友看", visibility="private")
    problem(as_member(alice).post(f"/notes/{note.pk}/translation", {}), 404)
    problem(as_member(alice).post("/notes/abc/translation", {}), 404)
    assert libretranslate.requests == []


@pytest.mark.parametrize("target", ["xx", "<script>", "en" * 9])
def test_bad_target_languages_are_refused(
    libretranslate: TranslationDouble, alice: Member, api: ApiClient, target: str
) -> None:
    note = note_by(alice, "Weekend hotpot")
    body = problem(api.post(f"/notes/{note.pk}/translation", {"target_language": target}), 422)
    assert "target_language" in error_fields(body) or body["errors"]


def test_without_a_provider_the_reader_is_told_why(
    settings: Any, bob: Member, api: ApiClient
) -> None:
    settings.TRANSLATION_PROVIDERS = []
    note = note_by(bob, "成都火锅")
    body = problem(api.post(f"/notes/{note.pk}/translation", {"target_language": "en"}), 503)
    assert body["type"].endswith("translation-unavailable")
    assert "Pinyin" in body["detail"]


def test_comments_are_translated_and_carry_their_language(
    libretranslate: TranslationDouble,
    alice: Member,
    bob: Member,
    as_member: Callable[..., ApiClient],
) -> None:
    note = note_by(alice, "Weekend hotpot")
    comment = engagement.add_comment(author=bob, note=note, body="看起来好好吃！")
    assert comment.language == "zh-Hans"
    listed = as_member(alice).get(f"/notes/{note.pk}/comments").json()["items"]
    assert listed[0]["language"] == "zh-Hans"

    body = as_member(alice).post(f"/comments/{comment.pk}/translation", {}).json()

    assert body == {
        "body": "[en] 看起来好好吃！",
        "source_language": "zh-Hans",
        "target_language": "en",
        "provider": "libretranslate",
    }


def test_translations_are_forgotten_with_the_text(
    libretranslate: TranslationDouble,
    bob: Member,
    alice: Member,
    as_member: Callable[..., ApiClient],
) -> None:
    note = note_by(bob, "成都火锅", "很好吃")
    comment = engagement.add_comment(author=alice, note=note, body="我也想去")
    client = as_member(alice)
    client.post(f"/notes/{note.pk}/translation", {})
    client.post(f"/comments/{comment.pk}/translation", {})
    assert Translation.objects.count() == 3

    notes.update_note(
        note=note, fields=notes.NoteFields(title="重庆火锅", body="很好吃"), changed={"title"}
    )
    assert Translation.objects.count() == 2  # the old title's translation went

    engagement.delete_comment(comment=comment)
    notes.delete_note(note=Note.objects.get(pk=note.pk))
    assert Translation.objects.count() == 0


def test_translation_is_rate_limited(
    libretranslate: TranslationDouble,
    settings: Any,
    alice: Member,
    api: ApiClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from papercrane import ratelimit
    from papercrane.language import services

    monkeypatch.setattr(services, "TRANSLATIONS_PER_READER", ratelimit.Rate(2, 3600))
    note = note_by(alice, "Weekend hotpot")
    for _ in range(2):
        assert (
            api.post(f"/notes/{note.pk}/translation", {"target_language": "zh-Hans"}).status_code
            == 200
        )
    response = api.post(f"/notes/{note.pk}/translation", {"target_language": "zh-Hans"})
    problem(response, 429)
    assert response["Retry-After"]


def test_gloss_of_a_note(bob: Member, api: ApiClient) -> None:
    note = note_by(bob, "银行旁边的火锅", "周末吃火锅")
    body = api.get(f"/notes/{note.pk}/gloss").json()

    words = {segment["text"]: segment for segment in body["title"]}
    assert words["银行"]["pinyin"] == "yín háng"
    assert "bank" in words["银行"]["entries"][0]["meanings"]
    assert words["火锅"]["entries"][0]["meanings"] == ["hotpot"]
    assert "".join(segment["text"] for segment in body["body"]) == "周末吃火锅"


def test_gloss_of_text_is_bounded(api: ApiClient) -> None:
    assert api.post("/language/gloss", {"text": "I like hotpot"}).status_code == 200
    problem(api.post("/language/gloss", {"text": "火" * 5001}), 422)
    problem(api.post("/language/gloss", {}), 422)
