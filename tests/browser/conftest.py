"""Playwright on Debian's Chromium (never a downloaded browser). A test that needs it skips on
a laptop without /usr/bin/chromium and fails under CI=true."""

import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

from tests.conftest import need_service

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 360, "height": 740}


# Chromium asks for /favicon.ico by itself; the app has none yet (reported to the lead). It is
# the only failed load that is tolerated.
TOLERATED_FAILED_PATHS: set[str] = set()


@dataclass
class BrowserLog:
    """What the page said on the console and what failed to load: a clean page leaves these
    empty. A failed load is recorded with its URL (Chromium's console message has none)."""

    errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    failed_loads: list[str] = field(default_factory=list)

    def console(self, message) -> None:
        text = message.text
        if "Content Security Policy" in text:
            self.csp_violations.append(text)
        if message.type == "error" and not text.startswith("Failed to load resource"):
            self.errors.append(text)

    def page_error(self, error) -> None:
        self.errors.append(f"uncaught: {error}")

    def response(self, response) -> None:
        path = urlsplit(response.url).path
        if response.status >= 400 and path not in TOLERATED_FAILED_PATHS:
            self.failed_loads.append(f"{response.status} {response.request.method} {path}")

    def request_failed(self, request) -> None:
        path = urlsplit(request.url).path
        if path not in TOLERATED_FAILED_PATHS:
            self.failed_loads.append(f"{request.failure} {request.method} {path}")

    def attach(self, page) -> None:
        page.on("console", self.console)
        page.on("pageerror", self.page_error)
        page.on("response", self.response)
        page.on("requestfailed", self.request_failed)

    def assert_clean(self) -> None:
        assert not self.csp_violations, self.csp_violations
        assert not self.errors, self.errors
        assert not self.failed_loads, self.failed_loads


@pytest.fixture(autouse=True)
def _allow_async_unsafe(monkeypatch):
    """Playwright's sync API keeps an event loop in the main thread, where Django's ORM (the
    fixtures, the database flush) would otherwise refuse to run. Autouse, so it is set first
    and undone last."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser():
    need_service("Chromium", os.path.exists(CHROMIUM), f"install Debian's chromium ({CHROMIUM})")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a dev dependency
        need_service("Playwright", False, "install the dev extra (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def phone(browser, live_server, transactional_db):
    """A fresh phone-sized page and the log of its console; the base URL is the live server."""
    context = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    log = BrowserLog()
    log.attach(page)
    try:
        yield page, log
    finally:
        context.close()
