"""Real transcription with the bundled model, of speech made by espeak-ng in the test."""

from __future__ import annotations

import re

import jiwer
import pytest
from num2words import num2words

from tidings.recordings.tests.factories import posted_recording
from tidings.threads.tests.factories import thread_in
from tidings.transcripts import actions, engine
from tidings.transcripts.models import Transcript, TranscriptState
from tidings.transcripts.tests.factories import (
    needs_espeak,
    recording_with_audio,
    silence_wav,
    speech_wav,
    speech_with_a_pause,
)

pytestmark = [pytest.mark.slow, needs_espeak]

SCRIPTS = [
    "Alice will send the budget by Friday. Please review the launch plan before the "
    "meeting on Monday.",
    "The bridge survey starts at 9 in the morning and takes 3 hours. We expect 12 people.",
    "Thank you all for joining. Let us decide on the new logo today, and ship the release "
    "next week.",
]


def normalised(text: str) -> str:
    """Lower case, numbers as words, no punctuation: what word error rate compares."""
    text = re.sub(r"\d+", lambda found: f" {num2words(int(found[0]))} ", text.lower())
    text = re.sub(r"[^a-z' ]+", " ", text.replace("-", " "))
    return " ".join(text.split())


@pytest.fixture
def requested(django_capture_on_commit_callbacks):
    """requested(recording): ask for its transcript and run the job (the test's Huey runs
    tasks at once), as when the recording's processing commits."""
    return requester(django_capture_on_commit_callbacks)


def requester(capture_on_commit_callbacks):
    def request(recording) -> Transcript:
        with capture_on_commit_callbacks(execute=True):
            transcript = actions.request_transcript(recording)
        return Transcript.objects.get(pk=transcript.pk)

    return request


def transcribed_words(path) -> list[engine.Word]:
    audio = next(engine.pieces(path, 0, 3_600_000)).samples
    return [word for segment in engine.transcribe(audio, 0) for word in segment.words]


def test_words_and_times_of_spoken_english(tmp_path):
    heard = []
    for number, script in enumerate(SCRIPTS):
        wav = speech_wav(tmp_path, script, name=f"clip-{number}")
        words = transcribed_words(wav)
        heard.append(" ".join(word.text for word in words))
        length_ms = next(engine.pieces(wav, 0, 3_600_000)).end_ms
        starts = [word.start_ms for word in words]
        assert starts == sorted(starts)
        assert all(0 <= w.start_ms <= w.end_ms <= length_ms for w in words)
    # The word error rate over all the clips, as speech recognition is measured.
    error = jiwer.wer([normalised(s) for s in SCRIPTS], [normalised(h) for h in heard])
    assert error <= 0.10, (heard, error)


def test_pieces_cut_at_pauses_give_the_same_words_as_one_piece(tmp_path):
    wav = speech_wav(tmp_path, ". ".join(SCRIPTS * 2), gap_ms=700)  # 44 seconds
    whole = [w.text for w in transcribed_words(wav)]
    pieces = list(engine.pieces(wav, 0, 15_000))
    assert len(pieces) >= 3
    in_pieces = [
        word.text
        for piece in pieces
        for segment in engine.transcribe(piece.samples, piece.offset_ms)
        for word in segment.words
    ]
    # The model reads a few words differently with less around them (tiny.en, pieces of
    # 15 s here; they are minutes long in use), never many.
    assert jiwer.wer(normalised(" ".join(whole)), normalised(" ".join(in_pieces))) <= 0.05
    # Pieces follow each other without a gap or an overlap.
    assert [piece.offset_ms for piece in pieces[1:]] == [piece.end_ms for piece in pieces[:-1]]
    assert [piece.last for piece in pieces] == [False] * (len(pieces) - 1) + [True]


def test_reading_resumes_from_a_point_in_the_audio(tmp_path):
    wav = speech_wav(tmp_path, SCRIPTS[0])
    everything = next(engine.pieces(wav, 0, 3_600_000)).samples
    later = next(engine.pieces(wav, 2_000, 3_600_000))
    assert later.offset_ms == 2_000
    assert len(later.samples) == len(everything) - 2 * engine.SAMPLE_RATE


