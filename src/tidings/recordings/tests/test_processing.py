"""Processing a posted recording: chunks joined in order, probed, remuxed into a seekable file,
poster, 16 kHz audio track, waveform and MP4 rendition, all with real media through PyAV."""

from __future__ import annotations

import io
import tempfile
from datetime import timedelta
from pathlib import Path

import av
import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from tidings.recordings import pipeline, processing
from tidings.recordings.models import Recording, RecordingChunk, RenditionState, Source, State
from tidings.recordings.tests.factories import recording_with_chunks, split, webm_bytes
from tidings.recordings.upload import attach_to_post
from tidings.threads.tests.factories import thread_in

# Matroska's element IDs for the seek index and the segment duration.
CUES = b"\x1c\x53\xbb\x6b"
DURATION = b"\x44\x89"


def post(
    world, chunks: list[bytes], *, process: bool = True, mime_type: str | None = None, **fields
) -> Recording:
    """A recording whose chunks reached the server, posted as a new thread the way the composer
    posts it, then processed as the worker does it."""
    thread = thread_in(world.open_space, world.member, title="Walkthrough")
    recording = recording_with_chunks(world.member, world.open_space, chunks, **fields)
    if mime_type is not None:
        Recording.objects.filter(pk=recording.pk).update(mime_type=mime_type)
    attach_to_post(world.member, recording.token, thread=thread)
    if process:
        pipeline.finalize_recording(recording.pk)
    recording.refresh_from_db()
    return recording


def stored(field) -> bytes:
    with default_storage.open(field.name, "rb") as handle:
        return handle.read()


def opened(field) -> av.container.InputContainer:
    return av.open(io.BytesIO(stored(field)))


def test_browser_recording_becomes_a_seekable_webm(world):
    data = webm_bytes(3.0)
    assert av.open(io.BytesIO(data)).duration is None  # As MediaRecorder leaves it.
    recording = post(world, split(data, 7))

    assert recording.state == State.READY and recording.failure_reason == ""
    assert recording.stage == "" and recording.progress == 100
    assert recording.processed_at is not None and recording.job_lease_until is None
    assert abs(recording.duration_ms - 3000) <= 200
    assert (recording.width, recording.height) == (160, 120)
    assert recording.has_video and recording.has_audio
    assert recording.playable_type == "video/webm"
    assert recording.playable.name == f"recordings/{recording.token}/playable.webm"
    assert stored(recording.original) == data
    assert not RecordingChunk.objects.filter(recording=recording).exists()
    assert default_storage.listdir(f"recordings/{recording.token}/chunks")[1] == []

    playable = stored(recording.playable)
    assert CUES in playable and DURATION in playable
    with opened(recording.playable) as container:
        assert abs(container.duration / 1_000_000 - 3.0) <= 0.2
        audio = container.streams.audio[0]
        container.seek(int(1.5 / audio.time_base), stream=audio)
        packet = next(p for p in container.demux(audio) if p.pts is not None)
        assert abs(float(packet.pts * packet.time_base) - 1.5) <= 0.1


def test_poster_is_the_frame_at_one_second_as_a_jpeg(world):
    recording = post(world, split(webm_bytes(2.0), 3))
    image = Image.open(io.BytesIO(stored(recording.poster)))
    assert image.format == "JPEG" and image.size == (160, 120)
    # The white bar moves 4 px a frame at 15 fps: at one second it is at x = 60..69.
    assert image.getpixel((64, 60))[0] > 200
    assert image.getpixel((4, 60))[0] < 60


def test_wide_video_poster_is_scaled_to_1280_px(world):
    recording = post(world, split(webm_bytes(1.5, audio=False, size=(1600, 900), fps=4), 2))
    assert (recording.width, recording.height) == (1600, 900)
    assert Image.open(io.BytesIO(stored(recording.poster))).size == (1280, 720)
    assert not recording.has_audio and not recording.audio_track


def test_audio_track_is_16k_mono_flac_of_the_same_length(world):
    recording = post(world, split(webm_bytes(3.0), 4))
    assert recording.audio_track.name.endswith("/audio-16k.flac")
    with opened(recording.audio_track) as container:
        stream = container.streams.audio[0]
        assert container.format.name == "flac"
        assert stream.codec_context.name == "flac"
        assert (stream.rate, stream.channels) == (16000, 1)
        samples = sum(frame.samples for frame in container.decode(stream))
    assert abs(samples / 16000 - 3.0) <= 0.1


