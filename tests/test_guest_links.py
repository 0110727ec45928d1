"""Guests follow every link they are shown and never land on "You can't do that here"."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

from tidings.recordings.tests.factories import posted_recording
from tidings.threads import actions as thread_actions
from tidings.threads.tests.factories import reply_to, thread_in

REFUSED = "You can't do that here"
# Links that leave the pages (files, feeds, downloads) or end the visit.
NOT_PAGES = ("/static/", "/media/", "/files/", "/sign-out", "/api/")


class LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)


def page_links(path: str, html: str) -> set[str]:
    collector = LinkCollector()
    collector.feed(html)
    found = set()
    for href in collector.links:
        target, _fragment = urldefrag(href)
        if target.startswith("?"):
            target = path.split("?")[0] + target
        parts = urlsplit(target)
        if parts.scheme or parts.netloc or not target.startswith("/"):
            continue
        if target.startswith(NOT_PAGES):
            continue
        found.add(target)
    return found


def test_every_link_a_guest_sees_opens(world):
    thread = thread_in(world.open_space, world.owner, title="Harbour plan")
    reply_to(thread, world.member, body="Looks good to me")
    posted_recording(world.owner, thread, title="Walkthrough of the plan")
    thread_in(world.private_space, world.owner, title="Board only")
    # A space the guest was added to and that was archived since: readable, closed to posts.
    archive = thread_actions.create_space(
        world.owner, world.workspace, name="Old pier", member_ids=[world.guest.pk]
    )
    thread_in(archive, world.owner, title="Pier closed")
    thread_actions.archive_space(world.owner, archive)
    client = world.client_for("guest")

    start = "/w/acme/"
    # An archived space is out of the sidebar; its address still opens from old links.
    to_visit = [start, "/inbox/", "/settings/", "/w/acme/s/old-pier/"]
    seen, refused = set(), {}
    while to_visit and len(seen) < 150:
        path = to_visit.pop()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path, follow=True)
        html = response.content.decode(errors="replace")
        if response.status_code == 403 or REFUSED in html:
            refused[path] = response.status_code
            continue
        if "text/html" in response.get("Content-Type", ""):
            to_visit.extend(page_links(response.request["PATH_INFO"], html) - seen)
    assert refused == {}
    assert len(seen) < 150, "the walk stopped before it saw every page"
    assert {"/w/acme/s/general/", "/w/acme/s/old-pier/"} <= seen
