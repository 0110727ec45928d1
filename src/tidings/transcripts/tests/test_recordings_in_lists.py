"""Recordings with transcripts in thread lists: a walkthrough's row shows its poster, length
and who recorded it, and the lists still read recordings in one query."""

from __future__ import annotations

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tidings.recordings.tests.test_recordings_in_lists import page, row_of
from tidings.threads.tests.factories import thread_in
from tidings.transcripts.tests.factories import recorded_post

SAID = "Here is the new onboarding flow from the first screen"


def test_a_walkthrough_row_shows_its_poster_length_and_who_recorded_it(world):
    recorded_post(world.member, space=world.open_space, title="Onboarding tour", said=SAID)

    row = row_of(page(world, "owner", "/w/acme/s/general/"), "Onboarding tour")
    assert "▶ Recording, 0:03 by Mia Member" in row
    poster = re.search(r'<img src="([^"]+)"', row).group(1)
    assert poster.startswith("/media/r/")
    assert world.client_for("owner").get(poster)["Content-Type"] == "image/jpeg"
    assert 'class="rec-duration">0:03<' in row


def test_thread_lists_read_recordings_in_one_query(world):
    def queries_for(url: str) -> int:
        client = world.client_for("member")
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    recorded_post(world.owner, space=world.open_space, title="Tour 0")
    with_one = {url: queries_for(url) for url in ("/w/acme/", "/w/acme/s/general/")}
    for number in range(1, 5):
        recorded_post(world.owner, space=world.open_space, title=f"Tour {number}", said=SAID)
        thread_in(world.open_space, world.owner, title=f"Words {number}")
    assert page(world, "member", "/w/acme/s/general/").count("rec-thumb-small") == 5
    for url, count in with_one.items():
        assert queries_for(url) == count
