"""All the way from a microphone to words: speech made by espeak-ng is Chromium's fake
microphone; the real recorder records and uploads it; the server processes and transcribes
it; the transcript appears under the player, a click on a word moves the player there, and
the player has its captions track."""

from __future__ import annotations

import re
import shutil

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, snap
from tests.browser.test_email_journey import tidings_shell
from tests.browser.test_journeys import accessibility_violations
from tests.browser.test_recording import (
    FAKE_MEDIA,
    choose,
    owner_in_thread,
    post_timed,
    record_for,
    start_recording,
    stop,
)

SCRIPT = "Alice will send the budget by Friday. Please review the launch plan before Monday."

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng speaks into the fake microphone"
)


@pytest.fixture(scope="module")
def speaking_browser(browser, tmp_path_factory):
    """Headless Chromium whose microphone says SCRIPT, over and over."""
    from tidings.transcripts.tests.factories import speech_wav

    wav = speech_wav(tmp_path_factory.mktemp("speech"), SCRIPT, gap_ms=800)
    speaking = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[*CHROMIUM_ARGS, *FAKE_MEDIA, f"--use-file-for-fake-audio-capture={wav}"],
    )
    yield speaking
    speaking.close()


def test_spoken_words_become_a_transcript_to_play_from(
    server, speaking_browser, fresh_database_env, tmp_path
) -> None:
    context = speaking_browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    owner_in_thread(page, server, "Budget review")

    choose(page, "Audio only")
    start_recording(page)
    record_for(page, 14)  # the script twice over, wherever the fake microphone begins it
    stop(page)
    post_timed(page)
    thread_url = page.url
    player = page.locator("figure.player").last
    # Processing, then transcription: the panel shows how it goes, then the words.
    words = player.locator(".transcript-ready .w")
    expect(words.first).to_be_visible(timeout=120_000)
    text = player.locator(".transcript-body").inner_text().lower()
    for key in ("budget", "friday", "review", "launch", "monday"):
        assert key in text, text
    snap(page, "transcript-01-ready")

    # A click on a word moves the player to it, and that word is marked as being spoken.
    word = player.locator(".transcript-body .w", has_text=re.compile("^Friday", re.I)).last
    word.scroll_into_view_if_needed()
    at = int(word.get_attribute("data-ms"))
    word.click()
    media = player.locator(".player-media")
    page.wait_for_function(
        "([media, at]) => Math.abs(media.currentTime * 1000 - at) < 1500",
        arg=[media.element_handle(), at],
    )
    expect(player.locator(".transcript-body .w.is-current")).to_have_count(1)
    assert media.evaluate("m => m.querySelector('track[kind=captions]') !== null")

    # Finding words inside this transcript.
    player.get_by_label("Find in this transcript").fill("budget")
    expect(player.locator(".transcript-found")).to_have_text(re.compile(r"^\d+ found$"))
    expect(player.locator(".w.is-match").first).to_be_visible()
    snap(page, "transcript-02-found")
    assert accessibility_violations(page) == []
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    snap(page, "transcript-03-phone")
    page.set_viewport_size(DESKTOP)

    # The captions and the text download hold the same words.
    vtt = page.request.get(
        server.base_url + player.locator(".transcript-ready").get_attribute("data-captions-url")
    )
    assert vtt.ok and vtt.text().startswith("WEBVTT") and "budget" in vtt.text().lower()

    # The author corrects a word in place; its time stays, and the captions follow.
    player.get_by_role("button", name="Correct words").click()
    first = player.locator(".transcript-body .w").first
    moment = first.get_attribute("data-ms")
    first.click()
    field = player.get_by_label(re.compile("^Correct “"))
    field.fill("Zebedee")
    field.press("Enter")
    expect(player.locator(".w.is-corrected")).to_have_text("Zebedee")
    assert player.locator(".w.is-corrected").get_attribute("data-ms") == moment
    snap(page, "transcript-04-corrected")
    captions = page.request.get(
        server.base_url + player.locator(".transcript-ready").get_attribute("data-captions-url")
    )
    assert "Zebedee" in captions.text()

    # Search finds the spoken words; the result opens the recording at that moment, with the
    # words marked in its transcript.
    page.goto(server.base_url + "/search/?q=launch+plan")
    result = page.locator(".search-hit").first
    expect(result).to_contain_text("Said at")
    snap(page, "transcript-05-search")
    result.locator(".search-hit-title").click()
    player = page.locator("figure.player").last
    expect(player.locator(".transcript-ready .w.is-match").first).to_be_visible(timeout=10_000)
    moment = int(re.search(r"[?&]t=(\d+)", page.url).group(1))
    page.wait_for_function(
        "([media, at]) => Math.abs(media.currentTime - at) < 2",
        arg=[player.locator(".player-media").element_handle(), moment],
    )

    # A transcript that stopped says why, and its author tries again from the panel.
    env = {**fresh_database_env, "SITE_URL": server.base_url}
    tidings_shell(
        env,
        tmp_path,
        "from tidings.transcripts.models import Transcript; "
        "from tidings.transcripts.actions import FAILED_REPEATEDLY; "
        "Transcript.objects.update(state='failed', failure_reason=FAILED_REPEATEDLY)",
    )
    page.goto(thread_url)
    player = page.locator("figure.player").last
    retry = player.get_by_role("button", name="Try again")
    expect(retry).to_be_visible(timeout=10_000)
    expect(player.locator(".transcript")).to_contain_text("Transcription stopped after 5 tries")
    snap(page, "transcript-06-failed")
    assert accessibility_violations(page) == []
    retry.click()
    expect(player.locator(".transcript-ready .w").first).to_be_visible(timeout=60_000)
    assert not errors
    context.close()
