"""The player in real Chromium: a walkthrough is processed while its author watches the card,
then a teammate plays it, changes the speed (remembered), seeks with the keyboard, comments at
0:42, sees the marker, jumps back to the moment from the reply's "▶ 0:42" link and from a
"?t=" address; the author then sees who watched and how much. Desktop and phone screenshots."""

from __future__ import annotations

import math
import re
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, snap
from tests.browser.test_journeys import (
    accept_invite,
    create_space,
    invite,
    set_up_owner,
    submit_setup,
)
from tests.browser.test_library import post_walkthrough
from tidings.recordings.tests.factories import webm_bytes

# The background worker processes the recording after the post; the player polls every 2 s.
PROCESSING = 60_000


def write_clip(path: Path, seconds: float, fps: int = 15, size=(320, 180)) -> None:
    """An H.264/AAC file of a moving bar and a tone, as a phone saves one. (Chromium will not
    resume the factory's long-GOP VP8 after preloading metadata; browser recordings play.)"""
    width, height = size
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = out.add_stream("aac", rate=48000)
        audio.layout = "mono"
        for index in range(math.ceil(seconds * fps)):
            image = np.zeros((height, width, 3), np.uint8)
            image[:, (index * 4) % width :][:, :10] = 255
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            out.mux(video.encode(frame))
        out.mux(video.encode())
        for index in range(math.ceil(seconds * 48000 / 1024)):
            t = (np.arange(1024) + index * 1024) / 48000
            wave = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(wave, format="flt", layout="mono")
            frame.sample_rate, frame.pts = 48000, index * 1024
            out.mux(audio.encode(frame))
        out.mux(audio.encode())


def player(page: Page):
    return page.locator("figure[data-player]").first


def media(page: Page, expression: str):
    """Evaluate `expression` on the first player's <video> (named `m`)."""
    return player(page).locator(".player-media").evaluate(f"(m) => {expression}")


def wait_until_ready(page: Page) -> None:
    expect(player(page).locator(".player-controls")).to_be_visible(timeout=PROCESSING)
    expect(player(page).locator(".player-status")).to_have_count(0, timeout=PROCESSING)
    # The poster and waveform come a moment after it plays; the player refreshes for them.
    expect(player(page).locator("[data-finishing]")).to_have_count(0, timeout=PROCESSING)
    page.wait_for_function(
        "() => document.querySelector('figure[data-player] .player-media').readyState >= 1"
    )


def current_time(page: Page) -> float:
    return media(page, "m.currentTime")


def expect_time(page: Page, seconds: float, within: float = 0.6) -> None:
    page.wait_for_function(
        f"""() => Math.abs(document.querySelector('figure[data-player] .player-media')
            .currentTime - {seconds}) <= {within}"""
    )


