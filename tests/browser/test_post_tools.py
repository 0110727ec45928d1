"""A post's menus are rendered once per thread page and filled for the post they open on: set
a reminder on one reply and delete another through them, at desktop and phone width and in
dark mode, with axe's findings checked on the open menus."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE
from tests.browser.test_journeys import accessibility_violations
from tidings.inbox.models import Reminder
from tidings.threads.tests.factories import reply_to, thread_in


def in_posts(violations: list[str]) -> list[str]:
    """axe's findings, less those about the page's flash messages (their own matter)."""
    return [v for v in violations if "'.message" not in v]


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


@pytest.mark.parametrize(
    ("viewport", "scheme"),
    [(DESKTOP, "light"), (PHONE, "light"), (DESKTOP, "dark")],
    ids=["desktop", "phone", "dark"],
)
def test_remind_and_delete_through_the_once_rendered_menus(
    live_server, world, page_for, viewport, scheme
) -> None:
    thread = thread_in(world.open_space, world.owner, title="Harbour lamps", body="Which lamps?")
    kept = reply_to(thread, world.member, body="The brass ones, they weather well.")
    doomed = reply_to(thread, world.member, body="Scratch that: copper.")
    name = f"post-tools-{viewport['width']}-{scheme}"
    page = page_for(world.member, viewport=viewport, scheme=scheme)
    page.goto(live_server.url + f"/t/{thread.pk}/")

    # The tools took the place of each post's "Actions" link; Delete only on one's own posts.
    expect(page.locator("a.post-more")).to_have_count(0)
    expect(page.locator("#post .confirm")).to_have_count(0)
    post = page.locator(f"#reply-{kept.pk}")
    post.locator(".remind-menu > summary").click()
    menu = post.locator(".remind-menu .snooze-list")
    expect(menu).to_be_visible()
    expect(menu.locator("input[name=reply_id]").first).to_have_value(str(kept.pk))
    expect(menu.get_by_label("Pick a date and time")).to_be_visible()
    shoot(page, f"{name}-1-remind")
    assert in_posts(accessibility_violations(page)) == []
    menu.locator("button.snooze-preset", has_text="Tomorrow morning").click()
    expect(page.get_by_text("I will bring this back to your inbox")).to_be_visible()
    assert Reminder.objects.filter(person=world.member, reply=kept).count() == 1

    post = page.locator(f"#reply-{doomed.pk}")
    post.locator(".confirm > summary").click()
    confirm = post.locator(".confirm-box")
    expect(confirm).to_contain_text("Delete this reply?")
    shoot(page, f"{name}-2-delete")
    assert in_posts(accessibility_violations(page)) == []
    confirm.get_by_role("button", name="Delete").click()
    expect(page.locator(f"#reply-{doomed.pk}")).to_contain_text("This reply was deleted.")
    expect(page.locator(f"#reply-{kept.pk}")).to_contain_text("The brass ones")

    # The full date shows when a post's time is pointed at, in the reader's zone.
    time = page.locator(f"#reply-{kept.pk} header time")
    time.hover()
    expect(time).to_have_attribute("title", re.compile(r"^\w+day, \w+ \d{1,2}, 20\d\d"))

    # The reaction picker, filled for the opening post, reacts in place.
    page.locator("#post .reaction-picker > summary").click()
    page.locator("#post .reaction-palette").get_by_label("React with 👍").click()
    expect(page.locator("#reactions-post .reaction")).to_contain_text("1")
    shoot(page, f"{name}-3-reacted")
    page.locator("#reactions-post .reaction").click()  # and takes it back
    expect(page.locator("#reactions-post .reaction")).to_have_count(0)
    expect(page.locator("#reactions-post .reaction-picker")).to_be_visible()


def test_without_javascript_each_post_links_to_a_page_of_its_actions(
    live_server, world, browser, orm_beside_playwright
) -> None:
    from django.conf import settings
    from django.test import Client

    thread = thread_in(world.open_space, world.owner, title="Harbour lamps", body="Which lamps?")
    reply = reply_to(thread, world.member, body="The brass ones, they weather well.")
    client = Client()
    client.force_login(world.member)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    context.set_default_timeout(10_000)
    try:
        context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
        page = context.new_page()
        page.goto(live_server.url + f"/t/{thread.pk}/")
        expect(page.locator("a.post-more")).to_have_count(2)
        shoot(page, "post-tools-390-no-javascript-thread")
        page.locator(f"#reply-{reply.pk} a.post-more").click()
        expect(page.get_by_role("heading", name="A reply by Mia Member")).to_be_visible()
        shoot(page, "post-tools-390-no-javascript-actions")
        page.locator("button.snooze-preset", has_text="Tomorrow morning").click()
        expect(page.get_by_text("I will bring this back to your inbox")).to_be_visible()
        assert Reminder.objects.filter(person=world.member, reply=reply).count() == 1
        page.locator(f"#reply-{reply.pk} a.post-more").click()
        page.get_by_role("button", name="React with 🎉").click()
        expect(page.locator(f"#reactions-{reply.pk} .reaction")).to_contain_text("🎉")
        page.locator(f"#reply-{reply.pk} a.post-more").click()
        page.locator("form.confirm-box").get_by_role("button", name="Delete").click()
        expect(page.locator(f"#reply-{reply.pk}")).to_contain_text("This reply was deleted.")
    finally:
        context.close()
