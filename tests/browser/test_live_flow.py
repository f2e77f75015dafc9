"""A live room across two server processes sharing Redis: an English host on one, a
Chinese-speaking member on the other, each reading the other's chat in their own language."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import PHONE, STARTUP_SECONDS, _healthy, _run
from tests.browser.members import PASSWORD
from tests.language.translation_double import TranslationDouble, serve
from tests.servers import free_port

pytestmark = pytest.mark.browser

REDIS_URL = os.environ.get("PAPERCRANE_TEST_LIVE_REDIS_URL", "redis://127.0.0.1:6379/6")


@pytest.fixture(scope="module")
def translation_double() -> Iterator[TranslationDouble]:
    yield from serve()


@pytest.fixture(scope="module")
def two_servers(
    tmp_path_factory: pytest.TempPathFactory, translation_double: TranslationDouble
) -> Iterator[tuple[str, str]]:
    """Two ``papercrane serve`` processes on one data dir (SQLite) and one Redis database,
    with LibreTranslate (the test double) as the translation provider."""
    try:
        redis.Redis.from_url(REDIS_URL).flushdb()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    data_dir = tmp_path_factory.mktemp("papercrane-live")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        PAPERCRANE_DATA_DIR=str(data_dir),
        PYTHONUNBUFFERED="1",
        REDIS_URL=REDIS_URL,
        PAPERCRANE_TRANSLATION_PROVIDERS="libretranslate",
        PAPERCRANE_LIBRETRANSLATE_URL=translation_double.url,
        PAPERCRANE_TRANSLATION_RETRIES="0",
    )
    papercrane = str(Path(sys.executable).with_name("papercrane"))
    _run([papercrane, "migrate", "--noinput"], env, data_dir)
    _run([papercrane, "collectstatic", "--noinput"], env, data_dir)

    processes: list[tuple[subprocess.Popen[bytes], Path]] = []
    urls = []
    try:
        for name in ("a", "b"):
            port = free_port()
            log_path = data_dir / f"serve-{name}.log"
            with log_path.open("w") as log:
                command = [papercrane, "serve", "--no-worker", "--host", "127.0.0.1"]
                process = subprocess.Popen(
                    [*command, "--port", str(port)],
                    env=env,
                    cwd=data_dir,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            processes.append((process, log_path))
            urls.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + STARTUP_SECONDS
        for url, (process, log_path) in zip(urls, processes, strict=True):
            while not _healthy(f"{url}/healthz"):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"{url} did not start:\n{log_path.read_text(errors='replace')}")
                time.sleep(0.2)
        yield urls[0], urls[1]
    finally:
        for process, _log in processes:
            process.terminate()
        for process, _log in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


@pytest.fixture
def context_on(browser: Browser) -> Iterator[Callable[[str], BrowserContext]]:
    made: list[BrowserContext] = []

    def make(base_url: str) -> BrowserContext:
        fresh = browser.new_context(base_url=base_url, locale="en-US", viewport=PHONE)
        fresh.set_default_timeout(10_000)
        made.append(fresh)
        return fresh

    yield make
    for fresh in made:
        fresh.close()


def sign_up(page: Page, username: str, language: str) -> None:
    page.goto("/signup")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Language", exact=True).select_option(language)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"/@{username}")


def test_a_room_is_read_across_two_servers_each_in_its_own_language(
    two_servers: tuple[str, str], context_on: Callable[[str], BrowserContext]
) -> None:
    server_a, server_b = two_servers
    suffix = os.urandom(3).hex()

    host = context_on(server_a).new_page()
    sign_up(host, f"host_{suffix}", "en")
    host.goto("/live")
    host.get_by_label("Title", exact=True).fill("Sunday dumpling class")
    host.get_by_role("button", name="Open the room").click()
    expect(host.locator("h1.live-title")).to_have_text("Sunday dumpling class")
    host.get_by_role("button", name="Go live").click()
    expect(host.locator("[data-live-status]")).to_have_text("Live")
    expect(host.locator("[data-live-room][data-connected]")).to_be_attached()
    room_path = host.url.removeprefix(server_a)

    member = context_on(server_b).new_page()
    sign_up(member, f"mei_{suffix}", "zh-Hans")
    member.goto(room_path)
    expect(member.locator("h1.live-title")).to_have_text("Sunday dumpling class")
    expect(member.locator("[data-live-room][data-connected]")).to_be_attached()
    expect(member.locator("html")).to_have_attribute("lang", "zh-Hans")

    greeting = "大家好，我是来学包饺子的"
    member.locator("[data-live-send] input[name=text]").fill(greeting)
    member.locator("[data-live-send] input[name=text]").press("Enter")
    mine = member.locator("[data-live-chat] .live-message", has_text=greeting)
    expect(mine.locator(".live-message-text")).to_have_text(greeting)

    theirs = host.locator("[data-live-chat] .live-message", has_text=greeting)
    expect(theirs.locator(".live-message-text")).to_have_text(greeting, timeout=15_000)
    expect(theirs.locator(".live-message-translation")).to_contain_text(f"[en] {greeting}")
    expect(theirs.locator(".live-message-translation")).to_have_attribute("lang", "en")

    welcome = "Welcome everyone, today we are making dumplings together"
    host.locator("[data-live-send] input[name=text]").fill(welcome)
    host.get_by_role("button", name="Send").click()
    expect(host.locator("[data-live-chat] .live-message", has_text=welcome)).to_be_visible()

    heard = member.locator("[data-live-chat] .live-message", has_text=welcome)
    expect(heard.locator(".live-message-text")).to_have_text(welcome, timeout=15_000)
    expect(heard.locator(".live-message-translation")).to_contain_text(
        "[zh] WELCOME EVERYONE, TODAY WE ARE MAKING DUMPLINGS TOGETHER"
    )
    expect(heard.locator(".live-message-translation")).to_have_attribute("lang", "zh-Hans")
    expect(heard.locator(".live-role")).to_be_visible()  # the host's message says so
