"""A recording's way in: starting one, receiving its chunks (resumable, checked, within
each person's quota), posting it with a thread or a reply (or what reached the server of an
unfinished one), holding it for a post scheduled for later, discarding it, and forgetting the
ones left unposted. Pages, the API and inbound mail call these; processing is queued when a
post commits (recordings.pipeline).
Conventions (as in threads.actions): Http404 for what the person cannot see,
PermissionDenied for visible-but-not-allowed, ValidationError with a sentence for bad input,
UploadRefused (with its HTTP status) for a chunk or upload the server will not take.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from pathlib import PurePath
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, QuerySet, Sum
from django.http import Http404
from django.template.defaultfilters import filesizeformat, pluralize
from django.utils import timezone

from tidings import uploads
from tidings.recordings import access
from tidings.recordings.models import Recording, RecordingChunk, Source, State
from tidings.threads import actions as thread_actions
from tidings.threads.models import Reply, Space, Thread, ThreadKind

if TYPE_CHECKING:
    from tidings.accounts.models import User

NOTHING_TO_POST = (
    "Nothing of this recording reached the server, so there is nothing to post. Record it again."
)
# A timeslice of a second gives 3600 chunks an hour; this bound only stops absurd indexes.
MAX_CHUNK_INDEX = 1_000_000
TITLE_MAX = 200
CHOOSE_SOURCE = "Choose camera, screen, screen + camera, audio only or a file."
GIVE_SIZE = "Give the file's size in bytes."


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


def chunk_too_large() -> TooLarge:
    return TooLarge(f"Send chunks of at most {settings.RECORDING_CHUNK_MAX_MB} MB.")


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


def clean_recording_title(title: str) -> str:
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
        raise ValidationError({"source": [CHOOSE_SOURCE]})
    mime_type = _clean_mime_type(mime_type)
    title = clean_recording_title(title)
    if size is not None:
        if size < 0:
            raise ValidationError({"size": [GIVE_SIZE]})
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
        raise chunk_too_large()
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
    from tidings.recordings import jobs  # The worker's module imports this one.

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
