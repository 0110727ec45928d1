"""Pages and browser endpoints of recordings. Thin: parse, call an action or a query, render."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST, require_safe

from tidings.recordings import collections, media, moments, queries, upload
from tidings.recordings.media import media_url
from tidings.recordings.models import Collection, Recording, State
from tidings.recordings.queries import clock
from tidings.threads import queries as thread_queries
from tidings.threads.models import ThreadKind
from tidings.workspaces.models import Workspace
from tidings.workspaces.queries import workspace_for

if TYPE_CHECKING:
    pass

# --- Upload protocol and media.

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


@require_safe
def media_file(request: HttpRequest, signed: str, filename: str) -> HttpResponse:
    """A signed media link: served with Range while the person it was made for may still see
    the recording. Expired links answer 410, forged ones the same 404 as missing ones."""
    try:
        recording_id, variant, person_id = media.signed_target(signed)
    except signing.SignatureExpired:
        return HttpResponse(media.EXPIRED, status=410, content_type="text/plain; charset=utf-8")
    except signing.BadSignature:
        return HttpResponse(media.NOT_FOUND, status=404, content_type="text/plain; charset=utf-8")
    try:
        recording = media.recording_for_link(recording_id, person_id)
        return media.ranged_response(request, media.media_for(recording, variant))
    except Http404:
        return HttpResponse(media.NOT_FOUND, status=404, content_type="text/plain; charset=utf-8")


# --- Watching and viewers (the player itself is drawn by transcripts.player).

BAD_RANGES = "Send what was watched as JSON: a list of [start_ms, end_ms] pairs."


@login_required
@require_POST
def recording_viewed(request: HttpRequest, token: str) -> HttpResponse:
    """What the person watched, reported by the player (form field `ranges`, or a JSON body:
    a list of [start_ms, end_ms] pairs, or an object with `ranges`)."""
    recording = queries.recording_for(request.user, token)
    if request.content_type == "application/json":
        raw = request.body
    else:
        raw = request.POST.get("ranges", "")
    try:
        ranges = json.loads(raw)
    except (ValueError, RecursionError):  # bad JSON, bad UTF-8, absurd nesting
        return HttpResponse(BAD_RANGES, status=400, content_type="text/plain")
    if isinstance(ranges, dict):
        ranges = ranges.get("ranges")
    try:
        moments.record_viewing(request.user, recording, ranges)
    except ValidationError as error:
        return HttpResponse(" ".join(error.messages), status=400, content_type="text/plain")
    return HttpResponse(status=204)


@login_required
@require_GET
def recording_viewers(request: HttpRequest, token: str) -> HttpResponse:
    """Who watched and how much: for the author and workspace admins only."""
    recording = queries.recording_for(request.user, token)
    views = queries.recording_viewers(request.user, recording)
    return render(request, "recordings/_viewers.html", {"views": views})


# --- Library and collections.

LIBRARY_PAGE_SIZE = 24
SEARCH_MAX = 200
WAVEFORM_BARS = 40


def _library_url(workspace: Workspace) -> str:
    return reverse("recordings:library", kwargs={"workspace": workspace.slug})


def _collection_url(collection: Collection) -> str:
    return reverse(
        "recordings:collection",
        kwargs={"workspace": collection.workspace.slug, "collection_id": collection.pk},
    )


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    """Back to the page the form was on (its query string kept), if that is one of ours."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return redirect(target)
    return redirect(fallback)


