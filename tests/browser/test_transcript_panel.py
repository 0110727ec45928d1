"""The transcript panel as people see it, light and dark, desktop and phone: words joined as
they were spelt ("28.8%", "self-service"), a summary that repeats neither itself nor the
action items beside it, and a waiting transcript that says what it waits for. Pages run on
the test database (`live_server`)."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_appearance import SCHEMES, shoot
from tests.browser.test_journeys import accessibility_violations
from tidings.recordings.tests.factories import posted_recording, webm_bytes
from tidings.threads.tests.factories import reply_to, thread_in
from tidings.transcripts import actions
from tidings.transcripts.models import Segment, Transcript, TranscriptState
from tidings.transcripts.tests.test_words import as_spelt
from tidings.transcripts.words import spelt

# "|" marks a piece the model spells glued to the word before it.
SAID = (
    "The harbour budget is 28|.8% over the plan this quarter. The crane repairs explain most "
    "of the harbour budget overrun. The self|-service kiosks on the pier are the other part of "
    "the harbour budget. So the crane repairs explain most of the harbour budget overrun. "
    "Olivia will send the revised harbour budget by Friday. Mia to check the kiosk contracts "
    "at www|.harbour|.example before Monday. Thanks everyone."
)


def model_words(said: str) -> list[str]:
    """The words as the model gives them: a new word starts with a space."""
    pieces = []
    for token in said.split():
        first, *glued = token.split("|")
        pieces += [f" {first}", *glued]
    return pieces


# The test database is filled between browser steps: first thing, before `world`.
pytestmark = pytest.mark.usefixtures("orm_beside_playwright")


@pytest.fixture
def call(world) -> str:
    """A thread with a transcribed minute-long call, and a reply whose recording waits behind
    another for its transcript. Returns the thread's path."""
    thread = thread_in(world.open_space, world.member, title="Harbour budget call")
    recording = posted_recording(world.member, thread, title="Budget call", duration_ms=60_000)
    recording.playable.save("playable.webm", ContentFile(webm_bytes(2.0)))
    words = as_spelt(*model_words(SAID))
    transcript = Transcript.objects.create(
        recording=recording, state=TranscriptState.READY, text=spelt(words), duration_ms=60_000
    )
    Segment.objects.create(
        transcript=transcript, index=0, start_ms=0, end_ms=words[-1].end_ms, text=spelt(words),
        words=[[w.start_ms, w.end_ms, w.text, 0.9, w.joins_previous] for w in words],
    )  # fmt: skip
    actions.summarise(transcript)
    ahead = posted_recording(world.owner, thread_in(world.private_space, world.owner))
    Transcript.objects.create(recording=ahead, state=TranscriptState.TRANSCRIBING, progress=40)
    reply = reply_to(thread, world.admin, body="My notes on the kiosks.")
    waiting = posted_recording(world.admin, thread, reply=reply, title="Kiosk notes")
    waiting.playable.save("playable.webm", ContentFile(webm_bytes(2.0)))
    Transcript.objects.create(recording=waiting, state=TranscriptState.QUEUED)
    return f"/t/{thread.pk}/"


def test_the_transcript_panel_reads_right(live_server, world, call, page_for) -> None:
    problems = {}
    for scheme in SCHEMES:
        for viewport in (DESKTOP, PHONE):
            page = page_for(world.member, viewport=viewport, scheme=scheme)
            page.goto(live_server.url + call)
            ready, waiting = page.locator(".transcript").all()
            ready.scroll_into_view_if_needed()
            expect(ready.locator(".transcript-body")).to_be_visible()
            body = ready.locator(".transcript-body").inner_text()
            for joined in ("28.8%", "self-service", "www.harbour.example"):
                assert joined in body, body
            summary = ready.locator(".transcript-summary li").all_inner_texts()
            items = ready.locator(".transcript-actions li").all_inner_texts()
            assert len(summary) == 3 and len(items) == 2, (summary, items)
            assert sum("crane repairs" in line for line in summary) == 1
            assert not any("Olivia will" in line or "Mia to" in line for line in summary)
            waiting.scroll_into_view_if_needed()
            expect(waiting).to_contain_text("In line to be transcribed: 1 recording ahead")
            width = viewport["width"]
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            ready.scroll_into_view_if_needed()
            shoot(page, f"transcript-panel-{width}-{scheme}")
            problems[f"{width} {scheme}"] = accessibility_violations(page)
    assert {where: found for where, found in problems.items() if found} == {}
