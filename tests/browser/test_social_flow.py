"""Two members in two browsers follow, like, collect and reply; notifications arrive live."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.members import sign_up

pytestmark = pytest.mark.browser


def test_two_members_interact_and_see_notifications_live(
    new_context: Callable[[], BrowserContext],
) -> None:
    """Every action of one member reaches the other's bell without a reload."""
    alice, alice_name = sign_up(new_context, "alice")
    bob, bob_name = sign_up(new_context, "bob")

    alice.goto("/post")
    alice.get_by_label("Title", exact=True).fill("Two of us")
    alice.get_by_role("button", name="Publish").click()
    expect(alice.get_by_role("heading", name="Two of us")).to_be_visible()
    note_url = alice.url
    alice.goto("/")  # Alice waits on Explore with her live channel open
    badge = alice.locator("[data-unread-count]")

    bob.goto(f"/@{alice_name}")
    bob.get_by_role("button", name="Follow", exact=True).click()
    expect(badge).to_have_text("1")

    bob.goto(note_url)
    bob.locator("#note-actions").get_by_role("button", name="Like").click()
    expect(bob.locator("#note-actions button[value=unlike]")).to_be_visible()
    bob.locator("#note-actions").get_by_role("button", name="Collect").click()
    expect(bob.locator("#note-actions button[value=uncollect]")).to_be_visible()
    bob.get_by_label("Add a comment").fill("Looks great! 看起来不错")
    bob.get_by_role("button", name="Send").first.click()
    expect(bob.get_by_text("Looks great! 看起来不错")).to_be_visible()
    expect(badge).to_have_text("4")  # follow, like, collect, comment

    alice.goto(note_url)
    comment = alice.locator(".comment", has_text="Looks great!")
    comment.get_by_text("Reply", exact=True).click()
    comment.get_by_label("Your reply").fill("Thank you!")
    comment.get_by_role("button", name="Send").click()
    expect(bob.locator("[data-unread-count]")).to_have_text("1")
    expect(alice.get_by_text("Thank you!")).to_be_visible()

    alice.goto("/notifications")
    notifications = alice.locator(".notifications")
    for sentence in (
        "liked your note",
        "collected your note",
        "commented on your note",
        "started following you",
    ):
        expect(notifications).to_contain_text(sentence)
    expect(notifications).to_contain_text(bob_name)
