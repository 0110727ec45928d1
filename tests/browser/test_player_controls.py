"""The player's controls as player.js builds them from the little each player's markup carries:
a video and a voice note on a thread page, a marker of a reply made at a moment, a title and a
reply written to break out of their attributes; what was watched is reported with the page's
CSRF token; without JavaScript the browser's own controls stay. Screenshots in the light and
dark scheme at desktop and phone width, with axe's findings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE
from tests.browser.test_journeys import accessibility_violations
from tests.browser.test_player import write_clip
from tidings.recordings.models import Source
from tidings.recordings.tests.factories import posted_recording, webm_bytes
from tidings.threads import actions as thread_actions
from tidings.threads.tests.factories import reply_to, thread_in

ATTACK = '"><img src=x onerror=alert(1)>'
SPEEDS = ["1", "1.25", "1.5", "1.75", "2"]

# The test database is filled between browser steps: first thing, before `world`.
pytestmark = pytest.mark.usefixtures("orm_beside_playwright")


@pytest.fixture
def pier(world, tmp_path: Path) -> dict:
    """A thread with a 6-second video by the admin, titled with an attack, a voice note in a
    reply, and the member's reply at 0:03 of the video, whose words are an attack too."""
    thread = thread_in(world.open_space, world.owner, title="Pier lamps", body="Two recordings.")
    video = posted_recording(
        world.admin,
        thread,
        title=f"Pier walk {ATTACK}",
        duration_ms=6_000,
        playable_type="video/mp4",
    )
    clip = tmp_path / "pier.mp4"
    write_clip(clip, 6.0)
    video.playable.save("playable.mp4", ContentFile(clip.read_bytes()))
    reply = reply_to(thread, world.admin, body="And the sound of the north lamp.")
    voice = posted_recording(
        world.admin,
        thread,
        reply=reply,
        title="North lamp hum",
        duration_ms=2_000,
        source=Source.AUDIO,
        has_video=False,
        playable_type="audio/webm",
        waveform=[abs(((i * 7) % 23) - 11) / 11 for i in range(200)],
    )
    voice.playable.save("playable.webm", ContentFile(webm_bytes(2.0, video=False)))
    thread_actions.post_reply(
        world.member,
        thread,
        moment_recording=video.token,
        moment_ms=3_000,
        body=f"The lamp flickers {ATTACK}",
    )
    return {"url": f"/t/{thread.pk}/", "video": video, "voice": voice}


def figure(page: Page, recording):
    return page.locator(f"#rec-{recording.token}")


def expect_controls_built(page: Page, pier: dict) -> None:
    for recording, duration, full_screen in (
        (pier["video"], "0:06", 1),
        (pier["voice"], "0:02", 0),
    ):
        player = figure(page, recording)
        controls = player.get_by_role("group", name="Player controls")
        expect(controls).to_be_visible()
        expect(player.locator(".player-media")).not_to_have_attribute("controls", "")
        expect(controls.get_by_role("button", name="Play")).to_be_visible()
        expect(controls.locator(".player-duration")).to_have_text(duration)
        speed = controls.get_by_label("Playback speed")
        expect(speed).to_be_visible()
        expect(speed).to_have_attribute("id", f"rec-{recording.token}-speed")
        assert speed.locator("option").evaluate_all("(os) => os.map((o) => o.value)") == SPEEDS
        seek = controls.get_by_role("slider", name="Position in the recording")
        expect(seek).to_be_enabled()
        expect(controls.get_by_role("button", name="Mute")).to_have_attribute(
            "aria-pressed", "false"
        )
        expect(controls.get_by_role("button", name="Full screen")).to_have_count(full_screen)
        expect(player).to_have_attribute("aria-keyshortcuts", re.compile(r"^Space K .* 9$"))


def test_controls_are_built_from_the_players_data(live_server, world, pier, page_for) -> None:
    page = page_for(world.member, viewport=DESKTOP)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(live_server.url + pier["url"])
    expect_controls_built(page, pier)
    video = figure(page, pier["video"])
    # The length the server knew (6000 ms), then the file's own once its metadata loads.
    expect(video.locator(".player-seek")).to_have_attribute("max", re.compile(r"^60\d\d$"))

    # The marker of the member's reply, named by it; the attack stays text everywhere.
    label = f"Mia Member at 0:03: The lamp flickers {ATTACK}"
    marker = video.get_by_role("button", name=label, exact=True)
    expect(marker).to_be_visible()
    expect(marker).to_have_attribute("title", label)
    expect(marker).to_have_attribute("data-ms", "3000")
    expect(video).to_have_attribute("aria-label", f"Pier walk {ATTACK}")
    expect(page.locator("img[src=x]")).to_have_count(0)

    # "Comment at" fills the composer's chip with the title, as text.
    comment = video.get_by_role("button", name="Comment at 0:00")
    expect(comment).to_be_visible()
    expect(
        figure(page, pier["voice"]).get_by_role("button", name="Comment at 0:00")
    ).to_be_visible()
    comment.click()
    expect(page.locator("#composer .composer-moment-title")).to_have_text(f"Pier walk {ATTACK}")

    # A marker seeks there and plays; a pause reports what was watched, with the page's token.
    viewed = f"/recordings/{pier['video'].token}/viewed"
    marker.click()
    page.wait_for_function(
        "(id) => document.getElementById(id).querySelector('video').currentTime > 3.8",
        arg=f"rec-{pier['video'].token}",
    )
    with page.expect_response(lambda r: r.url.endswith(viewed)) as reported:
        video.get_by_role("button", name="Pause").click()
    assert reported.value.status == 204
    assert pier["video"].views.exists()
    expect(page.locator("img[src=x]")).to_have_count(0)
    assert dialogs == []


def test_without_javascript_the_browser_controls_stay(live_server, world, pier, page_for) -> None:
    page = page_for(world.member, viewport=DESKTOP, javascript=False)
    page.goto(live_server.url + pier["url"])
    for recording in (pier["video"], pier["voice"]):
        player = figure(page, recording)
        expect(player.locator(".player-media")).to_have_attribute("controls", "")
        expect(player.locator(".player-media source")).to_have_count(1)
        expect(player.locator(".player-controls")).to_have_count(0)
        expect(player.get_by_role("button")).to_have_count(0)
    expect(page.locator("img[src=x]")).to_have_count(0)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_players_look_and_pass_axe(live_server, world, pier, page_for, scheme) -> None:
    problems = {}
    for viewport in (DESKTOP, PHONE):
        page = page_for(world.member, viewport=viewport, scheme=scheme)
        page.goto(live_server.url + pier["url"])
        expect_controls_built(page, pier)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        figure(page, pier["video"]).scroll_into_view_if_needed()
        name = f"player-controls-{viewport['width']}-{scheme}"
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        problems[name] = accessibility_violations(page)
    assert {where: found for where, found in problems.items() if found} == {}
