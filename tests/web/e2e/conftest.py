"""End-to-end fixtures: the app served on a local port, driven by Debian's Chromium
through Playwright. Screenshots go to ``var/e2e-screenshots/`` (an artifact of the run,
not committed)."""

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "e2e-screenshots"
#: Without these, Chromium keeps calling home on a machine with no internet.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    """The test app on 127.0.0.1, in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = os.environ.get("CUSTCLASS_CHROMIUM", "/usr/bin/chromium")
    if not Path(executable).exists():
        if os.environ.get("CUSTCLASS_REQUIRE_POSTGRES"):
            pytest.fail(f"Chromium not found at {executable} (scripts/browser.sh installs it)")
        pytest.skip("Chromium not installed (run through scripts/test.sh)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context (no cookies) per test; console errors fail the test."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    context.set_default_timeout(20_000)
    opened = context.new_page()
    errors: list[str] = []
    # A refused page (403) is logged by the browser as a failed resource: tests check
    # statuses themselves; script errors and server errors always fail the test.
    opened.on("console", lambda message: errors.append(message.text)
              if message.type == "error" and "Failed to load resource" not in message.text
              else None)
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("response", lambda response: errors.append(f"{response.status} {response.url}")
              if response.status >= 500 else None)
    yield opened
    context.close()
    assert not errors, f"browser errors: {errors}"


@pytest.fixture
def shoot(page: Page, backend: str) -> Callable[[str], None]:
    """``shoot(name)``: the whole page as ``var/e2e-screenshots/<backend>-<name>.png``."""
    def save(name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{backend}-{name}.png"), full_page=True)
    return save
