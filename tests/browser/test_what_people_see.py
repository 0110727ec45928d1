"""What people see is right: inbox tab counts and the top bar count change with each triage
action at once (no waiting for the poll); an empty outcome is refused beside the field with
the resolve form still open; a resolved thread's outcome shows in search. Screenshots in light
and dark at desktop and phone widths."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE
from tests.browser.test_journeys import (
    accept_invite,
    create_space,
    invite,
    post_thread,
    set_up_owner,
    submit_setup,
)


def shots(page: Page, name: str) -> None:
    """Desktop and phone, light and dark, of the page as it is now."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    page.evaluate("window.scrollTo(0, 0)")  # a sticky header is not painted mid-page
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)
            page.screenshot(path=str(ARTIFACTS / f"{name}-{label}-{scheme}.png"), full_page=True)
    page.emulate_media(color_scheme="light")
    page.set_viewport_size(original)


def counts(page: Page) -> tuple[str, str, str]:
    tabs = page.locator("#inbox-tabs .tab-count")
    badge = page.locator("#inbox-count").inner_text().split(",")[-1].split()[0]
    return tabs.nth(0).inner_text(), tabs.nth(1).inner_text(), badge


def test_triage_updates_tabs_and_badge_at_once(server, new_page) -> None:
    owner = set_up_owner(new_page, server)
    submit_setup(owner)
    create_space(owner, "Launch")
    mia = accept_invite(new_page, invite(owner, "mia@example.com"), "Mia Member")
    # Two mentions of Olivia, one typed in full without picking her from the list.
    post_thread(mia, "Launch", "Press kit", "@Olivia Owner can you check the logos?")
    post_thread(mia, "Launch", "Venue", "Thoughts, @olivia?")

    owner.goto(server.base_url + "/inbox/")
    expect(owner.locator(".inbox-item")).to_have_count(2, timeout=30_000)  # the worker's fan-out
    expect(owner.locator("#inbox-tabs .tab-count").first).to_have_text("2", timeout=20_000)
    assert counts(owner) == ("2", "0", "2")
    shots(owner, "inbox-counts-00-two-open")

    # The poll runs every 15 s: each check below waits at most 3 s, so only the triage
    # response itself can have changed the numbers.
    fast = {"timeout": 3_000}
    first = owner.locator(".inbox-item", has_text="Press kit")
    first.get_by_role("button", name="Done").click()
    expect(owner.get_by_text("Marked done.")).to_be_visible(**fast)
    expect(owner.locator("#inbox-tabs .tab-count").first).to_have_text("1", **fast)
    expect(owner.locator("#inbox-count")).to_contain_text("1", **fast)
    assert counts(owner) == ("1", "0", "1")

    owner.locator(".inbox-item-notice").get_by_role("button", name="Undo").click()
    expect(owner.locator("#inbox-tabs .tab-count").first).to_have_text("2", **fast)
    assert counts(owner) == ("2", "0", "2")

    second = owner.locator(".inbox-item", has_text="Venue")
    second.locator("summary", has_text="Snooze").click()
    shots(owner, "inbox-counts-01-snooze-menu")
    second.locator("button.snooze-preset", has_text="Tomorrow morning").click()
    expect(owner.get_by_text("Snoozed until")).to_be_visible(**fast)
    expect(owner.locator("#inbox-tabs .tab-count").nth(1)).to_have_text("1", **fast)
    assert counts(owner) == ("1", "1", "1")
    shots(owner, "inbox-counts-02-after-snooze")

    owner.locator(".inbox-item-notice", has_text="Snoozed").get_by_role(
        "button", name="Undo"
    ).click()
    expect(owner.locator("#inbox-tabs .tab-count").nth(1)).to_have_text("0", **fast)
    assert counts(owner) == ("2", "0", "2")

    # The mention typed in full reads once, as her name.
    owner.reload()
    owner.locator(".inbox-item", has_text="Press kit").get_by_role("link", name="Press kit").click()
    expect(owner.locator("span.mention")).to_have_text("@Olivia Owner")
    expect(owner.locator("article.post").first).not_to_contain_text("Owner Owner")

    # An empty outcome comes back beside the field, the form still open.
    owner.locator("summary", has_text="Resolve this thread").click()
    owner.get_by_role("button", name="Resolve").click()
    box = owner.locator("#resolve-box")
    expect(box.locator(".field-error")).to_be_visible(**fast)
    expect(box).to_have_attribute("open", "")
    shots(owner, "resolve-00-empty-outcome")
    owner.get_by_label("Outcome").fill("Logos approved; **flamingo pink** stays.")
    owner.get_by_role("button", name="Resolve").click()
    expect(owner.locator("section.outcome")).to_contain_text("flamingo pink")

    owner.goto(server.base_url + "/search/?q=flamingo")
    hit = owner.locator(".search-hit", has_text="Press kit")
    expect(hit.locator(".search-hit-outcome")).to_contain_text("Logos approved; flamingo pink")
    shots(owner, "search-00-outcome-hit")

    owner.goto(server.base_url + "/settings/delivery")
    owner.get_by_label("Time zone").fill("Asia/Kol")
    shots(owner, "settings-00-time-zone-box")