def test_audio_only_gets_a_waveform_and_no_poster(world):
    recording = post(world, split(webm_bytes(2.0, video=False), 3), source=Source.AUDIO)
    assert recording.state == State.READY
    assert recording.playable_type == "audio/webm"
    assert recording.has_audio and not recording.has_video
    assert not recording.poster and recording.width is None
    assert len(recording.waveform) == 400
    assert all(0 <= level <= 1 for level in recording.waveform)
    assert max(recording.waveform) == 1.0
    assert recording.audio_track


def test_rendition_is_h264_aac_mp4_that_plays(world):
    recording = post(world, split(webm_bytes(2.0), 3))
    assert recording.rendition_state == RenditionState.READY
    assert recording.rendition.name.endswith("/rendition.mp4")
    data = stored(recording.rendition)
    assert data.index(b"moov") < data.index(b"mdat")  # Faststart: playable while loading.
    with opened(recording.rendition) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert video.codec_context.name == "h264" and audio.codec_context.name == "aac"
        assert video.codec_context.pix_fmt == "yuv420p"
        assert abs(container.duration / 1_000_000 - 2.0) <= 0.2
        frames = list(container.decode(video))
    assert len(frames) >= 25 and (frames[0].width, frames[0].height) == (160, 120)


def encoded(
    kind: str, video_codec: str | None, audio_codec: str | None, seconds: float = 2.0
) -> bytes:
    """A file as another program would export it (to a real file, so MP4 gets faststart), with
    moving bars and a tone."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export"
        _export(path, kind, video_codec, audio_codec, seconds)
        return path.read_bytes()


def _export(
    path: Path, kind: str, video_codec: str | None, audio_codec: str | None, seconds: float
) -> None:
    # "fmp4": fragmented MP4, as Safari's MediaRecorder writes it.
    options = {
        "mp4": {"movflags": "+faststart"},
        "fmp4": {"movflags": "+frag_keyframe+empty_moov+default_base_moof"},
    }.get(kind, {})
    kind = "mp4" if kind == "fmp4" else kind
    with av.open(str(path), "w", format=kind, options=options) as out:
        video = audio = None
        if video_codec:
            video = out.add_stream(video_codec, rate=15)
            video.width, video.height, video.pix_fmt = 160, 120, "yuv420p"
        if audio_codec:
            audio = out.add_stream(audio_codec, rate=48000)
            audio.layout = "mono"
        if video:
            for index in range(int(seconds * 15)):
                image = np.zeros((120, 160, 3), np.uint8)
                image[:, (index * 4) % 150 :][:, :10] = 255
                frame = av.VideoFrame.from_ndarray(image, format="rgb24")
                frame.pts = index
                out.mux(video.encode(frame))
            out.mux(video.encode())
        if audio:
            fmt = audio.codec_context.codec.audio_formats[0].name
            resampler = av.AudioResampler(format=fmt, layout="mono", rate=48000)
            for index in range(int(seconds * 48000 / 1024)):
                t = (np.arange(1024) + index * 1024) / 48000
                wave = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32).reshape(1, -1)
                frame = av.AudioFrame.from_ndarray(wave, format="fltp", layout="mono")
                frame.sample_rate, frame.pts = 48000, index * 1024
                for piece in resampler.resample(frame):
                    out.mux(audio.encode(piece))
            out.mux(audio.encode())


def upload(world, data: bytes, name: str, mime_type: str) -> Recording:
    return post(
        world, split(data, 2), source=Source.UPLOAD, original_name=name, mime_type=mime_type
    )


def packets_of(container, kind: str) -> list[bytes]:
    return [bytes(p) for p in container.demux(**{kind: 0}) if p.size]


def test_uploaded_mp4_is_copied_not_converted(world):
    data = encoded("mp4", "libx264", "aac")
    recording = upload(world, data, "demo.mp4", "video/mp4")
    assert recording.state == State.READY
    assert recording.playable_type == "video/mp4"
    assert recording.original.name.endswith("/original.mp4")
    assert recording.rendition_state == RenditionState.NOT_NEEDED and not recording.rendition
    assert abs(recording.duration_ms - 2000) <= 200
    with av.open(io.BytesIO(data)) as before, opened(recording.playable) as after:
        assert packets_of(before, "video") == packets_of(after, "video")
    with av.open(io.BytesIO(data)) as before, opened(recording.playable) as after:
        assert packets_of(before, "audio") == packets_of(after, "audio")
    assert recording.poster and recording.audio_track


@pytest.mark.parametrize(
    ("kind", "video", "audio", "name", "content_type"),
    [
        ("fmp4", "libx264", "aac", "", "video/mp4"),
        ("fmp4", None, "aac", "", "audio/mp4"),
        ("matroska", "mpeg4", "mp2", "old.mkv", "video/mp4"),
        ("wav", None, "pcm_s16le", "memo.wav", "audio/mp4"),
        ("mp3", None, "libmp3lame", "memo.mp3", "audio/mpeg"),
        ("ipod", None, "aac", "memo.m4a", "audio/mp4"),
        ("ogg", None, "libopus", "memo.ogg", "audio/webm"),
    ],
)
def test_other_files_become_what_browsers_play(world, kind, video, audio, name, content_type):
    recording = upload(world, encoded(kind, video, audio), name, "")
    assert recording.state == State.READY, recording.failure_reason
    assert recording.playable_type == content_type
    assert abs(recording.duration_ms - 2000) <= 200
    with opened(recording.playable) as container:
        names = {s.codec_context.codec.canonical_name for s in container.streams}
    expected = {
        "video/mp4": {"h264", "aac"},
        "audio/mp4": {"aac"},
        "audio/mpeg": {"mp3"},
        "audio/webm": {"opus"},
    }[content_type]
    assert names == expected
    assert recording.audio_track and len(recording.waveform) == 400


# --- Crashes, second jobs and the sweeper.


class Killed(BaseException):
    """A worker killed mid-step: no handler runs and the job's lease stays taken."""


