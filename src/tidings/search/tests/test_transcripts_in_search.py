"""What is said in recordings reaches search: a transcript the job makes, one of media cut
short, a corrected word, and words spelt as the model heard them, newly or again."""

from __future__ import annotations

import importlib

import av
import jiwer
import pytest
from django.apps import apps

from tidings.recordings.tests.factories import posted_recording
from tidings.search import index
from tidings.search.index import index_transcript
from tidings.search.queries import search
from tidings.threads.tests.factories import thread_in
from tidings.transcripts import actions
from tidings.transcripts.models import ActionItem, Segment, Transcript, TranscriptState
from tidings.transcripts.tests import test_pages, test_transcription, test_words
from tidings.transcripts.tests.factories import needs_espeak, recording_with_audio, speech_wav
from tidings.transcripts.tests.test_endings import (
    media_file,
    processed,
    run_to_the_end,
    transcript_of,
)
from tidings.transcripts.tests.test_pages import PATHS
from tidings.transcripts.tests.test_transcription import SCRIPTS, normalised


@pytest.fixture(autouse=True)
def _transcription_settings(settings):
    """As for every transcripts test: the model runs on two threads."""
    settings.TRANSCRIPTION_CPU_THREADS = 2


@pytest.fixture
def recordings(world) -> dict[str, str]:
    return test_pages.recordings_with_transcripts(world)


@pytest.fixture
def requested(django_capture_on_commit_callbacks):
    return test_transcription.requester(django_capture_on_commit_callbacks)


@pytest.fixture
def spoken(world):
    return test_words.spoken_figures(world)


