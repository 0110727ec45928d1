"""Measure transcription: real-time factor and word error rate of our pipeline against plain
faster-whisper on the same audio, for a 5-minute and a 30-minute clip.

    DATA_DIR=bench/out/transcription .venv/bin/python bench/transcription.py
    .venv/bin/python bench/transcription.py --minutes 5 --beams 5,1

The speech is made by espeak-ng from a script of meeting sentences (seeded, so every run
hears the same words), with pauses between sentences, then turned into the 16 kHz mono FLAC
audio track the way processing makes it. For each decoding setting:

1. "standalone": faster-whisper alone, as a short script would call it (the anchor): the
   model loaded from the bundled directory, `transcribe()` over the whole file with word
   timestamps and voice-activity filtering, every segment consumed.
2. "pipeline": Tidings' job, `transcribe_next_piece` run until done on a recording in the
   database (pieces of TRANSCRIPTION_PIECE_SECONDS, each saved with its words).

Real-time factor is audio length / wall time (higher is faster). Word error rate compares
the words with the script after lower-casing, numbers as words and no punctuation.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import django  # noqa: E402

django.setup()

import jiwer  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.files import File  # noqa: E402
from django.core.management import call_command  # noqa: E402
from num2words import num2words  # noqa: E402

from tidings.recordings import processing  # noqa: E402
from tidings.transcripts import actions, engine  # noqa: E402

PEOPLE = ["Alice", "Ben", "Carmen", "David", "Elena", "Farid", "Grace", "Hugo"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
THINGS = [
    "the budget", "the launch plan", "the design review", "the customer survey",
    "the release notes", "the hiring plan", "the sales report", "the roadmap",
    "the security audit", "the onboarding guide", "the test results", "the contract",
]  # fmt: skip
TEMPLATES = [
    "{person} will send {thing} by {day}.",
    "Please review {thing} before the meeting on {day}.",
    "We need to finish {thing} this week.",
    "{person} asked whether {thing} is ready.",
    "Let us decide on {thing} today.",
    "The numbers went up by {number} percent since last month.",
    "We expect {number} people at the workshop on {day}.",
    "{person} and {other} will look at {thing} together.",
    "Thank you all for joining the call.",
    "I think we should move {thing} to next {day}.",
]


def script_for(minutes: float, rng: random.Random) -> str:
    """Sentences enough for about `minutes` of speech (espeak speaks some 130 words a minute)."""
    sentences, words = [], 0
    while words < minutes * 125:
        person, other = rng.sample(PEOPLE, 2)
        sentence = rng.choice(TEMPLATES).format(
            person=person, other=other, thing=rng.choice(THINGS), day=rng.choice(DAYS),
            number=rng.randint(2, 40),
        )  # fmt: skip
        sentences.append(sentence)
        words += len(sentence.split())
    return " ".join(sentences)


def speak(script: str, folder: Path) -> Path:
    """The script as a 16 kHz mono FLAC audio track, sentences apart by 0.6 s of silence."""
    wav = folder / "speech.wav"
    pause = '<break time="600ms"/>'
    ssml = f"<speak>{pause.join(re.split(r'(?<=[.?!]) ', script))}</speak>"
    subprocess.run(
        ["espeak-ng", "-v", "en", "-s", "130", "-m", "-w", str(wav), ssml],
        check=True,
        capture_output=True,
    )
    track = folder / "audio-16k.flac"
    processing.extract_audio(wav, track, 0)
    return track


def normalised(text: str) -> str:
    text = re.sub(r"\d+", lambda found: f" {num2words(int(found[0]))} ", text.lower())
    text = re.sub(r"[^a-z' ]+", " ", text.replace("-", " "))
    return " ".join(text.split())


def standalone(track: Path, beam: int) -> tuple[float, str]:
    """faster-whisper on its own, as a short script would call it: (seconds, text)."""
    from faster_whisper import WhisperModel

    started = time.perf_counter()
    model = WhisperModel(
        engine.model_location(), device="cpu", compute_type="int8", cpu_threads=os.cpu_count()
    )
    segments, _info = model.transcribe(
        str(track), beam_size=beam, word_timestamps=True, vad_filter=True,
        condition_on_previous_text=False,
    )  # fmt: skip
    text = " ".join(segment.text for segment in segments)
    return time.perf_counter() - started, text


def pipeline(track: Path, duration_ms: int, beam: int) -> tuple[float, str]:
    """Tidings' job on a recording in the database, run until done: (seconds, text)."""
    from tidings.accounts.models import User
    from tidings.recordings.models import Recording, Source, State
    from tidings.threads.models import Space, Thread
    from tidings.transcripts.models import Transcript, TranscriptState
    from tidings.workspaces.models import Workspace

    settings.TRANSCRIPTION_BEAM_SIZE = beam
    settings.TRANSCRIPTION_CPU_THREADS = os.cpu_count()
    engine._load.cache_clear()  # the model is loaded inside the measurement, as above
    person = User.objects.create(email=f"bench-{time.time_ns()}@bench.test", name="Bench")
    workspace = Workspace.objects.create(name="Bench", slug=f"bench-{time.time_ns()}")
    space = Space.objects.create(workspace=workspace, name="Calls", slug="calls")
    thread = Thread.objects.create(space=space, author=person, title="Weekly call")
    recording = Recording.objects.create(
        token=f"{time.time_ns():032x}"[-32:], owner=person, space=space, thread=thread,
        source=Source.AUDIO, state=State.READY, duration_ms=duration_ms,
        posted_at=thread.created_at, has_audio=True,
    )  # fmt: skip
    with track.open("rb") as handle:
        recording.audio_track.save("audio-16k.flac", File(handle), save=True)
    transcript = Transcript.objects.create(recording=recording, duration_ms=duration_ms)
    started = time.perf_counter()
    while actions.transcribe_next_piece(transcript.pk) is not actions.Step.DONE:
        pass
    elapsed = time.perf_counter() - started
    transcript.refresh_from_db()
    assert transcript.state == TranscriptState.READY, transcript.failure_reason
    return elapsed, transcript.text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", default="5,30", help="clip lengths (default 5,30)")
    parser.add_argument("--beams", default="5,1", help="beam sizes to compare (default 5,1)")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(f"{platform.node()}, {os.cpu_count()} CPUs, {engine.model_name()}, int8")
    rng = random.Random(7)
    for minutes in [float(m) for m in args.minutes.split(",")]:
        with tempfile.TemporaryDirectory() as folder:
            script = script_for(minutes, rng)
            track = speak(script, Path(folder))
            samples = sum(len(piece.samples) for piece in engine.pieces(track, 0, 3_600_000))
            duration_ms = samples * 1000 // engine.SAMPLE_RATE
            print(f"clip: {duration_ms / 60000:.1f} min of speech, {len(script.split())} words")
            for beam in [int(b) for b in args.beams.split(",")]:
                for name in ("standalone", "pipeline"):
                    if name == "standalone":
                        seconds, text = standalone(track, beam)
                    else:
                        seconds, text = pipeline(track, duration_ms, beam)
                    error = jiwer.wer(normalised(script), normalised(text))
                    print(
                        f"  beam {beam} {name:>10}: {seconds:6.1f} s, "
                        f"{duration_ms / 1000 / seconds:5.1f}x real time, WER {error:.1%}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
