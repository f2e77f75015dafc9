"""A member's first visit, end to end in a real browser against the real server."""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, ConsoleMessage, Error, Page, expect

pytestmark = pytest.mark.browser

PASSWORD = "paper-crane-flies-2026"
ZH_NAME = "纸鹤测试员"
ZH_BIO = "住在上海，喜欢拍街角的咖啡馆。I post photo notes in Chinese and English."
ZH_NAV = ["发现", "搜索", "发布", "消息", "我"]
SCREENSHOT_COPY = Path("/tmp/papercrane-profile-zh.png")  # noqa: S108 (meant for a human to open)


def _make_png(path: Path) -> Path:
    """A small, real PNG: a colour gradient, so it is not trivially blank."""
    image = Image.new("RGB", (96, 96))
    image.putdata([(x * 2, y * 2, 160) for y in range(96) for x in range(96)])
    image.save(path, format="PNG")
    return path


def _log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()


def _expect_chinese_ui(page: Page) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    nav = page.get_by_role("navigation", name="主导航")
    for label in ZH_NAV:
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()


def test_signup_login_switch_to_chinese_and_edit_profile(
    page: Page,
    new_context: Callable[[], BrowserContext],
    server: str,
    tmp_path: Path,
) -> None:
    """Sign up, log out and in, switch to Chinese, edit the profile with an avatar; the saved
    language then beats the browser's English Accept-Language on a fresh login."""
    username = f"flow_{secrets.token_hex(4)}"

    # Sign up in English and land on the new profile.
    page.goto("/signup")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Display name", exact=True).fill("Flow Tester")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    expect(page.get_by_label("Language", exact=True)).to_have_value("en")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"{server}/@{username}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Flow Tester")

    # Log out, then back in.
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{server}/")
    expect(page.get_by_role("link", name="Log in", exact=True)).to_be_visible()
    _log_in(page, username)
    expect(page).to_have_url(f"{server}/")
    expect(page.get_by_role("link", name="Profile", exact=True)).to_be_visible()

    # Switch the interface to Chinese from the header.
    page.get_by_role("button", name="中文").click()
    _expect_chinese_ui(page)
    expect(page.get_by_role("button", name="中文")).to_have_attribute("aria-pressed", "true")

    # Edit the profile in Chinese.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我", exact=True).click()
    expect(page).to_have_url(f"{server}/@{username}")
    page.get_by_role("link", name="编辑资料").click()
    expect(page).to_have_url(f"{server}/settings")
    expect(page.get_by_label("语言", exact=True)).to_have_value("zh-Hans")
    page.get_by_label("显示名称", exact=True).fill(ZH_NAME)
    page.get_by_label("简介", exact=True).fill(ZH_BIO)
    page.get_by_label("头像", exact=True).set_input_files(_make_png(tmp_path / "avatar.png"))
    page.get_by_label("时区", exact=True).select_option("Asia/Shanghai")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page).to_have_url(f"{server}/settings")
    expect(page.get_by_role("status")).to_contain_text("个人资料已保存。")

    # The public profile shows the new name, bio and avatar.
    page.goto(f"/@{username}")
    expect(page.get_by_role("heading", level=1)).to_have_text(ZH_NAME)
    expect(page.locator(".profile-bio")).to_have_text(ZH_BIO)
    avatar = page.locator("img.avatar")
    expect(avatar).to_have_count(1)
    expect(avatar).to_be_visible()
    assert avatar.evaluate("img => img.complete && img.naturalWidth > 0"), "avatar did not load"
    _expect_chinese_ui(page)
    screenshot = tmp_path / "profile-zh.png"
    page.screenshot(path=screenshot, full_page=True)
    shutil.copyfile(screenshot, SCREENSHOT_COPY)

    # A new English-speaking browser: after logging in, the saved preference wins.
    again = new_context().new_page()
    again.goto("/login")
    expect(again.locator("html")).to_have_attribute("lang", "en")  # anonymous: English
    _log_in(again, username)
    expect(again).to_have_url(f"{server}/")
    _expect_chinese_ui(again)
    again.goto("/settings")
    expect(again.get_by_label("时区", exact=True)).to_have_value("Asia/Shanghai")


def test_signup_errors_are_shown_in_place(page: Page, server: str) -> None:
    """A reserved username and a weak password are reported on the form, not as a crash."""
    page.goto("/signup")
    page.get_by_label("Username", exact=True).fill("admin")
    page.get_by_label("Password", exact=True).fill("123")
    with page.expect_response(
        lambda response: response.request.method == "POST" and response.url.endswith("/signup")
    ) as posted:
        page.get_by_role("button", name="Create account").click()
    assert posted.value.status < 500
    expect(page).to_have_url(f"{server}/signup")
    expect(page.get_by_role("heading", level=1)).to_have_text("Join Papercrane")
    username_field = page.locator(".field", has=page.get_by_label("Username", exact=True))
    expect(username_field.get_by_role("alert")).to_have_text("This username is reserved.")
    password_field = page.locator(".field", has=page.get_by_label("Password", exact=True))
    expect(password_field.get_by_role("alert").first).to_be_visible()
    expect(password_field).to_have_class(re.compile(r"\bfield-invalid\b"))


def test_pages_have_no_console_errors_and_respect_csp(page: Page) -> None:
    """Public pages load without script errors or CSP violations and fit a phone's width."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"{page.url}: console error: {message.text}")

    def on_page_error(error: Error) -> None:
        problems.append(f"{page.url}: page error: {error}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)

    for path in ["/", "/signup", "/login", "/api/v1/docs"]:
        response = page.goto(path, wait_until="networkidle")
        assert response is not None
        assert response.status == 200, f"{path} answered {response.status}"
        csp = response.header_value("content-security-policy") or ""
        assert "script-src 'self'" in csp, f"{path} has no strict CSP: {csp!r}"
        if path == "/api/v1/docs":
            expect(page.get_by_role("heading", name=re.compile("Papercrane API"))).to_be_visible()
        if path in {"/", "/signup"}:
            widths = page.evaluate(
                "() => [document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert widths[0] <= widths[1], f"{path} overflows horizontally: {widths}"

    assert problems == []
