"""An English reader meets a Chinese note: learns its words by tapping them, in a real browser."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.members import sign_up

pytestmark = pytest.mark.browser


def test_an_english_reader_learns_the_words_of_a_chinese_note(
    new_context: Callable[[], BrowserContext], server: str
) -> None:
    author, _ = sign_up(new_context, "chengdu")
    author.goto("/post")
    author.get_by_label("Title", exact=True).fill("成都火锅")
    author.get_by_label("Text", exact=True).fill("周末和朋友去吃火锅 #美食")
    author.get_by_role("button", name="Publish").click()
    expect(author.locator("h1.note-title")).to_have_text("成都火锅")
    note_url = author.url

    reader, _ = sign_up(new_context, "reader")  # signs up in English
    reader.goto(note_url)
    reader.get_by_role("link", name="Learn words").click()

    word = reader.locator("h1.note-title details.word", has_text="火锅")
    expect(word.locator("rt")).to_have_text("huǒ guō")
    expect(word.locator(".meanings")).to_be_hidden()
    word.locator("summary").click()
    expect(word.locator(".meanings")).to_contain_text("hotpot")

    # No translation service in this demo set-up: the reader is told, and reads the original.
    reader.get_by_role("link", name="Hide word meanings").click()
    reader.get_by_role("link", name="See translation").click()
    expect(reader.get_by_role("status")).to_contain_text("no translation service set up")
    expect(reader.locator("h1.note-title")).to_have_text("成都火锅")
