"""Searching in a real browser: suggestions as you type, picked with the keyboard, results as
cards, then the Users tab."""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect

pytestmark = pytest.mark.browser

PASSWORD = "paper-crane-flies-2026"
INDEXED_WITHIN_S = 20


def _word() -> str:
    """A made-up word no other test's notes contain."""
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))


def _author_with_a_note(page: Page, word: str) -> str:
    username = f"lantern_{word}"
    page.goto("/signup")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Display name", exact=True).fill(f"Lantern {word}")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"/@{username}")
    page.goto("/post")
    page.get_by_label("Title", exact=True).fill(f"Lantern {word}")
    page.get_by_label("Text", exact=True).fill("Paper lanterns over the river 河边的灯笼 #灯会")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("heading", name=f"Lantern {word}")).to_be_visible()
    return username


def _wait_until_indexed(page: Page, word: str) -> None:
    """The server's worker indexes the note shortly after it is posted."""
    for _ in range(INDEXED_WITHIN_S * 2):
        page.goto(f"/search?q={word}")
        if page.locator(".card").count():
            return
        page.wait_for_timeout(500)
    pytest.fail(f"the note was not found by search within {INDEXED_WITHIN_S}s")


def test_search_with_suggestions_then_switch_to_users(
    new_context: Callable[[], BrowserContext],
) -> None:
    word = _word()
    author = new_context().new_page()
    username = _author_with_a_note(author, word)
    _wait_until_indexed(author, word)

    page = new_context().new_page()
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto("/search")
    box = page.get_by_role("combobox", name="Search notes, people and topics")
    expect(box).to_be_focused()
    expect(box).to_have_attribute("aria-expanded", "false")

    box.press_sequentially(f"lantern {word}", delay=20)
    listbox = page.get_by_role("listbox", name="Suggestions")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    note_option = listbox.get_by_role("option", name=re.compile(rf"Lantern {word}.*Note"))
    expect(note_option).to_be_visible()

    # Arrow keys move through the options; Escape closes the list and keeps the text.
    box.press("ArrowDown")
    first = listbox.get_by_role("option").first
    expect(first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", first.get_attribute("id") or "")
    box.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).to_have_value(f"lantern {word}")

    # Down again reopens it; walk to the note's title and pick it with Enter.
    box.press("ArrowDown")
    expect(listbox).to_be_visible()
    for _ in range(listbox.get_by_role("option").count()):
        if note_option.get_attribute("aria-selected") == "true":
            break
        box.press("ArrowDown")
    expect(note_option).to_have_attribute("aria-selected", "true")
    box.press("Enter")
    # A note suggestion opens the note itself.
    expect(page).to_have_url(re.compile(r"/notes/\d+$"))
    expect(page.get_by_role("heading", name=f"Lantern {word}")).to_be_visible()

    # Enter without picking a suggestion searches for what was typed.
    page.go_back()
    box = page.get_by_role("combobox", name="Search notes, people and topics")
    box.fill(f"Lantern {word}")
    box.press("Enter")
    expect(page).to_have_url(re.compile(rf"/search\?q=Lantern(\+|%20){word}$"))
    card = page.locator(".masonry .card").first
    expect(card.locator(".card-title")).to_have_text(f"Lantern {word}")
    expect(page.get_by_role("link", name="Notes")).to_have_attribute("aria-current", "page")

    page.get_by_role("navigation", name="What to search").get_by_role("link", name="Users").click()
    expect(page).to_have_url(re.compile(r"tab=users"))
    member_card = page.locator(f'.member-card[href="/@{username}"]')
    expect(member_card).to_be_visible()
    expect(member_card).to_contain_text(f"Lantern {word}")

    # The mouse picks too.
    box = page.get_by_role("combobox", name="Search notes, people and topics")
    box.fill("")
    box.press_sequentially(word, delay=20)
    option = page.get_by_role("option", name=re.compile(rf"Lantern {word}.*Note"))
    option.click()
    expect(page).to_have_url(re.compile(r"/notes/\d+$"))
    assert not problems, problems  # no script errors, nothing refused by the CSP