def expire_lease(recording: Recording) -> None:
    Recording.objects.filter(pk=recording.pk).update(
        job_lease_until=timezone.now() - timedelta(seconds=1)
    )


def assert_fully_processed(recording: Recording, data: bytes) -> None:
    recording.refresh_from_db()
    assert recording.state == State.READY and recording.processed_at is not None
    assert recording.stage == "" and recording.progress == 100
    assert recording.job_lease_until is None and recording.attempts == 0
    assert stored(recording.original) == data
    assert not RecordingChunk.objects.filter(recording=recording).exists()
    assert abs(recording.duration_ms - 2000) <= 200
    assert CUES in stored(recording.playable)
    assert Image.open(io.BytesIO(stored(recording.poster))).format == "JPEG"
    assert len(recording.waveform) == 400 and recording.audio_track
    assert recording.rendition_state == RenditionState.READY
    # One file of each kind: nothing left over from the killed attempt.
    names = sorted(default_storage.listdir(f"recordings/{recording.token}")[1])
    assert names == [
        "audio-16k.flac",
        "original.webm",
        "playable.webm",
        "poster.jpg",
        "rendition.mp4",
    ]


@pytest.mark.parametrize(
    ("module", "step", "stage"),
    [
        (pipeline, "_chunk_bytes", "assembling"),
        (processing, "probe", "probing"),
        (processing, "make_playable", "remuxing"),
        (pipeline, "_forget_chunks", "poster"),
        (processing, "make_poster", "poster"),
        (processing, "extract_audio", "audio"),
        (processing, "transcode_mp4", ""),
    ],
)
def test_a_job_killed_at_any_step_completes_when_queued_again(
    world, monkeypatch, module, step, stage
):
    data = webm_bytes(2.0)
    recording = post(world, split(data, 4), process=False)
    real = getattr(module, step)
    calls: list[int] = []

    def killed(*args, **kwargs):
        calls.append(1)
        # Assembly dies after two of the four chunks; other steps at once.
        if step != "_chunk_bytes" or len(calls) == 3:
            raise Killed
        return real(*args, **kwargs)

    monkeypatch.setattr(module, step, killed)
    with pytest.raises(Killed):
        pipeline.finalize_recording(recording.pk)
    monkeypatch.setattr(module, step, real)
    recording.refresh_from_db()
    assert recording.stage == stage and recording.job_lease_until > timezone.now()

    assert pipeline.requeue_stalled_recordings() == 0  # The lease still runs.
    expire_lease(recording)
    assert pipeline.requeue_stalled_recordings() == 1
    assert_fully_processed(recording, data)


