"""The recorder's JSON endpoints in the browser: start a recording, send its chunks, ask which
the server holds, its status, post what reached the server, discard it."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse

from tidings.recordings import media, queries, upload
from tidings.recordings.models import Recording
from tidings.threads import queries as thread_queries
from tidings.threads.models import ThreadKind

NOT_FOUND = "Not found."
SIGNED_OUT = "Your session has ended. Sign in again, then retry."
START_FIELDS = ("space_id", "thread_id", "source", "mime_type", "title", "original_name", "size")


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _first_message(error: ValidationError) -> str:
    texts = (
        [m for ms in error.message_dict.values() for m in ms]
        if hasattr(error, "error_dict")
        else error.messages
    )
    return texts[0] if texts else "The request is not valid."


def recording_endpoint(*methods: str) -> Callable:
    """A JSON endpoint of the recorder: signed-in people only (401 otherwise), the given
    methods only, and every refusal a JSON {"error": sentence} with its status, never a
    page. Missing and hidden recordings answer the same 404."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def endpoint(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in methods:
                response = _error(f"Use {' or '.join(methods)} here.", 405)
                response["Allow"] = ", ".join(methods)
                return response
            if not request.user.is_authenticated:
                return _error(SIGNED_OUT, 401)
            try:
                return view(request, *args, **kwargs)
            except Http404:
                return _error(NOT_FOUND, 404)
            except PermissionDenied as error:
                return _error(str(error) or "You are not allowed to do that.", 403)
            except ValidationError as error:
                return _error(_first_message(error), 400)
            except upload.UploadRefused as error:
                return _error(str(error), error.status_code)
            except RequestDataTooBig:
                return _error("The request is too large.", 413)

        return endpoint

    return decorate


def _fields(request: HttpRequest, names: tuple[str, ...]) -> dict[str, str]:
    """Form fields or a JSON object, as strings (missing ones empty)."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError) as error:
            raise ValidationError("The request body is not valid JSON.") from error
        if not isinstance(data, dict):
            raise ValidationError('Send a JSON object, like {"space_id": 1}.')
        return {name: "" if data.get(name) is None else str(data[name]) for name in names}
    return {name: request.POST.get(name, "") for name in names}


def _optional_int(value: str, field: str, message: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise ValidationError({field: [message]})
    return int(value)


def recording_links(recording: Recording) -> dict[str, str]:
    """The addresses of the upload protocol for one recording."""
    token = {"token": recording.token}
    return {
        "chunk_url": reverse("recordings:chunks", kwargs=token) + "/",
        "chunks_url": reverse("recordings:chunks", kwargs=token),
        "status_url": reverse("recordings:status", kwargs=token),
        "post_url": reverse("recordings:post", kwargs=token),
        "discard_url": reverse("recordings:discard", kwargs=token),
    }


def recording_status(recording: Recording, person) -> dict:
    """What a viewer polls while a recording is processed."""
    return {
        "token": recording.token,
        "state": recording.state,
        "stage": recording.stage,
        "progress": recording.progress,
        "failure_reason": recording.failure_reason,
        "gap_note": recording.gap_note,
        "duration_ms": recording.duration_ms,
        "rendition_state": recording.rendition_state,
        "playable_url": media.media_url(recording, "playable", person),
        "rendition_url": media.media_url(recording, "rendition", person),
        "poster_url": media.media_url(recording, "poster", person),
    }


@recording_endpoint("POST")
def recording_start(request: HttpRequest) -> HttpResponse:
    """Open a recording in a space (a new thread) or a thread (a reply) before the first
    chunk is sent; an upload declares its size and is refused at once when too large."""
    fields = _fields(request, (*START_FIELDS, "for_transcription"))
    thread_id = _optional_int(fields["thread_id"], "thread_id", "Choose a thread to reply in.")
    space_id = _optional_int(fields["space_id"], "space_id", "Choose a space to post in.")
    size = _optional_int(fields["size"], "size", "Give the file's size in bytes.")
    thread = thread_queries.thread_for(request.user, thread_id) if thread_id else None
    space = thread_queries.space_by_id(request.user, space_id) if space_id and not thread else None
    recording = upload.start_recording(
        request.user,
        space=space,
        thread=thread,
        source=fields["source"],
        mime_type=fields["mime_type"],
        title=fields["title"],
        original_name=fields["original_name"],
        size=size,
        for_transcription=fields["for_transcription"].lower() not in ("0", "false", "off"),
    )
    return JsonResponse(
        {
            "token": recording.token,
            **recording_links(recording),
            "max_bytes": upload.max_upload_bytes(),
            "max_chunk_bytes": upload.max_chunk_bytes(),
            "max_seconds": settings.RECORDING_MAX_SECONDS,
        },
        status=201,
    )


def read_chunk_body(request: HttpRequest) -> bytes:
    """The raw body, read as a stream with a bound: never more than one chunk's limit plus
    one byte is held (Django's request.body would refuse or buffer by its own limit)."""
    limit = upload.max_chunk_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise upload.TooLarge(f"Send chunks of at most {settings.RECORDING_CHUNK_MAX_MB} MB.")
    data = request.read(limit + 1)
    if len(data) > limit:
        raise upload.TooLarge(f"Send chunks of at most {settings.RECORDING_CHUNK_MAX_MB} MB.")
    return data


@recording_endpoint("PUT")
def recording_chunk(request: HttpRequest, token: str, index: str) -> HttpResponse:
    """Store chunk `index` (the raw body; optional X-Chunk-SHA256 header): 201 stored, 200
    already held with the same bytes, 409 other bytes, 400 damaged, 413 too large."""
    recording = queries.recording_for(request.user, token)
    data = read_chunk_body(request)
    chunk, created = upload.store_chunk(
        request.user, recording, int(index), data, request.headers.get("X-Chunk-SHA256", "")
    )
    return JsonResponse(
        {"index": chunk.index, "size": chunk.size, "sha256": chunk.sha256},
        status=201 if created else 200,
    )


@recording_endpoint("GET")
def recording_chunks(request: HttpRequest, token: str) -> HttpResponse:
    """The chunks the server holds, for a client resuming after a network drop."""
    recording = queries.recording_for(request.user, token)
    received = upload.received_chunks(request.user, recording)
    return JsonResponse(
        {"received": received, "bytes": recording.bytes_received, "state": recording.state}
    )


@recording_endpoint("GET")
def recording_status_view(request: HttpRequest, token: str) -> HttpResponse:
    recording = queries.recording_for(request.user, token)
    return JsonResponse(recording_status(recording, request.user))


@recording_endpoint("DELETE")
def recording_discard(request: HttpRequest, token: str) -> HttpResponse:
    """Throw away an unposted recording (the person records again)."""
    recording = queries.recording_for(request.user, token)
    upload.discard_recording(request.user, recording)
    return HttpResponse(status=204)


@recording_endpoint("POST")
def recording_post(request: HttpRequest, token: str) -> HttpResponse:
    """Post what reached the server of a recording whose tab or network died."""
    recording = queries.recording_for(request.user, token)
    fields = _fields(request, ("title", "kind"))
    recording = upload.post_unfinished(
        request.user,
        recording,
        title=fields["title"],
        kind=fields["kind"] or ThreadKind.DISCUSSION,
    )
    url = reverse("threads:thread", kwargs={"thread_id": recording.thread_id})
    anchor = f"#reply-{recording.reply_id}" if recording.reply_id else ""
    return JsonResponse(
        {"token": recording.token, "url": url + anchor, "gap_note": recording.gap_note},
        status=201,
    )
