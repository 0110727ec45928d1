"""The 16 kHz audio track keeps the recording's clock: sound that starts after the picture,
or resumes after a gap, sits where the player plays it (so transcript times match)."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from tidings.recordings import processing

RATE = 48_000


def video_with_sound(path: Path, *, sound: list[tuple[float, float]], video_s: float = 4.0):
    """A video (VP8/Opus WebM or H.264/AAC MP4 by suffix) with a tone during each
    (start, end) span of seconds and no audio packets at all in between."""
    mp4 = path.suffix == ".mp4"
    with av.open(str(path), "w") as output:
        video = output.add_stream("libx264" if mp4 else "libvpx", rate=25)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = output.add_stream("aac" if mp4 else "libopus", rate=RATE)
        audio.layout = "mono"
        for index in range(math.ceil(video_s * 25)):
            frame = av.VideoFrame.from_ndarray(
                np.full((48, 64, 3), index % 255, dtype=np.uint8), format="rgb24"
            )
            frame.pts, frame.time_base = index, Fraction(1, 25)
            output.mux(video.encode(frame))
        output.mux(video.encode())
        size = 1024 if mp4 else 960
        for start, end in sound:
            first = round(start * RATE)
            for offset in range(first, round(end * RATE), size):
                t = np.arange(offset, offset + size) / RATE
                tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32).reshape(1, -1)
                chunk = av.AudioFrame.from_ndarray(tone, format="flt", layout="mono")
                chunk.sample_rate, chunk.pts = RATE, offset
                output.mux(audio.encode(chunk))
        output.mux(audio.encode())
    return path


def loud_spans(track: Path) -> list[tuple[float, float]]:
    """Where the track is loud, in seconds (100 ms resolution)."""
    with av.open(str(track)) as container:
        samples = np.concatenate(
            [frame.to_ndarray().reshape(-1) for frame in container.decode(audio=0)]
        ).astype(np.float32)
    frames = samples[: len(samples) // 1600 * 1600].reshape(-1, 1600)
    loud = np.abs(frames).max(axis=1) > 3000
    spans, start = [], None
    for index, is_loud in enumerate([*loud, False]):
        if is_loud and start is None:
            start = index / 10
        elif not is_loud and start is not None:
            spans.append((start, index / 10))
            start = None
    return spans


@pytest.mark.parametrize("suffix", [".mp4", ".webm"])
def test_sound_that_starts_after_the_picture_keeps_its_place(tmp_path, suffix):
    media = video_with_sound(tmp_path / f"late{suffix}", sound=[(1.5, 4.0)])
    track = tmp_path / "audio.flac"
    processing.extract_audio(media, track, processing.probe(media).duration_ms)
    [(start, end)] = loud_spans(track)
    assert abs(start - 1.5) <= 0.15 and abs(end - 4.0) <= 0.15


def test_sound_that_resumes_after_a_gap_keeps_its_place(tmp_path):
    media = video_with_sound(tmp_path / "gap.webm", sound=[(0.0, 1.0), (2.5, 4.0)])
    track = tmp_path / "audio.flac"
    processing.extract_audio(media, track, processing.probe(media).duration_ms)
    spans = loud_spans(track)
    assert len(spans) == 2, spans
    assert abs(spans[1][0] - 2.5) <= 0.15 and abs(spans[1][1] - 4.0) <= 0.15
