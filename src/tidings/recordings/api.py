"""API for recordings: the chunked upload protocol, which the browser's recorder calls with its
session (and CSRF token) and token clients with a token, a recording's state and media links,
and the list of recordings a person may see. Post a recording with a thread or reply by
passing its token as `recording` (and `recording_chunks`) to the thread and reply endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate
from ninja.responses import Status

from tidings.accounts.api import PersonOut
from tidings.accounts.token_auth import PersonalAccessToken
from tidings.apikit.errors import ErrorOut, in_words
from tidings.apikit.pagination import LimitOffset
from tidings.apikit.session import SignedInSession
from tidings.bounds import Id
from tidings.recordings import moments, queries, upload
from tidings.recordings.media import VARIANTS, media_url
from tidings.recordings.models import Recording, RenditionState, Source, State
from tidings.threads import queries as thread_queries
from tidings.threads.models import ThreadKind

router = Router(tags=["recordings"])

LINE_MAX = 1_000
# The recorder's operations: the browser calls them with its session, other clients with a
# token.
TOKEN_OR_SESSION = [PersonalAccessToken(), SignedInSession()]


# --- Schemas.


class MediaOut(Schema):
    """Signed links that expire (RECORDING_URL_TTL_SECONDS); empty while a variant does not
    exist. They need no token: fetch them fresh from this API when they expire."""

    playable: str = Field(..., description="WebM that plays (the joined chunks until processed).")
    rendition: str = Field(..., description="MP4 (H.264/AAC) for browsers without WebM.")
    poster: str = Field(..., description="JPEG still.")
    original: str = Field(..., description="The bytes as recorded or uploaded.")
    audio: str = Field(..., description="16 kHz mono FLAC for transcription.")


class RecordingOut(Schema):
    token: str
    title: str
    source: Source
    state: State
    stage: str
    progress: int = Field(..., description="0–100 while processing.")
    failure_reason: str
    gap_note: str = Field(..., description="Set when later chunks of the recording were lost.")
    space_id: int
    thread_id: int | None
    reply_id: int | None
    owner: PersonOut | None
    posted: bool
    posted_at: datetime | None
    created_at: datetime
    duration_ms: int | None
    width: int | None
    height: int | None
    has_video: bool
    has_audio: bool
    rendition_state: RenditionState
    chunk_count: int | None
    bytes_received: int
    post_url: str = Field(..., description="The page of its post; empty until it is posted.")
    media: MediaOut

    @staticmethod
    def resolve_posted(obj: Recording) -> bool:
        return obj.posted_at is not None

    @staticmethod
    def resolve_media(obj: Recording, context: dict[str, Any]) -> MediaOut:
        person = context["request"].auth
        return MediaOut(**{variant: media_url(obj, variant, person) for variant in VARIANTS})


class RecordingStartIn(Schema):
    space_id: Annotated[Id | None, in_words("Choose a space to post in.")] = Field(
        None, description="Record a new thread in this space…"
    )
    thread_id: Annotated[Id | None, in_words("Choose a thread to reply in.")] = Field(
        None, description="…or a reply in this thread."
    )
    source: Annotated[Source, in_words(upload.CHOOSE_SOURCE)]
    mime_type: str = Field("", max_length=LINE_MAX, description="As MediaRecorder reports it.")
    title: str = Field("", max_length=LINE_MAX)
    original_name: str = Field("", max_length=LINE_MAX, description="For an uploaded file.")
    size: Annotated[int | None, Field(ge=0), in_words(upload.GIVE_SIZE)] = Field(
        None, description="An uploaded file's size in bytes."
    )
    for_transcription: bool = True


class RecordingStartOut(Schema):
    token: str
    chunk_url: str = Field(..., description="PUT each chunk to this address + its index.")
    max_bytes: int
    max_chunk_bytes: int
    max_seconds: int


class ChunkOut(Schema):
    index: int
    size: int
    sha256: str


class ChunksOut(Schema):
    received: list[int]
    bytes: int
    state: State


class UnfinishedIn(Schema):
    title: str = Field("", max_length=LINE_MAX, description="For a new thread; else its title.")
    kind: ThreadKind = ThreadKind.DISCUSSION


def _refused(error: upload.UploadRefused) -> HttpError:
    return HttpError(error.status_code, str(error))


def _chunk_body(request: HttpRequest) -> bytes:
    """The raw body, read as a stream with a bound: never more than one chunk's limit plus
    one byte is held (Django's request.body would refuse or buffer by its own limit)."""
    limit = upload.max_chunk_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise upload.chunk_too_large()
    data = request.read(limit + 1)
    if len(data) > limit:
        raise upload.chunk_too_large()
    return data


# --- Endpoints.


@router.get(
    "/recordings", response=list[RecordingOut], summary="Recordings I can see, newest first"
)
@paginate(LimitOffset)
def list_recordings(request: HttpRequest):
    return queries.visible_recording_list(request.auth)


@router.post(
    "/recordings",
    response={201: RecordingStartOut, 404: ErrorOut},
    summary="Start a recording (then PUT its chunks, then post it with a thread or reply)",
    auth=TOKEN_OR_SESSION,
)
def start_recording(request: HttpRequest, payload: RecordingStartIn) -> Status:
    thread = (
        thread_queries.thread_for(request.auth, payload.thread_id) if payload.thread_id else None
    )
    space = (
        thread_queries.space_by_id(request.auth, payload.space_id)
        if payload.space_id and thread is None
        else None
    )
    try:
        recording = upload.start_recording(
            request.auth,
            space=space,
            thread=thread,
            source=payload.source.value,
            mime_type=payload.mime_type,
            title=payload.title,
            original_name=payload.original_name,
            size=payload.size,
            for_transcription=payload.for_transcription,
        )
    except upload.UploadRefused as error:
        raise _refused(error) from error
    chunk_url = reverse("api:upload_chunk", kwargs={"token": recording.token, "index": 0})
    return Status(
        201,
        RecordingStartOut(
            token=recording.token,
            chunk_url=chunk_url.removesuffix("0"),
            max_bytes=upload.max_upload_bytes(),
            max_chunk_bytes=upload.max_chunk_bytes(),
            max_seconds=settings.RECORDING_MAX_SECONDS,
        ),
    )


@router.get(
    "/recordings/{token}",
    response=RecordingOut,
    summary="One recording, with its state and media links",
    auth=TOKEN_OR_SESSION,
)
def get_recording(request: HttpRequest, token: str) -> Recording:
    return queries.recording_for(request.auth, token)


@router.delete(
    "/recordings/{token}",
    response={204: None},
    summary="Discard an unposted recording",
    auth=TOKEN_OR_SESSION,
)
def discard_recording(request: HttpRequest, token: str) -> Status:
    upload.discard_recording(request.auth, queries.recording_for(request.auth, token))
    return Status(204, None)


@router.put(
    "/recordings/{token}/chunks/{index}",
    response={200: ChunkOut, 201: ChunkOut, 400: ErrorOut, 409: ErrorOut},
    summary="Upload chunk `index` (raw body; optional X-Chunk-SHA256 header)",
    description=(
        "201 when stored, 200 when the same bytes were already held (retries are safe), "
        "409 when that index holds other bytes or is past the end of a posted recording, "
        "400 when the checksum differs (send it again), 413 when over the limits."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
    auth=TOKEN_OR_SESSION,
)
def upload_chunk(request: HttpRequest, token: str, index: int) -> Status:
    recording = queries.recording_for(request.auth, token)
    try:
        chunk, created = upload.store_chunk(
            request.auth,
            recording,
            index,
            _chunk_body(request),
            request.headers.get("X-Chunk-SHA256", ""),
        )
    except upload.UploadRefused as error:
        raise _refused(error) from error
    out = ChunkOut(index=chunk.index, size=chunk.size, sha256=chunk.sha256)
    return Status(201 if created else 200, out)


@router.get(
    "/recordings/{token}/chunks",
    response=ChunksOut,
    summary="Which chunks the server holds (resume after a network drop)",
    auth=TOKEN_OR_SESSION,
)
def list_chunks(request: HttpRequest, token: str) -> ChunksOut:
    recording = queries.recording_for(request.auth, token)
    received = upload.received_chunks(request.auth, recording)
    return ChunksOut(received=received, bytes=recording.bytes_received, state=recording.state)


@router.post(
    "/recordings/{token}/post",
    response={201: RecordingOut},
    summary="Post what reached the server of an unfinished recording",
    auth=TOKEN_OR_SESSION,
)
def post_unfinished(request: HttpRequest, token: str, payload: UnfinishedIn) -> Status:
    recording = queries.recording_for(request.auth, token)
    posted = upload.post_unfinished(
        request.auth, recording, title=payload.title, kind=payload.kind.value
    )
    return Status(201, queries.recording_for(request.auth, posted.token))


# --- Viewers: what the player reports, and who watched.


class ViewingIn(Schema):
    ranges: list[tuple[int, int]] = Field(
        ...,
        max_length=moments.MAX_REPORTED_RANGES,
        description="What was watched since the last report: [start_ms, end_ms] pairs.",
    )


class ViewOut(Schema):
    viewer: PersonOut
    watched_ms: int
    percent: int = Field(..., description="How much of the recording, 0–100.")
    first_viewed_at: datetime
    last_viewed_at: datetime


@router.post(
    "/recordings/{token}/views",
    response={204: None},
    summary="Report what I watched (the author's own watching is not counted)",
)
def report_viewing(request: HttpRequest, token: str, payload: ViewingIn) -> Status:
    recording = queries.recording_for(request.auth, token)
    moments.record_viewing(request.auth, recording, [list(pair) for pair in payload.ranges])
    return Status(204, None)


@router.get(
    "/recordings/{token}/viewers",
    response=list[ViewOut],
    summary="Who watched and how much, latest first (the author and workspace admins)",
)
def list_viewers(request: HttpRequest, token: str) -> list:
    return queries.recording_viewers(request.auth, queries.recording_for(request.auth, token))
