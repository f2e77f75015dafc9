"""A member reads "Your data", turns personalization and location off, downloads an export
another service could import, and deletes the account."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.members import PASSWORD, sign_up

pytestmark = pytest.mark.browser


def test_your_data_export_and_deletion(new_context: Callable[[], BrowserContext]) -> None:
    page, _name = sign_up(new_context, "dana")
    page.goto("/post")
    page.get_by_label("Title", exact=True).fill("My first hotpot 火锅")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("heading", name="My first hotpot 火锅")).to_be_visible()

    page.goto("/settings")
    page.get_by_label("City for Nearby").fill("")
    page.get_by_label("Personalized Explore").uncheck()
    page.get_by_role("button", name="Save").click()
    page.goto("/settings")
    expect(page.get_by_label("Personalized Explore")).not_to_be_checked()

    page.goto("/me/data")
    expect(page.get_by_role("heading", name="Notes and photos")).to_be_visible()
    expect(page.get_by_role("heading", name="Sign-ins, sessions and API tokens")).to_be_visible()
    page.get_by_role("button", name="Request my data").click()
    download_link = page.get_by_role("link", name="Download")
    for _attempt in range(30):  # the worker beside the server builds it in the background
        if download_link.count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    with page.expect_download() as downloaded:
        download_link.first.click()
    archive = zipfile.ZipFile(downloaded.value.path())
    outbox = json.loads(archive.read("outbox.json"))
    assert outbox["type"] == "OrderedCollection"
    assert any(item["object"]["name"] == "My first hotpot 火锅" for item in outbox["orderedItems"])
    assert "index.html" in archive.namelist()

    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    expect(page.locator(".notice", has_text="Your account will be erased on")).to_be_visible()
    page.get_by_role("button", name="Keep my account").click()
    expect(page.get_by_role("button", name="Delete my account")).to_be_visible()
