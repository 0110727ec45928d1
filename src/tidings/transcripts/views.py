"""Transcript pages: the panel under a recording's player, and its captions and text."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from tidings.recordings import access
from tidings.recordings.queries import recording_for
from tidings.transcripts import actions, queries
from tidings.transcripts.models import TranscriptState
from tidings.transcripts.words import transcript_words


def _transcript(request: HttpRequest, token: str):
    recording = recording_for(request.user, token)
    transcript = queries.transcript_of(recording)
    if transcript is None:
        raise Http404("This recording has no transcript.")
    return recording, transcript


@login_required
@require_GET
def panel(request: HttpRequest, token: str) -> HttpResponse:
    """The transcript under the player: progress while it is made (polled), then the words,
    each a place to seek to, with a search box and the downloads."""
    recording, transcript = _transcript(request, token)
    return _panel(request, recording, transcript)


def _panel(request: HttpRequest, recording, transcript) -> HttpResponse:
    token = recording.token
    ready = transcript.state == TranscriptState.READY
    context = {
        "recording": recording,
        "transcript": transcript,
        "ready": ready,
        "working": transcript.state in (TranscriptState.QUEUED, TranscriptState.TRANSCRIBING),
        "ahead": (
            queries.ahead_in_line(transcript) if transcript.state == TranscriptState.QUEUED else 0
        ),
        "paragraphs": queries.shown_paragraphs(transcript_words(transcript)) if ready else [],
        "downloads": [
            (
                label,
                reverse("transcripts:captions", kwargs={"token": token, "fmt": fmt}) + "?download",
            )
            for fmt, label in (("txt", "Text"), ("srt", "SRT"), ("vtt", "WebVTT"))
        ],
        "captions_url": reverse("transcripts:captions", kwargs={"token": token, "fmt": "vtt"}),
        "can_correct": ready and access.can_correct_transcript(request.user, recording),
        "can_retry": transcript.state == TranscriptState.FAILED
        and access.can_correct_transcript(request.user, recording),
        "summary": queries.summary_of(transcript) if ready else [],
        "action_items": queries.action_items_of(transcript) if ready else [],
        "correct_url": reverse("transcripts:correct", kwargs={"token": token}),
    }
    return render(request, "transcripts/_panel.html", context)


@login_required
@require_POST
def retry(request: HttpRequest, token: str) -> HttpResponse:
    """Try a failed transcript again ("Try again" in the panel), then show the panel."""
    recording, transcript = _transcript(request, token)
    try:
        transcript = actions.retry_transcript(request.user, recording)
    except ValidationError:
        transcript.refresh_from_db()  # tried again meanwhile: the panel shows where it stands
    return _panel(request, recording, transcript)


@login_required
@require_POST
def correct(request: HttpRequest, token: str) -> JsonResponse:
    """One word corrected in place (transcript.js): `at` is "segment.word", `text` the word."""
    recording = recording_for(request.user, token)
    segment, _, word = request.POST.get("at", "").partition(".")
    if not (segment.isdigit() and word.isdigit() and len(segment) < 9 and len(word) < 9):
        raise Http404("No such word in this transcript.")
    try:
        text = actions.correct_word(
            request.user,
            recording,
            segment_index=int(segment),
            word_index=int(word),
            text=request.POST.get("text", ""),
        )
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=400)
    return JsonResponse({"text": text})


@login_required
@require_GET
def caption_file(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    """Captions (.vtt for the player's track, .srt) or the plain text, for people who may see
    the recording. Downloads (?download) come as files named after the recording."""
    recording, transcript = _transcript(request, token)
    if transcript.state != TranscriptState.READY:
        raise Http404("The transcript is not ready.")
    response = HttpResponse(
        queries.caption_file(transcript, fmt),
        content_type=f"{queries.CAPTION_FORMATS[fmt]}; charset=utf-8",
    )
    response["Cache-Control"] = "private, no-cache"  # corrections show at once
    if "download" in request.GET:
        name = slugify(recording.title or "recording")[:80] or "recording"
        response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@login_required
@require_POST
def decide(request: HttpRequest, token: str, item_id: str) -> HttpResponse:
    """Accept or dismiss a suggested action item (`decision`: accept or dismiss)."""
    recording = recording_for(request.user, token)
    item = actions.decide_action_item(
        request.user, recording, int(item_id), accept=request.POST.get("decision") == "accept"
    )
    context = {"item": queries.timed(item), "recording": recording, "can_correct": True}
    return render(request, "transcripts/_action_item.html", context)
