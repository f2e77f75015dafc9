"""A report in Chinese on an English note goes through the queue to a decision, the member
reads the statement of reasons (in Chinese once they switch), appeals, another moderator
reverses it, and the audit log shows each step."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.members import sign_up

pytestmark = pytest.mark.browser


def test_report_decision_statement_appeal_and_reversal(
    new_context: Callable[[], BrowserContext], papercrane_command: Callable[..., None]
) -> None:
    alice, _alice_name = sign_up(new_context, "alice")
    bob, _bob_name = sign_up(new_context, "bob")
    mei, mei_name = sign_up(new_context, "mei")
    max_, max_name = sign_up(new_context, "max")
    for moderator in (mei_name, max_name):
        papercrane_command("grant-moderator", moderator)

    alice.goto("/post")
    alice.get_by_label("Title", exact=True).fill("Cheap followers here")
    alice.get_by_role("button", name="Publish").click()
    expect(alice.get_by_role("heading", name="Cheap followers here")).to_be_visible()
    note_url = alice.url

    # Bob reports it, writing in Chinese.
    bob.goto(note_url)
    bob.get_by_role("link", name="Report", exact=True).click()
    bob.get_by_label("No spam or fake engagement").check()
    bob.get_by_label("Details (optional)").fill("这是卖粉丝的广告")
    bob.get_by_role("button", name="Send report").click()
    expect(bob.get_by_text("My reports").first).to_be_visible()

    # Mei finds it at the top of the queue and removes it under the spam rule.
    mei.goto("/moderation/")
    mei.get_by_role("link", name="Case", exact=False).first.click()
    expect(mei.get_by_text("这是卖粉丝的广告")).to_be_visible()
    mei.get_by_label("Action").select_option("remove")
    mei.get_by_label("Rule", exact=True).select_option(label="spam: No spam or fake engagement")
    mei.get_by_label("Explanation for the member").fill("Selling followers breaks the spam rule.")
    mei.get_by_role("button", name="Record the decision").click()
    bob.goto(note_url)
    expect(bob.get_by_role("heading", name="Cheap followers here")).to_have_count(0)

    # Alice reads why, in Chinese once she chooses it, and appeals.
    alice.goto("/settings")
    alice.get_by_label("Language").select_option("zh-Hans")
    alice.get_by_role("button", name="Save").click()
    alice.goto("/me/decisions")
    expect(alice.get_by_text("禁止垃圾信息和虚假互动").first).to_be_visible()
    expect(alice.get_by_text("Selling followers breaks the spam rule.")).to_be_visible()
    alice.locator(".appeal-form textarea").fill("This is my own shop, not bought followers.")
    alice.locator(".appeal-form button[type=submit]").click()
    expect(alice.locator(".appeal-status")).to_be_visible()

    # Mei decided it, so she may not decide the appeal; Max reverses it.
    mei.goto("/moderation/appeals")
    expect(mei.get_by_text("another moderator must decide it")).to_be_visible()
    max_.goto("/moderation/appeals")
    max_.get_by_label("Reverse it and restore the item").check()
    max_.get_by_label("Explanation for the member").fill("Selling your own goods is allowed.")
    max_.get_by_role("button", name="Decide the appeal").click()
    bob.goto(note_url)
    expect(bob.get_by_role("heading", name="Cheap followers here")).to_be_visible()

    max_.goto("/moderation/audit")
    log = max_.locator("main")
    for step in ("report.filed", "decision.remove", "appeal.filed", "appeal.reversed"):
        expect(log).to_contain_text(step)
