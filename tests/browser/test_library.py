"""The library in real Chromium: two walkthroughs posted from the space page, found in the
library by search, gathered in a collection, put in order, shared to a space and watched in
that order by a teammate, on a desktop and on a phone."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, snap
from tests.browser.test_journeys import (
    accept_invite,
    create_space,
    invite,
    open_space,
    set_up_owner,
    submit_setup,
)

# The background worker makes posters after the post; pages show them on the next load.
PROCESSING = 60_000


def post_walkthrough(page: Page, space: str, title: str, clip: Path) -> None:
    """From the space page: "New walkthrough", upload a file, give it a title, post."""
    open_space(page, space)
    page.get_by_role("link", name="New walkthrough").click()
    expect(page.get_by_role("heading", level=1, name="New walkthrough")).to_be_visible()
    recorder = page.locator("[data-recorder]")
    # The recorder's menu is already open: one click picks the source.
    with page.expect_file_chooser() as chooser:
        recorder.get_by_role("button", name="Upload a file…").click()
    chooser.value.set_files(str(clip))
    expect(recorder.locator(".recorder-upload-state")).to_have_text("All saved", timeout=20_000)
    page.get_by_label("Title").fill(title)
    page.get_by_role("button", name="Post thread").click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()


def open_library(page: Page) -> None:
    page.get_by_role("navigation", name="Harbour Works").get_by_role("link", name="Library").click()
    expect(page.get_by_role("heading", level=1, name="Library")).to_be_visible()


def card(page: Page, title: str):
    return page.locator("li.rec-card", has=page.get_by_role("link", name=title, exact=True))


def wait_for_posters(page: Page, count: int) -> None:
    """Reload the library until the worker has made every poster."""
    for _ in range(PROCESSING // 1000):
        if page.locator("li.rec-card .rec-thumb img").count() >= count:
            break
        page.wait_for_timeout(1000)
        page.reload()
    expect(page.locator("li.rec-card .rec-thumb img")).to_have_count(count)
    page.wait_for_function("() => [...document.images].every((i) => i.complete && i.naturalWidth)")


def add_to_collection(page: Page, title: str, *, new: str = "", existing: str = "") -> None:
    item = card(page, title)
    item.get_by_text("Add to collection").click()
    if new:
        item.get_by_label(re.compile("new collection", re.I)).fill(new)
    else:
        item.get_by_label("Collection", exact=True).select_option(label=existing)
    item.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status")).to_contain_text(f"Added to “{new or existing}”")


def order_of(page: Page) -> list[str]:
    return page.locator(".collection-item .rec-title").all_inner_texts()


def test_library_and_collections(server, new_page, tmp_path: Path) -> None:
    from tidings.recordings.tests.factories import webm_bytes

    owner = set_up_owner(new_page, server)
    submit_setup(owner)
    create_space(owner, "Lighthouse")
    link = invite(owner, "mina@example.com")

    clips = {}
    for name, seconds in (("tour", 3), ("drill", 2)):
        clips[name] = tmp_path / f"{name}.webm"
        clips[name].write_bytes(webm_bytes(seconds, size=(320, 180)))
    open_space(owner, "Lighthouse")
    owner.get_by_role("link", name="New walkthrough").click()
    expect(owner.locator(".recorder-menu")).to_have_attribute("open", "")
    snap(owner, "lib-01-new-walkthrough")
    post_walkthrough(owner, "Lighthouse", "Tour of the harbour", clips["tour"])
    post_walkthrough(owner, "Lighthouse", "Safety drill at the pier", clips["drill"])
    open_space(owner, "Lighthouse")
    walkthrough_badges = owner.locator(".thread-row .badge-walkthrough")
    expect(walkthrough_badges).to_have_count(2)
    expect(walkthrough_badges.first).to_contain_text("🎬")

    # The library: both recordings as cards, with posters once processed.
    open_library(owner)
    wait_for_posters(owner, 2)
    expect(card(owner, "Tour of the harbour")).to_contain_text("0:03")
    expect(card(owner, "Tour of the harbour")).to_contain_text("No viewers yet")
    snap(owner, "lib-02-library")

    owner.get_by_label("Search by title").fill("drill")
    owner.get_by_role("button", name="Show").click()
    expect(owner.locator("li.rec-card")).to_have_count(1)
    expect(owner.get_by_role("status")).to_contain_text("1 recording match “drill”")
    owner.get_by_label("Search by title").fill("")
    owner.get_by_label("Sort").select_option("title")
    owner.get_by_role("button", name="Show").click()
    expect(owner.locator("li.rec-card .rec-title")).to_have_text(
        ["Safety drill at the pier", "Tour of the harbour"]
    )

    # A collection made from a card, a second recording added to it.
    add_to_collection(owner, "Tour of the harbour", new="Onboarding")
    add_to_collection(owner, "Safety drill at the pier", existing="Onboarding")
    owner.get_by_role("link", name="Collections").first.click()
    expect(owner.get_by_role("heading", level=1, name="Collections")).to_be_visible()
    snap(owner, "lib-03-collections")
    owner.get_by_role("link", name="Onboarding").click()
    expect(owner.get_by_role("heading", level=1, name="Onboarding")).to_be_visible()
    assert order_of(owner) == ["Tour of the harbour", "Safety drill at the pier"]

    # Reorder by hand: the drill goes first; focus stays on the button that moved it.
    move_up = owner.get_by_role("button", name="Move “Safety drill at the pier” up")
    move_up.click()
    expect(owner.locator(".collection-item .rec-title").first).to_have_text(
        "Safety drill at the pier"
    )
    expect(owner.locator("#collection-status")).to_have_text(
        "“Safety drill at the pier” is now number 1 of 2."
    )
    expect(move_up).to_be_focused()
    owner.reload()
    assert order_of(owner) == ["Safety drill at the pier", "Tour of the harbour"]

    # Share it to the space.
    owner.get_by_text("Share", exact=True).click()
    owner.get_by_label("Show this collection in").select_option(label="#Lighthouse")
    owner.get_by_role("button", name="Save").first.click()
    expect(owner.get_by_role("status").first).to_contain_text("Shared to #Lighthouse")
    snap(owner, "lib-04-collection-owner")

    # A teammate on a phone finds it on the space page and watches in that order.
    mina = accept_invite(new_page, link, "Mina Member", viewport=PHONE)
    open_space(mina, "Lighthouse")
    shared = mina.get_by_role("navigation", name="Collections shared here")
    expect(shared.get_by_role("link", name=re.compile("Onboarding"))).to_contain_text("2")
    snap(mina, "lib-05-space-with-collection")
    shared.get_by_role("link", name=re.compile("Onboarding")).click()
    expect(mina.get_by_role("heading", level=1, name="Onboarding")).to_be_visible()
    assert order_of(mina) == ["Safety drill at the pier", "Tour of the harbour"]
    expect(mina.get_by_role("button", name=re.compile("Move"))).to_have_count(0)
    snap(mina, "lib-06-collection-reader")
    mina.locator(".collection-item .rec-title").first.click()
    expect(mina.get_by_role("heading", level=1, name="Safety drill at the pier")).to_be_visible()
    expect(mina).to_have_url(re.compile(r"/t/\d+/#post$"))

    # Her library: nothing of her own yet; both recordings shared with her.
    open_library(mina)
    expect(mina.get_by_role("heading", name="No recordings yet")).to_be_visible()
    mina.get_by_role("link", name="Shared with me").click()
    expect(mina.locator("li.rec-card")).to_have_count(2)
    snap(mina, "lib-07-shared-with-me")
