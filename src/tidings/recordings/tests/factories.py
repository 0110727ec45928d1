"""Real media for recording tests, made with PyAV the way a browser's MediaRecorder makes it:
a WebM written to a stream that cannot seek (so it has no duration and no cues), then cut
into pieces where only the first holds the header."""

from __future__ import annotations

import hashlib
import io
import math
import os
import secrets
import subprocess
from fractions import Fraction
from unittest import mock

import av
import numpy as np
from django.core.files.base import ContentFile
from django.test import TestCase
from django.utils import timezone

from tidings import leases
from tidings.recordings import pipeline
from tidings.recordings.models import Recording, RecordingChunk, Source, State
from tidings.threads import actions as thread_actions


class _Stream(io.RawIOBase):
    """A write-only sink that cannot seek, like the browser's recorder output."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, chunk) -> int:
        self.data += chunk
        return len(chunk)


def webm_bytes(
    seconds: float = 2.0,
    *,
    video: bool = True,
    audio: bool = True,
    size=(160, 120),
    fps=15,
    detailed: bool = False,
) -> bytes:
    """A WebM (VP8 + Opus) of moving bars and a 440 Hz tone, without duration or cues; sound
    and picture interleaved in time order, as a recorder writes them. `detailed` pictures
    move a grainy texture about, so they cost what a camera's do (about 2.5 Mbit/s, encoded
    in real time as browsers do)."""
    sink = _Stream()
    out = av.open(sink, "w", format="webm")
    video_stream = audio_stream = None
    if video:
        video_stream = out.add_stream("libvpx", rate=fps)
        video_stream.width, video_stream.height = size
        video_stream.pix_fmt = "yuv420p"
        if detailed:
            video_stream.bit_rate = 2_500_000
            video_stream.options = {"deadline": "realtime", "cpu-used": "8"}
    if audio:
        audio_stream = out.add_stream("libopus", rate=48000)
        audio_stream.layout = "mono"
    width, height = size
    texture = np.random.default_rng(7).integers(0, 256, (height, width, 3), np.uint8)
    samples = 960  # 20 ms of sound per frame
    video_frames = math.ceil(seconds * fps) if video_stream else 0
    audio_frames = math.ceil(seconds * 48000 / samples) if audio_stream else 0
    next_video = next_audio = 0
    while next_video < video_frames or next_audio < audio_frames:
        video_time = next_video / fps if next_video < video_frames else math.inf
        audio_time = next_audio * samples / 48000 if next_audio < audio_frames else math.inf
        if video_time <= audio_time:
            if detailed:
                image = np.roll(texture, (next_video * 3, next_video * 5), axis=(0, 1))
            else:
                image = np.zeros((height, width, 3), np.uint8)
            left = (next_video * 4) % width
            image[:, left : left + 10] = 255
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = next_video, Fraction(1, fps)
            out.mux(video_stream.encode(frame))
            next_video += 1
        else:
            t = (np.arange(samples) + next_audio * samples) / 48000
            wave = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(wave, format="flt", layout="mono")
            frame.sample_rate, frame.pts = 48000, next_audio * samples
            out.mux(audio_stream.encode(frame))
            next_audio += 1
    for stream in (video_stream, audio_stream):
        if stream is not None:
            out.mux(stream.encode())
    out.close()
    return bytes(sink.data)


def split(data: bytes, pieces: int) -> list[bytes]:
    """Cut media into `pieces` consecutive chunks (the last may be shorter)."""
    size = math.ceil(len(data) / pieces)
    return [data[i : i + size] for i in range(0, len(data), size)]


def recording_with_chunks(
    owner, space, chunks: list[bytes], *, thread=None, source=Source.CAMERA, **fields
) -> Recording:
    """A recording whose chunks reached the server (not posted yet), written straight to the
    tables and storage, as the chunk upload leaves them."""
    recording = Recording.objects.create(
        token=secrets.token_hex(16),
        owner=owner,
        space=space,
        thread=thread,
        source=source,
        mime_type="video/webm;codecs=vp8,opus",
        bytes_received=sum(len(c) for c in chunks),
        **fields,
    )
    for index, data in enumerate(chunks):
        chunk = RecordingChunk(
            recording=recording,
            index=index,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )
        chunk.file.save(f"{index:06d}", ContentFile(data), save=False)
        chunk.save()
    return recording


def posted_recording(owner, thread, *, reply=None, title="", duration_ms=60_000, **fields):
    """A processed recording posted with a thread (or one of its replies), written straight to
    the tables: for tests of what lists and pages show, not of processing."""
    fields = {
        "state": State.READY,
        "source": Source.CAMERA,
        "has_video": True,
        "has_audio": True,
        **fields,
    }
    return Recording.objects.create(
        token=secrets.token_hex(16),
        owner=owner,
        space=thread.space,
        thread=thread,
        reply=reply,
        posted_at=timezone.now(),
        title=title,
        duration_ms=duration_ms,
        **fields,
    )


def recorded_post(
    author, *, thread=None, space=None, body: str = "", audio: bool = False, **kw
) -> Recording:
    """A recording posted as a reply to `thread` (or opening a walkthrough in `space`) through
    the posting action, with its on-commit work run as after a real commit: the inbox fan-out
    and the processing that finds its length and makes its poster."""
    media = webm_bytes(3.0, video=not audio)
    source = Source.AUDIO if audio else Source.CAMERA
    recording = recording_with_chunks(
        author,
        thread.space if thread else space,
        split(media, 3),
        thread=thread,
        source=source,
        for_transcription=False,
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        if thread is None:
            kw.setdefault("title", "Walkthrough")
            thread_actions.post_thread(
                author, space, kind="walkthrough", body=body, recording_token=recording.token, **kw
            )
        else:
            thread_actions.post_reply(author, thread, body=body, recording_token=recording.token)
    recording.refresh_from_db()
    return recording


def gone_worker_token() -> str:
    """A claim token as a worker of this host that has since exited took it."""
    exited = subprocess.Popen(["true"])
    exited.wait()
    with mock.patch.object(os, "getpid", return_value=exited.pid):
        return leases.new_token()


# --- Builders shared by the player, moment and viewer tests.

VIDEO = webm_bytes(3.0)
AUDIO = webm_bytes(3.0, video=False)


def posted_reply(person, thread, *, media: bytes = VIDEO, body: str = "", **fields) -> Recording:
    """A recording posted as a reply (state queued: the chunks are on the server)."""
    source = Source.CAMERA if media is not AUDIO else Source.AUDIO
    recording = recording_with_chunks(
        person, thread.space, split(media, 4), thread=thread, source=source, **fields
    )
    thread_actions.post_reply(person, thread, body=body, recording_token=recording.token)
    recording.refresh_from_db()
    return recording


def posted_opening(person, space, *, media: bytes = VIDEO, title: str = "Tour") -> Recording:
    """A walkthrough thread opened by a recording (state queued)."""
    recording = recording_with_chunks(person, space, split(media, 4))
    thread_actions.post_thread(
        person, space, kind="walkthrough", title=title, body="", recording_token=recording.token
    )
    recording.refresh_from_db()
    return recording


def ready(recording: Recording) -> Recording:
    """Run the processing job the post queued (on commit) now."""
    return pipeline.finalize_recording(recording.pk)


def page(client, recording: Recording) -> str:
    response = client.get(f"/t/{recording.thread_id}/")
    assert response.status_code == 200
    return response.content.decode()


def player_html(html: str, recording: Recording) -> str:
    start = html.rindex("<figure", 0, html.index(f'id="rec-{recording.token}"'))
    return html[start : html.index("</figure>", start)]
