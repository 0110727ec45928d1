"""Media links, and what the player reports: signed media files served with Range, what a
person watched, and who watched (the player itself is drawn by transcripts.player)."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST, require_safe

from tidings.recordings import media, moments, queries


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
