"""Browser journeys run against a real `tidings serve` (the `server` fixture), driven by
Debian's Chromium through Playwright. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
# Debian's package; Ubuntu's is called chromium-browser.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    """Open a page in a fresh browser context (its own cookies); closes them all afterwards."""
    contexts = []

    def open_page(viewport: dict | None = None):
        context = browser.new_context(viewport=viewport or DESKTOP)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def snap(page, name: str) -> None:
    """Save a desktop and a 390 px phone screenshot of the current page."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    # From the top, so a sticky header is not painted over the middle of a full-page shot.
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(ARTIFACTS / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(original)


@pytest.fixture(scope="module")
def orm_beside_playwright() -> Iterator[None]:
    """For tests that fill the test database between browser steps (with `live_server`):
    Playwright's sync API keeps an event loop in this thread, and those database calls (and the
    test database's teardown) are not async code."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def page_for(browser, live_server, orm_beside_playwright):
    """page_for(person, viewport=, scheme=, javascript=): a page on the `live_server` in its own
    browser context, signed in as `person` (None: signed out). Every context closes after the test,
    so no page of it goes on polling the server once the test database is gone."""
    from django.conf import settings
    from django.test import Client

    contexts = []
    # One session per person and test, shared by their pages as by a browser's tabs: signing in
    # writes the session table, which the shared in-memory SQLite test database locks instead
    # of waiting while the live server reads it for the pages already open.
    sessions: dict[int, str] = {}

    def open_page(person, *, viewport: dict, scheme: str = "light", javascript: bool = True):
        context = browser.new_context(
            viewport=viewport, color_scheme=scheme, java_script_enabled=javascript
        )
        contexts.append(context)
        context.set_default_timeout(10_000)
        if person is not None:
            if person.pk not in sessions:
                client = Client()
                client.force_login(person)
                sessions[person.pk] = client.cookies[settings.SESSION_COOKIE_NAME].value
            context.add_cookies(
                [
                    {
                        "name": settings.SESSION_COOKIE_NAME,
                        "value": sessions[person.pk],
                        "url": live_server.url,
                    }
                ]
            )
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
