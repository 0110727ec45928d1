"""Recording from the composers in real Chromium with fake camera and microphone: camera and
audio replies, an upload that survives a dropped chunk request, an uploaded file, and (headed,
under Xvfb) screen and screen + camera recordings started from a real click.

The media pieces go to the server while recording, so posting only waits for the last one:
the post and the page it lands on answer within a second."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, snap
from tests.browser.test_journeys import (
    accessibility_violations,
    create_space,
    post_thread,
    set_up_owner,
    submit_setup,
)
from tidings.apikit.session import SIGNED_OUT

FAKE_MEDIA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
XVFB_DISPLAY = ":93"
NEW_THREAD = "main form.card"  # the new-thread composer
# Keeps a copy of every piece MediaRecorder hands the page, to compare with the server's.
COLLECT_PIECES = """
window.recordedPieces = [];
const addListener = MediaRecorder.prototype.addEventListener;
MediaRecorder.prototype.addEventListener = function (type, listener, options) {
  if (type === "dataavailable") {
    const inner = listener;
    listener = function (event) {
      if (event.data && event.data.size) window.recordedPieces.push(event.data);
      return inner.call(this, event);
    };
  }
  return addListener.call(this, type, listener, options);
};
"""


# Extra browsers are launched through the shared browser's Playwright (one per process).


@pytest.fixture(scope="module")
def media_browser(browser):
    """Headless Chromium whose camera and microphone are a test pattern and a beep."""
    media = browser.browser_type.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *FAKE_MEDIA]
    )
    yield media
    media.close()


@pytest.fixture(scope="module")
def xvfb() -> Iterator[str]:
    """A virtual X display for headed Chromium. Without RandR, Chromium's X11 capturer
    shares the whole display (with it, Xvfb's monitor list makes "Entire screen" fail)."""
    if not shutil.which("Xvfb"):
        pytest.skip("Xvfb is not installed (Debian package xvfb): screen capture needs a display")
    process = subprocess.Popen(
        ["Xvfb", XVFB_DISPLAY, "-screen", "0", "1280x800x24", "-nolisten", "tcp"]
        + ["-extension", "RANDR"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    socket = Path(f"/tmp/.X11-unix/X{XVFB_DISPLAY[1:]}")
    deadline = time.monotonic() + 10
    while not socket.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.skip(f"Xvfb could not start on display {XVFB_DISPLAY}")
        time.sleep(0.05)
    yield XVFB_DISPLAY
    process.terminate()
    process.wait(timeout=10)


def headed(browser, display: str, *flags: str):
    return browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=False,
        env={**os.environ, "DISPLAY": display},
        args=[*CHROMIUM_ARGS, "--auto-select-desktop-capture-source=Entire screen", *flags],
    )


@pytest.fixture(scope="module")
def screen_browser(browser, xvfb: str):
    """Headed Chromium that shares the real (virtual) screen. It has no camera or
    microphone: Chromium's fake devices would replace the screen with a test pattern too."""
    screen = headed(browser, xvfb, "--use-fake-ui-for-media-stream")
    yield screen
    screen.close()


@pytest.fixture(scope="module")
def bubble_browser(browser, xvfb: str):
    """Headed Chromium with the fake camera and microphone, for screen + camera: its
    "screen" is Chromium's test pattern, the camera bubble is drawn over it."""
    bubble = headed(browser, xvfb, *FAKE_MEDIA)
    yield bubble
    bubble.close()


@pytest.fixture
def open_page():
    """Open a page in a new context of a browser (optionally signed in as in `state`) and
    collect its script errors; closes the contexts afterwards."""
    contexts = []

    def open_in(browser, state: dict | None = None) -> tuple[Page, list[str]]:
        context = browser.new_context(viewport=DESKTOP, storage_state=state)
        context.set_default_timeout(15_000)
        context.add_init_script(COLLECT_PIECES)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page, errors

    yield open_in
    for context in contexts:
        context.close()


def owner_in_thread(page: Page, server, title: str) -> str:
    """Set up Tidings as its owner and open a new thread; return the thread's address."""
    set_up_owner(lambda: page, server)
    submit_setup(page)
    create_space(page, "Lighthouse")
    return post_thread(page, "Lighthouse", title, "Context for the recordings below.")


# --- steps people take -------------------------------------------------------------------


def recorder(page: Page, composer: str = "#composer"):
    return page.locator(f"{composer} [data-recorder]")


def open_menu(page: Page, composer: str = "#composer") -> None:
    recorder(page, composer).get_by_label("Record a video or audio message").click()


def choose(page: Page, source: str, composer: str = "#composer") -> None:
    open_menu(page, composer)
    recorder(page, composer).get_by_role("button", name=source, exact=True).click()


def start_recording(page: Page, composer: str = "#composer") -> None:
    start = recorder(page, composer).get_by_role("button", name="Start recording")
    expect(start).to_be_enabled()
    start.click()
    expect(recorder(page, composer).get_by_role("button", name="Stop")).to_be_visible(timeout=8_000)


def record_for(page: Page, seconds: int, composer: str = "#composer") -> None:
    """Wait until the recorder's timer shows `seconds`."""
    page.wait_for_function(
        "([composer, s]) => {"
        " const t = document.querySelector(composer + ' .recorder-timer');"
        " return t && t.textContent.startsWith('0:' + String(s).padStart(2, '0')); }",
        arg=[composer, seconds],
        timeout=(seconds + 5) * 1000,
    )


def stop(page: Page, composer: str = "#composer") -> None:
    recorder(page, composer).get_by_role("button", name="Stop").click()
    expect(recorder(page, composer).get_by_role("button", name="Re-record")).to_be_visible()
    expect(recorder(page, composer).locator(".recorder-upload-state")).to_have_text("All saved")


def post_timed(page: Page, button: str = "Post reply") -> float:
    """Post through the composer's own button; return the seconds from the post request to
    the end of the thread page it lands on (Navigation Timing, across the redirect)."""
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()
    navigation = page.evaluate(
        "() => { const n = performance.getEntriesByType('navigation')[0];"
        " return {redirects: n.redirectCount, end: n.responseEnd, start: n.startTime}; }"
    )
    assert navigation["redirects"] == 1, navigation
    return (navigation["end"] - navigation["start"]) / 1000


def live_brightness(page: Page) -> float:
    """Mean brightness (0-255) of the live preview's current picture."""
    return page.evaluate(
        """() => {
            const video = document.querySelector('#composer .recorder-live');
            const canvas = document.createElement('canvas');
            canvas.width = 160;
            canvas.height = 90;
            const context = canvas.getContext('2d');
            context.drawImage(video, 0, 0, 160, 90);
            const pixels = context.getImageData(0, 0, 160, 90).data;
            let sum = 0;
            for (let i = 0; i < pixels.length; i += 4) {
                sum += pixels[i] + pixels[i + 1] + pixels[i + 2];
            }
            return sum / (pixels.length / 4) / 3;
        }"""
    )


def recorded_sha256(page: Page) -> str:
    """SHA-256 of the pieces MediaRecorder produced in the page, joined in order."""
    return page.evaluate(
        """async () => {
            const bytes = await new Blob(window.recordedPieces).arrayBuffer();
            const digest = await crypto.subtle.digest('SHA-256', bytes);
            const hex = (b) => b.toString(16).padStart(2, '0');
            return Array.from(new Uint8Array(digest), hex).join('');
        }"""
    )


def server_chunks_sha256(server, token: str) -> tuple[int, str]:
    chunks = sorted((server.data_dir / "media" / "recordings" / token / "chunks").iterdir())
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk.read_bytes())
    return len(chunks), digest.hexdigest()


def expect_playing(player) -> None:
    """The posted recording's <video> or <audio> loads and its time advances. The player
    swaps itself for the finished one when processing ends, so it is looked up each time."""
    expect(player.locator(".player-media")).to_be_attached()
    player.page.wait_for_function(
        """(id) => {
            const media = document.querySelector('#' + CSS.escape(id) + ' .player-media');
            if (!media) return false;
            if (media.paused) {
                media.muted = true;
                media.play().catch(() => {});
            }
            return media.readyState >= 2 && media.currentTime > 0.3;
        }""",
        arg=player.get_attribute("id"),
    )


# --- the journeys --------------------------------------------------------------------------


def test_camera_audio_and_file_recordings(server, media_browser, open_page, tmp_path) -> None:
    page, errors = open_page(media_browser)
    owner_in_thread(page, server, "Harbour wall survey")

    # Camera: the menu, the live preview with its level meter, the countdown, recording.
    open_menu(page)
    menu = recorder(page).locator(".recorder-menu .menu-list")
    expect(menu.get_by_role("button", name="Screen + camera")).to_be_visible()
    snap(page, "rec-01-menu")
    menu.get_by_role("button", name="Camera", exact=True).click()
    live = recorder(page).get_by_label("Live preview")
    page.wait_for_function("(v) => v.readyState >= 2", arg=live.element_handle())
    expect(recorder(page).get_by_label("Camera", exact=True)).to_be_visible()
    expect(recorder(page).get_by_label("Microphone", exact=True)).to_be_visible()
    expect(recorder(page).get_by_role("button", name="Start recording")).to_be_focused()
    # The fake microphone's first sound can take a while on a loaded machine.
    page.wait_for_function(
        "() => Number(document.querySelector('#composer [role=meter]')"
        ".getAttribute('aria-valuenow')) > 0",
        timeout=45_000,
    )
    snap(page, "rec-02-setup")
    assert accessibility_violations(page) == []
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.set_viewport_size(DESKTOP)
    page.keyboard.press("Enter")  # the focused "Start recording"
    countdown = recorder(page).locator(".recorder-countdown")
    expect(countdown).to_have_text("3")
    snap(page, "rec-03-countdown")
    expect(recorder(page).get_by_role("button", name="Stop")).to_be_focused(timeout=8_000)
    record_for(page, 2)
    snap(page, "rec-04-recording")
    record_for(page, 5)
    stop(page)
    review = recorder(page).get_by_label("Your recording").first
    page.wait_for_function("(v) => v.readyState >= 1", arg=review.element_handle())
    snap(page, "rec-05-review")
    assert accessibility_violations(page) == []

    seconds = post_timed(page)
    assert seconds < 1.0, f"the reply page took {seconds:.2f} s after the post"
    expect(page).to_have_url(re.compile(r"#reply-\d+$"))
    expect_playing(page.locator("figure.player").last)
    snap(page, "rec-06-posted")

    # The first try of chunk 2 is cut off: the piece is sent again and nothing is lost.
    cut = []

    def drop_first_try(route: Route) -> None:
        if route.request.method == "PUT" and not cut:
            cut.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/recordings/*/chunks/2", drop_first_try)
    page.evaluate("window.recordedPieces = []")
    with page.expect_response("**/api/recordings") as started:
        choose(page, "Camera")
        start_recording(page)
    token = started.value.json()["token"]
    # Paused, the timer holds still; resumed, it goes on.
    record_for(page, 1)
    recorder(page).get_by_role("button", name="Pause").click()
    expect(recorder(page).locator(".recorder-rec")).to_contain_text("Paused")
    held_at = recorder(page).get_by_role("timer").text_content()
    page.wait_for_timeout(1200)
    expect(recorder(page).get_by_role("timer")).to_have_text(held_at)
    recorder(page).get_by_role("button", name="Resume").click()
    expect(recorder(page).locator(".recorder-rec")).to_contain_text("Recording")
    record_for(page, 3)
    stop(page)
    assert cut, "the test never cut a chunk request"
    count, server_sha = server_chunks_sha256(server, token)
    assert count >= 3
    assert count == page.evaluate("window.recordedPieces.length")
    assert server_sha == recorded_sha256(page)
    page.unroute("**/recordings/*/chunks/2")
    post_timed(page)
    expect(page.locator("figure.player")).to_have_count(2)

    # The tab dies while recording: later pages remind the person, and the library holds
    # what reached the server. (The reminder waits until no tab touched the recording for
    # two minutes, like the library; the test ages the browser's note instead of waiting.)
    thread_url = page.url.split("#")[0]
    choose(page, "Audio only")
    start_recording(page)
    record_for(page, 2)
    context = page.context
    page.close()
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(thread_url)
    page.evaluate(
        """() => {
            const key = 'tidings.recordings.unfinished';
            const aged = JSON.parse(localStorage.getItem(key)).map(
                (e) => ({...e, seenAt: new Date(Date.now() - 600000).toISOString()}));
            localStorage.setItem(key, JSON.stringify(aged));
        }"""
    )
    page.reload()
    reminder = recorder(page).locator(".recorder-unfinished")
    expect(reminder).to_contain_text("You have an unfinished recording from today at")
    snap(page, "rec-07-unfinished-reminder")
    library = reminder.get_by_role("link", name="open the library")
    expect(library).to_have_attribute("href", re.compile(r"/w/harbour-works/library/$"))

    # Upload a file: its pieces go up with a progress bar (held back here to show it).
    from tidings.recordings.tests.factories import webm_bytes

    clip = tmp_path / "harbour-wall.webm"
    clip.write_bytes(webm_bytes(2))
    held: list[Route] = []
    page.route("**/recordings/*/chunks/*", lambda route: held.append(route))
    open_menu(page)
    with page.expect_file_chooser() as chooser:
        recorder(page).get_by_role("button", name="Upload a file…").click()
    chooser.value.set_files(str(clip))
    expect(recorder(page).locator(".recorder-progress")).to_contain_text("Uploading: 0%")
    expect(recorder(page).locator(".recorder-file-info")).to_contain_text("harbour-wall.webm")
    expect(recorder(page).locator(".recorder-upload-state")).to_have_text("Saving 1 piece…")
    snap(page, "rec-08-upload-progress")
    for route in held:
        route.continue_()
    page.unroute("**/recordings/*/chunks/*")
    expect(recorder(page).locator(".recorder-upload-state")).to_have_text("All saved")
    expect(recorder(page).locator(".recorder-progress")).to_be_hidden()
    post_timed(page)
    expect(page.locator("figure.player")).to_have_count(3)

    # Audio only, opening a new thread: no text is needed beside the recording. Posted
    # without a title first: the page comes back with the error and the recording attached.
    page.get_by_role("link", name="#Lighthouse").first.click()
    page.get_by_role("link", name="New thread").first.click()
    choose(page, "Audio only", composer=NEW_THREAD)
    start_recording(page, composer=NEW_THREAD)
    record_for(page, 2, composer=NEW_THREAD)
    stop(page, composer=NEW_THREAD)
    expect(recorder(page, NEW_THREAD).locator(".recorder-review-audio")).to_be_visible()
    snap(page, "rec-09-new-thread-audio")
    with page.expect_navigation():
        page.get_by_role("button", name="Post thread").click()
    expect(page.locator("#thread-title-error")).to_be_visible()
    expect(recorder(page, NEW_THREAD).locator(".recorder-notice")).to_contain_text(
        "Your recording is still attached"
    )
    expect(recorder(page, NEW_THREAD).locator(".recorder-review-audio")).to_be_visible()
    page.get_by_label("Title").fill("Voice note on the tide gauge")
    post_timed(page, "Post thread")
    expect(page.get_by_role("heading", level=1)).to_have_text("Voice note on the tide gauge")
    player = page.locator("article.post-opening figure.player")
    expect(player).to_have_class(re.compile("player-audio"))
    expect_playing(player)

    # Signed out meanwhile (in another tab, or the session ran out): the recorder says so.
    page.context.clear_cookies()
    open_menu(page)
    with page.expect_file_chooser() as chooser:
        recorder(page).get_by_role("button", name="Upload a file…").click()
    chooser.value.set_files(str(clip))
    expect(recorder(page).locator(".recorder-message")).to_have_text(SIGNED_OUT)
    assert not errors


@pytest.fixture
def five_second_limit(monkeypatch) -> None:
    """Recordings may last 5 seconds on the server started after this."""
    monkeypatch.setenv("RECORDING_MAX_SECONDS", "5")


def test_screen_and_screen_with_camera(
    five_second_limit, server, screen_browser, bubble_browser, open_page
) -> None:
    page, errors = open_page(screen_browser)
    thread_url = owner_in_thread(page, server, "Walkthrough of the tide tables")

    # The real screen (the page itself, light grey) from a real click; no microphone here,
    # so the recorder says the screen is recorded without sound.
    choose(page, "Screen")
    live = recorder(page).get_by_label("Live preview")
    page.wait_for_function(
        "(v) => v.readyState >= 2 && v.videoWidth > 0", arg=live.element_handle()
    )
    assert live_brightness(page) > 150, "the preview is not the light page on the screen"
    expect(recorder(page).locator(".recorder-notice")).to_contain_text("without sound")
    start_recording(page)
    record_for(page, 2)
    stop(page)
    post_timed(page)
    expect(page.locator("figure.player")).to_have_count(1)
    expect_playing(page.locator("figure.player").last)

    # Screen + camera, signed in as the same person in a browser with a camera; it runs
    # into the server's 5-second limit and stops by itself.
    page, more_errors = open_page(bubble_browser, page.context.storage_state())
    page.goto(thread_url)
    choose(page, "Screen + camera")
    live = recorder(page).get_by_label("Live preview")
    page.wait_for_function(
        "(v) => v.readyState >= 2 && v.videoWidth > 0", arg=live.element_handle()
    )
    expect(recorder(page).get_by_label("Stop after")).to_have_value("5")
    snap(page, "rec-10-screen-camera-setup")
    start_recording(page)
    expect(recorder(page).get_by_role("button", name="Re-record")).to_be_visible(timeout=10_000)
    expect(recorder(page).locator(".recorder-notice")).to_have_text(
        "Recording stopped at 5 seconds, the longest a recording may be."
    )
    expect(recorder(page).locator(".recorder-upload-state")).to_have_text("All saved")
    post_timed(page)
    expect(page.locator("figure.player")).to_have_count(2)
    expect_playing(page.locator("figure.player").last)
    assert not errors + more_errors


def test_a_recorded_reply_sent_later(server, media_browser, open_page, fresh_database_env) -> None:
    """Record now, send Monday: the recording waits with the post (not as unfinished) and
    goes out with it at its time, as the author's reply."""
    from tests.browser.test_email_journey import tidings_shell

    page, errors = open_page(media_browser)
    thread_url = owner_in_thread(page, server, "Quay crane inspection")
    page.get_by_label("Your reply").fill("Walkthrough of the crane for the morning shift.")
    choose(page, "Audio only")
    start_recording(page)
    record_for(page, 2)
    stop(page)
    page.locator("#composer summary", has_text="Send later").click()
    when = page.evaluate(
        "() => { const d = new Date(Date.now() + 2 * 864e5);"
        " return d.toISOString().slice(0, 10) + 'T07:45'; }"
    )
    page.get_by_label("At a date and time").fill(when)
    with page.expect_navigation():
        page.get_by_role("button", name="Schedule", exact=True).click()
    expect(page.get_by_text("Scheduled. It stays private to you until it is sent.")).to_be_visible()
    row = page.locator(".later-row", has_text="Quay crane inspection")
    expect(row).to_contain_text("with a recording")
    snap(page, "rec-10-scheduled-with-recording")
    page.goto(thread_url)
    expect(page.locator("figure.player")).to_have_count(0)  # nobody sees it before its time
    expect(recorder(page).locator(".recorder-unfinished")).to_be_hidden()

    # The server's own queue does the processing (the same HUEY_NAME).
    env = {**fresh_database_env, "SITE_URL": server.base_url}
    published = tidings_shell(
        env,
        server.data_dir.parent,
        "import datetime as dt\n"
        "from django.utils import timezone\n"
        "from tidings.inbox.send_later import publish_due_posts\n"
        "print(publish_due_posts(timezone.now() + dt.timedelta(days=3)))\n",
    )
    assert published.splitlines()[-1] == "1"
    page.reload()
    reply = page.locator("article.post", has_text="Walkthrough of the crane")
    expect(reply.locator("figure.player")).to_have_count(1)
    expect_playing(reply.locator("figure.player"))
    assert not errors
