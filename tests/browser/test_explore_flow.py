"""Explore in the browser: a new member is asked what they like, cards say why they are
there, "Not interested" takes a note away at once (without JavaScript, too), a like changes
what comes next, and personalization can be turned off."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.browser.members import sign_up

pytestmark = pytest.mark.browser


def _post(page: Page, title: str, topic: str = "") -> str:
    """Publish a note; its page's address."""
    page.goto("/post")
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Topics", exact=True).fill(topic)
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    return page.url


def _explore_card(page: Page, title: str) -> Locator:
    """The card titled ``title`` on Explore, visited again while it is not there (a server
    takes up Explore's new lists within seconds)."""
    card = page.locator("article.card", has_text=title)
    for _ in range(15):
        page.goto("/")
        if card.count():
            break
        page.wait_for_timeout(1000)
    return card


def _why(page: Page, title: str) -> str:
    """The reason Explore gives for the card titled ``title``."""
    card = _explore_card(page, title)
    card.get_by_text("Why this note?").click()
    return card.locator(".why-reason").inner_text()


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


def test_explore_adapts_to_a_like_and_can_be_turned_off(
    new_context: Callable[[], BrowserContext], papercrane_command: Callable[..., None]
) -> None:
    tag = secrets.token_hex(2)
    hiking = f"hiking{tag}"
    first, _ = sign_up(new_context, "walker")
    liked = _post(first, f"Ridge walk {tag}", hiking)
    second, _ = sign_up(new_context, "climber")
    _post(second, f"Summit at dawn {tag}", hiking)
    papercrane_command("refresh-explore")  # new notes in Explore's lists now, not within minutes
    # Once a visitor sees it, the server has the new lists: a member's first visit, which
    # their stored ranking then starts from, has it too.
    expect(_explore_card(new_context().new_page(), f"Summit at dawn {tag}")).to_be_visible()

    reader, _ = sign_up(new_context, "reader")
    assert hiking not in _why(reader, f"Summit at dawn {tag}")  # nothing known of them yet
    reader.goto(liked)
    reader.locator("#note-actions").get_by_role("button", name="Like").click()
    expect(reader.locator("#note-actions").get_by_role("button", name="Liked")).to_be_visible()
    # One like, and the next visit puts the topic's other note there for it.
    assert _why(reader, f"Summit at dawn {tag}") == f"Popular in #{hiking}"

    reader.goto("/settings")
    reader.get_by_label("Personalized Explore").uncheck()
    reader.get_by_role("button", name="Save").click()
    reader.goto("/")
    expect(
        reader.get_by_text("Personalization is off: you see trending and new notes.")
    ).to_be_visible()
    reason = _why(reader, f"Summit at dawn {tag}")
    assert hiking not in reason and "liked" not in reason  # nothing of the like used
