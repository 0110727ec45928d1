"""The transcript panel and its captions: who may see them, and what they show."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import ROLES, by_role
from tidings.accounts.actions import create_access_token
from tidings.recordings.tests.factories import posted_recording
from tidings.threads.tests.factories import thread_in
from tidings.transcripts import actions
from tidings.transcripts.actions import MODEL_MISSING
from tidings.transcripts.models import Segment, Transcript, TranscriptState

PRIVATE_WORDS = "the Globex acquisition closes in March"


def transcript_for(recording, text: str, state=TranscriptState.READY) -> Transcript:
    transcript = Transcript.objects.create(recording=recording, state=state, text=text)
    words = [[i * 400, i * 400 + 300, word, 0.9] for i, word in enumerate(text.split())]
    Segment.objects.create(
        transcript=transcript, index=0, start_ms=0, end_ms=words[-1][1], text=text, words=words
    )
    return transcript


@pytest.fixture
def recordings(world) -> dict[str, str]:
    return recordings_with_transcripts(world)


def recordings_with_transcripts(world) -> dict[str, str]:
    """A recording with a ready transcript in the open space and one in the private space:
    their tokens by "open" and "private"."""
    shown = {}
    for where, space, author, words in (
        ("open", world.open_space, world.member, "we ship the harbour app on Friday"),
        ("private", world.private_space, world.owner, PRIVATE_WORDS),
    ):
        recording = posted_recording(author, thread_in(space, author), title=f"{where} call")
        transcript_for(recording, words)
        shown[where] = recording.token
    return shown


PATHS = {
    "panel": "/recordings/{}/transcript",
    "vtt": "/recordings/{}/transcript.vtt",
    "srt": "/recordings/{}/transcript.srt?download",
    "txt": "/recordings/{}/transcript.txt",
}
# owner, admin, member, guest, outsider, anonymous (sent to sign in)
SEES = {
    "open": by_role(200, 200, 200, 200, 404, 302),
    "private": by_role(200, 200, 404, 404, 404, 302),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("where", ["open", "private"])
@pytest.mark.parametrize("name", list(PATHS))
def test_who_may_see_a_transcript(world, recordings, role, where, name):
    client = world.client_for(role) if role != "anonymous" else Client()
    response = client.get(PATHS[name].format(recordings[where]))
    assert response.status_code == SEES[where][role]
    if response.status_code != 200:
        assert b"Globex" not in response.content


def test_the_panel_shows_each_word_with_its_time(world, recordings):
    html = world.client_for("guest").get(PATHS["panel"].format(recordings["open"])).content
    html = html.decode()
    assert '<span class="w" data-ms="400" data-end="700" data-at="0.1">ship</span>' in html
    assert 'href="?t=0"' in html and ">0:00<" in html
    assert f"/recordings/{recordings['open']}/transcript.srt?download" in html
    assert 'data-captions-url="/recordings/' in html


def test_captions_and_text_files(world, recordings):
    client = world.client_for("member")
    vtt = client.get(PATHS["vtt"].format(recordings["open"]))
    assert vtt["Content-Type"] == "text/vtt; charset=utf-8"
    assert vtt.content.decode().startswith("WEBVTT\n\n00:00:00.000 --> 00:00:02.700\nwe ship")
    srt = client.get(PATHS["srt"].format(recordings["open"]))
    assert srt["Content-Disposition"] == 'attachment; filename="open-call.srt"'
    assert srt.content.decode().startswith("1\n00:00:00,000 --> ")
    text = client.get(PATHS["txt"].format(recordings["open"])).content.decode()
    assert text == "[0:00] we ship the harbour app on Friday\n"


def test_progress_while_transcribing_and_a_reason_when_there_is_none(world):
    thread = thread_in(world.open_space, world.member)
    working = posted_recording(world.member, thread)
    Transcript.objects.create(recording=working, state=TranscriptState.TRANSCRIBING, progress=40)
    client = world.client_for("member")
    html = client.get(PATHS["panel"].format(working.token)).content.decode()
    assert "Transcribing what is said — 40%" in html and 'hx-trigger="every 2s"' in html
    assert client.get(PATHS["vtt"].format(working.token)).status_code == 404
    silent = posted_recording(world.member, thread)
    Transcript.objects.create(
        recording=silent, state=TranscriptState.NO_SPEECH, failure_reason="No speech was found."
    )
    assert (
        "No speech was found." in client.get(PATHS["panel"].format(silent.token)).content.decode()
    )
    nothing = posted_recording(world.member, thread)
    assert client.get(PATHS["panel"].format(nothing.token)).status_code == 404


def test_a_waiting_transcript_says_how_many_recordings_are_ahead_of_it(world):
    thread = thread_in(world.open_space, world.member)
    client = world.client_for("member")
    first = posted_recording(world.member, thread)
    Transcript.objects.create(recording=first, state=TranscriptState.QUEUED)
    html = client.get(PATHS["panel"].format(first.token)).content.decode()
    assert "Transcription starts in a moment" in html
    # Others' recordings, private ones too, count; what they are is never told.
    for space in (world.private_space, world.open_space):
        other = posted_recording(world.owner, thread_in(space, world.owner))
        Transcript.objects.create(recording=other, state=TranscriptState.TRANSCRIBING)
    waiting = posted_recording(world.member, thread)
    Transcript.objects.create(recording=waiting, state=TranscriptState.QUEUED)
    html = client.get(PATHS["panel"].format(waiting.token)).content.decode()
    assert "In line to be transcribed: 3 recordings ahead" in html
    Transcript.objects.filter(recording=first).update(state=TranscriptState.READY)
    html = client.get(PATHS["panel"].format(waiting.token)).content.decode()
    assert "In line to be transcribed: 2 recordings ahead" in html
    Transcript.objects.filter(recording=waiting).update(failure_reason=MODEL_MISSING)
    html = client.get(PATHS["panel"].format(waiting.token)).content.decode()
    assert "Transcription is on hold" in html and "Waiting for the speech model" in html
    for jargon in ("Waiting to transcribe", "Waiting for its turn", "Processing"):
        assert jargon not in html


# --- The API: the same rules with personal access tokens.

API_SEES = {
    "open": by_role(200, 200, 200, 200, 404, 401),
    "private": by_role(200, 200, 404, 404, 404, 401),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("where", ["open", "private"])
@pytest.mark.parametrize("suffix", ["", ".vtt", ".txt"])
def test_who_may_read_a_transcript_through_the_api(world, recordings, role, where, suffix):
    person = world.person(role)
    headers = {}
    if person is not None:
        headers = {"Authorization": f"Bearer {create_access_token(person, 'tests')[1]}"}
    response = Client().get(
        f"/api/recordings/{recordings[where]}/transcript{suffix}", headers=headers
    )
    assert response.status_code == API_SEES[where][role]
    if response.status_code != 200:
        assert b"Globex" not in response.content
    elif suffix == "":
        body = response.json()
        assert body["state"] == "ready" and body["segments"][0]["words"][1] == {
            "start_ms": 400, "end_ms": 700, "text": body["text"].split()[1], "probability": 0.9,
            "joins_previous": False,
        }  # fmt: skip
    elif suffix == ".vtt":
        assert response.content.startswith(b"WEBVTT")


# --- Corrections.

CORRECTORS = {
    "open": by_role(200, 200, 200, 403, 404, 302),  # the member made it; guests may not
    "private": by_role(200, 200, 404, 404, 404, 302),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("where", ["open", "private"])
def test_who_may_correct_a_transcript(world, recordings, role, where):
    client = world.client_for(role) if role != "anonymous" else Client()
    response = client.post(
        f"/recordings/{recordings[where]}/transcript/words", {"at": "0.1", "text": "shipped"}
    )
    assert response.status_code == CORRECTORS[where][role]
    transcript = Transcript.objects.get(recording__token=recordings[where])
    corrected = response.status_code == 200
    assert ("shipped" in transcript.text) is corrected
    if response.status_code != 200:
        assert b"Globex" not in response.content


def test_bad_corrections_are_refused_with_a_reason(world, recordings):
    client = world.client_for("member")
    url = f"/recordings/{recordings['open']}/transcript/words"
    assert client.post(url, {"at": "0.99", "text": "x"}).status_code == 404
    assert client.post(url, {"at": "nonsense", "text": "x"}).status_code == 404
    long = client.post(url, {"at": "0.1", "text": "x" * 101})
    assert long.status_code == 400 and "under 100 characters" in long.json()["error"]
    assert (
        "Correct words"
        not in world.client_for("guest")
        .get(PATHS["panel"].format(recordings["open"]))
        .content.decode()
    )


# --- Summary and action items.


@pytest.fixture
def meeting(world):
    thread = thread_in(world.open_space, world.member, title="Planning call")
    recording = posted_recording(world.member, thread, title="Planning call")
    said = (
        "Welcome to the planning call about the harbour budget. The harbour budget is over "
        "the plan. Olivia will send the revised budget by Friday. I will book the room. "
        "Mia to review the crane repairs budget. Thanks everyone."
    )
    transcript = transcript_for(recording, said)
    actions.summarise(transcript)
    return recording, transcript


def test_suggested_action_items_name_people_and_dates(world, meeting):
    recording, transcript = meeting
    items = {item.text: item for item in transcript.action_items.all()}
    send = items["Olivia will send the revised budget by Friday."]
    assert send.owner == world.owner and send.due_on is not None
    assert send.due_on.weekday() == 4
    assert items["I will book the room."].owner == world.member  # the one who recorded it
    assert items["Mia to review the crane repairs budget."].owner == world.member
    # Shown beside the action items, the summary says what they do not.
    assert [text for _, text in transcript.summary] == [
        "Welcome to the planning call about the harbour budget.",
        "The harbour budget is over the plan.",
    ]
    html = world.client_for("guest").get(PATHS["panel"].format(recording.token)).content
    html = html.decode()
    assert "Summary" in html and "Action items" in html and "Olivia Owner" in html
    assert "Accept" not in html  # guests see them, only the author and admins decide
    token = create_access_token(world.guest, "tests")[1]
    body = (
        Client()
        .get(
            f"/api/recordings/{recording.token}/transcript",
            headers={"Authorization": f"Bearer {token}"},
        )
        .json()
    )
    assert [s["text"] for s in body["summary"]] == [text for _, text in transcript.summary]
    [api_send] = [i for i in body["action_items"] if i["text"].startswith("Olivia will")]
    assert api_send["owner"]["name"] == "Olivia Owner" and api_send["state"] == "suggested"
    assert api_send["due_on"] == send.due_on.isoformat()


def test_a_recording_under_half_a_minute_gets_no_summary(world):
    thread = thread_in(world.open_space, world.member, title="Quick note")
    recording = posted_recording(world.member, thread, duration_ms=25_000)
    said = (
        "The harbour budget is over the plan. The crane repairs explain the harbour budget. "
        "Olivia will send the revised budget by Friday."
    )
    transcript = transcript_for(recording, said)
    transcript.duration_ms = 25_000
    actions.summarise(transcript)
    transcript.refresh_from_db()
    assert transcript.summary == []
    assert [item.text for item in transcript.action_items.all()] == [
        "Olivia will send the revised budget by Friday."
    ]
    html = world.client_for("member").get(PATHS["panel"].format(recording.token)).content
    assert b"Summary" not in html and b"Action items" in html


@pytest.mark.parametrize(
    ("role", "expected"),
    [("member", 200), ("admin", 200), ("owner", 200), ("guest", 403), ("outsider", 404)],
)
def test_who_may_accept_or_dismiss(world, meeting, role, expected):
    recording, transcript = meeting
    item = transcript.action_items.first()
    url = f"/recordings/{recording.token}/transcript/items/{item.pk}"
    response = world.client_for(role).post(url, {"decision": "accept"})
    assert response.status_code == expected
    item.refresh_from_db()
    assert (item.state == "accepted") is (expected == 200)


def test_accepted_ones_stay_and_dismissed_ones_go(world, meeting):
    recording, transcript = meeting
    first, second, *_ = transcript.action_items.all()
    client = world.client_for("member")
    url = f"/recordings/{recording.token}/transcript/items/"
    answer = client.post(f"{url}{first.pk}", {"decision": "accept"}).content.decode()
    assert "Accepted" in answer and f'id="action-item-{first.pk}"' in answer
    client.post(f"{url}{second.pk}", {"decision": "dismiss"})
    actions.summarise(transcript)  # run again: the decisions stand
    states = dict(transcript.action_items.values_list("text", "state"))
    assert states[first.text] == "accepted" and states[second.text] == "dismissed"
    assert len(states) == 3
    html = client.get(PATHS["panel"].format(recording.token)).content.decode()
    assert second.text not in html.split("Action items")[1]
    other = posted_recording(world.member, thread_in(world.open_space, world.member))
    transcript_for(other, "nothing to do here")
    assert (
        client.post(
            f"/recordings/{other.token}/transcript/items/{first.pk}", {"decision": "dismiss"}
        ).status_code
        == 404
    )  # an item of another recording


def test_a_correction_reaches_the_summary_and_the_suggestions(
    world, meeting, django_capture_on_commit_callbacks
):
    recording, transcript = meeting
    words = [word[2] for word in transcript.segments.get().words]
    at = words.index("Olivia")
    with django_capture_on_commit_callbacks(execute=True):  # the test's Huey runs it at once
        world.client_for("member").post(
            f"/recordings/{recording.token}/transcript/words", {"at": f"0.{at}", "text": "Adam"}
        )
    items = dict(transcript.action_items.values_list("text", "owner__name"))
    assert items["Adam will send the revised budget by Friday."] == "Adam Admin"
    assert "Olivia will send the revised budget by Friday." not in items


# --- Trying a failed transcript again.

RETRIERS = {
    "open": by_role(200, 200, 200, 403, 404, 302),  # the member made it; guests may not
    "private": by_role(200, 200, 404, 404, 404, 302),
}
API_RETRIERS = {
    "open": by_role(200, 200, 200, 403, 404, 401),
    "private": by_role(200, 200, 404, 404, 404, 401),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("where", ["open", "private"])
@pytest.mark.parametrize("through", ["page", "api"])
def test_who_may_try_a_failed_transcript_again(world, recordings, role, where, through):
    Transcript.objects.filter(recording__token=recordings[where]).update(
        state=TranscriptState.FAILED, failure_reason="Transcription stopped."
    )
    person = world.person(role)
    if through == "page":
        client = world.client_for(role) if person is not None else Client()
        response = client.post(f"/recordings/{recordings[where]}/transcript/retry")
        expected = RETRIERS[where][role]
    else:
        headers = {}
        if person is not None:
            headers = {"Authorization": f"Bearer {create_access_token(person, 'tests')[1]}"}
        response = Client().post(
            f"/api/recordings/{recordings[where]}/transcript/retry", headers=headers
        )
        expected = API_RETRIERS[where][role]
    assert response.status_code == expected
    state = Transcript.objects.get(recording__token=recordings[where]).state
    assert (state == TranscriptState.QUEUED) is (expected == 200)
    if expected != 200:
        assert b"Globex" not in response.content
    if through == "api" and expected != 302:
        assert response["Content-Type"].startswith("application/json")


def test_only_a_failed_transcript_is_tried_again(world, recordings):
    client = world.client_for("member")
    response = client.post(f"/recordings/{recordings['open']}/transcript/retry")
    assert response.status_code == 200 and "Try again" not in response.content.decode()
    assert Transcript.objects.get(recording__token=recordings["open"]).state == "ready"