def test_a_second_job_leaves_a_recording_whose_lease_is_held(world):
    data = webm_bytes(2.0)
    recording = post(world, split(data, 2), process=False)
    held_until = timezone.now() + timedelta(minutes=5)
    Recording.objects.filter(pk=recording.pk).update(job_lease_until=held_until)

    assert pipeline.finalize_recording(recording.pk) is None
    recording.refresh_from_db()
    assert recording.state == State.QUEUED and recording.attempts == 0
    assert RecordingChunk.objects.filter(recording=recording).count() == 2

    expire_lease(recording)
    pipeline.finalize_recording(recording.pk)
    assert_fully_processed(recording, data)


def test_processing_again_after_it_finished_changes_nothing(world):
    data = webm_bytes(2.0)
    recording = post(world, split(data, 3))
    before = Recording.objects.filter(pk=recording.pk).values().get()
    assert pipeline.finalize_recording(recording.pk) is None
    assert pipeline.make_rendition(recording.pk) is None
    assert pipeline.requeue_stalled_recordings() == 0
    assert Recording.objects.filter(pk=recording.pk).values().get() == before
    assert_fully_processed(recording, data)


def test_a_step_that_keeps_crashing_fails_the_recording_after_five_attempts(world, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(processing, "probe", crash)
    data = webm_bytes(1.0)
    recording = post(world, split(data, 2), process=False)
    for attempt in range(1, pipeline.MAX_ATTEMPTS):
        pipeline.finalize_recording(recording.pk)
        recording.refresh_from_db()
        assert recording.state == State.PROCESSING and recording.attempts == attempt
        assert recording.job_lease_until <= timezone.now()  # The next sweep retries it.
    pipeline.finalize_recording(recording.pk)
    recording.refresh_from_db()
    assert recording.state == State.FAILED
    assert recording.failure_reason == "Processing failed repeatedly; the original is kept."
    assert stored(recording.original) == data
    assert pipeline.requeue_stalled_recordings() == 0


def test_a_worker_killed_five_times_fails_the_recording(world):
    data = webm_bytes(1.0)
    recording = post(world, split(data, 2), process=False)
    Recording.objects.filter(pk=recording.pk).update(
        state=State.PROCESSING, stage="assembling", attempts=pipeline.MAX_ATTEMPTS
    )
    expire_lease(recording)
    assert pipeline.requeue_stalled_recordings() == 1
    recording.refresh_from_db()
    assert recording.state == State.FAILED
    assert recording.failure_reason == pipeline.FAILED_REPEATEDLY
    assert RecordingChunk.objects.filter(recording=recording).count() == 2


def test_a_poster_that_keeps_crashing_leaves_a_recording_that_plays(world, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("a decoder bug")

    monkeypatch.setattr(processing, "make_poster", crash)
    recording = post(world, split(webm_bytes(1.5), 2), process=False)
    for _ in range(pipeline.MAX_ATTEMPTS):
        pipeline.finalize_recording(recording.pk)
    recording.refresh_from_db()
    assert recording.state == State.READY and recording.processed_at is not None
    assert recording.playable and not recording.poster
    assert recording.rendition_state == RenditionState.READY


def test_the_sweeper_queues_lost_jobs_once_and_leaves_live_ones(world):
    now = timezone.now()
    lost, live, waiting_long, just_posted = (
        post(world, split(webm_bytes(1.0), 2), process=False) for _ in range(4)
    )
    Recording.objects.filter(pk=lost.pk).update(
        state=State.PROCESSING, job_lease_until=now - timedelta(seconds=5)
    )
    Recording.objects.filter(pk=live.pk).update(
        state=State.PROCESSING, job_lease_until=now + timedelta(minutes=2)
    )
    Recording.objects.filter(pk=waiting_long.pk).update(updated_at=now - timedelta(hours=1))

    assert pipeline.requeue_stalled_recordings() == 2
    states = dict(Recording.objects.values_list("pk", "state"))
    assert states[lost.pk] == states[waiting_long.pk] == State.READY
    assert states[live.pk] == State.PROCESSING and states[just_posted.pk] == State.QUEUED


# --- Object storage.


def test_processing_reads_and_writes_through_s3(world, settings):
    from moto import mock_aws

    with mock_aws():
        import boto3

        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="tidings-media")
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": "tidings-media",
                    "region_name": "us-east-1",
                    "access_key": "testing",
                    "secret_key": "testing",
                    "file_overwrite": False,
                },
            },
        }
        data = webm_bytes(2.0)
        recording = post(world, split(data, 3))
        assert_fully_processed(recording, data)
        assert type(default_storage._wrapped).__name__ == "S3Storage"
