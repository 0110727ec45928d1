"""Requests and reminders as people use them: ask two teammates to respond by a date, one
replies, the asker sees who answered; a reminder set from a post is listed and cancelled."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import PHONE, snap
from tests.browser.test_journeys import (
    POLL,
    accept_invite,
    accessibility_violations,
    create_space,
    invite,
    post_reply,
    post_thread,
    set_up_owner,
    submit_setup,
)


def test_ask_two_people_one_answers(server, new_page) -> None:
    owner = set_up_owner(new_page, server)
    submit_setup(owner)
    ana_link = invite(owner, "ana@example.com")
    owner.reload()
    ben_link = invite(owner, "ben@example.com")
    ana = accept_invite(new_page, ana_link, "Ana Lima")
    ben = accept_invite(new_page, ben_link, "Ben Okafor", viewport=PHONE)
    create_space(owner, "Budget")
    url = post_thread(owner, "Budget", "Q3 budget numbers", "Please check the travel line.")

    # Ask both on the opening post, due in a few days.
    opening = owner.locator("article.post-opening")
    opening.locator("summary", has_text="Ask to respond").click()
    form = opening.locator("form.ask-form")
    form.get_by_label("Ana Lima").check()
    form.get_by_label("Ben Okafor").check()
    due = owner.evaluate(
        "() => { const d = new Date(Date.now() + 3 * 864e5); return d.toISOString().slice(0, 10); }"
    )
    form.get_by_label("Respond by").fill(due)
    snap(owner, "requests-00-ask-form")
    form.get_by_role("button", name="Ask").click()
    expect(owner.get_by_text("Asked 2 people.")).to_be_visible()
    asks = owner.locator("div.post-asks")
    expect(asks).to_contain_text("Ana Lima — waiting")
    expect(asks).to_contain_text("Ben Okafor — waiting")
    # The reply composer offers the same, for a reply.
    owner.locator("summary", has_text="Ask people to respond…").click()
    expect(owner.locator(".composer-ask").get_by_label("Ben Okafor")).to_be_visible()
    snap(owner, "requests-06-composer-ask")

    # Each sees it pinned at the top of their inbox with the due date.
    ben.goto(server.base_url + "/inbox/")
    pinned = ben.locator("section.inbox-requests")
    expect(pinned).to_contain_text("Q3 budget numbers", timeout=POLL)
    expect(pinned).to_contain_text(re.compile(r"Due \w{3} \d{1,2} \w{3}"))
    snap(ben, "requests-01-inbox-pinned")
    assert accessibility_violations(ben) == []

    ana.goto(server.base_url + "/inbox/")
    expect(ana.locator("section.inbox-requests")).to_contain_text("Q3 budget numbers")
    ana.locator("section.inbox-requests").get_by_role("link", name="Q3 budget numbers").click()
    post_reply(ana, "Travel is fine; hotels are 5% over.")

    # The asker sees who answered and who has not.
    owner.goto(url)
    asks = owner.locator("div.post-asks")
    expect(asks).to_contain_text("Ana Lima ✓ answered", timeout=POLL)
    expect(asks).to_contain_text("Ben Okafor — waiting")
    snap(owner, "requests-02-thread-asked")
    assert accessibility_violations(owner) == []

    # Ana's request is no longer pinned; Ben marks his answered by hand.
    ana.goto(server.base_url + "/inbox/")
    expect(ana.locator("section.inbox-requests")).to_have_count(0)
    ben.reload()
    ben.get_by_role("button", name="Mark answered").click()
    expect(ben.get_by_text("Marked answered.")).to_be_visible()
    expect(ben.locator("section.inbox-requests")).to_have_count(0)

    # The asker's overview lists the request with both answered.
    owner.goto(server.base_url + "/inbox/later")
    expect(owner.get_by_role("heading", name="Requests you asked")).to_be_visible()
    expect(owner.locator(".later-row", has_text="Q3 budget numbers")).to_contain_text(
        "Ben Okafor ✓ answered"
    )


def test_remind_me_from_a_post(server, new_page) -> None:
    owner = set_up_owner(new_page, server)
    submit_setup(owner)
    create_space(owner, "Ops")
    url = post_thread(owner, "Ops", "Renew the certificates", "They expire next month.")
    opening = owner.locator("article.post-opening")
    opening.locator("summary", has_text="Remind me").click()
    expect(opening.get_by_role("button", name=re.compile("Tomorrow morning"))).to_be_visible()
    snap(owner, "requests-03-remind-menu")
    opening.get_by_role("button", name=re.compile("Next Monday")).click()
    expect(
        owner.get_by_text(re.compile(r"I will bring this back to your inbox Mon"))
    ).to_be_visible()
    owner.goto(server.base_url + "/inbox/later")
    row = owner.locator(".later-row", has_text="Renew the certificates")
    expect(row).to_contain_text("09:00")
    snap(owner, "requests-04-later-page")
    assert accessibility_violations(owner) == []
    row.get_by_role("button", name="Cancel").click()
    expect(owner.get_by_text("Reminder cancelled.")).to_be_visible()
    expect(owner.locator(".later-row", has_text="Renew the certificates")).to_have_count(0)

    # Send a reply later from the composer; it waits, private, on the same page.
    owner.goto(url)
    owner.get_by_label("Your reply").fill("Renewed the staging ones already.")
    owner.locator("summary", has_text="Send later").click()
    when = owner.evaluate(
        "() => { const d = new Date(Date.now() + 2 * 864e5);"
        " return d.toISOString().slice(0, 10) + 'T08:30'; }"
    )
    owner.get_by_label("At a date and time").fill(when)
    snap(owner, "requests-05-send-later-menu")
    owner.get_by_role("button", name="Schedule", exact=True).click()
    expect(
        owner.get_by_text("Scheduled. It stays private to you until it is sent.")
    ).to_be_visible()
    expect(owner.locator(".later-row", has_text="Renew the certificates")).to_contain_text(
        "Renewed the staging ones"
    )
