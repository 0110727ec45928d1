"""The recorder in the composers: where it appears and what it tells the browser. (Recording
itself is exercised in real Chromium by tests/browser/test_recording.py.)"""

from __future__ import annotations

import re

from django.urls import reverse
from django.utils import timezone

from tidings.recordings.queries import UNFINISHED_AFTER
from tidings.threads.tests.factories import thread_in


def recorder_of(html: str) -> str:
    match = re.search(r"<div class=\"recorder[^\"]*\" data-recorder[^>]*>", html)
    assert match, "no recorder on the page"
    return match.group(0)


def test_reply_composer_records_into_its_thread(world, settings) -> None:
    settings.RECORDING_MAX_SECONDS = 1800
    thread = thread_in(world.open_space, world.owner)
    html = world.client_for("member").get(f"/t/{thread.pk}/").content.decode()
    root = recorder_of(html)
    assert f'data-thread-id="{thread.pk}"' in root
    assert "data-space-id" not in root
    assert 'data-recordings-url="/api/recordings"' in root
    assert 'data-max-seconds="1800"' in root
    assert f'data-person="{world.member.pk}"' in root
    after_ms = int(UNFINISHED_AFTER.total_seconds() * 1000)
    assert f'data-unfinished-after-ms="{after_ms}"' in root
    # Hidden until the script runs (no JavaScript, no recorder); the recording's fields are
    # sent only once a recording is attached.
    assert " hidden" in root
    assert '<input type="hidden" name="recording" value="" disabled>' in html
    assert '<input type="hidden" name="recording_chunks" value="" disabled>' in html
    assert 'href="/w/acme/library/"' in html
    # One module, which imports the rest of the recorder itself.
    assert '<script type="module" src="/static/js/recorder/main.js"></script>' in html


def test_new_thread_composer_records_into_its_space(world) -> None:
    url = reverse(
        "threads:thread-new", kwargs={"workspace": "acme", "space": world.open_space.slug}
    )
    html = world.client_for("guest").get(url).content.decode()
    root = recorder_of(html)
    assert f'data-space-id="{world.open_space.pk}"' in root
    assert "data-thread-id" not in root
    assert 'Recording <span class="optional">' in html


def test_archived_space_has_no_recorder(world) -> None:
    thread = thread_in(world.open_space, world.owner)
    world.open_space.archived_at = timezone.now()
    world.open_space.save(update_fields=["archived_at"])
    html = world.client_for("owner").get(f"/t/{thread.pk}/").content.decode()
    assert "data-recorder" not in html


def test_a_post_refused_for_its_recording_says_why_beside_the_recorder(world) -> None:
    thread = thread_in(world.open_space, world.owner)
    response = world.client_for("member").post(
        reverse("threads:reply", kwargs={"thread_id": thread.pk}),
        {"body": "", "recording": "0" * 32, "recording_chunks": "3"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    # Inside the recorder, after its "Record" bar and before its panel.
    recorder = html[html.index("data-recorder") : html.index('class="recorder-panel"')]
    error = re.search(r'<p class="field-error" role="alert">([^<]+)</p>', recorder)
    assert error, "the recording's error is not shown beside the recorder"
    assert "recording" in error.group(1).lower()
