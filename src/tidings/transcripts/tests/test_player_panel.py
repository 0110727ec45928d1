"""The player of a recording and its transcript: while the transcript is made, the panel
shows how it goes and there are no captions; once ready, the player has its captions."""

from __future__ import annotations

from django.template.loader import render_to_string

from tidings.recordings import queries
from tidings.recordings.tests.factories import posted_opening, ready
from tidings.transcripts.models import Transcript, TranscriptState
from tidings.transcripts.player import player_context


def test_a_ready_transcript_gives_the_player_its_captions_and_panel(world):
    recording = ready(posted_opening(world.member, world.open_space))
    found = queries.recording_media(world.member, recording)
    # Processing asked for the transcript: the panel shows how it goes, no captions yet.
    assert Transcript.objects.get(recording=recording).state == TranscriptState.QUEUED
    html = render_to_string(
        "transcripts/_player.html", {"player": player_context(world.member, recording, found)}
    )
    assert "<track" not in html
    assert f'hx-get="/recordings/{recording.token}/transcript"' in html
    Transcript.objects.filter(recording=recording).update(state=TranscriptState.READY)
    recording = queries.recording_for(world.member, recording.token)
    html = render_to_string(
        "transcripts/_player.html", {"player": player_context(world.member, recording, found)}
    )
    assert f'<track kind="captions" src="/recordings/{recording.token}/transcript.vtt"' in html
