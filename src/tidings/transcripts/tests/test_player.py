"""The player in a thread: a ready recording plays from signed links with a poster and our
own controls; a just-posted one plays at once while a status line polls, and the finished
player replaces it; uploads show a processing card; failures say why (and give the author
the original); the status endpoint follows the access rules."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from conftest import ROLES, by_role
from tidings.recordings import pipeline
from tidings.recordings.models import RenditionState, Source, State
from tidings.recordings.tests.factories import (
    AUDIO,
    VIDEO,
    page,
    player_html,
    posted_opening,
    posted_reply,
    ready,
    recording_with_chunks,
    split,
)
from tidings.threads import actions as thread_actions
from tidings.threads.tests.factories import thread_in

# --- A ready recording.


def test_ready_video_plays_from_signed_links_with_the_data_for_our_controls(world):
    recording = ready(posted_opening(world.member, world.open_space))
    assert recording.state == State.READY and recording.poster
    html = player_html(page(world.client_for("admin"), recording), recording)
    assert 'preload="metadata"' in html and "<video" in html
    # The browser's controls without JavaScript; player.js builds ours (tests/browser).
    assert re.search(r"<video [^>]*\bcontrols\b", html)
    poster = re.search(r'poster="([^"]+)"', html).group(1)
    assert poster.startswith("/media/r/")
    source = re.search(r'<source src="([^"]+)" type="([^"]+)"', html)
    assert source.group(2) == "video/webm"
    assert world.client_for("admin").get(source.group(1), HTTP_RANGE="bytes=0-9").status_code == 206
    assert f'data-duration-ms="{recording.duration_ms}"' in html  # shown before the media loads
    assert f'data-viewed-url="/recordings/{recording.token}/viewed"' in html
    # Nothing only JavaScript uses is sent with each player: not the controls, not the keyboard
    # shortcuts, not the CSRF token (the page's own serves).
    for built in ("player-controls", "<button", "<select", "<svg", "aria-keyshortcuts", "csrf"):
        assert built not in html
    assert len(html.encode()) < 1300  # was 3.5 kB with the controls
    player_part = html.split("player-viewers")[0].split('class="transcript"')[0]
    assert "Preparing" not in player_part and "hx-get" not in player_part
    assert 'class="transcript"' in html  # asked for when processing finished; loads on sight
    assert "<track" not in html  # no captions yet


def test_links_are_made_for_the_viewer(world):
    recording = ready(posted_opening(world.member, world.open_space))
    src = re.search(
        r'<source src="([^"]+)"', player_html(page(world.client_for("admin"), recording), recording)
    )
    # The admin's link is the admin's: the guest (who can see the space) gets another.
    other = re.search(
        r'<source src="([^"]+)"', player_html(page(world.client_for("guest"), recording), recording)
    )
    assert src.group(1) != other.group(1)


def test_audio_only_shows_its_waveform(world):
    thread = thread_in(world.open_space, world.owner)
    recording = ready(posted_reply(world.member, thread, media=AUDIO))
    assert recording.state == State.READY and not recording.has_video
    html = player_html(page(world.client_for("owner"), recording), recording)
    assert "<audio" in html and "<video" not in html and "player-audio" in html
    levels = re.search(r'data-levels="([^"]*)"', html).group(1)
    assert levels and all(0 <= float(level) <= 1 for level in levels.split(","))
    assert len(levels.split(",")) <= 160


def test_the_mp4_rendition_is_a_second_source_once_made(world):
    recording = ready(posted_opening(world.member, world.open_space))
    pipeline.make_rendition(recording.pk)
    recording.refresh_from_db()
    assert recording.rendition_state == RenditionState.READY
    html = player_html(page(world.client_for("member"), recording), recording)
    types = re.findall(r'<source src="[^"]+" type="([^"]+)"', html)
    assert types == ["video/webm", "video/mp4"]


def test_titles_and_marker_labels_stay_text(world):
    attack = '"><img src=x onerror=alert(1)>'
    recording = ready(posted_opening(world.member, world.open_space, title=f"Tour {attack}"))
    reply = thread_actions.post_reply(
        world.guest,
        recording.thread,
        moment_recording=recording.token,
        moment_ms=1000,
        body=f"Look {attack}",
    )
    html = player_html(page(world.client_for("admin"), recording), recording)
    assert "<img" not in html and "onerror=alert(1)>" not in html
    figure = html[: html.index(">", html.index("aria-label=")) + 1]
    attributes = dict(re.findall(r'([\w-]+)="([^"]*)"', figure))
    assert unescape(attributes["aria-label"]) == f"Tour {attack}"
    markers = json.loads(unescape(attributes["data-markers"]))
    assert markers == [[1000, reply.pk, f"Gus Guest at 0:01: Look {attack}"]]


def test_the_page_gives_players_its_csrf_token(world):
    recording = ready(posted_opening(world.member, world.open_space))
    client = world.client_for("admin")
    for path in (f"/t/{recording.thread_id}/", f"/t/{recording.thread_id}/actions"):
        html = client.get(path).content.decode()
        assert f'id="rec-{recording.token}"' in html and "data-viewed-url" in html
        token = re.search(r"<body hx-headers='\{\"X-CSRFToken\": \"(\w+)\"\}'>", html)
        assert token and len(token.group(1)) == 64


# --- While processing.


def test_a_just_posted_recording_plays_at_once_while_a_status_line_polls(world):
    recording = posted_opening(world.member, world.open_space)
    assert recording.state == State.QUEUED
    client = world.client_for("guest")
    html = player_html(page(client, recording), recording)
    assert "<video" in html
    src = re.search(r'<source src="([^"]+)" type="video/webm"', html).group(1)
    assert client.get(src).status_code == 200  # the chunks, joined in order
    status_url = f"/recordings/{recording.token}/player"
    assert f'hx-get="{status_url}"' in html and 'hx-trigger="every 2s"' in html
    assert "Preparing the recording so you can skip around — 0%" in html
    assert "Starting in a moment" in html
    # Posted after it, another waits behind it, and says so.
    behind = posted_opening(world.owner, world.private_space)
    behind_status = client.get(f"/recordings/{behind.token}/player")
    assert behind_status.status_code == 404  # the guest cannot see it: its author can
    html = world.client_for("owner").get(f"/recordings/{behind.token}/player").content.decode()
    assert "1 recording ahead of it" in html

    recording.state, recording.stage, recording.progress = State.PROCESSING, "remuxing", 40
    recording.save()
    busy = client.get(status_url)
    assert busy.status_code == 200 and "HX-Retarget" not in busy
    assert "Preparing the recording so you can skip around — 40%" in busy.content.decode()
    assert "Making it possible to skip around" in busy.content.decode()

    recording.state = State.QUEUED
    recording.save()
    ready(recording)
    done = client.get(status_url)
    assert done["HX-Retarget"] == f"#rec-{recording.token}" and done["HX-Reswap"] == "outerHTML"
    finished = done.content.decode()
    assert finished.startswith("<figure") or "<figure" in finished
    assert "Preparing" not in finished and "poster=" in finished
    assert "data-viewed-url" in finished and "csrf" not in finished  # the page has its token


def test_a_ready_player_refreshes_once_its_poster_and_waveform_are_made(world):
    recording = ready(posted_opening(world.member, world.open_space))
    recording.stage = "poster"  # playing already; the poster is being made
    recording.save()
    client = world.client_for("admin")
    html = player_html(page(client, recording), recording)
    assert "Preparing" not in html and "data-finishing" in html
    quiet = f"/recordings/{recording.token}/player?finishing=1"
    assert f'hx-get="{quiet}"' in html
    still = client.get(quiet)
    assert "HX-Retarget" not in still and "data-finishing" in still.content.decode()
    recording.stage = ""
    recording.save()
    done = client.get(quiet)
    assert done["HX-Retarget"] == f"#rec-{recording.token}"
    assert "data-finishing" not in done.content.decode()


def test_an_upload_shows_a_processing_card_until_ready(world):
    thread = thread_in(world.open_space, world.owner)
    recording = recording_with_chunks(
        world.member, world.open_space, split(VIDEO, 2), thread=thread, source=Source.UPLOAD
    )
    thread_actions.post_reply(world.member, thread, body="", recording_token=recording.token)
    recording.refresh_from_db()
    html = player_html(page(world.client_for("member"), recording), recording)
    assert "<video" not in html and "player-card" in html
    assert "Preparing the recording to play — 0%" in html
    assert '<progress class="player-progress"' in html
    assert "you can leave this page" in html


def test_a_failed_recording_says_why_and_gives_its_author_the_original(world):
    thread = thread_in(world.open_space, world.owner)
    recording = recording_with_chunks(
        world.member, world.open_space, [b"\x89PNG\r\n\x1a\n not a video at all"], thread=thread
    )
    thread_actions.post_reply(world.member, thread, body="", recording_token=recording.token)
    recording = ready(recording)
    assert recording.state == State.FAILED and recording.failure_reason
    own = player_html(page(world.client_for("member"), recording), recording)
    assert "could not be processed" in own and recording.failure_reason in own
    original = re.search(r'href="([^"]+)" download>Download the original', own).group(1)
    assert world.client_for("member").get(original).status_code == 200
    other = player_html(page(world.client_for("admin"), recording), recording)
    assert recording.failure_reason in other and "Download the original" not in other
    assert "<video" not in other and "hx-get" not in other


# --- Where players show.


def test_live_updates_bring_new_replies_with_their_player(world):
    thread = thread_in(world.open_space, world.owner)
    client = world.client_for("admin")
    client.get(f"/t/{thread.pk}/")
    recording = posted_reply(world.member, thread)
    fresh = client.get(f"/t/{thread.pk}/updates", {"after": 0}).content.decode()
    assert f'id="rec-{recording.token}"' in fresh and "data-player" in fresh


def test_a_deleted_reply_takes_its_player_with_it(world):
    thread = thread_in(world.open_space, world.owner)
    recording = ready(posted_reply(world.member, thread))
    thread_actions.delete_reply(world.member, recording.reply)
    html = world.client_for("owner").get(f"/t/{thread.pk}/").content.decode()
    assert recording.token not in html


def test_an_unposted_recording_is_not_shown_in_the_thread(world):
    thread = thread_in(world.open_space, world.owner)
    recording = recording_with_chunks(world.owner, world.open_space, split(VIDEO, 2), thread=thread)
    html = world.client_for("owner").get(f"/t/{thread.pk}/").content.decode()
    assert recording.token not in html


def test_the_thread_page_reads_recordings_in_a_few_queries(world, django_assert_max_num_queries):
    thread = thread_in(world.open_space, world.owner)
    for _ in range(3):
        ready(posted_reply(world.member, thread))
    client = world.client_for("owner")
    client.get(f"/t/{thread.pk}/")
    with django_assert_max_num_queries(40) as captured:
        client.get(f"/t/{thread.pk}/")
    few = len(captured)
    ready(posted_reply(world.member, thread))
    ready(posted_reply(world.member, thread))
    with django_assert_max_num_queries(few):
        client.get(f"/t/{thread.pk}/")


# --- Who may poll the status.


@pytest.mark.parametrize(
    ("space", "expected"),
    [
        ("open_space", by_role(200, 200, 200, 200, 404, 302)),
        ("private_space", by_role(200, 200, 404, 404, 404, 302)),
    ],
)
@pytest.mark.parametrize("role", ROLES)
def test_player_status_permissions(world, space, expected, role):
    recording = posted_opening(world.owner, getattr(world, space))
    response = world.client_for(role).get(f"/recordings/{recording.token}/player")
    assert response.status_code == expected[role]
