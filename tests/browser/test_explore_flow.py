"""Explore in the browser: a new member is asked what they like, cards say why they are
there, and "Not interested" takes a note away at once (without JavaScript, too)."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.members import sign_up

pytestmark = pytest.mark.browser


def _post(page: Page, title: str) -> None:
    page.goto("/post")
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()


def test_explore_explains_itself_and_takes_feedback(
    new_context: Callable[[], BrowserContext],
) -> None:
    author, author_name = sign_up(new_context, "maker")
    tag = secrets.token_hex(2)
    _post(author, f"Lantern festival {tag}")
    _post(author, f"Mooncakes at midnight {tag}")

    reader, _ = sign_up(new_context, "reader")
    reader.goto("/")
    expect(reader.get_by_role("heading", name="What do you like?")).to_be_visible()
    reader.goto(f"/@{author_name}")
    reader.get_by_role("button", name="Follow", exact=True).click()

    reader.goto("/")
    card = reader.locator("article.card", has_text=f"Mooncakes at midnight {tag}")
    expect(card).to_be_visible()
    card.get_by_text("Why this note?").click()
    expect(card.locator(".why-reason")).to_have_text("From someone you follow")
    card.get_by_role("button", name="Not interested").click()
    expect(reader.get_by_text("Got it: you will not see this note again.")).to_be_visible()
    expect(reader.locator("article.card", has_text=f"Mooncakes at midnight {tag}")).to_have_count(0)

    reader.get_by_role("link", name="Following").click()
    expect(reader.locator("article.card", has_text=f"Lantern festival {tag}")).to_be_visible()