@needs_espeak
@pytest.mark.slow
def test_speech_in_a_cut_short_webm_is_transcribed_and_found(world, tmp_path, settings):
    settings.TRANSCRIPTION_PIECE_SECONDS = 4
    thread = thread_in(world.open_space, world.owner)
    wav = speech_wav(tmp_path, "Alice will send the budget by Friday. Thank you all.")
    with av.open(str(wav)) as source:
        spoken_ms = int(source.duration * 1000 // av.time_base)
    media = media_file(
        tmp_path / "call.webm", video_ms=spoken_ms + 30, audio_ms=spoken_ms + 10, speech=wav
    )
    recording = processed(world.owner, thread, media, tmp_path)

    transcript, runs = run_to_the_end(transcript_of(recording))

    assert transcript.state == TranscriptState.READY and runs <= 4
    assert "budget" in transcript.text.lower() and transcript.progress == 100
    assert search(world.member, "budget").hits


def test_a_corrected_word_keeps_its_time_and_reaches_captions_and_search(world, recordings):
    token = recordings["open"]
    index.index_transcript(Transcript.objects.get(recording__token=token))
    client = world.client_for("member")
    assert client.post(
        f"/recordings/{token}/transcript/words", {"at": "0.4", "text": "Harbor Master"}
    ).json() == {"text": "Harbor Master"}
    segment = Segment.objects.get(transcript__recording__token=token)
    assert segment.words[4][:3] == [1600, 1900, "Harbor Master"]
    assert segment.text == "we ship the harbour Harbor Master on Friday"
    vtt = client.get(PATHS["vtt"].format(token)).content.decode()
    assert "harbour Harbor Master on Friday" in vtt
    assert search(world.member, "master").hits[0].spoken
    assert not search(world.member, "app").hits
    # Emptied, the word is gone from the text, the captions and the page; its neighbours stay.
    client.post(f"/recordings/{token}/transcript/words", {"at": "0.3", "text": "  "})
    panel = client.get(PATHS["panel"].format(token)).content.decode()
    assert 'data-at="0.3"' not in panel and 'data-at="0.4"' in panel
    assert "Correct words" in panel
    assert "the Harbor Master" in client.get(PATHS["txt"].format(token)).content.decode()


@needs_espeak
@pytest.mark.slow
def test_the_job_transcribes_a_recording_once(world, tmp_path, settings, requested):
    settings.TRANSCRIPTION_PIECE_SECONDS = 15
    thread = thread_in(world.open_space, world.owner)
    wav = speech_wav(tmp_path, ". ".join(SCRIPTS * 2), gap_ms=700)
    recording = recording_with_audio(world.owner, thread, wav, tmp_path)

    transcript = requested(recording)
    actions.transcribe_next_piece(transcript.pk)  # nothing left to do: changes nothing
    assert transcript.state == TranscriptState.READY, transcript.failure_reason
    assert transcript.progress == 100 and transcript.model_name == "tiny.en (bundled)"
    assert jiwer.wer(normalised(" ".join(SCRIPTS * 2)), normalised(transcript.text)) <= 0.10
    segments = list(transcript.segments.all())
    assert [s.index for s in segments] == list(range(len(segments)))
    starts = [word[0] for s in segments for word in s.words]
    assert starts == sorted(starts) and starts[-1] <= recording.duration_ms
    assert requested(recording).pk == transcript.pk  # asked again: the same, not again
    [hit] = search(world.member, "budget").hits  # what was said is found
    assert hit.spoken and hit.moment_ms == next(
        w[0] for s in segments for w in s.words if w[2].lower().startswith("budget")
    )
    assert Transcript.objects.get(pk=transcript.pk).segments.count() == len(segments)


def test_the_page_captions_and_search_read_glued_pieces_as_one(world, spoken):
    recording, transcript = spoken
    client = world.client_for("guest")
    html = client.get(f"/recordings/{recording.token}/transcript").content.decode()
    # No space between a word's span and the piece glued to it; a space before a new word.
    assert '28</span><span class="w"' in html and 'rate</span> <span class="w"' in html
    for fmt in ("txt", "srt", "vtt"):
        text = client.get(f"/recordings/{recording.token}/transcript.{fmt}").content.decode()
        assert "28.8%." in text and "www.asterisk.org." in text and " .8" not in text
    # A correction keeps the spacing: the corrected piece stays glued.
    actions.correct_word(world.member, recording, segment_index=0, word_index=4, text=".9%.")
    transcript.refresh_from_db()
    assert transcript.text == "The rate is 28.9%. Visit www.asterisk.org."
    [hit] = search(world.guest, "rate").hits
    assert "28.9%. Visit www.asterisk.org" in str(hit.snippet)


def test_transcripts_stored_before_are_spelt_again(world):
    """Words stored without their spacing: a piece starting with punctuation is taken to be
    glued to the word before; the texts made from them, search and summaries follow."""
    migration = importlib.import_module("tidings.transcripts.migrations.0004_words_spelt_as_said")
    thread = thread_in(world.open_space, world.member, title="Rates")
    recording = posted_recording(world.member, thread, title="Rates call")
    old_words = [
        [0, 300, "Olivia", 0.9], [300, 600, "will", 0.9], [600, 900, "check", 0.9],
        [900, 1200, "the", 0.9], [1200, 1500, "self", 0.9], [1500, 1800, "-service", 0.9],
        [1800, 2100, "rate", 0.9], [2100, 2400, "of", 0.9], [2400, 2700, "28", 0.9],
        [2700, 3000, ".8%", 0.9], [3000, 3300, "by", 0.9], [3300, 3600, "Friday.", 0.9],
    ]  # fmt: skip
    spaced = " ".join(w[2] for w in old_words)
    transcript = Transcript.objects.create(
        recording=recording, state="ready", text=spaced, duration_ms=60_000,
        summary=[[0, spaced]],
    )  # fmt: skip
    Segment.objects.create(
        transcript=transcript, index=0, start_ms=0, end_ms=3600, text=spaced, words=old_words
    )
    ActionItem.objects.create(transcript=transcript, start_ms=0, text=spaced)
    index_transcript(transcript)
    short = Transcript.objects.create(
        recording=posted_recording(world.member, thread, duration_ms=12_000), state="ready",
        text="Hello all.", duration_ms=12_000, summary=[[0, "Hello all."]],
    )  # fmt: skip

    migration.spell_again(apps, None)

    expected = "Olivia will check the self-service rate of 28.8% by Friday."
    transcript.refresh_from_db()
    assert transcript.text == expected and transcript.summary == [[0, expected]]
    assert transcript.segments.get().text == expected
    assert [w[4] for w in transcript.segments.get().words][4:6] == [False, True]
    assert transcript.action_items.get().text == expected
    [hit] = search(world.member, "service rate").hits
    assert "self-" in str(hit.snippet) and " .8" not in str(hit.snippet)
    short.refresh_from_db()
    assert short.summary == []
