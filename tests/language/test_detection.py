"""Language detection on real text, and the language stored on notes and comments."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from papercrane.accounts.models import Member
from papercrane.language.detection import detect, same_language
from papercrane.notes import services as notes
from tests.helpers import ApiClient, error_fields, problem


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("周末去成都吃火锅", "zh-Hans"),
        ("臺灣的夜市小吃很好吃", "zh-Hant"),
        ("Weekend hotpot with friends", "en"),
        ("I quit.", "en"),  # short English, which lingua alone calls French
        ("No comment.", "en"),
        ("好", "zh-Hans"),
        ("周末去 Shanghai citywalk", "zh-Hans"),  # mixed: a Chinese sentence
        ("I love 火锅 so much", "en"),  # mixed: an English one
        ("東京に行きます", "ja"),
        ("안녕하세요 반갑습니다", "ko"),
        ("Je voudrais un café, s'il vous plaît.", "fr"),
        ("Wo ist der Bahnhof?", "de"),
        ("¿Dónde está la biblioteca?", "es"),
        ("👍👍🔥", ""),
        ("123 !!!", ""),
        ("", ""),
    ],
)
def test_detect(text: str, language: str) -> None:
    assert detect(text) == language


def test_both_chinese_scripts_read_as_one_language() -> None:
    assert same_language("zh-Hant", "zh-Hans")
    assert not same_language("en", "zh-Hans")


@pytest.mark.django_db
def test_notes_are_detected_and_the_authors_choice_sticks(alice: Member) -> None:
    note = notes.create_note(author=alice, fields=notes.NoteFields(title="成都火锅"))
    assert (note.language, note.language_chosen) == ("zh-Hans", False)

    note = notes.update_note(
        note=note, fields=notes.NoteFields(title="Chengdu hotpot"), changed={"title"}
    )
    assert note.language == "en"  # detected again: the author never chose

    note = notes.update_note(
        note=note,
        fields=notes.NoteFields(title="Chengdu hotpot", language="zh-Hans"),
        changed={"language"},
    )
    note = notes.update_note(
        note=note, fields=notes.NoteFields(title="Hotpot in Chengdu"), changed={"title"}
    )
    assert (note.language, note.language_chosen) == ("zh-Hans", True)

    note = notes.update_note(
        note=note, fields=notes.NoteFields(title="x", language=""), changed={"language"}
    )
    assert (note.language, note.language_chosen) == ("en", False)


@pytest.mark.django_db
def test_an_unknown_language_is_refused(
    alice: Member, as_member: Callable[[Member], ApiClient]
) -> None:
    body = problem(as_member(alice).post("/notes", {"title": "Hi", "language": "klingon"}), 422)
    assert "language" in error_fields(body)
