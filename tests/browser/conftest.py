"""Browser fixtures: the real ``papercrane serve`` in a fresh data dir, driven by headless Chromium.

These tests talk to the server over HTTP only, so they never need pytest-django's database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)

from tests.servers import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
STARTUP_SECONDS = 30
COMMAND_SECONDS = 120
SERVER_LOG = pytest.StashKey[Path]()
SERVER_ENV = pytest.StashKey[dict[str, str]]()


def _server_env(data_dir: Path) -> dict[str, str]:
    """The caller's environment, pointed at a fresh data dir and always embedded SQLite."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["PAPERCRANE_DATA_DIR"] = str(data_dir)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _run(command: list[str], env: dict[str, str], cwd: Path) -> None:
    result = subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=COMMAND_SECONDS
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} exited {result.returncode}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
        )


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own server)
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Migrate, collect static and serve the app as a user would; yield its base URL."""
    data_dir = tmp_path_factory.mktemp("papercrane-data")
    log_path = data_dir / "serve.log"
    request.config.stash[SERVER_LOG] = log_path
    papercrane = str(Path(sys.executable).with_name("papercrane"))
    env = _server_env(data_dir)
    request.config.stash[SERVER_ENV] = env
    _run([papercrane, "migrate", "--noinput"], env, data_dir)
    _run([papercrane, "collectstatic", "--noinput"], env, data_dir)

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [
        papercrane,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]  # with its task worker, as make demo runs it
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, env=env, cwd=data_dir, stdout=log, stderr=subprocess.STDOUT
        )

    def output() -> str:
        return log_path.read_text(errors="replace")

    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(f"{base_url}/healthz"):
            if process.poll() is not None:
                pytest.fail(f"papercrane serve exited {process.returncode}:\n{output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"/healthz was not 200 within {STARTUP_SECONDS}s:\n{output()}")
            time.sleep(0.2)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture
def papercrane_command(request: pytest.FixtureRequest, server: str) -> Callable[..., None]:
    """Run a ``papercrane`` command against the served site's data, as its operator would."""
    env = request.config.stash[SERVER_ENV]
    papercrane = str(Path(sys.executable).with_name("papercrane"))

    def run(*arguments: str) -> None:
        _run([papercrane, *arguments], env, Path(env["PAPERCRANE_DATA_DIR"]))

    return run


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the server's log to a failing browser test's report."""
    report = yield
    log = item.config.stash.get(SERVER_LOG, None)
    if report.failed and log is not None and log.exists():
        tail = log.read_text(errors="replace")[-20_000:]
        report.sections.append(("papercrane serve output", tail))
    return report


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One headless Debian Chromium for the whole session (never a downloaded browser)."""
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def new_context(browser: Browser, server: str) -> Iterator[Callable[[], BrowserContext]]:
    """Make fresh, cookie-less, phone-sized contexts speaking US English; closed after the test."""
    made: list[BrowserContext] = []

    def make() -> BrowserContext:
        fresh = browser.new_context(base_url=server, locale="en-US", viewport=PHONE)
        fresh.set_default_timeout(10_000)
        made.append(fresh)
        return fresh

    yield make
    for fresh in made:
        fresh.close()


@pytest.fixture
def page(new_context: Callable[[], BrowserContext]) -> Page:
    """A page in this test's own fresh context (see ``new_context``)."""
    return new_context().new_page()
