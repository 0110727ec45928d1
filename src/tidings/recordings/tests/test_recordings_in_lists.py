"""Recordings in thread lists (a space's page and the workspace's recent threads): a row shows
the poster and length of its opening recording, else of its newest recorded reply, and how many
recordings the thread holds; only recordings the viewer may see. Rows of recordings with
transcripts, and the one query for the page, are tested with transcripts."""

from __future__ import annotations

import pytest

from conftest import ROLES, by_role
from tidings.recordings.tests.factories import VIDEO, recorded_post, recording_with_chunks, split
from tidings.threads import actions
from tidings.threads.tests.factories import thread_in


def page(world, role: str, url: str) -> str:
    response = world.client_for(role).get(url)
    assert response.status_code == 200
    return response.content.decode()


def row_of(html: str, title: str) -> str:
    at = html.index(f">{title}</a>")
    start = html.rindex('<li class="thread-row', 0, at)
    return html[start : html.index("</li>", at)]


def test_a_thread_of_recorded_replies_shows_the_newest_and_how_many(world):
    thread = thread_in(world.open_space, world.owner, title="Standup")
    recorded_post(world.member, thread=thread, audio=True)
    recorded_post(world.admin, thread=thread)
    plain = thread_in(world.open_space, world.owner, title="Plain words")
    actions.post_reply(world.member, plain, body="No recording here")

    html = page(world, "member", "/w/acme/")
    row = row_of(html, "Standup")
    assert "▶ 2 recordings" in row
    assert "<img" in row  # the newest, Adam's camera recording, has a poster
    assert "rec-thumb" not in row_of(html, "Plain words")


def test_a_recording_not_posted_or_in_a_deleted_reply_is_not_listed(world):
    thread = thread_in(world.open_space, world.owner, title="Drafts")
    recording_with_chunks(world.owner, world.open_space, split(VIDEO, 3), thread=thread)
    gone = recorded_post(world.member, thread=thread)
    actions.delete_reply(world.member, gone.reply)

    for role in ("owner", "member"):
        assert "rec-thumb" not in row_of(page(world, role, "/w/acme/s/general/"), "Drafts")


SPACE_PAGE = by_role(owner=200, admin=200, member=404, guest=404, outsider=404, anonymous=302)


@pytest.mark.parametrize("role", ROLES)
def test_a_private_recording_is_listed_only_for_people_on_the_space(world, role):
    recording = recorded_post(world.owner, space=world.private_space, title="Board memo")
    may_see = SPACE_PAGE[role] == 200

    response = world.client_for(role).get("/w/acme/s/leadership/")
    assert response.status_code == SPACE_PAGE[role]
    home = world.client_for(role).get("/w/acme/")
    for html in (response.content.decode(), home.content.decode()):
        assert ("Board memo" in html) is may_see
        assert ("▶ Recording, 0:03" in html) is may_see
        assert recording.token not in html
