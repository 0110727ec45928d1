"""Processing of posted recordings, step by step, called only by the worker's jobs
(recordings.jobs): assembling the chunks into the original, probing, remuxing into a playable
file, the poster, the 16 kHz audio track and the MP4 rendition, each under a lease
(tidings.leases) so that a killed job is taken over, and the failures people read. The media
work itself is recordings.processing; this module moves the files and records the results.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import tempfile
import time
from contextlib import suppress
from datetime import datetime, timedelta
from pathlib import Path, PurePath

import av
from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db.models import Q
from django.utils import timezone

from tidings import leases
from tidings.events import publish
from tidings.recordings import processing
from tidings.recordings.models import (
    Recording,
    RecordingChunk,
    RenditionState,
    Source,
    State,
    recording_path,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
FAILED_REPEATEDLY = "Processing failed repeatedly; the original is kept."
WORK_DIR_PREFIX = "recording-"
# Work folders of jobs killed mid-way are removed this long after they were last touched.
STALE_WORK_DIR = timedelta(days=1)
# A job queued this long ago that no worker took lost its place in the queue. Longer than a
# lease: queued jobs wait behind long ones, and queuing copies sooner only piles them up.
UNTAKEN_WAIT = timedelta(minutes=5)
ORIGINAL_EXTENSION = re.compile(r"[a-z0-9]{1,5}")
EXTENSIONS_BY_TYPE = {
    "video/webm": "webm",
    "audio/webm": "webm",
    "video/mp4": "mp4",
    "audio/mp4": "m4a",
    "video/quicktime": "mov",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "video/ogg": "ogg",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/flac": "flac",
    "video/x-matroska": "mkv",
}
# Recordings a finalize job still has work on: waiting, running, or playable but without
# their poster and audio track yet.
UNFINISHED = Q(state__in=[State.QUEUED, State.PROCESSING]) | Q(
    state=State.READY, processed_at__isnull=True
)
RENDITION_UNFINISHED = Q(
    state=State.READY,
    processed_at__isnull=False,
    rendition_state__in=[RenditionState.PENDING, RenditionState.PROCESSING],
)


class ProcessingFailed(Exception):
    """The recording cannot be processed; the message is the sentence its page shows."""


# Recordings' processing and rendition jobs: each claim counts an attempt (attempts go back
# to 0 only when the work is done, so a job that never gets through fails after MAX_ATTEMPTS).
CLAIMS = leases.Claimable(
    Recording, by="job_claimed_by", until="job_lease_until", touched="updated_at"
)


def _settle(job: _Job, *, until: datetime | None = None, **fields) -> None:
    """Write a job's outcome and let the recording go, unless another job has taken it over
    meanwhile."""
    with suppress(leases.ClaimLost):
        job.release(until=until, **fields)


def _take_lease(recording_id: int, open_work: Q, **fields) -> _Job | None:
    """Check and take the recording's lease in one UPDATE, so two workers handed the same
    recording never both run it; counts the attempt."""
    claim = CLAIMS.claim(recording_id, where=open_work & Q(deleted_at__isnull=True), **fields)
    return _Job(recording_id, claim) if claim else None


class _Job:
    """One worker's hold on one recording, a claim named by its token. Every write goes
    through `update`, which also renews the lease, and only while this job still holds it;
    `release` writes the last fields and lets the recording go."""

    def __init__(self, recording_id: int, claim: leases.Claim) -> None:
        self.recording_id = recording_id
        self.claim = claim
        self.percent = 0

    @property
    def renewed(self) -> float:
        return self.claim.renewed

    def update(self, **fields) -> None:
        self.claim.write(**fields)

    def release(self, *, until: datetime | None = None, **fields) -> None:
        """The job's last write: the claim ends, and with `until` the next sweep (the one
        after that time) queues the job again."""
        self.claim.release(until=until, **fields)

    def stage(self, stage: str, percent: int) -> None:
        self.percent = max(self.percent, percent)
        self.update(stage=stage, progress=self.percent)

    def reporter(
        self, stage: str | None = None, low: int = 0, high: int = 0
    ) -> processing.Progress:
        """A callback for long steps: moves the percentage from `low` to `high` (when a stage
        is given) and renews the lease, writing at most once a second. (The heartbeat renews
        it too; this keeps a job run outside a worker, or one whose beat is late, held.)"""
        renew_every = settings.JOB_HEARTBEAT_SECONDS

        def report(fraction: float) -> None:
            since = time.monotonic() - self.renewed
            percent = low + int((high - low) * max(0.0, min(1.0, fraction)))
            if stage and percent > self.percent and since >= 1:
                self.stage(stage, percent)
            elif since >= renew_every:
                self.update()

        return report


def _original_extension(recording: Recording) -> str:
    suffix = PurePath(recording.original_name).suffix.lower().lstrip(".")
    if ORIGINAL_EXTENSION.fullmatch(suffix):
        return suffix
    declared = recording.mime_type.split(";")[0].strip()
    return EXTENSIONS_BY_TYPE.get(declared, "webm" if recording.source != Source.UPLOAD else "bin")


def _work_root() -> Path:
    root = Path(settings.DATA_DIR) / "work"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _store(job: _Job, recording: Recording, path: Path, filename: str) -> str:
    """Save a local file under the recording's fixed name, replacing what a killed attempt
    may have left there. Returns the stored name."""
    name = recording_path(recording, filename)
    job.update()  # A long transfer starts with a fresh lease.
    default_storage.delete(name)
    with path.open("rb") as handle:
        return default_storage.save(name, File(handle, name=filename))


def _fetch(job: _Job, name: str, work: Path) -> Path:
    """A local copy of a stored file (the storage may be S3)."""
    target = work / PurePath(name).name
    keep_alive = job.reporter()
    with default_storage.open(name, "rb") as source, target.open("wb") as out:
        while block := source.read(1024 * 1024):
            out.write(block)
            keep_alive(0)
    return target


def _chunk_bytes(chunk: RecordingChunk) -> bytes | None:
    """The chunk's bytes if they are all there as received (size and SHA-256), else None."""
    try:
        with default_storage.open(chunk.file.name, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return None
    except OSError:
        if default_storage.exists(chunk.file.name):
            raise  # A storage hiccup: the job is tried again.
        return None
    if len(data) != chunk.size:
        return None
    if chunk.sha256 and hashlib.sha256(data).hexdigest() != chunk.sha256:
        return None
    return data


def _chunk_list(indexes: list[int]) -> str:
    """Chunk numbers as people read them: "3, 7–9 and 12"."""
    spans: list[list[int]] = []
    for index in indexes:
        if spans and index == spans[-1][1] + 1:
            spans[-1][1] = index
        else:
            spans.append([index, index])
    words = [str(a) if a == b else f"{a}–{b}" for a, b in spans[:10]]
    if len(spans) > 10:
        words.append(f"{len(spans) - 10} more")
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _assemble(job: _Job, recording: Recording, work: Path) -> Path:
    """Join chunks 0..chunk_count-1 strictly by index into the original, each checked against
    the size and checksum it arrived with. A missing or damaged chunk fails the recording
    (naming the chunks) unless the author posted it knowing it stops early (`gap_note`):
    then the chunks before the first bad one make the recording."""
    rows = recording.chunks.all()
    if recording.chunk_count is not None:
        rows = rows.filter(index__lt=recording.chunk_count)
    chunks = {chunk.index: chunk for chunk in rows}
    count = recording.chunk_count if recording.chunk_count is not None else len(chunks)
    if not count or not chunks:
        raise ProcessingFailed("Nothing of this recording reached the server. Record it again.")
    limit_mb = settings.RECORDING_MAX_UPLOAD_MB
    if sum(chunk.size for chunk in chunks.values()) > limit_mb * 1024 * 1024:
        raise ProcessingFailed(
            f"This recording is larger than the {limit_mb:,} MB limit, so it was not processed."
            " The original is kept; upload a shorter or smaller file."
        )
    job.stage("assembling", 1)
    report = job.reporter("assembling", 1, 25)
    target = work / f"original.{_original_extension(recording)}"
    bad: list[int] = []
    with target.open("wb") as out:
        for index in range(count):
            chunk = chunks.get(index)
            data = _chunk_bytes(chunk) if chunk is not None else None
            if data is None:
                bad.append(index)
            elif not bad:  # After a bad chunk, the rest is only checked, to name every one.
                out.write(data)
            report((index + 1) / count)
    if bad and not recording.gap_note:
        raise ProcessingFailed(
            f"Parts of this recording are missing or arrived damaged ({_chunk_list(bad)}"
            f" of chunks 0–{count - 1}). What arrived is kept; record it again."
        )
    if bad and bad[0] == 0:
        raise ProcessingFailed(
            "The start of this recording never reached the server, so it cannot be played."
            " What arrived is kept; record it again."
        )
    fields: dict[str, object] = {"original": _store(job, recording, target, target.name)}
    if bad:
        # The recording is the chunks before the gap; later ones stay stored, unused.
        log.warning("recording %s: keeping chunks 0-%s, before the gap", recording.pk, bad[0] - 1)
        fields["chunk_count"] = bad[0]
    job.update(**fields)
    recording.refresh_from_db()
    return target


def _forget_chunks(recording: Recording) -> None:
    """Remove the chunks that went into the original: files first, so a job killed halfway
    leaves rows to finish the work, never files without rows."""
    rows = recording.chunks.all()
    if recording.chunk_count is not None:
        rows = rows.filter(index__lt=recording.chunk_count)
    for name in rows.values_list("file", flat=True):
        default_storage.delete(name)
    rows.delete()


def _make_playable(job: _Job, recording: Recording, work: Path) -> Path:
    """Original → probed → remuxed (or converted) playable file; the recording is ready."""
    if recording.original and default_storage.exists(recording.original.name):
        original = _fetch(job, recording.original.name, work)  # Saved by an earlier attempt.
    else:
        original = _assemble(job, recording, work)
    job.stage("probing", 30)
    try:
        info = processing.probe(original, job.reporter("probing", 30, 35))
    except processing.NotMedia as error:
        raise ProcessingFailed(f"{error} The original is kept.") from error
    limit = settings.RECORDING_MAX_MINUTES
    if info.duration_ms > limit * 60_000:
        raise ProcessingFailed(
            f"This recording is {_length_in_words(info.duration_ms)} long, more than the"
            f" {limit}-minute limit, so it was not processed. The original is kept."
        )
    if info.truncated:
        log.info("recording %s: the media is cut short; keeping what decodes", recording.pk)
    job.stage("remuxing", 35)
    try:
        playable, content_type = processing.make_playable(
            original, info, work, job.reporter("remuxing", 35, 60)
        )
    except av.FFmpegError as error:
        raise ProcessingFailed(
            "This file is not audio or video we can read: converting it failed."
            " The original is kept."
        ) from error
    job.update(
        state=State.READY,
        playable=_store(job, recording, playable, playable.name),
        playable_type=content_type,
        duration_ms=info.duration_ms,
        width=info.width,
        height=info.height,
        has_video=info.has_video,
        has_audio=info.has_audio,
        failure_reason="",
        stage="poster" if info.has_video else "audio",
        progress=60,
    )
    recording.refresh_from_db()
    return playable


def _length_in_words(ms: int) -> str:
    minutes, seconds = divmod(round(ms / 1000), 60)
    return f"{minutes} min {seconds:02d} s"


def _add_poster(job: _Job, recording: Recording, playable: Path, work: Path) -> None:
    job.stage("poster", 65)
    target = work / "poster.jpg"
    try:
        made = processing.make_poster(playable, target, recording.duration_ms or 0)
    except av.FFmpegError:
        log.warning("recording %s: no poster, no frame decodes", recording.pk, exc_info=True)
        return
    if made:
        job.update(poster=_store(job, recording, target, "poster.jpg"))


def _add_audio_track(job: _Job, recording: Recording, playable: Path, work: Path) -> None:
    """The 16 kHz mono FLAC that transcription reads, and the waveform drawn for audio."""
    job.stage("audio", 70)
    target = work / "audio-16k.flac"
    try:
        waveform = processing.extract_audio(
            playable, target, recording.duration_ms or 0, job.reporter("audio", 70, 95)
        )
    except av.FFmpegError:
        log.warning(
            "recording %s: no audio track, sound fails to decode", recording.pk, exc_info=True
        )
        return
    if waveform:
        job.update(audio_track=_store(job, recording, target, target.name), waveform=waveform)


def _finish(job: _Job, recording: Recording) -> None:
    """Processing done: a WebM playable gets an MP4 rendition for Safari and iOS; MP4, M4A
    and MP3 play everywhere already."""
    needs_rendition = recording.playable_type in ("video/webm", "audio/webm")
    if recording.rendition_state == RenditionState.READY and recording.rendition:
        rendition_state = RenditionState.READY
    elif needs_rendition:
        rendition_state = RenditionState.PENDING
    else:
        rendition_state = RenditionState.NOT_NEEDED
    job.release(
        stage="",
        progress=100,
        processed_at=timezone.now(),
        attempts=0,
        rendition_state=rendition_state,
    )
    log.info("recording %s processed (%s ms)", recording.pk, recording.duration_ms)
    publish("recording_processed", recording_id=recording.pk)
    if rendition_state == RenditionState.PENDING:
        from tidings.recordings import jobs  # The worker's module imports this one.

        jobs.make_rendition(recording.pk)


def _give_up(job: _Job, recording: Recording) -> None:
    log.error("recording %s: giving up after %s attempts", recording.pk, recording.attempts - 1)
    if recording.state == State.READY and recording.playable:
        # It plays; only the poster or audio track keeps failing.
        _finish(job, recording)
    else:
        job.release(
            state=State.FAILED,
            failure_reason=FAILED_REPEATEDLY,
            stage="",
            progress=0,
            processed_at=timezone.now(),
        )


def finalize_recording(recording_id: int) -> Recording | None:
    """Process a posted recording: join its chunks into the original, probe it, remux it
    into a seekable playable file (the recording is ready and plays from then on), make its
    poster, 16 kHz audio track and waveform, then queue the MP4 rendition. Each step sets
    `stage` and `progress`. Safe to run twice or again after a crash at any point: a job
    holds a lease that its worker's heartbeat renews (a second job finds it held and returns
    None), saved files are reused, and chunks are removed only once the playable file is
    stored. Media that is not audio or video fails the recording with a sentence; the
    original bytes are kept. After MAX_ATTEMPTS attempts that crashed or were cut short, the
    recording fails (or, if it plays, stays ready)."""
    job = _take_lease(recording_id, UNFINISHED)
    if job is None:
        log.info("recording %s: nothing to process, or another job holds it", recording_id)
        return None
    recording = Recording.objects.get(pk=recording_id)
    with job.claim.kept():
        try:
            if recording.attempts > MAX_ATTEMPTS:
                _give_up(job, recording)
            else:
                _process(job, recording)
        except leases.ClaimLost:
            log.warning("recording %s: another job took over; this one stops", recording_id)
        except ProcessingFailed as failure:
            log.info("recording %s could not be processed: %s", recording_id, failure)
            _settle(
                job,
                state=State.FAILED,
                failure_reason=str(failure),
                stage="",
                progress=0,
                processed_at=timezone.now(),
            )
        except Exception:
            log.exception("recording %s: attempt %s failed", recording_id, recording.attempts)
            if recording.attempts >= MAX_ATTEMPTS:
                recording.refresh_from_db()
                with suppress(leases.ClaimLost):
                    _give_up(job, recording)
            else:
                _settle(job, until=timezone.now())  # the next sweep queues the job again
    recording.refresh_from_db()
    return recording


def _process(job: _Job, recording: Recording) -> None:
    if recording.state == State.QUEUED:
        job.update(state=State.PROCESSING)
    with tempfile.TemporaryDirectory(prefix=WORK_DIR_PREFIX, dir=_work_root()) as folder:
        work = Path(folder)
        if recording.state == State.READY and recording.playable:
            playable = _fetch(job, recording.playable.name, work)  # Made by an earlier attempt.
        else:
            playable = _make_playable(job, recording, work)
        _forget_chunks(recording)
        if recording.has_video:
            _add_poster(job, recording, playable, work)
        if recording.has_audio:
            _add_audio_track(job, recording, playable, work)
    recording.refresh_from_db()
    _finish(job, recording)


def make_rendition(recording_id: int) -> Recording | None:
    """Convert a ready recording's playable file to MP4 (H.264/AAC, faststart) for browsers
    that cannot play WebM. Leased like processing: safe to run twice; a file that will not
    convert, or MAX_ATTEMPTS attempts that crashed or were cut short, mark the rendition
    failed (the recording still plays)."""
    job = _take_lease(recording_id, RENDITION_UNFINISHED, rendition_state=RenditionState.PROCESSING)
    if job is None:
        return None
    recording = Recording.objects.get(pk=recording_id)
    failed = {"rendition_state": RenditionState.FAILED, "attempts": 0}
    with job.claim.kept():
        try:
            if recording.attempts > MAX_ATTEMPTS:
                log.error(
                    "recording %s: no rendition after %s attempts", recording_id, MAX_ATTEMPTS
                )
                job.release(**failed)
            else:
                _render(job, recording)
        except leases.ClaimLost:
            log.warning("recording %s: another job took the rendition over", recording_id)
        except (av.FFmpegError, processing.NotMedia):
            log.warning("recording %s: the rendition failed", recording_id, exc_info=True)
            _settle(job, **failed)
        except Exception:
            log.exception(
                "recording %s: rendition attempt %s failed", recording_id, recording.attempts
            )
            if recording.attempts >= MAX_ATTEMPTS:
                _settle(job, **failed)
            else:
                _settle(job, until=timezone.now())  # the next sweep queues the job again
    recording.refresh_from_db()
    return recording


def _render(job: _Job, recording: Recording) -> None:
    """Make and store the MP4 rendition, then let the recording go."""
    with tempfile.TemporaryDirectory(prefix=WORK_DIR_PREFIX, dir=_work_root()) as folder:
        work = Path(folder)
        source = _fetch(job, recording.playable.name, work)
        info = processing.probe(source)
        target = processing.transcode_mp4(source, work / "rendition.mp4", info, job.reporter())
        job.release(
            rendition=_store(job, recording, target, target.name),
            rendition_state=RenditionState.READY,
            attempts=0,
        )


def requeue_stalled_recordings(*, at_startup: bool = False) -> int:
    """Queue again the jobs a killed worker lost: recordings (and renditions) whose lease ran
    out, or that have waited UNTAKEN_WAIT without a job taking them. When a worker starts,
    the claims of a worker of this host that is gone are let go of at once too, and old work
    folders of killed jobs are removed; a claim whose holder may live is left to its lease
    (the every-minute sweep takes it once that ends), and nothing is scheduled for later.
    Each is released by a conditional UPDATE first, so one sweep queues it once and a live
    job is never disturbed. Returns how many jobs were queued."""
    from tidings.recordings import jobs  # The worker's module imports this one.

    now = timezone.now()
    live = Recording.objects.filter(deleted_at__isnull=True)
    untaken = Q(job_lease_until__isnull=True, updated_at__lt=now - UNTAKEN_WAIT)
    queued = 0
    work_and_job = (
        (UNFINISHED, jobs.process_recording),
        (RENDITION_UNFINISHED, jobs.make_rendition),
    )
    for work, job in work_and_job:
        for pk in CLAIMS.sweep(live.filter(work), now=now, at_startup=at_startup, also=untaken):
            log.warning("recording %s: its job stalled or its worker is gone; queued again", pk)
            job(pk)
            queued += 1
    if at_startup:
        _remove_stale_work_dirs()
    return queued


def _remove_stale_work_dirs() -> None:
    cutoff = time.time() - STALE_WORK_DIR.total_seconds()
    for folder in _work_root().glob(f"{WORK_DIR_PREFIX}*"):
        if folder.is_dir() and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