def test_watch_comment_at_a_moment_and_see_viewers(server, new_page, tmp_path: Path) -> None:
    clip = tmp_path / "harbour-tour.mp4"
    write_clip(clip, 60.0)

    owner = set_up_owner(new_page, server)
    submit_setup(owner)
    create_space(owner, "Lighthouse")
    link = invite(owner, "mina@example.com")

    # The author posts a one-minute walkthrough; the card shows how processing goes, then the
    # finished player replaces it by itself.
    post_walkthrough(owner, "Lighthouse", "Harbour tour", clip)
    thread_url = owner.url
    snap(owner, "player-01-processing")
    wait_until_ready(owner)
    expect(player(owner).locator(".player-duration")).to_have_text("1:00")
    expect(player(owner)).to_contain_text("Nobody has watched it yet")

    # A teammate plays it.
    member = accept_invite(new_page, link, "Mina Member")
    member.goto(thread_url)
    wait_until_ready(member)
    expect(player(member).locator("video")).to_have_attribute("preload", "metadata")
    expect(player(member).locator("video")).to_have_attribute("poster", re.compile("/media/r/"))
    snap(member, "player-02-ready")
    controls = player(member).get_by_role("group", name="Player controls")
    controls.get_by_role("button", name="Play").click()
    member.wait_for_function(
        "() => document.querySelector('figure[data-player] video').currentTime > 0.5"
    )
    expect(controls.get_by_role("button", name="Pause")).to_be_visible()

    # Faster, and remembered on the next page.
    controls.get_by_label("Playback speed").select_option("1.5")
    assert media(member, "m.playbackRate") == 1.5

    # Keyboard, while the player has focus: K pauses, → skips 5 s, 5 jumps to half, > speeds up.
    player(member).focus()
    member.keyboard.press("k")
    member.wait_for_function("() => document.querySelector('figure[data-player] video').paused")
    start = current_time(member)
    member.keyboard.press("ArrowRight")
    expect_time(member, start + 5)
    member.keyboard.press("l")
    expect_time(member, start + 15)
    member.keyboard.press("5")
    expect_time(member, 30)
    member.keyboard.press(">")
    assert media(member, "m.playbackRate") == 1.75
    expect(controls.get_by_label("Playback speed")).to_have_value("1.75")
    member.keyboard.press("<")

    # Typing in the composer is not a shortcut.
    member.get_by_label("Your reply").press("k")
    assert media(member, "m.paused") is True
    member.get_by_label("Your reply").fill("")

    # Comment at 0:42 (70 % of a minute).
    player(member).focus()
    member.keyboard.press("7")
    expect_time(member, 42)
    comment = player(member).get_by_role("button", name="Comment at 0:42")
    expect(comment).to_be_visible()
    comment.click()
    chip = member.locator("#composer .composer-moment")
    expect(chip).to_be_visible()
    expect(chip).to_contain_text("At 0:42 of Harbour tour")
    member.get_by_label("Your reply").fill("The tern colony is right behind the lamp here.")
    snap(member, "player-03-comment-at-moment")
    member.get_by_role("button", name="Post reply").click()
    reply = member.locator("article.post", has_text="tern colony")
    expect(reply).to_be_visible()
    moment_link = reply.get_by_role("link", name="Play Harbour tour from 0:42")
    expect(moment_link).to_have_text("▶ 0:42")
    expect(moment_link).to_be_visible()
    wait_until_ready(member)
    marker = player(member).get_by_role(
        "button", name="Mina Member at 0:42: The tern colony is right behind the lamp here."
    )
    expect(marker).to_be_visible()
    # The speed was remembered across the page load.
    expect(player(member).get_by_label("Playback speed")).to_have_value("1.5")

    # Elsewhere in the recording, the reply's link brings it back to 0:42 and plays.
    player(member).focus()
    member.keyboard.press("1")
    expect_time(member, 6)
    moment_link.click()
    expect_time(member, 42, within=1.5)
    member.wait_for_function("() => !document.querySelector('figure[data-player] video').paused")
    player(member).focus()
    member.keyboard.press("k")
    member.keyboard.press("0")
    expect_time(member, 0)
    marker.click()
    expect_time(member, 42, within=1.5)
    member.keyboard.press("k")
    snap(member, "player-04-marker")

    # A "?t=" address starts the player there.
    member.goto(thread_url + "?t=25")
    wait_until_ready(member)
    expect_time(member, 25, within=1.5)
    # Ten seconds of it (at 1.5×), then leaving the page sends the last watched stretch.
    if not media(member, "m.paused"):  # started by itself (autoplay allowed)
        player(member).get_by_role("button", name="Pause").click()
    player(member).get_by_role("button", name="Play").click()
    member.wait_for_function(
        "() => document.querySelector('figure[data-player] video').currentTime > 35",
        timeout=20_000,
    )
    member.goto(server.url("/"))

    # The author sees who watched and how much.
    owner.goto(thread_url)
    wait_until_ready(owner)
    seen = player(owner).locator("details.player-viewers")
    expect(seen.locator("summary")).to_have_text(re.compile(r"Seen by 1 · details"))
    seen.locator("summary").click()
    viewer = seen.locator("li.viewer", has_text="Mina Member")
    expect(viewer).to_be_visible()
    percent = int(re.search(r"(\d+)%", viewer.inner_text()).group(1))
    assert 15 <= percent <= 100
    seen.scroll_into_view_if_needed()
    snap(owner, "player-05-viewers")

    # A voice note plays with its waveform.
    voice = tmp_path / "harbour-voice.webm"
    voice.write_bytes(webm_bytes(8.0, video=False))
    post_walkthrough(owner, "Lighthouse", "Harbour voice note", voice)
    wait_until_ready(owner)
    waveform = player(owner).locator("canvas.player-waveform")
    expect(waveform).to_be_visible()
    expect(waveform).to_have_attribute("data-levels", re.compile(r"^[01]\.\d+,"))
    expect(player(owner).locator(".player-duration")).to_have_text("0:08")
    player(owner).get_by_role("button", name="Play").click()
    expect_time(owner, 2, within=1)
    player(owner).get_by_role("button", name="Pause").click()
    snap(owner, "player-06-audio")
    owner.goto(thread_url)

    # A phone: the controls fit a 390 px screen.
    phone = new_page(PHONE)
    phone.context.add_cookies(owner.context.cookies())
    phone.goto(thread_url)
    wait_until_ready(phone)
    box = player(phone).bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    for name in ("Play", "Mute", "Full screen"):
        button = player(phone).get_by_role("button", name=name)
        expect(button).to_be_visible()
        edge = button.bounding_box()
        assert edge and edge["x"] + edge["width"] <= PHONE["width"]
