"""Speech made in the tests: espeak-ng speaks a script to a WAV file, and the recording gets
its 16 kHz audio track from it the way processing makes one."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from django.core.files import File

from tidings.recordings import processing
from tidings.recordings.models import Recording
from tidings.recordings.tests import factories as recording_factories
from tidings.recordings.tests.factories import posted_recording
from tidings.transcripts import engine
from tidings.transcripts.models import Transcript, TranscriptState

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None,
    reason="espeak-ng speaks the test clips (.ci/run installs it)",
)


def speech_wav(folder: Path, text: str, name: str = "speech", gap_ms: int = 0) -> Path:
    """`text` spoken by espeak-ng after half a second of silence (as a recording starts);
    sentences (split on ". ") apart by `gap_ms` of silence."""
    target = folder / f"{name}.wav"
    pause = f'<break time="{gap_ms}ms"/>' if gap_ms else " "
    ssml = f'<speak><break time="500ms"/>{pause.join(text.split(". "))}</speak>'
    subprocess.run(
        ["espeak-ng", "-v", "en", "-s", "130", "-m", "-w", str(target), ssml],
        check=True,
        capture_output=True,
    )
    return target


def speech_with_a_pause(
    folder: Path, before: str, after: str, pause_ms: int, *, noise: float = 0.01
) -> tuple[Path, int, int]:
    """`before`, a pause of `pause_ms` in the middle of the sentence, then `after`, said by
    espeak-ng over the steady hiss of a room (seeded noise, as a real microphone hears
    between words), as a 16 kHz WAV file; with where the speech stops and resumes (ms)."""
    said = folder / "said.wav"
    ssml = f'<speak>{before} <break time="{pause_ms}ms"/> {after}</speak>'
    subprocess.run(
        ["espeak-ng", "-v", "en", "-s", "130", "-m", "-w", str(said), ssml],
        check=True,
        capture_output=True,
    )

    clean = np.concatenate(list(engine.read_audio(said)))
    peaks = np.abs(clean[: len(clean) // 160 * 160]).reshape(-1, 160).max(axis=1)
    heard = np.nonzero(peaks > 0.02)[0] * 10  # each 10 ms in which speech is heard
    stops, resumes = max(zip(heard, heard[1:], strict=False), key=lambda gap: gap[1] - gap[0])
    hiss = noise * np.random.default_rng(7).standard_normal(len(clean))
    return _wav(folder / "paused.wav", clean + hiss), int(stops), int(resumes)


def _wav(target: Path, samples: np.ndarray) -> Path:
    import wave

    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return target


def silence_wav(folder: Path, seconds: float, *, tone_hz: float = 0) -> Path:
    """Silence, or a steady tone (music-like, with no speech), as a WAV file."""
    import wave

    rate = 16_000
    t = np.arange(int(seconds * rate)) / rate
    samples = 0.3 * np.sin(2 * np.pi * tone_hz * t) if tone_hz else np.zeros_like(t)
    target = folder / f"tone-{tone_hz}.wav"
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((samples * 32767).astype("<i2").tobytes())
    return target


def recording_with_audio(owner, thread, source: Path, folder: Path, **fields) -> Recording:
    """A processed recording whose audio track is `source` made into 16 kHz mono FLAC."""
    import av

    with av.open(str(source)) as container:
        duration_ms = int(container.duration * 1000 // av.time_base)
    track = folder / "audio-16k.flac"
    processing.extract_audio(source, track, duration_ms)
    recording = posted_recording(owner, thread, duration_ms=duration_ms, has_video=False, **fields)
    with track.open("rb") as handle:
        recording.audio_track.save("audio-16k.flac", File(handle), save=True)
    return recording


def recorded_post(author, *, said: str = "", **kw) -> Recording:
    """A recording posted through the posting action, as `recordings.tests.factories.recorded_post`
    makes it; with `said`, a finished transcript of those words (the speech model is not run)."""
    recording = recording_factories.recorded_post(author, **kw)
    if said:
        Transcript.objects.create(
            recording=recording, state=TranscriptState.READY, text=said, progress=100
        )
    return recording
