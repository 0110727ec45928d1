"""A thread is marked read only when the person opens it: a picture, frame or prefetch that
requests the same address (from a post, an email, another site) marks nothing. Marking a thread
read marks the person's inbox item read too."""

import pytest

from tidings.inbox.models import InboxItem
from tidings.threads import actions
from tidings.threads.models import ReadMark
from tidings.threads.tests.factories import reply_to, thread_in

# What Chromium sends for each way a page can be asked for.
NAVIGATION = {"Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Site": "none"}
HTMX = {
    "HX-Request": "true",
    "Sec-Fetch-Dest": "empty",
    "Sec-Fetch-Mode": "cors",
    "Sec-Fetch-Site": "same-origin",
}
EMBEDDED = {
    "picture": {"Sec-Fetch-Dest": "image", "Sec-Fetch-Mode": "no-cors"},
    "cross-site picture": {
        "Sec-Fetch-Dest": "image",
        "Sec-Fetch-Mode": "no-cors",
        "Sec-Fetch-Site": "cross-site",
    },
    "frame": {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Mode": "navigate"},
    "script": {"Sec-Fetch-Dest": "script", "Sec-Fetch-Mode": "no-cors"},
    "fetch without htmx": {"Sec-Fetch-Dest": "empty", "Sec-Fetch-Mode": "cors"},
    "prefetch": {**NAVIGATION, "Sec-Purpose": "prefetch"},
    "prerender": {**NAVIGATION, "Sec-Purpose": "prefetch;prerender"},
    "old prefetch": {**NAVIGATION, "Purpose": "prefetch"},
    "htmx header in a picture": {**HTMX, "Sec-Fetch-Dest": "image"},
}


@pytest.fixture
def mentioned(world, django_capture_on_commit_callbacks):
    """A thread in which the member mentions the owner: an unread inbox item for the owner."""
    with django_capture_on_commit_callbacks(execute=True):
        thread = thread_in(world.open_space, world.member, body="Can you check this, @olivia?")
    item = InboxItem.objects.get(person=world.owner, thread=thread)
    assert item.is_unread
    return thread


def read_state(person, thread) -> tuple[bool, bool]:
    """Whether the thread has a read mark for the person, and whether the inbox item is read."""
    marked = ReadMark.objects.filter(person=person, thread=thread).exists()
    item = InboxItem.objects.get(person=person, thread=thread)
    return marked, not item.is_unread


@pytest.mark.parametrize("how", list(EMBEDDED))
def test_a_page_fetched_by_something_else_marks_nothing(client, world, mentioned, how):
    client.force_login(world.owner)
    response = client.get(f"/t/{mentioned.pk}/", headers=EMBEDDED[how])
    assert response.status_code == 200
    assert read_state(world.owner, mentioned) == (False, False)


@pytest.mark.parametrize("headers", [NAVIGATION, {}], ids=["navigation", "no fetch metadata"])
def test_opening_the_thread_marks_it_read(client, world, mentioned, headers):
    client.force_login(world.owner)
    assert client.get(f"/t/{mentioned.pk}/", headers=headers).status_code == 200
    assert read_state(world.owner, mentioned) == (True, True)


def test_live_updates_mark_read_only_for_the_page_that_polls(client, world, mentioned):
    actions.mark_thread_read(world.owner, mentioned)
    first_read = ReadMark.objects.get(person=world.owner, thread=mentioned).read_at
    reply_to(mentioned, world.member, "One more thing")
    client.force_login(world.owner)
    url = f"/t/{mentioned.pk}/updates?after=0"

    for headers in EMBEDDED.values():
        assert client.get(url, headers=headers).status_code == 200
    assert ReadMark.objects.get(person=world.owner, thread=mentioned).read_at == first_read

    response = client.get(url, headers=HTMX)
    assert "One more thing" in response.content.decode()
    assert ReadMark.objects.get(person=world.owner, thread=mentioned).read_at > first_read
