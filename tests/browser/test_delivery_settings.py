"""Delivery settings in a real browser: the live preview, bad input, space levels."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import snap
from tests.browser.test_journeys import create_space, set_up_owner, submit_setup


def test_delivery_settings_preview_and_save(server, new_page) -> None:
    page = set_up_owner(new_page, server)
    submit_setup(page)
    create_space(page, "Design")
    page.locator("summary.avatar").click()
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings sections").get_by_role(
        "link", name="Delivery"
    ).click()
    expect(page.get_by_role("heading", name="Delivery", level=1)).to_be_visible()
    preview = page.locator("#delivery-preview")
    expect(preview).to_contain_text("A mention at 21:00")
    expect(preview).not_to_contain_text("Your next digest")

    # The preview follows the form before anything is saved.
    page.get_by_role("radio", name="In a daily digest").check()
    page.get_by_label("Digest at").fill("06:45")
    expect(preview).to_contain_text("Your next digest")
    expect(preview).to_contain_text("at 06:45")
    page.get_by_label("Tuesday until").fill("08:00")
    page.get_by_label("Tuesday until").dispatch_event("change")
    expect(preview).to_contain_text("Tuesday: the end must be after the start.")
    snap(page, "delivery-preview-error")

    page.get_by_role("button", name="Save delivery settings").click()
    expect(page.get_by_text("Tuesday: the end must be after the start.").first).to_be_visible()
    page.get_by_label("Tuesday until").fill("17:30")
    page.get_by_label("Saturday", exact=True).check()
    page.get_by_label("Saturday from").fill("10:00")
    page.get_by_label("Saturday until").fill("13:00")
    page.get_by_role("button", name="Save delivery settings").click()
    expect(page.get_by_text("Your delivery settings are saved.")).to_be_visible()
    expect(page.get_by_role("radio", name="In a daily digest")).to_be_checked()
    expect(page.get_by_label("Saturday until")).to_have_value("13:00")
    expect(preview).to_contain_text("Your next digest")

    levels = page.locator("#spaces")
    levels.get_by_label("Design").select_option("all")
    levels.get_by_role("button", name="Save space levels").click()
    expect(page.get_by_text("Space levels saved.")).to_be_visible()
    expect(page.locator("#spaces").get_by_label("Design")).to_have_value("all")
    expect(page).to_have_url(re.compile(r"/settings/delivery#spaces$"))
    snap(page, "delivery-settings")
