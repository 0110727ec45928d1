"""A picture in a post that points at another thread is shown as a link, and even a picture
request the browser makes for that thread's address (as an email or another site could)
leaves it unread: only opening the thread marks it read."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from playwright.sync_api import Page, expect

from tests.browser.conftest import snap
from tests.browser.test_journeys import (
    accept_invite,
    create_space,
    invite,
    post_thread,
    set_up_owner,
    submit_setup,
)

LOAD_PICTURE = """(src) => new Promise((done) => {
    const picture = new Image();
    picture.onload = picture.onerror = () => done(true);
    picture.src = src;
    document.body.append(picture);
})"""


def unread_item(page: Page, base_url: str, title: str):
    page.goto(base_url + "/inbox/")
    return page.locator(".inbox-item", has_text=title)


def test_a_picture_never_marks_a_thread_read(server, new_page) -> None:
    owner = set_up_owner(new_page, server)
    submit_setup(owner)
    create_space(owner, "Pier")
    member = accept_invite(new_page, invite(owner, "mia@example.com"), "Mia Member")
    target = post_thread(member, "Pier", "Budget for the pier", "Check the figures, @olivia.")
    target_path = urlparse(target).path
    bait = post_thread(
        member,
        "Pier",
        "Pier photos",
        f"The chart: ![Budget chart]({target_path})\n\n"
        "The view: ![Pier at dusk](https://photos.example.test/pier.jpg)",
    )

    item = unread_item(owner, server.base_url, "Budget for the pier")
    expect(item).to_be_visible(timeout=20_000)  # the worker files the mention
    expect(item).to_have_class(re.compile(r"\bis-unread\b"))

    owner.goto(bait)
    body = owner.locator(".post-opening .post-body")
    expect(body.get_by_role("link", name="Budget chart")).to_have_attribute("href", target_path)
    expect(body.get_by_role("link", name="Pier at dusk")).to_be_visible()
    expect(body.locator("img")).to_have_count(0)
    for scheme in ("light", "dark"):
        owner.emulate_media(color_scheme=scheme)
        snap(owner, f"pictures-in-posts-{scheme}")
    owner.emulate_media(color_scheme="light")
    # The browser fetches the thread's address as a picture (Sec-Fetch-Dest: image).
    assert owner.evaluate(LOAD_PICTURE, target_path)

    item = unread_item(owner, server.base_url, "Budget for the pier")
    expect(item).to_have_class(re.compile(r"\bis-unread\b"))

    owner.goto(bait)
    owner.get_by_role("link", name="Budget chart").click()
    expect(owner.get_by_role("heading", level=1, name="Budget for the pier")).to_be_visible()
    item = unread_item(owner, server.base_url, "Budget for the pier")
    expect(item).not_to_have_class(re.compile(r"\bis-unread\b"))
