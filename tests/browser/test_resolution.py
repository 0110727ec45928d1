"""A thread resolved by one person reaches the inbox of the people who follow it, as
"Resolved" with its outcome, through the real worker."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import snap
from tests.browser.test_journeys import (
    accept_invite,
    create_space,
    invite,
    post_thread,
    set_up_owner,
    submit_setup,
)


def test_a_resolution_reaches_the_followers_inbox(server, new_page) -> None:
    owner = set_up_owner(new_page, server)
    submit_setup(owner)
    create_space(owner, "Events")
    member = accept_invite(new_page, invite(owner, "mia@example.com"), "Mia Member")
    url = post_thread(member, "Events", "Which venue for the open day?", "Two options so far.")

    owner.goto(url)
    owner.locator("summary", has_text="Resolve this thread").click()
    owner.get_by_label("Outcome").fill("The **old library hall**, booked for the 4th.")
    owner.get_by_role("button", name="Resolve").click()
    expect(owner.get_by_text("old library hall").first).to_be_visible()

    member.goto(server.base_url + "/inbox/")
    item = member.locator(".inbox-item", has_text="Which venue for the open day?")
    expect(item).to_be_visible(timeout=20_000)  # the worker's fan-out
    expect(item.locator(".reason")).to_have_text("Resolved")
    expect(item).to_contain_text("Olivia Owner: The old library hall, booked for the 4th.")
    snap(member, "resolution-01-inbox")
