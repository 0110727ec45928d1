"""A recording in the inbox: the row of a reply (or a new walkthrough) that is a recording shows
its poster, its length and the start of what is said, never the thread's opening post; a
recording in a private space shows only to people who may see it; one query for the page."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import ROLES
from tidings.inbox.models import InboxItem, Reason
from tidings.threads import actions
from tidings.threads.models import SpaceMember
from tidings.threads.tests.factories import thread_in
from tidings.transcripts.tests.factories import recorded_post

OPENING = "Opening words of the plan"
SAID = "We ship on Friday once the review is done and the notes are out"


def inbox(world, role: str) -> str:
    response = world.client_for(role).get("/inbox/")
    assert response.status_code == 200
    return response.content.decode()


def row_of(html: str, thread_id: int) -> str:
    """The inbox row of a thread."""
    link = html.index(f'href="/t/{thread_id}/')
    start = html.rindex('<li class="inbox-item', 0, link)
    return html[start : html.index("</li>", link)]


def test_a_recorded_reply_shows_its_poster_length_and_words(world):
    thread = thread_in(world.open_space, world.member, body=OPENING)
    recording = recorded_post(world.owner, thread=thread, said=SAID)

    row = row_of(inbox(world, "member"), thread.pk)
    assert "▶ Recording, 0:03" in row
    assert "“We ship on Friday once the review" in row
    assert OPENING not in row  # the row is about the reply, not the opening post
    poster = re.search(r'<img src="([^"]+)"', row).group(1)
    assert poster.startswith("/media/r/")
    served = world.client_for("member").get(poster)
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert f"#reply-{recording.reply_id}" in row


def test_without_a_transcript_the_row_names_the_recording_by_its_length(world):
    thread = thread_in(world.open_space, world.member, body=OPENING)
    recorded_post(world.owner, thread=thread, audio=True)

    row = row_of(inbox(world, "member"), thread.pk)
    assert "▶ Audio recording, 0:03" in row
    assert OPENING not in row and "<img" not in row  # sound only: an icon, no poster


def test_a_new_walkthrough_shows_its_recording(world):
    recording = recorded_post(world.owner, space=world.open_space, title="Tour", said=SAID)

    row = row_of(inbox(world, "member"), recording.thread_id)
    assert "Tour" in row and "▶ Recording, 0:03" in row and "“We ship on Friday" in row


def test_a_reply_with_words_keeps_them_beside_its_recording(world):
    thread = thread_in(world.open_space, world.member, body=OPENING)
    recorded_post(world.owner, thread=thread, body="Have a look at the new flow", said=SAID)

    row = row_of(inbox(world, "member"), thread.pk)
    assert "▶ Recording, 0:03" in row and "Have a look at the new flow" in row
    assert "We ship on Friday" not in row


@pytest.fixture
def private_recording(world):
    """Olivia's recorded reply in a private thread Adam follows; Mia, Gus and Otto are not on
    the space's list. Every role is given a stale item on the thread, as if they had been
    told of it before losing access."""

    thread = thread_in(world.private_space, world.admin, title="Quiet acquisition")
    recording = recorded_post(world.owner, thread=thread, said=SAID)
    for person in (world.owner, world.member, world.guest, world.outsider):
        InboxItem.objects.get_or_create(
            person=person,
            thread=thread,
            defaults={"reason": Reason.REPLY, "latest_reply_id": recording.reply_id},
        )
    return recording


@pytest.mark.parametrize("role", [role for role in ROLES if role != "anonymous"])
def test_a_private_recording_shows_only_to_people_on_the_space(world, private_recording, role):
    html = inbox(world, role)
    may_see = role in ("owner", "admin")
    assert ("Quiet acquisition" in html) is may_see
    assert ("We ship on Friday" in html) is may_see
    assert (private_recording.token in html) is False  # links are signed, never the token
    if not may_see:
        assert "/media/r/" not in html


def test_someone_taken_off_the_space_no_longer_sees_the_recording(world, private_recording):
    assert "We ship on Friday" in inbox(world, "admin")
    SpaceMember.objects.filter(space=world.private_space, person=world.admin).delete()
    html = inbox(world, "admin")
    assert "We ship on Friday" not in html and "/media/r/" not in html


def test_a_deleted_recorded_reply_is_not_shown(world):
    thread = thread_in(world.open_space, world.member, body=OPENING)
    recording = recorded_post(world.owner, thread=thread, said=SAID)
    actions.delete_reply(world.owner, recording.reply)
    assert "We ship on Friday" not in inbox(world, "member")


def test_recordings_in_rows_cost_one_query_for_the_whole_page(world):
    def queries_for_inbox() -> int:
        client = world.client_for("member")
        client.get("/inbox/")  # session and caches warmed
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/inbox/").status_code == 200
        return len(captured)

    first = thread_in(world.open_space, world.member, title="First")
    recorded_post(world.owner, thread=first, said=SAID)
    with_one = queries_for_inbox()
    for number in range(6):
        thread = thread_in(world.open_space, world.member, title=f"Thread {number}")
        recorded_post(world.admin, thread=thread, said=SAID, audio=number % 2 == 0)
    html = inbox(world, "member")
    assert html.count("rec-mention") == 7
    assert queries_for_inbox() == with_one
