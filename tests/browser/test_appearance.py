"""What people see: every main page passes axe-core (colour contrast included) in the light
and the dark scheme, menus stay on a phone's screen, and the phone's space strip shows that it
scrolls and reaches every space. Pages run on the test database (`live_server`), filled
through the actions, so each check starts from a known world in seconds."""

from __future__ import annotations

import time

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE
from tests.browser.test_journeys import accessibility_violations
from tidings.recordings.tests.factories import posted_recording, webm_bytes
from tidings.threads import actions as thread_actions
from tidings.threads.models import Thread
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


# The test database is filled between browser steps: first thing, before `world`.
pytestmark = pytest.mark.usefixtures("orm_beside_playwright")


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


def test_main_pages_pass_axe_in_light_and_dark(live_server, world, harbour, page_for) -> None:
    problems = {}
    for scheme in SCHEMES:
        for viewport in (DESKTOP, PHONE):
            width = viewport["width"]
            signed_out = page_for(None, viewport=viewport, scheme=scheme)
            signed_out.goto(live_server.url + "/sign-in")
            shoot(signed_out, f"appearance-sign-in-{width}-{scheme}")
            problems[f"sign-in {width} {scheme}"] = accessibility_violations(signed_out)
            page = page_for(world.owner, viewport=viewport, scheme=scheme)
            for name, path in harbour.items():
                response = page.goto(live_server.url + path)
                assert response is not None and response.status == 200, path
                if name == "thread":
                    # The transcript loads when it scrolls into view.
                    page.locator(".transcript").scroll_into_view_if_needed()
                    expect(page.locator(".transcript-body")).to_be_visible()
                shoot(page, f"appearance-{name}-{width}-{scheme}")
                problems[f"{name} {width} {scheme}"] = accessibility_violations(page)
    assert {where: found for where, found in problems.items() if found} == {}


def open_panel(page: Page, summary) -> dict:
    """Open a <details> menu by its summary; return its panel's box once scrolled into view."""
    summary.scroll_into_view_if_needed()
    summary.click()
    panel = summary.locator("xpath=..").locator(":scope > :not(summary)").first
    expect(panel).to_be_visible()
    panel.scroll_into_view_if_needed()
    return panel.bounding_box()


def off_screen(box: dict, viewport: dict) -> bool:
    """Whether any of the box lies outside the viewport (beyond a pixel of rounding)."""
    return (
        box["x"] < -1
        or box["y"] < -1
        or box["x"] + box["width"] > viewport["width"] + 1
        or box["y"] + box["height"] > viewport["height"] + 1
    )


def test_menus_stay_on_a_phone_screen(live_server, world, harbour, page_for) -> None:
    reply_to(Thread.objects.get(title="Harbour lamps plan"), world.owner, body="Noted.")
    page = page_for(world.owner, viewport=PHONE)
    page.goto(live_server.url + harbour["thread"])
    expect(page.locator("[data-recorder]")).to_be_visible()
    menus = {"account": page.locator(".topbar .avatar")}
    for index, post in enumerate(page.locator("article.post").all()):
        for name, summary in (
            ("remind", post.locator(".remind-menu > summary")),
            ("ask", post.locator(".ask-menu > summary")),
            ("delete", post.locator(".confirm > summary")),
            ("react", post.locator(".reaction-picker > summary")),
        ):
            if summary.count():
                menus[f"{name} on post {index}"] = summary
    menus["record"] = page.locator(".recorder-menu > summary")
    menus["send later"] = page.locator(".send-later > summary")
    assert {"remind on post 0", "ask on post 0", "delete on post 3", "react on post 2"} <= set(
        menus
    )
    outside = {}
    for name, summary in menus.items():
        box = open_panel(page, summary)
        if off_screen(box, PHONE):
            outside[name] = box
        summary.click()  # closes it again
    shoot(page, "appearance-menus-390-light")

    page.goto(live_server.url + harbour["inbox"])
    snooze = page.locator(".snooze-menu > summary").first
    box = open_panel(page, snooze)
    if off_screen(box, PHONE):
        outside["snooze"] = box
    shoot(page, "appearance-snooze-390-light")
    assert outside == {}, outside


def test_phone_space_strip_shows_it_scrolls_and_reaches_every_space(
    live_server, world, page_for
) -> None:
    names = [f"Harbour crew {number:02d}" for number in range(1, 26)]
    for name in names:
        thread_actions.create_space(world.member, world.workspace, name=name)
    page = page_for(world.member, viewport=PHONE, scheme="dark")
    page.goto(live_server.url + f"/w/{world.workspace.slug}/")
    strip = page.get_by_role("navigation", name=world.workspace.name)
    overflow = strip.evaluate("(nav) => nav.scrollWidth - nav.clientWidth")
    assert overflow > 0
    # The far edge fades while more lies beyond it, and stops fading at the end.
    assert strip.evaluate("(nav) => getComputedStyle(nav).maskImage") != "none"
    assert settled_fades(strip) == {"start": "0px", "end": "40px"}
    shoot(page, "appearance-space-strip-390-dark")
    for name in ["General", *names]:
        link = strip.get_by_role("link", name=name, exact=True)
        link.scroll_into_view_if_needed()
        assert not off_screen(link.bounding_box(), PHONE), name
        link.click(trial=True)
    strip.evaluate("(nav) => nav.scrollTo(nav.scrollWidth, 0)")
    expect(strip).to_have_js_property("scrollLeft", overflow)
    assert settled_fades(strip) == {"start": "40px", "end": "0px"}
    shoot(page, "appearance-space-strip-end-390-dark")


def settled_fades(strip, seconds: float = 5) -> dict[str, str]:
    """The fades once they stop moving: they ease in and out, so a read while the strip
    scrolls or a busy machine paints late can land half-way."""
    deadline = time.monotonic() + seconds
    now = fades(strip)
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now, before = fades(strip), now
        if now == before and all(v in ("0px", "40px") for v in now.values()):
            break
    return now


def fades(strip) -> dict[str, str]:
    """How far the strip's start and end edges fade, as computed now."""
    return strip.evaluate(
        """(nav) => { const style = getComputedStyle(nav); return {
            start: style.getPropertyValue("--strip-fade-start"),
            end: style.getPropertyValue("--strip-fade-end") }; }"""
    )
