"""Every transcript ends: media whose audio stops before the length the container states,
files cut short, clips shorter than the model's window, audio that ends exactly where a piece
does. Each reaches a final state in a bounded number of runs of the job (counted here), and
no restart leaves jobs piling up in the queue."""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from django.core.files import File
from django.core.files.base import ContentFile
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from tidings import leases
from tidings.recordings import processing
from tidings.recordings.tests.factories import posted_recording
from tidings.threads.tests.factories import thread_in
from tidings.transcripts import actions, engine
from tidings.transcripts.models import Transcript, TranscriptState
from tidings.transcripts.tests.factories import silence_wav

RUNS_ALLOWED = 12
FINAL = {TranscriptState.READY, TranscriptState.NO_SPEECH, TranscriptState.FAILED}


def media_file(
    path: Path,
    *,
    video_ms: int,
    audio_ms: int,
    speech: Path | None = None,
    tone_hz: float = 220,
) -> Path:
    """A WebM (VP8 + Opus) or MP4 (H.264 + AAC) file, by `path`'s suffix, whose audio track
    ends `video_ms - audio_ms` before its video: what a browser's cut-short recording or a
    phone's MP4 looks like. The sound is `speech` (a WAV) or a quiet tone."""
    mp4 = path.suffix == ".mp4"
    rate = 48_000
    if speech is not None:
        with av.open(str(speech)) as source:
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            sound = np.concatenate(
                [
                    chunk.to_ndarray().reshape(-1)
                    for frame in [*source.decode(audio=0), None]
                    for chunk in resampler.resample(frame)
                ]
            )
    else:
        t = np.arange(audio_ms * rate // 1000) / rate
        sound = (0.05 * np.sin(2 * np.pi * tone_hz * t)).astype(np.float32)
    sound = np.pad(sound, (0, max(0, audio_ms * rate // 1000 - len(sound))))
    sound = sound[: audio_ms * rate // 1000].astype(np.float32)
    with av.open(str(path), "w") as output:
        fps = 25
        video = output.add_stream("libx264" if mp4 else "libvpx", rate=fps)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = output.add_stream("aac" if mp4 else "libopus", rate=rate)
        audio.layout = "mono"
        frame_size = 1024 if mp4 else 960
        for index in range(math.ceil(video_ms * fps / 1000)):
            picture = np.full((48, 64, 3), index % 255, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            output.mux(video.encode(frame))
        output.mux(video.encode())
        for start in range(0, len(sound), frame_size):
            block = sound[start : start + frame_size]
            chunk = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="flt", layout="mono")
            chunk.sample_rate, chunk.pts = rate, start
            output.mux(audio.encode(chunk))
        output.mux(audio.encode())
    return path


def processed(owner, thread, media: Path, folder: Path):
    """A recording of `media` as processing leaves it: the length found by reading the file
    (as the container has it) and the 16 kHz audio track made from it."""
    info = processing.probe(media)
    track = folder / f"{media.stem}-16k.flac"
    processing.extract_audio(media, track, info.duration_ms)
    recording = posted_recording(
        owner, thread, duration_ms=info.duration_ms, has_video=info.has_video
    )
    with track.open("rb") as handle:
        recording.audio_track.save("audio-16k.flac", File(handle), save=True)
    return recording


def as_mp3(wav: Path, target: Path) -> Path:
    with av.open(str(wav)) as source, av.open(str(target), "w") as output:
        stream = output.add_stream("libmp3lame", rate=16_000)
        stream.layout = "mono"
        for frame in [*source.decode(audio=0), None]:
            for packet in stream.encode(frame):
                output.mux(packet)
    return target


def run_to_the_end(transcript: Transcript) -> tuple[Transcript, int]:
    """Run the job as the worker would, counting runs, until it says it is done."""
    runs = 0
    while runs < RUNS_ALLOWED:
        runs += 1
        step = actions.transcribe_next_piece(transcript.pk)
        if step is actions.Step.DONE:
            break
        assert step in (actions.Step.MORE, actions.Step.RETRY), step
    return Transcript.objects.get(pk=transcript.pk), runs


def transcript_of(recording) -> Transcript:
    return Transcript.objects.create(recording=recording, duration_ms=recording.duration_ms)


@pytest.mark.parametrize("suffix", [".webm", ".mp4"])
@pytest.mark.parametrize("short_by_ms", [1, 7, 20, 50, 400])
def test_audio_that_ends_before_the_stated_length_finishes(
    world, tmp_path, settings, suffix, short_by_ms
):
    settings.TRANSCRIPTION_PIECE_SECONDS = 2
    thread = thread_in(world.open_space, world.owner)
    media = media_file(tmp_path / f"clip{suffix}", video_ms=5_000, audio_ms=5_000 - short_by_ms)
    recording = processed(world.owner, thread, media, tmp_path)

    transcript, runs = run_to_the_end(transcript_of(recording))

    assert transcript.state in FINAL and runs <= 5, (transcript.state, runs)
    assert transcript.state == TranscriptState.NO_SPEECH  # a tone: nothing said
    assert transcript.progress == 100 and transcript.claimed_by == ""
    assert transcript.done_ms <= recording.duration_ms
    assert actions.transcribe_next_piece(transcript.pk) is actions.Step.DONE


def test_a_truncated_file_is_transcribed_up_to_where_it_breaks(world, tmp_path, settings):
    settings.TRANSCRIPTION_PIECE_SECONDS = 2
    thread = thread_in(world.open_space, world.owner)
    recording = processed(
        world.owner,
        thread,
        media_file(tmp_path / "clip.webm", video_ms=6_000, audio_ms=6_000),
        tmp_path,
    )
    whole = recording.audio_track.read()
    recording.audio_track.close()
    recording.audio_track.save("cut.flac", ContentFile(whole[: len(whole) * 6 // 10]), save=True)

    transcript, runs = run_to_the_end(transcript_of(recording))

    assert transcript.state == TranscriptState.NO_SPEECH and runs <= 5
    assert 0 < transcript.done_ms < recording.duration_ms and transcript.progress == 100


@pytest.mark.parametrize("length_ms", [30, 118, 600])
def test_a_clip_shorter_than_the_model_window_finishes_in_one_run(world, tmp_path, length_ms):
    thread = thread_in(world.open_space, world.owner)
    wav = silence_wav(tmp_path, length_ms / 1000, tone_hz=300)
    track = as_mp3(wav, tmp_path / "short.mp3")
    recording = posted_recording(world.owner, thread, duration_ms=length_ms, has_video=False)
    with track.open("rb") as handle:
        recording.audio_track.save("audio.mp3", File(handle), save=True)

    transcript, runs = run_to_the_end(transcript_of(recording))

    assert transcript.state == TranscriptState.NO_SPEECH and runs == 1
    assert transcript.failure_reason == actions.NO_SPEECH


def test_reading_at_or_past_the_end_is_the_end_not_unreadable(tmp_path):
    wav = silence_wav(tmp_path, 0.118, tone_hz=300)
    mp3 = as_mp3(wav, tmp_path / "short.mp3")
    length = sum(len(samples) for samples in engine.read_audio(mp3))
    end_ms = length * 1000 // engine.SAMPLE_RATE
    for start_ms in (end_ms, end_ms + 1, 5_000):
        assert list(engine.pieces(mp3, start_ms, 300_000)) == []


def test_audio_that_ends_exactly_where_a_piece_does_finishes(world, tmp_path, settings):
    settings.TRANSCRIPTION_PIECE_SECONDS = 2
    thread = thread_in(world.open_space, world.owner)
    wav = silence_wav(tmp_path, 4, tone_hz=300)
    recording = posted_recording(world.owner, thread, duration_ms=4_000, has_video=False)
    with wav.open("rb") as handle:
        recording.audio_track.save("audio.wav", File(handle), save=True)
    ends = [piece.end_ms for piece in engine.pieces(Path(recording.audio_track.path), 0, 2_000)]
    transcript = transcript_of(recording)
    # Resumed right at a cut, and right at the very end of the audio.
    for done_ms in (ends[0], ends[-1]):
        Transcript.objects.filter(pk=transcript.pk).update(
            done_ms=done_ms, state=TranscriptState.QUEUED, finished_at=None
        )
        finished, runs = run_to_the_end(transcript)
        assert finished.state == TranscriptState.NO_SPEECH and runs <= 2
        assert finished.done_ms == ends[-1] and finished.progress == 100


def test_a_run_that_gets_nowhere_counts_and_the_transcript_fails_with_a_way_out(
    world, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    thread = thread_in(world.open_space, world.owner)
    recording = posted_recording(world.owner, thread, duration_ms=4_000, has_video=False)
    with silence_wav(tmp_path, 4).open("rb") as handle:
        recording.audio_track.save("audio.wav", File(handle), save=True)
    transcript = transcript_of(recording)

    def broken(*args, **kwargs):
        raise RuntimeError("the model crashed")

    monkeypatch.setattr(engine, "transcribe", broken)
    failed, runs = run_to_the_end(transcript)
    assert failed.state == TranscriptState.FAILED and runs == actions.MAX_ATTEMPTS + 1
    assert failed.failure_reason == actions.FAILED_REPEATEDLY
    panel = world.client_for("owner").get(f"/recordings/{recording.token}/transcript")
    assert "Try again" in panel.content.decode()
    panel = world.client_for("member").get(f"/recordings/{recording.token}/transcript")
    assert "Try again" not in panel.content.decode()

    # A worker killed mid-piece, again and again: each leaves its claim behind, which the
    # sweep takes back once the lease has run out. Those runs count too.
    class Killed(BaseException):
        pass

    def killed(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(engine, "transcribe", killed)
    Transcript.objects.filter(pk=transcript.pk).update(
        state=TranscriptState.QUEUED, attempts=0, finished_at=None
    )
    kills = 0
    for _ in range(RUNS_ALLOWED):
        Transcript.objects.filter(pk=transcript.pk).update(
            claimed_until=timezone.now() - dt.timedelta(seconds=1)
        )
        try:
            actions.requeue_stalled()  # the test's Huey runs the job at once
        except Killed:
            kills += 1
            continue
        break
    assert kills == actions.MAX_ATTEMPTS
    assert Transcript.objects.get(pk=transcript.pk).state == TranscriptState.FAILED
    monkeypatch.undo()

    # Its author tries again: it finishes.
    with django_capture_on_commit_callbacks(execute=True):
        response = world.client_for("owner").post(f"/recordings/{recording.token}/transcript/retry")
    assert response.status_code == 200
    assert Transcript.objects.get(pk=transcript.pk).state == TranscriptState.NO_SPEECH


def test_restarts_never_pile_up_jobs_in_the_queue(world, tmp_path, settings):
    """Three waiting transcripts while the only slot is busy elsewhere; three worker starts
    each queue them again. Once the jobs scheduled meanwhile have run, one job per waiting
    transcript is left, not one per restart."""
    settings.TRANSCRIPTION_CONCURRENCY = 1
    thread = thread_in(world.open_space, world.owner)
    busy, *waiting = [
        transcript_of(posted_recording(world.owner, thread, has_video=False)) for _ in range(4)
    ]
    live_elsewhere = "0" * 32  # a worker on another host, alive
    Transcript.objects.filter(pk=busy.pk).update(
        state=TranscriptState.TRANSCRIBING,
        claimed_by=live_elsewhere,
        claimed_until=timezone.now() + dt.timedelta(minutes=5),
    )
    HUEY.flush()
    for _ in range(3):
        actions.requeue_stalled(at_startup=True)
    assert HUEY.scheduled_count() == 3 * len(waiting)

    later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=1)  # Huey's clock
    for task in HUEY.read_schedule(later):
        task.eta = None  # its time has come
        HUEY.execute(task)
    assert HUEY.scheduled_count() == len(waiting)
    assert sorted(task.args[0] for task in HUEY.scheduled()) == sorted(t.pk for t in waiting)
    HUEY.flush()


def test_a_claim_of_a_worker_that_died_on_this_host_is_taken_over_at_once(world, tmp_path):
    thread = thread_in(world.open_space, world.owner)
    recording = posted_recording(world.owner, thread, duration_ms=1_000, has_video=False)
    with silence_wav(tmp_path, 1).open("rb") as handle:
        recording.audio_track.save("audio.wav", File(handle), save=True)
    transcript = transcript_of(recording)
    dead = leases.worker_identity()[:8] + f"{_ended_pid():08x}" + "0" * 16
    Transcript.objects.filter(pk=transcript.pk).update(
        state=TranscriptState.TRANSCRIBING,
        claimed_by=dead,
        claimed_until=timezone.now() + dt.timedelta(seconds=30),
    )
    assert actions.requeue_stalled() == 0  # the lease has not run out
    assert actions.requeue_stalled(at_startup=True) == 1  # a starting worker sees it is gone
    finished = Transcript.objects.get(pk=transcript.pk)
    assert finished.state == TranscriptState.NO_SPEECH and finished.claimed_by == ""


def _ended_pid() -> int:
    """The id of a process of this host that has ended."""
    import subprocess

    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid
