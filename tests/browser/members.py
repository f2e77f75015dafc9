"""Members made through the signup page, each in a browser context of their own."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

PASSWORD = "paper-crane-flies-2026"


def sign_up(new_context: Callable[[], BrowserContext], prefix: str) -> tuple[Page, str]:
    """A new member signed in on a page of their own, and their username."""
    page = new_context().new_page()
    username = f"{prefix}_{secrets.token_hex(3)}"
    page.goto("/signup")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"/@{username}")
    return page, username
