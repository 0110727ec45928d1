"""Every state change of recordings: upload, posting, processing, viewers, moments and
collections. Pages, the API and the worker all call these functions.
Conventions (as in threads.actions): Http404 for what the person cannot see,
PermissionDenied for visible-but-not-allowed, ValidationError with a sentence for bad input.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import shutil
import tempfile
import time
from contextlib import suppress
from datetime import datetime, timedelta
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

import av
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.http import Http404
from django.template.defaultfilters import filesizeformat, pluralize
from django.utils import timezone

from tidings import leases, uploads
from tidings.events import publish
from tidings.recordings import access, processing
from tidings.recordings.models import (
    Collection,
    CollectionItem,
    Recording,
    RecordingChunk,
    RenditionState,
    Source,
    State,
    recording_path,
)
from tidings.threads import actions as thread_actions
from tidings.threads.models import Reply, Space, Thread, ThreadKind
from tidings.workspaces.models import Workspace

if TYPE_CHECKING:
    from tidings.accounts.models import User

# --- Upload and posting.

NOTHING_TO_POST = (
    "Nothing of this recording reached the server, so there is nothing to post. Record it again."
)
# A timeslice of a second gives 3600 chunks an hour; this bound only stops absurd indexes.
MAX_CHUNK_INDEX = 1_000_000
TITLE_MAX = 200


class UploadRefused(Exception):
    """A chunk or upload the server will not take. `status_code` is the HTTP status that
    says why; the message is a sentence for the person (or the client's retry logic)."""

    status_code = 400


class ChunkConflict(UploadRefused):
    status_code = 409


class TooLarge(UploadRefused):
    status_code = 413


class QuotaReached(TooLarge):
    """The person keeps as many unfinished recordings, or as many bytes of them, as allowed."""


def max_upload_bytes() -> int:
    return settings.RECORDING_MAX_UPLOAD_MB * 1024 * 1024


def max_chunk_bytes() -> int:
    return settings.RECORDING_CHUNK_MAX_MB * 1024 * 1024


def _too_large_upload() -> TooLarge:
    return TooLarge(
        f"Recordings can be up to {settings.RECORDING_MAX_UPLOAD_MB:,} MB. "
        "Choose a shorter or smaller file."
    )


def _unfinished_of(person: User) -> QuerySet[Recording]:
    """The person's recordings not posted: being recorded, or left (the Library's unfinished
    ones). One held for a post scheduled for later is that post's, not unfinished."""
    return Recording.objects.filter(
        owner=person, posted_at=None, deleted_at=None, held_for_later=False
    )


def _unfinished_limit() -> int:
    return settings.RECORDING_UNFINISHED_MAX_MB * 1024 * 1024


def _full_unfinished(used: int) -> QuotaReached:
    return QuotaReached(
        f"Your unfinished recordings take {filesizeformat(used)} of the "
        f"{filesizeformat(_unfinished_limit())} one person may keep. Post or discard some "
        "in your Library, then record again."
    )


def _require_room_to_record(person: User, size: int) -> None:
    """Refuse a new recording past the person's share of unfinished ones (count and bytes),
    so recordings that are never posted cannot fill the disk."""
    held = _unfinished_of(person).aggregate(count=Count("pk"), size=Sum("bytes_received"))
    count, used = held["count"], held["size"] or 0
    if count >= settings.RECORDING_UNFINISHED_MAX_COUNT:
        raise QuotaReached(
            f"You have {count} unfinished recording{pluralize(count)}, the most one person "
            "may keep. Post or discard some in your Library, then record again."
        )
    if used + size >= _unfinished_limit():
        raise _full_unfinished(used)


def _require_room_for_chunk(person: User, size: int) -> None:
    # Checked before the chunk is written; chunks arriving at the same moment may pass it
    # together, which overshoots by a few chunks at most.
    used = _unfinished_of(person).aggregate(size=Sum("bytes_received"))["size"] or 0
    if used + size > _unfinished_limit():
        raise QuotaReached(
            f"Your unfinished recordings reached the {filesizeformat(_unfinished_limit())} one "
            "person may keep, so this recording stops here. Post it, or discard older ones, "
            "from your Library."
        )


def _clean_mime_type(mime_type: str) -> str:
    mime_type = " ".join((mime_type or "").split()).lower()
    if not mime_type:
        return ""
    if len(mime_type) > 120 or not mime_type.startswith(("audio/", "video/")):
        raise ValidationError({"mime_type": ["Choose an audio or video file."]})
    return mime_type


def _clean_recording_title(title: str) -> str:
    title = " ".join((title or "").split())
    if len(title) > TITLE_MAX:
        raise ValidationError(
            {"title": [f"Keep the title to {TITLE_MAX} characters or fewer (it has {len(title)})."]}
        )
    return title


def _clean_original_name(name: str) -> str:
    # Only a label for downloads: the bytes are stored under fixed names.
    name = PurePath((name or "").replace("\\", "/")).name
    return " ".join(name.split())[:200]


@transaction.atomic
def start_recording(
    person: User,
    *,
    space: Space | None = None,
    thread: Thread | None = None,
    source: str,
    mime_type: str = "",
    title: str = "",
    original_name: str = "",
    size: int | None = None,
    for_transcription: bool = True,
) -> Recording:
    """Open a recording the person will upload in chunks, in a space (a new thread) or in a
    thread (a reply). Only people who may post there; an upload that declares its size is
    refused (TooLarge) before any byte is sent."""
    if thread is not None:
        if not access.can_view_thread(person, thread):
            raise Http404("No such thread.")
        space = thread.space
    if space is None:
        raise ValidationError({"space_id": ["Choose the space or thread to record into."]})
    if not access.can_view_space(person, space):
        raise Http404("No such space.")
    if not access.can_post_in_space(person, space):
        raise PermissionDenied("This space is archived; nothing new can be posted in it.")
    if source not in Source.values:
        raise ValidationError(
            {"source": ["Choose camera, screen, screen + camera, audio only or a file."]}
        )
    mime_type = _clean_mime_type(mime_type)
    title = _clean_recording_title(title)
    if size is not None:
        if size < 0:
            raise ValidationError({"size": ["Give the file's size in bytes."]})
        if size == 0:
            raise ValidationError({"size": ["That file is empty. Choose another one."]})
        if size > max_upload_bytes():
            raise _too_large_upload()
    _require_room_to_record(person, size or 0)
    return Recording.objects.create(
        token=secrets.token_hex(16),
        owner=person,
        space=space,
        thread=thread,
        source=source,
        mime_type=mime_type,
        title=title,
        original_name=_clean_original_name(original_name),
        for_transcription=bool(for_transcription),
    )


def _require_owner(person: User | None, recording: Recording) -> None:
    """Only the owner uploads, lists chunks, posts or discards; to anyone else the recording
    does not exist (the same 404 as a missing one)."""
    if (
        person is None
        or not person.is_authenticated
        or recording.owner_id != person.pk
        or recording.deleted_at is not None
        or not access.can_view_space(person, recording.space)
    ):
        raise Http404("No such recording.")


def _same_chunk(chunk: RecordingChunk, digest: str) -> tuple[RecordingChunk, bool]:
    """A retry of a chunk already held is fine; other bytes at that index are a conflict."""
    if chunk.sha256 != digest:
        raise ChunkConflict(
            f"Chunk {chunk.index} is already stored with other bytes. "
            "Start a new recording if this one was recorded twice."
        )
    return chunk, False


def store_chunk(
    person: User, recording: Recording, index: int, data: bytes, sha256: str = ""
) -> tuple[RecordingChunk, bool]:
    """Keep one chunk as the browser sent it. Idempotent: the same bytes at the same index
    again return the stored chunk (created False). Refuses other bytes at a held index, an
    index past the end of a posted recording (ChunkConflict), a checksum that does not match
    (UploadRefused: the client sends it again), and chunks that pass the limits (TooLarge).
    The file is written before the row, outside the transaction, so a slow disk never holds
    the database lock; the byte count is one conditional UPDATE, right under concurrency."""
    _require_owner(person, recording)
    if not 0 <= index < MAX_CHUNK_INDEX:
        raise UploadRefused(f"Chunk numbers go from 0 to {MAX_CHUNK_INDEX - 1:,}.")
    if recording.chunk_count is not None and index >= recording.chunk_count:
        raise ChunkConflict(
            f"This recording was posted with {recording.chunk_count} chunks; "
            f"chunk {index} is past its end."
        )
    if not data:
        raise UploadRefused("That chunk is empty; send chunks that hold media.")
    if len(data) > max_chunk_bytes():
        raise TooLarge(f"Send chunks of at most {settings.RECORDING_CHUNK_MAX_MB} MB.")
    digest = hashlib.sha256(data).hexdigest()
    if sha256 and sha256.strip().lower() != digest:
        raise UploadRefused(f"Chunk {index} arrived damaged (its checksum differs). Send it again.")
    held = RecordingChunk.objects.filter(recording=recording, index=index).first()
    if held is not None:
        return _same_chunk(held, digest)
    if recording.posted_at is not None:
        # Its chunks were complete when posted; processing has since joined and removed them.
        raise ChunkConflict("This recording is already posted with all of its chunks.")
    if recording.bytes_received + len(data) > max_upload_bytes():
        raise _too_large_upload()
    _require_room_for_chunk(person, len(data))
    chunk = RecordingChunk(recording=recording, index=index, size=len(data), sha256=digest)
    chunk.file.save(f"{index:06d}", ContentFile(data), save=False)
    try:
        with transaction.atomic():
            chunk.save()
            room = max_upload_bytes() - len(data)
            grown = Recording.objects.filter(pk=recording.pk, bytes_received__lte=room).update(
                bytes_received=F("bytes_received") + len(data), updated_at=timezone.now()
            )
            if not grown:
                raise _too_large_upload()
    except IntegrityError:
        # The same index arrived twice at once: the other request stored it first.
        chunk.file.delete(save=False)
        return _same_chunk(RecordingChunk.objects.get(recording=recording, index=index), digest)
    except TooLarge:
        chunk.file.delete(save=False)
        raise
    return chunk, True


def received_chunks(person: User, recording: Recording) -> list[int]:
    """The chunk numbers the server holds, in order: the client sends the others again."""
    _require_owner(person, recording)
    return list(recording.chunks.order_by("index").values_list("index", flat=True))


def _missing(indexes: list[int], count: int) -> list[int]:
    held = set(indexes)
    return [i for i in range(count) if i not in held]


def _describe_missing(missing: list[int]) -> str:
    shown = ", ".join(str(i) for i in missing[:20])
    more = f" and {len(missing) - 20} more" if len(missing) > 20 else ""
    return (
        f"The server is missing chunks {shown}{more} of this recording. "
        "Keep the page open while they are sent again, then post."
    )


def attach_to_post(
    person: User,
    recording_token: str,
    *,
    thread: Thread,
    reply: Reply | None = None,
    chunk_count: int | None = None,
) -> Recording:
    """Link the person's unposted recording to the thread it opens (reply None) or to a
    reply, inside the caller's transaction. Only the owner's, only once, only in the same
    space (and the same thread for a reply recorded there). With `chunk_count` n, chunks
    0..n-1 must all be held (a ValidationError names the missing ones); without it, the held
    chunks must run from 0 without a gap. Costs a few queries whatever the length, so the
    post's link works at once; processing is queued after commit."""
    recording, chunk_count = _postable(
        person,
        recording_token,
        space_id=thread.space_id,
        reply_in=thread if reply is not None else None,
        chunk_count=chunk_count,
    )
    now = timezone.now()
    recording.thread = thread
    recording.reply = reply
    recording.posted_at = now
    recording.chunk_count = chunk_count
    recording.state = State.QUEUED
    recording.stage = ""
    recording.progress = 0
    default_title = thread.title if reply is None else f"Reply in {thread.title}"
    recording.title = recording.title or default_title[:TITLE_MAX]
    recording.updated_at = now
    recording.save(
        update_fields=[
            "thread",
            "reply",
            "posted_at",
            "chunk_count",
            "state",
            "stage",
            "progress",
            "title",
            "updated_at",
        ]
    )
    transaction.on_commit(lambda: _queue_processing(recording.pk))
    return recording


def _postable(
    person: User,
    recording_token: str,
    *,
    space_id: int,
    reply_in: Thread | None,
    chunk_count: int | None,
) -> tuple[Recording, int]:
    """The person's unposted recording, locked, checked as `attach_to_post` describes for a
    post in the space (a reply in `reply_in`, or a new thread), with its chunk count."""
    recording = (
        Recording.objects.select_for_update()
        .filter(token=str(recording_token or "")[:64], owner=person, deleted_at=None)
        .first()
    )
    if recording is None:
        raise ValidationError(
            {"recording": ["That recording could not be found. Record it again."]}
        )
    if recording.posted_at is not None:
        raise ValidationError({"recording": ["That recording is already posted."]})
    if recording.space_id != space_id or (
        reply_in is not None and recording.thread_id not in (None, reply_in.pk)
    ):
        raise ValidationError(
            {"recording": ["That recording was made for another place. Record it again here."]}
        )
    if chunk_count is not None and not 0 < chunk_count <= MAX_CHUNK_INDEX:
        raise ValidationError({"recording": ["The recording has no media yet."]})
    if chunk_count is None:
        held = recording.chunks.aggregate(count=Count("pk"), top=Max("index"))
        if not held["count"]:
            raise ValidationError({"recording": ["The recording has no media yet."]})
        chunk_count = held["top"] + 1
        enough = held["count"] == chunk_count
    else:
        enough = recording.chunks.filter(index__lt=chunk_count).count() == chunk_count
    if not enough:
        indexes = list(
            recording.chunks.filter(index__lt=chunk_count).values_list("index", flat=True)
        )
        raise ValidationError({"recording": [_describe_missing(_missing(indexes, chunk_count))]})
    return recording, chunk_count


def hold_for_later(
    person: User,
    recording_token: str,
    *,
    space: Space,
    thread: Thread | None = None,
    chunk_count: int | None = None,
) -> Recording:
    """Check that the person's unposted recording could open a thread in `space` (or be a
    reply in `thread`) as `attach_to_post` checks, and keep it for a post scheduled for
    later: it is not listed as unfinished, and the post attaches it when it is made."""
    recording, _count = _postable(
        person, recording_token, space_id=space.pk, reply_in=thread, chunk_count=chunk_count
    )
    Recording.objects.filter(pk=recording.pk).update(held_for_later=True)
    return recording


def release_for_later(recording_token: str) -> int:
    """Let go of a recording held for a post that will not be made: unposted, it shows
    among the owner's unfinished recordings again."""
    if not recording_token:
        return 0
    return Recording.objects.filter(token=recording_token, posted_at=None).update(
        held_for_later=False
    )


def _queue_processing(recording_id: int) -> None:
    from tidings.recordings import jobs  # The worker's module imports these actions.

    jobs.process_recording(recording_id)


def _held_prefix(recording: Recording) -> tuple[int, bool]:
    """How many chunks run from 0 without a gap, and whether later chunks exist."""
    indexes = list(recording.chunks.order_by("index").values_list("index", flat=True))
    prefix = 0
    for index in indexes:
        if index != prefix:
            break
        prefix += 1
    return prefix, len(indexes) > prefix


def post_unfinished(
    person: User, recording: Recording, *, title: str = "", kind: str = ThreadKind.DISCUSSION
) -> Recording:
    """Post what reached the server of a recording whose tab or network died: a reply in its
    thread, or a new thread in its space (with `title`, or the recording's). Uses the chunks
    from 0 up to the first gap; when later chunks were lost, `gap_note` says where it stops."""
    _require_owner(person, recording)
    if recording.posted_at is not None:
        raise ValidationError({"recording": ["That recording is already posted."]})
    prefix, gap = _held_prefix(recording)
    if not prefix:
        raise ValidationError({"recording": [NOTHING_TO_POST]})
    with transaction.atomic():
        if recording.thread is not None:
            thread_actions.post_reply(
                person,
                recording.thread,
                body="",
                recording_token=recording.token,
                recording_chunks=prefix,
            )
        else:
            thread_actions.post_thread(
                person,
                recording.space,
                kind=kind,
                title=title or recording.title,
                body="",
                recording_token=recording.token,
                recording_chunks=prefix,
            )
        recording.refresh_from_db()
        if gap:
            recording.gap_note = (
                f"This recording stops at chunk {prefix}: later pieces never reached the server."
            )
            recording.save(update_fields=["gap_note"])
    return recording


def discard_recording(person: User, recording: Recording) -> None:
    """Throw away an unposted recording and its chunks (the owner's choice to re-record).
    A posted recording goes with its post instead."""
    _require_owner(person, recording)
    if recording.posted_at is not None:
        raise PermissionDenied("This recording is posted; delete the post to remove it.")
    names = list(recording.chunks.values_list("file", flat=True))
    with transaction.atomic():
        recording.chunks.all().delete()
        Recording.objects.filter(pk=recording.pk).update(
            deleted_at=timezone.now(), bytes_received=0
        )
    storage = RecordingChunk.file.field.storage
    for name in names:
        storage.delete(name)
    recording.deleted_at = timezone.now()


def forget_abandoned_recordings() -> int:
    """Remove recordings never posted that nobody added to for ABANDONED_UPLOADS_DAYS
    (discarded ones too), rows and chunks' bytes. Posted recordings and those held for a post
    scheduled for later are never touched; one being posted right now is skipped (its row is
    locked). Returns how many were removed."""
    cutoff = timezone.now() - timedelta(days=settings.ABANDONED_UPLOADS_DAYS)
    return uploads.forget_in_batches(
        Recording.objects.filter(posted_at=None, held_for_later=False, updated_at__lt=cutoff),
        lambda batch: list(
            RecordingChunk.objects.filter(recording__in=batch).values_list("file", flat=True)
        ),
        RecordingChunk.file.field.storage,
    )


# --- Processing (called by the worker).

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
        from tidings.recordings import jobs  # The worker's module imports these actions.

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
    from tidings.recordings import jobs  # The worker's module imports these actions.

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


# --- Collections.

COLLECTION_TITLE_MAX = 120
COLLECTION_DESCRIPTION_MAX = 500
MOVE_STEPS = {"up": -1, "down": 1}


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


def _clean_collection_fields(title: str, description: str) -> tuple[str, str]:
    title, description = _one_line(title), (description or "").strip()
    errors: dict[str, list[str]] = {}
    if not title:
        errors["title"] = ["Give the collection a title, such as “Onboarding”."]
    elif len(title) > COLLECTION_TITLE_MAX:
        errors["title"] = [
            f"Keep the title to {COLLECTION_TITLE_MAX} characters or fewer (it has {len(title)})."
        ]
    if len(description) > COLLECTION_DESCRIPTION_MAX:
        errors["description"] = [
            f"Keep the description to {COLLECTION_DESCRIPTION_MAX} characters or fewer"
            f" (it has {len(description)})."
        ]
    if errors:
        raise ValidationError(errors)
    return title, description


def _require_collection_owner(person: User | None, collection: Collection) -> None:
    """Only the collection's owner changes it; readers of its space get 403, others 404."""
    if access.visible_collections(person).filter(pk=collection.pk, owner=person).exists():
        return
    if access.visible_collections(person).filter(pk=collection.pk).exists():
        raise PermissionDenied("Only the person who made this collection can change it.")
    raise Http404("No such collection.")


def _renumber(items: list[CollectionItem]) -> None:
    """Positions 0..n-1 in list order, so they stay dense after any change."""
    changed = []
    for position, item in enumerate(items):
        if item.position != position:
            item.position = position
            changed.append(item)
    CollectionItem.objects.bulk_update(changed, ["position"])


def _locked_items(collection: Collection) -> list[CollectionItem]:
    return list(
        CollectionItem.objects.select_for_update()
        .filter(collection=collection)
        .order_by("position", "id")
    )


def create_collection(
    person: User, workspace: Workspace, *, title: str, description: str = ""
) -> Collection:
    """A new, empty, unshared collection owned by `person` in a workspace they belong to."""
    if access.membership(person, workspace) is None:
        raise Http404("No such workspace.")
    title, description = _clean_collection_fields(title, description)
    return Collection.objects.create(
        workspace=workspace, owner=person, title=title, description=description
    )


def update_collection(
    person: User, collection: Collection, *, title: str, description: str = ""
) -> Collection:
    _require_collection_owner(person, collection)
    collection.title, collection.description = _clean_collection_fields(title, description)
    collection.updated_at = timezone.now()
    collection.save(update_fields=["title", "description", "updated_at"])
    return collection


def delete_collection(person: User, collection: Collection) -> None:
    """Removes the list only; the recordings in it stay where they were posted."""
    _require_collection_owner(person, collection)
    collection.delete()


def share_collection(person: User, collection: Collection, space: Space | None) -> Collection:
    """Show the collection to the readers of `space` (None: stop sharing). The owner must be
    able to post in the space. Each reader still sees only the recordings they may see."""
    _require_collection_owner(person, collection)
    if space is not None:
        if space.workspace_id != collection.workspace_id or not access.can_view_space(
            person, space
        ):
            raise ValidationError({"space": ["Choose a space of this workspace that you can see."]})
        if not access.can_post_in_space(person, space):
            raise ValidationError(
                {"space": ["This space is archived; share the collection to another space."]}
            )
    collection.shared_space = space
    collection.updated_at = timezone.now()
    collection.save(update_fields=["shared_space", "updated_at"])
    return collection


def add_to_collection(
    person: User, collection: Collection, recording: Recording
) -> tuple[CollectionItem, bool]:
    """Put a posted recording the owner can see at the end of the collection. Adding it again
    changes nothing; returns (item, created)."""
    _require_collection_owner(person, collection)
    if not access.visible_recordings(person).filter(pk=recording.pk).exists():
        raise Http404("No such recording.")
    if recording.posted_at is None:
        raise ValidationError(
            {"recording": ["Post the recording first; then it can go in a collection."]}
        )
    if recording.space.workspace_id != collection.workspace_id:
        raise ValidationError(
            {"recording": ["That recording belongs to another workspace than the collection."]}
        )
    with transaction.atomic():
        items = _locked_items(collection)
        for item in items:
            if item.recording_id == recording.pk:
                return item, False
        item = CollectionItem.objects.create(
            collection=collection, recording=recording, position=len(items)
        )
        _renumber([*items, item])
        Collection.objects.filter(pk=collection.pk).update(updated_at=timezone.now())
    return item, True


def remove_from_collection(person: User, collection: Collection, recording_id: int) -> None:
    """Take a recording out of the collection (the recording itself stays). Removing one that
    is not there changes nothing."""
    _require_collection_owner(person, collection)
    with transaction.atomic():
        items = _locked_items(collection)
        kept = [item for item in items if item.recording_id != recording_id]
        if len(kept) == len(items):
            return
        CollectionItem.objects.filter(collection=collection, recording_id=recording_id).delete()
        _renumber(kept)
        Collection.objects.filter(pk=collection.pk).update(updated_at=timezone.now())


def move_in_collection(
    person: User, collection: Collection, recording_id: int, direction: str
) -> int:
    """Swap a recording with its neighbour above ("up") or below ("down") among those the owner
    can still see; at either end nothing moves. Returns the recording's new position (0-based
    among all items)."""
    _require_collection_owner(person, collection)
    step = MOVE_STEPS.get(direction)
    if step is None:
        raise ValidationError({"direction": ["Move a recording up or down."]})
    visible = set(
        access.visible_recordings(person)
        .filter(collection_items__collection=collection)
        .values_list("pk", flat=True)
    )
    with transaction.atomic():
        items = _locked_items(collection)
        index = next((i for i, it in enumerate(items) if it.recording_id == recording_id), None)
        if index is None:
            raise Http404("That recording is not in this collection.")
        # The owner may have lost sight of some recordings: step over them, so a move
        # always changes what the owner sees.
        target = index + step
        while 0 <= target < len(items) and items[target].recording_id not in visible:
            target += step
        if 0 <= target < len(items):
            items[index], items[target] = items[target], items[index]
            index = target
            _renumber(items)
            Collection.objects.filter(pk=collection.pk).update(updated_at=timezone.now())
    return index


def rename_recording(person: User, recording: Recording, title: str) -> Recording:
    """Only the person who recorded it renames it; the title shows in the library and
    collections (a blank one falls back to the thread's title)."""
    if not access.visible_recordings(person).filter(pk=recording.pk).exists():
        raise Http404("No such recording.")
    if recording.owner_id != person.pk:
        raise PermissionDenied("Only the person who recorded it can rename it.")
    recording.title = _clean_recording_title(title)
    recording.updated_at = timezone.now()
    recording.save(update_fields=["title", "updated_at"])
    return recording
