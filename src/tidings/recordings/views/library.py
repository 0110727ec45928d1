"""The library (a person's recordings and the unfinished ones) and collections: pages and their
forms. Thin: parse, call an action or a query, render."""

from __future__ import annotations

import math

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from tidings.recordings import collections, queries, upload
from tidings.recordings.media import media_url
from tidings.recordings.models import Collection, Recording, State
from tidings.recordings.queries import clock
from tidings.threads.models import ThreadKind
from tidings.workspaces.models import Workspace
from tidings.workspaces.queries import workspace_for

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
        "href": recording.post_url,
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
    return redirect(recording.post_url)


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