def _say_errors(request: HttpRequest, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


def _recording_in(request: HttpRequest, workspace: Workspace, token: str) -> Recording:
    """A recording the person may see, in this workspace (the same 404 otherwise)."""
    recording = queries.recording_for(request.user, token)
    if recording.space.workspace_id != workspace.pk:
        raise Http404("No such recording.")
    return recording


def _post_url(recording: Recording) -> str:
    url = reverse("threads:thread", kwargs={"thread_id": recording.thread_id})
    return f"{url}#reply-{recording.reply_id}" if recording.reply_id else f"{url}#post"


def _waveform_bars(levels: list) -> list[dict]:
    """The stored waveform squeezed into a few bars (SVG rects 0-40 high, centred on 24)."""
    values = [abs(float(v)) for v in levels if isinstance(v, int | float)]
    if not values:
        return []
    size = math.ceil(len(values) / WAVEFORM_BARS)
    peaks = [max(values[i : i + size]) for i in range(0, len(values), size)]
    top = max(peaks) or 1.0
    bars = []
    for index, peak in enumerate(peaks):
        height = max(2, round(40 * peak / top))
        bars.append({"x": index * 4, "y": 24 - height / 2, "height": height})
    return bars


def _card(person, recording: Recording) -> dict:
    """What a library or collection card shows, worked out once per recording."""
    return {
        "recording": recording,
        "title": recording.display_title or "Untitled recording",
        "href": _post_url(recording),
        "poster_url": media_url(recording, "poster", person) if recording.poster else "",
        "bars": [] if recording.has_video else _waveform_bars(recording.waveform or []),
        "duration": clock(recording.duration_ms) if recording.duration_ms else "",
        "own": recording.owner_id == person.pk,
        "busy": recording.state in (State.QUEUED, State.PROCESSING),
        "failed": recording.state == State.FAILED,
    }


@login_required
@require_GET
def library(request: HttpRequest, workspace: str) -> HttpResponse:
    ws = workspace_for(request.user, workspace)
    tab = request.GET.get("tab", "")
    tab = tab if tab in queries.LIBRARY_TABS else "mine"
    sort = request.GET.get("sort", "")
    sort = sort if sort in queries.LIBRARY_SORTS else "newest"
    q = " ".join(request.GET.get("q", "").split())[:SEARCH_MAX]
    recordings = queries.library_recordings(request.user, ws, tab=tab, q=q, sort=sort)
    page = Paginator(recordings, LIBRARY_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    with timezone.override(request.user.zone):
        return render(
            request,
            "recordings/library.html",
            {
                "workspace": ws,
                "tab": tab,
                "sort": sort,
                "sorts": queries.LIBRARY_SORTS.items(),
                "q": q,
                "page": page,
                "cards": [_card(request.user, r) for r in page.object_list],
                "query": query.urlencode(),
                "here": request.get_full_path(),
                "unfinished": (
                    list(queries.unfinished_recordings(request.user, ws)) if tab == "mine" else []
                ),
                "kinds": ThreadKind.choices,
                "collections": list(queries.own_collections(request.user, ws)),
            },
        )


@login_required
@require_POST
def library_rename(request: HttpRequest, workspace: str, token: str) -> HttpResponse:
    ws = workspace_for(request.user, workspace)
    recording = _recording_in(request, ws, token)
    try:
        collections.rename_recording(request.user, recording, request.POST.get("title", ""))
    except ValidationError as error:
        _say_errors(request, error)
    else:
        messages.success(request, "Recording renamed.")
    return _back(request, _library_url(ws))


@login_required
@require_POST
def unfinished_post(request: HttpRequest, workspace: str, token: str) -> HttpResponse:
    ws = workspace_for(request.user, workspace)
    recording = _recording_in(request, ws, token)
    kind = request.POST.get("kind", ThreadKind.DISCUSSION)
    try:
        recording = upload.post_unfinished(
            request.user, recording, title=request.POST.get("title", ""), kind=kind
        )
    except ValidationError as error:
        _say_errors(request, error)
        return redirect(_library_url(ws))
    messages.success(request, "Posted what was saved of the recording.")
    return redirect(_post_url(recording))


@login_required
@require_POST
def unfinished_discard(request: HttpRequest, workspace: str, token: str) -> HttpResponse:
    ws = workspace_for(request.user, workspace)
    upload.discard_recording(request.user, _recording_in(request, ws, token))
    messages.success(request, "Recording discarded.")
    return redirect(_library_url(ws))


@login_required
@require_POST
def collection_add(request: HttpRequest, workspace: str, token: str) -> HttpResponse:
    """From a library card: into a chosen collection, or a new one named in the form."""
    ws = workspace_for(request.user, workspace)
    recording = _recording_in(request, ws, token)
    new_title = request.POST.get("new_title", "").strip()
    chosen = request.POST.get("collection", "")
    try:
        with transaction.atomic():
            if new_title:
                collection = collections.create_collection(request.user, ws, title=new_title)
            elif chosen.isdigit():
                collection = queries.collection_for(request.user, ws, int(chosen))
            else:
                raise ValidationError("Choose a collection, or name a new one.")
            _item, created = collections.add_to_collection(request.user, collection, recording)
    except ValidationError as error:
        _say_errors(request, error)
    else:
        if created:
            messages.success(request, f"Added to “{collection.title}”.")
        else:
            messages.info(request, f"Already in “{collection.title}”.")
    return _back(request, _library_url(ws))


@login_required
def collections_page(request: HttpRequest, workspace: str) -> HttpResponse:
    """Your collections, the ones shared with you, and a form for a new one."""
    ws = workspace_for(request.user, workspace)
    form = {"title": "", "description": ""}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        form = {key: request.POST.get(key, "") for key in form}
        try:
            collection = collections.create_collection(request.user, ws, **form)
        except ValidationError as error:
            errors, status = error.message_dict, 400
        else:
            messages.success(request, f"Collection “{collection.title}” created.")
            return redirect(_collection_url(collection))
    return render(
        request,
        "recordings/collections.html",
        {
            "workspace": ws,
            "own": queries.own_collections(request.user, ws),
            "shared": queries.shared_collections(request.user, ws),
            "form": form,
            "errors": errors,
        },
        status=status,
    )


def _collection_context(request: HttpRequest, collection: Collection, **extra) -> dict:
    person = request.user
    recordings = queries.collection_recordings(person, collection)
    return {
        "workspace": collection.workspace,
        "collection": collection,
        "cards": [_card(person, r) for r in recordings],
        "is_owner": collection.owner_id == person.pk,
        **extra,
    }


@login_required
@require_GET
def collection_page(request: HttpRequest, workspace: str, collection_id: int) -> HttpResponse:
    ws = workspace_for(request.user, workspace)
    collection = queries.collection_for(request.user, ws, collection_id)
    context = _collection_context(request, collection)
    if context["is_owner"]:
        context["share_spaces"] = queries.share_spaces(request.user, ws)
        context["form"] = {"title": collection.title, "description": collection.description}
    with timezone.override(request.user.zone):
        return render(request, "recordings/collection.html", context)


@login_required
@require_POST
def collection_edit(request: HttpRequest, workspace: str, collection_id: int) -> HttpResponse:
    ws = workspace_for(request.user, workspace)
    collection = queries.collection_for(request.user, ws, collection_id)
    try:
        collections.update_collection(
            request.user,
            collection,
            title=request.POST.get("title", ""),
            description=request.POST.get("description", ""),
        )
    except ValidationError as error:
        _say_errors(request, error)
    else:
        messages.success(request, "Collection saved.")
    return redirect(_collection_url(collection))


@login_required
@require_POST
def collection_share(request: HttpRequest, workspace: str, collection_id: int) -> HttpResponse:
    ws = workspace_for(request.user, workspace)
    collection = queries.collection_for(request.user, ws, collection_id)
    space_id = request.POST.get("space", "")
    space = None
    if space_id:
        space = (
            queries.share_spaces(request.user, ws)
            .filter(pk=int(space_id) if space_id.isdigit() else 0)
            .first()
        )
    try:
        if space_id and space is None:
            raise ValidationError("Choose a space you can post in.")
        collections.share_collection(request.user, collection, space)
    except ValidationError as error:
        _say_errors(request, error)
    else:
        if space is None:
            messages.success(request, "The collection is no longer shared.")
        else:
            messages.success(request, f"Shared to #{space.name}: its readers can open it there.")
    return redirect(_collection_url(collection))


@login_required
@require_POST
def collection_delete(request: HttpRequest, workspace: str, collection_id: int) -> HttpResponse:
    ws = workspace_for(request.user, workspace)
    collection = queries.collection_for(request.user, ws, collection_id)
    collections.delete_collection(request.user, collection)
    messages.success(request, f"Collection “{collection.title}” deleted.")
    return redirect("recordings:collections", workspace=ws.slug)


def _after_item_change(request: HttpRequest, collection: Collection, status: str) -> HttpResponse:
    """htmx gets the list again (with a status line for screen readers); a plain form goes
    back to the page."""
    if request.headers.get("HX-Request") == "true":
        collection = queries.collection_for(request.user, collection.workspace, collection.pk)
        context = _collection_context(request, collection, status=status)
        with timezone.override(request.user.zone):
            return render(request, "recordings/_collection_items.html", context)
    if status:
        messages.success(request, status)
    return redirect(_collection_url(collection) + "#collection-items")


@login_required
@require_POST
def collection_move(
    request: HttpRequest, workspace: str, collection_id: int, token: str
) -> HttpResponse:
    ws = workspace_for(request.user, workspace)
    collection = queries.collection_for(request.user, ws, collection_id)
    recording = _recording_in(request, ws, token)
    direction = request.POST.get("direction", "")
    try:
        collections.move_in_collection(request.user, collection, recording.pk, direction)
    except ValidationError as error:
        return HttpResponse(" ".join(error.messages), status=400, content_type="text/plain")
    order = [r.pk for r in queries.collection_recordings(request.user, collection)]
    place = order.index(recording.pk) + 1 if recording.pk in order else 0
    title = recording.title or recording.thread.title
    return _after_item_change(
        request, collection, f"“{title}” is now number {place} of {len(order)}."
    )


@login_required
@require_POST
def collection_remove(
    request: HttpRequest, workspace: str, collection_id: int, token: str
) -> HttpResponse:
    ws = workspace_for(request.user, workspace)
    collection = queries.collection_for(request.user, ws, collection_id)
    recording = _recording_in(request, ws, token)
    collections.remove_from_collection(request.user, collection, recording.pk)
    return _after_item_change(request, collection, "Removed from the collection.")
