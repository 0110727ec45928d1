"""Media work on local files with PyAV: probe, remux into a seekable file, poster, 16 kHz
audio track with a waveform, and the MP4 rendition. Nothing here touches the database or
storage; recordings.pipeline moves the files and records the results."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.container import InputContainer
from av.stream import Disposition
from PIL import Image

log = logging.getLogger(__name__)

Progress = Callable[[float], None]

# Containers people record or export audio and video in. Anything else (images, subtitles,
# documents that a demuxer happens to recognise) is not a recording.
MEDIA_CONTAINERS = {
    "matroska,webm",
    "mov,mp4,m4a,3gp,3g2,mj2",
    "mp3",
    "ogg",
    "wav",
    "flac",
    "aac",
    "avi",
    "mpegts",
    "asf",
    "caf",
}
WEBM_VIDEO = {"vp8", "vp9", "av1"}
WEBM_AUDIO = {"opus", "vorbis"}
MP4_AUDIO = {"aac", "mp3"}
# H.264 is copied into MP4 only from containers that store it the way MP4 does.
MP4_COPY_CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm"}

POSTER_AT_SECONDS = 1.0
POSTER_MAX_WIDTH = 1280
WAVEFORM_POINTS = 400
TRANSCRIPTION_RATE = 16000
# Sound that starts or resumes later than this after where the track has got to is moved
# there with silence; less is the resampler's own delay.
AUDIO_GAP_SAMPLES = TRANSCRIPTION_RATE // 20
# Renditions and transcoded playables fit in this box: enough for a readable screen share,
# small enough for two cores.
MAX_VIDEO_SIDE = 1920
X264_OPTIONS = {"crf": "23", "preset": "veryfast", "profile": "high"}
MS = Fraction(1, 1000)


class NotMedia(Exception):
    """The file is not audio or video we can read. The message is a sentence for people."""


@dataclass(frozen=True)
class MediaInfo:
    container: str
    duration_ms: int
    video_codec: str | None
    audio_codec: str | None
    width: int | None
    height: int | None
    # The file ends mid-packet (a tab that died, a cut download): what decodes is kept.
    truncated: bool = False

    @property
    def has_video(self) -> bool:
        return self.video_codec is not None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None


def _open(path: Path) -> InputContainer:
    try:
        return av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, ValueError, UnicodeDecodeError) as error:
        raise NotMedia(
            "This file is not audio or video we can read: its format is not recognised."
        ) from error


def _media_streams(
    container: InputContainer, *, video: bool = True, audio: bool = True
) -> tuple[av.VideoStream | None, av.AudioStream | None]:
    """The first real video stream (cover art and still images do not count) and the first
    audio stream that have a decoder."""
    found_video = found_audio = None
    for stream in container.streams:
        if stream.codec_context is None:
            continue
        if video and found_video is None and stream.type == "video":
            still = Disposition.attached_pic | Disposition.still_image
            if not stream.disposition & still:
                found_video = stream
        elif audio and found_audio is None and stream.type == "audio":
            found_audio = stream
    return found_video, found_audio


class _Packets:
    """Packets with timestamps, in file order, stopping quietly where a file is cut off or
    damaged: the part before it is what the recording holds (`cut_short` says it happened)."""

    def __init__(self, container: InputContainer, *streams) -> None:
        self.demux = container.demux(*streams)
        self.cut_short = False

    def __iter__(self) -> Iterator[av.Packet]:
        while True:
            try:
                packet = next(self.demux)
            except StopIteration:
                return
            except av.FFmpegError as error:
                log.info("media ends early at a damaged or missing part: %s", error)
                self.cut_short = True
                return
            if packet.dts is not None or packet.pts is not None:
                yield packet


def _decode(packet: av.Packet) -> list:
    try:
        return packet.decode()
    except av.FFmpegError:
        return []


def probe(path: Path, progress: Progress | None = None) -> MediaInfo:
    """What the file holds: streams, codecs, size and its real duration, found by reading
    every packet (a browser's recording says nothing about its length). Each stream kept must
    decode; NotMedia says in a sentence why a file is not audio or video."""
    size = path.stat().st_size
    if size == 0:
        raise NotMedia("This file is not audio or video we can read: it is empty.")
    # Streams are only valid while their container is open: everything is read inside.
    with _open(path) as container:
        kind = container.format.name
        if kind not in MEDIA_CONTAINERS:
            raise NotMedia(
                f"This file is not audio or video we can read: it is {_describe_format(container)}."
            )
        streams = [s for s in _media_streams(container) if s is not None]
        if not streams:
            raise NotMedia(
                "This file is not audio or video we can read: it holds no sound or picture."
            )
        scan = _Scan(container, streams, size, progress)
        kept = [s for s in streams if s.index in scan.decoded]
        if not kept:
            raise NotMedia(
                "This file is not audio or video we can read: none of its sound or picture decodes."
            )
        duration = max(scan.last[s.index] for s in kept) - min(scan.first[s.index] for s in kept)
        if duration <= 0:
            raise NotMedia("This file is not audio or video we can read: it has no length.")
        video = next((s for s in kept if s.type == "video"), None)
        audio = next((s for s in kept if s.type == "audio"), None)
        width, height = scan.frame_size or (None, None)
        if video is not None:
            width = video.codec_context.width or width
            height = video.codec_context.height or height
        return MediaInfo(
            container=kind,
            duration_ms=round(duration * 1000),
            video_codec=video.codec_context.codec.canonical_name if video is not None else None,
            audio_codec=audio.codec_context.codec.canonical_name if audio is not None else None,
            width=width if video is not None else None,
            height=height if video is not None else None,
            truncated=scan.cut_short,
        )


class _Scan:
    """One pass over every packet: first and last timestamps per stream, and whether each
    stream decodes (its first frame is decoded, the rest only demuxed)."""

    def __init__(
        self, container: InputContainer, streams: list, size: int, progress: Progress | None
    ) -> None:
        self.decoded: set[int] = set()
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.frame_size: tuple[int, int] | None = None
        packets = _Packets(container, *streams)
        for count, packet in enumerate(packets, 1):
            self._add(packet)
            if progress and count % 500 == 0 and packet.pos and packet.pos > 0:
                progress(min(1.0, packet.pos / size))
        self.cut_short = packets.cut_short
        for stream in streams:
            # Decoders with a delay (H.264 with B-frames) may give a short file's frames only
            # when flushed.
            if stream.index not in self.decoded and stream.index in self.last:
                with suppress(av.FFmpegError):
                    if stream.codec_context.decode(None):
                        self.decoded.add(stream.index)

    def _add(self, packet: av.Packet) -> None:
        index = packet.stream.index
        start = packet.pts if packet.pts is not None else packet.dts
        seconds = float(start * packet.time_base)
        self.first[index] = min(self.first.get(index, seconds), seconds)
        end = seconds + float((packet.duration or 0) * packet.time_base)
        self.last[index] = max(self.last.get(index, end), end)
        if index not in self.decoded:
            frames = _decode(packet)
            if frames:
                self.decoded.add(index)
                if packet.stream.type == "video":
                    self.frame_size = (frames[0].width, frames[0].height)


def _describe_format(container: InputContainer) -> str:
    name = container.format.name
    if name.endswith("_pipe") or name in {"image2", "gif", "apng", "webp"}:
        return "an image"
    return f"in a format we do not accept ({container.format.long_name or name})"


def make_playable(
    source: Path, info: MediaInfo, work_dir: Path, progress: Progress | None = None
) -> tuple[Path, str]:
    """A file every modern browser can seek: the packets copied into a container that is
    written with its duration and seek index (WebM for VP8/VP9/AV1 with Opus/Vorbis, MP4 with
    faststart for H.264 with AAC/MP3), or, for other codecs, transcoded to MP4 H.264/AAC.
    Returns the file and its MIME type."""
    video, audio = info.video_codec, info.audio_codec
    if video is not None:
        if video in WEBM_VIDEO and audio in (None, *WEBM_AUDIO):
            return _remux(source, work_dir / "playable.webm", "webm", progress), "video/webm"
        copy_h264 = info.container in MP4_COPY_CONTAINERS and audio in (None, *MP4_AUDIO)
        if video == "h264" and copy_h264:
            try:
                return _remux(source, work_dir / "playable.mp4", "mp4", progress), "video/mp4"
            except av.FFmpegError as error:
                log.info("copying into MP4 failed (%s); converting instead", error)
        return transcode_mp4(source, work_dir / "playable.mp4", info, progress), "video/mp4"
    if audio in WEBM_AUDIO:
        return _remux(source, work_dir / "playable.webm", "webm", progress), "audio/webm"
    if audio == "aac" and info.container in MP4_COPY_CONTAINERS:
        return _remux(source, work_dir / "playable.m4a", "mp4", progress), "audio/mp4"
    if audio == "mp3":
        return _remux(source, work_dir / "playable.mp3", "mp3", progress), "audio/mpeg"
    return transcode_mp4(source, work_dir / "playable.m4a", info, progress), "audio/mp4"


def _output_options(kind: str) -> dict[str, str]:
    # MP4 puts its index first so playback starts before the whole file is fetched.
    return {"movflags": "+faststart"} if kind == "mp4" else {}


def _remux(source: Path, target: Path, kind: str, progress: Progress | None) -> Path:
    """Copy the packets (no re-encoding) into a seekable local file, so the muxer goes back
    and writes the duration and seek index (Matroska Cues, MP4 moov)."""
    size = source.stat().st_size
    with _open(source) as container:
        video, audio = _media_streams(container)
        streams = [s for s in (video, audio) if s is not None]
        with av.open(str(target), "w", format=kind, options=_output_options(kind)) as output:
            mapping = {s.index: output.add_stream_from_template(s) for s in streams}
            last_dts: dict[int, int] = {}
            dropped = count = 0
            for packet in _Packets(container, *streams):
                index = packet.stream.index
                # Muxers refuse timestamps that go back; a recorder glitch loses one packet,
                # not the recording.
                if packet.dts is not None:
                    if packet.dts < last_dts.get(index, packet.dts):
                        dropped += 1
                        continue
                    last_dts[index] = packet.dts
                packet.stream = mapping[index]
                output.mux(packet)
                count += 1
                if progress and count % 500 == 0 and packet.pos and packet.pos > 0:
                    progress(min(1.0, packet.pos / size))
    if dropped:
        log.info("dropped %d packets with timestamps going back in %s", dropped, source.name)
    return target


def _even_size(width: int, height: int, max_side: int = MAX_VIDEO_SIDE) -> tuple[int, int]:
    scale = min(1.0, max_side / max(width, height))
    # H.264 in yuv420p needs even dimensions.
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def transcode_mp4(
    source: Path, target: Path, info: MediaInfo, progress: Progress | None = None
) -> Path:
    """Re-encode to MP4 with faststart: H.264 (yuv420p, even size, at most 1920 px on the long
    side) and AAC, or AAC alone for audio. Timestamps follow the source's, so variable frame
    rate recordings keep their timing."""
    duration = max(info.duration_ms, 1) / 1000
    with _open(source) as container:
        video_in, audio_in = _media_streams(container, video=info.has_video, audio=info.has_audio)
        options = _output_options("mp4")
        with av.open(str(target), "w", format="mp4", options=options) as output:
            encode_video = encode_audio = None
            if video_in is not None:
                encode_video = _VideoEncoder(output, video_in, info)
            if audio_in is not None:
                encode_audio = _AudioEncoder(output, audio_in)
            origin: float | None = None
            count = 0
            for packet in _Packets(container, *(s for s in (video_in, audio_in) if s)):
                for frame in _decode(packet):
                    if frame.pts is None:
                        continue
                    seconds = float(frame.pts * frame.time_base)
                    # Recordings may start past zero; the output starts at zero.
                    origin = seconds if origin is None else origin
                    if isinstance(frame, av.VideoFrame):
                        encode_video(frame, seconds - origin)
                    elif encode_audio is not None:
                        encode_audio(frame, seconds - origin)
                    if progress and count % 200 == 0:
                        progress(min(1.0, (seconds - origin) / duration))
                    count += 1
            for encoder in (encode_video, encode_audio):
                if encoder is not None:
                    encoder.flush()
    return target


class _VideoEncoder:
    def __init__(self, output, source_stream: av.VideoStream, info: MediaInfo) -> None:
        width = info.width or source_stream.codec_context.width
        height = info.height or source_stream.codec_context.height
        self.width, self.height = _even_size(width, height)
        rate = source_stream.average_rate or source_stream.guessed_rate or 30
        self.stream = output.add_stream("libx264", rate=rate)
        self.stream.width, self.stream.height = self.width, self.height
        self.stream.pix_fmt = "yuv420p"
        # Millisecond timestamps keep a recording's variable frame timing.
        self.stream.codec_context.time_base = MS
        self.stream.codec_context.options = dict(X264_OPTIONS)
        self.output = output
        self.last_pts = -1

    def __call__(self, frame: av.VideoFrame, seconds: float) -> None:
        pts = max(round(seconds * 1000), self.last_pts + 1)
        self.last_pts = pts
        picture = frame.reformat(width=self.width, height=self.height, format="yuv420p")
        picture.pts, picture.time_base = pts, MS
        self.output.mux(self.stream.encode(picture))

    def flush(self) -> None:
        self.output.mux(self.stream.encode())


class _AudioEncoder:
    def __init__(self, output, source_stream: av.AudioStream) -> None:
        channels = source_stream.codec_context.channels or 1
        layout = "mono" if channels == 1 else "stereo"
        self.rate = 48000
        self.time_base = Fraction(1, self.rate)
        self.stream = output.add_stream("aac", rate=self.rate)
        self.stream.layout = layout
        self.stream.bit_rate = 96000 if layout == "mono" else 128000
        self.resampler = av.AudioResampler(format="fltp", layout=layout, rate=self.rate)
        self.output = output
        self.samples: int | None = None

    def __call__(self, frame: av.AudioFrame | None, seconds: float = 0.0) -> None:
        if self.samples is None:
            # Sound that starts after the picture starts as late in the output; from then on
            # samples follow each other (a recording's audio has no gaps).
            self.samples = max(0, round(seconds * self.rate))
        for chunk in self.resampler.resample(frame):
            chunk.pts, chunk.time_base = self.samples, self.time_base
            self.samples += chunk.samples
            self.output.mux(self.stream.encode(chunk))

    def flush(self) -> None:
        self(None)
        self.output.mux(self.stream.encode())


def make_poster(source: Path, target: Path, duration_ms: int) -> bool:
    """A JPEG of the frame at one second (the first frame of shorter videos), at most 1280 px
    wide. False when no frame decodes."""
    at = POSTER_AT_SECONDS if duration_ms > POSTER_AT_SECONDS * 1000 else 0.0
    with _open(source) as container:
        video, _ = _media_streams(container, audio=False)
        if video is None:
            return False
        picture = _frame_at(container, video, at)
    if picture is None:
        return False
    image = picture.to_image()
    if image.width > POSTER_MAX_WIDTH:
        height = max(1, round(image.height * POSTER_MAX_WIDTH / image.width))
        image = image.resize((POSTER_MAX_WIDTH, height), Image.Resampling.LANCZOS)
    image.convert("RGB").save(target, "JPEG", quality=85, optimize=True)
    return True


def _frame_at(
    container: InputContainer, video: av.VideoStream, seconds: float
) -> av.VideoFrame | None:
    """The first frame at or after `seconds` (or the last one before the end)."""
    start = float((video.start_time or 0) * video.time_base)
    if seconds:
        try:
            # Lands on the keyframe before; decoding runs forward from there.
            container.seek(int((start + seconds) / video.time_base), stream=video)
        except av.FFmpegError:
            container.seek(0)
    picture = None
    for packet in _Packets(container, video):
        for frame in _decode(packet):
            picture = frame
            if frame.pts is None or float(frame.pts * frame.time_base) - start >= seconds:
                return picture
    return picture


def extract_audio(
    source: Path,
    target: Path,
    duration_ms: int,
    progress: Progress | None = None,
    points: int = WAVEFORM_POINTS,
) -> list[float]:
    """Write the sound as 16 kHz mono FLAC (what speech recognition wants) and return its
    waveform: `points` peak levels from 0 to 1, scaled so the loudest is 1 (quiet recordings
    still show their shape; near-silence stays flat). The track keeps the recording's clock:
    sound that starts after the picture, or resumes after a gap (a recorder that dropped
    packets), is preceded by as much silence, so a transcript's times are the player's."""
    expected = max(1, duration_ms * TRANSCRIPTION_RATE // 1000)
    peaks = np.zeros(points, dtype=np.float32)
    written = 0
    with _open(source) as container:
        _, audio = _media_streams(container, video=False)
        if audio is None:
            return []
        origin = container.start_time / av.time_base if container.start_time is not None else 0
        with av.open(str(target), "w", format="flac") as output:
            stream = output.add_stream("flac", rate=TRANSCRIPTION_RATE)
            stream.layout, stream.format = "mono", "s16"
            resampler = av.AudioResampler(format="s16", layout="mono", rate=TRANSCRIPTION_RATE)
            time_base = Fraction(1, TRANSCRIPTION_RATE)

            def write(frame: av.AudioFrame | None) -> None:
                nonlocal written
                if frame is not None and frame.time is not None:
                    missing = round((frame.time - origin) * TRANSCRIPTION_RATE) - written
                    if missing > AUDIO_GAP_SAMPLES:
                        silence = av.AudioFrame.from_ndarray(
                            np.zeros((1, missing), dtype=np.int16), format="s16", layout="mono"
                        )
                        silence.sample_rate = TRANSCRIPTION_RATE
                        silence.pts, silence.time_base = written, time_base
                        written += missing
                        output.mux(stream.encode(silence))
                for chunk in resampler.resample(frame):
                    samples = chunk.to_ndarray().reshape(-1)
                    _add_peaks(peaks, samples, written, expected)
                    chunk.pts, chunk.time_base = written, time_base
                    written += chunk.samples
                    output.mux(stream.encode(chunk))

            for count, packet in enumerate(_Packets(container, audio), 1):
                for frame in _decode(packet):
                    write(frame)
                if progress and count % 500 == 0:
                    progress(min(1.0, written / expected))
            write(None)
            output.mux(stream.encode())
    loudest = float(peaks.max())
    if loudest >= 0.01:
        peaks /= loudest
    return [round(float(p), 3) for p in peaks]


def _add_peaks(peaks: np.ndarray, samples: np.ndarray, offset: int, expected: int) -> None:
    """Fold one block of 16-bit samples into the running per-point maxima."""
    if not samples.size:
        return
    points = len(peaks)
    level = np.abs(samples.astype(np.float32)) / 32768.0
    slots = np.minimum((np.arange(samples.size) + offset) * points // expected, points - 1)
    starts = np.flatnonzero(np.r_[True, slots[1:] != slots[:-1]])
    block = np.maximum.reduceat(level, starts)
    np.maximum.at(peaks, slots[starts], block)