def test_a_worker_that_died_mid_way_is_resumed_without_repeating(
    world, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.TRANSCRIPTION_PIECE_SECONDS = 15
    thread = thread_in(world.open_space, world.owner)
    wav = speech_wav(tmp_path, ". ".join(SCRIPTS * 2), gap_ms=700)
    recording = recording_with_audio(world.owner, thread, wav, tmp_path)
    transcript = Transcript.objects.create(recording=recording, duration_ms=recording.duration_ms)

    assert actions.transcribe_next_piece(transcript.pk) is actions.Step.MORE
    first = Transcript.objects.get(pk=transcript.pk)
    assert 0 < first.done_ms < recording.duration_ms and 0 < first.progress < 100
    saved = first.segments.count()
    # The next run dies half-way: its claim is left behind, and runs out.
    Transcript.objects.filter(pk=transcript.pk).update(
        claimed_by="dead-worker", claimed_until=first.updated_at
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.requeue_stalled() == 1  # the test's Huey runs the job to the end
    done = Transcript.objects.get(pk=transcript.pk)
    assert done.state == TranscriptState.READY
    assert done.segments.count() > saved
    words = [word for s in done.segments.all() for word in s.words]
    assert [w[0] for w in words] == sorted(w[0] for w in words)  # no piece twice
    assert jiwer.wer(normalised(". ".join(SCRIPTS * 2)), normalised(done.text)) <= 0.10


@pytest.mark.parametrize(
    ("make", "state", "reason"),
    [
        (lambda folder: silence_wav(folder, 4), TranscriptState.NO_SPEECH, actions.NO_SPEECH),
        (
            lambda folder: silence_wav(folder, 4, tone_hz=440),
            TranscriptState.NO_SPEECH,
            actions.NO_SPEECH,
        ),
        (lambda folder: silence_wav(folder, 1), TranscriptState.NO_SPEECH, actions.NO_SPEECH),
    ],
    ids=["silence", "a tone and no speech", "one second"],
)
def test_media_without_speech_says_so(world, tmp_path, make, state, reason, requested):
    thread = thread_in(world.open_space, world.owner)
    recording = recording_with_audio(world.owner, thread, make(tmp_path), tmp_path)
    transcript = requested(recording)
    assert (transcript.state, transcript.failure_reason) == (state, reason)
    assert not transcript.segments.exists()


def test_unreadable_audio_fails_once_with_a_reason(world, tmp_path, requested):
    from django.core.files.base import ContentFile

    thread = thread_in(world.open_space, world.owner)
    recording = recording_with_audio(world.owner, thread, silence_wav(tmp_path, 1), tmp_path)
    recording.audio_track.save("broken.flac", ContentFile(b"fLaC" + bytes(300)), save=True)
    transcript = requested(recording)
    assert transcript.state == TranscriptState.FAILED
    assert transcript.failure_reason == actions.UNREADABLE
    assert actions.transcribe_next_piece(transcript.pk) is actions.Step.DONE


def test_no_sound_and_transcription_turned_off(world):
    thread = thread_in(world.open_space, world.owner)
    silent_video = posted_recording(world.owner, thread, has_audio=False)
    transcript = actions.request_transcript(silent_video)
    assert Transcript.objects.get(pk=transcript.pk).failure_reason == actions.NO_SOUND
    private = posted_recording(world.owner, thread, for_transcription=False)
    assert actions.request_transcript(private) is None


def test_only_so_many_transcriptions_at_once(world, tmp_path, settings):
    import datetime as dt

    from django.utils import timezone

    settings.TRANSCRIPTION_CONCURRENCY = 1
    thread = thread_in(world.open_space, world.owner)
    wav = silence_wav(tmp_path, 1)
    transcripts = []
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        recording = recording_with_audio(world.owner, thread, wav, tmp_path / name)
        transcripts.append(Transcript.objects.create(recording=recording))
    Transcript.objects.filter(pk=transcripts[0].pk).update(
        claimed_by="other-worker", claimed_until=timezone.now() + dt.timedelta(minutes=5)
    )
    assert actions.transcribe_next_piece(transcripts[1].pk) is actions.Step.BUSY
    assert Transcript.objects.get(pk=transcripts[1].pk).state == TranscriptState.QUEUED


def test_a_model_that_is_not_on_disk_is_never_downloaded_and_says_so(
    world, tmp_path, settings, requested
):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.TRANSCRIPTION_MODEL = "small.en"  # a size name, not in the model folder
    settings.TRANSCRIPTION_MODEL_DIR = str(tmp_path / "models")
    engine._load.cache_clear()
    try:
        thread = thread_in(world.open_space, world.owner)
        recording = recording_with_audio(world.owner, thread, silence_wav(tmp_path, 1), tmp_path)
        transcript = requested(recording)  # the job finds no model: the recording waits
        assert transcript.state == TranscriptState.QUEUED
        assert transcript.failure_reason == actions.MODEL_MISSING
        assert actions.transcribe_next_piece(transcript.pk) is actions.Step.LATER
        panel = world.client_for("owner").get(f"/recordings/{recording.token}/transcript")
        assert "Waiting for the speech model" in panel.content.decode()
        with pytest.raises(SystemCheckError, match="The speech model cannot be loaded: small.en"):
            call_command("check", deploy=True)
        assert not (tmp_path / "models").exists() or not any((tmp_path / "models").rglob("*.bin"))
    finally:
        engine._load.cache_clear()


def test_the_word_after_a_pause_starts_when_it_is_said(tmp_path):
    # The model's alignment hands the pause to a word beside it: a click on the word after
    # the pause would seek into the silence before it.
    wav, stops, resumes = speech_with_a_pause(
        tmp_path, "We should review the", "budget and then ship it on Friday", 1_500
    )
    words = transcribed_words(wav)
    [before] = [w for w in words if w.text == "the"]
    [after] = [w for w in words if w.text == "budget"]
    assert resumes - 150 <= after.start_ms <= resumes + 100, (stops, resumes, words)
    assert before.end_ms < stops + 400 and after.start_ms - before.end_ms > 1_000


SPELT = (
    "The rate went up to 28.8 percent. Please visit www.asterisk.org for the details. Every "
    "non-administrator can read it, and the plan is self-sufficient."
)


def test_pieces_of_words_are_joined_as_the_model_spelt_them(tmp_path, requested, world):
    thread = thread_in(world.open_space, world.member)
    recording = recording_with_audio(world.member, thread, speech_wav(tmp_path, SPELT), tmp_path)
    transcript = requested(recording)
    # The model may hear the host's name differently on another processor ("us.us"); what
    # counts is that the address comes out as one word.
    for spelt in (r"28\.8%", r"www\.[\w.]+\.org", "non-administrator", "self-sufficient"):
        assert re.search(rf"(^| ){spelt}", transcript.text), transcript.text
    glued = [w[2] for s in transcript.segments.all() for w in s.words if w[4]]
    assert ".org" in glued and "-administrator" in glued, glued
    text = world.client_for("guest").get(f"/recordings/{recording.token}/transcript.txt")
    assert " non-administrator " in text.content.decode()
