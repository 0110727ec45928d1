"""A recording's player as pages show it: signed media links, moment markers, viewers, the
processing status while it is made ready, and its transcript panel and captions. It lives
above recordings because it shows transcripts."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_GET

from tidings.recordings import queries
from tidings.recordings.media import media_url
from tidings.recordings.models import Recording, RenditionState, Source, State
from tidings.recordings.queries import clock
from tidings.transcripts import queries as transcript_queries

if TYPE_CHECKING:
    from tidings.accounts.models import User
    from tidings.threads.models import Thread
    from tidings.threads.queries import Post

WAVEFORM_PEAKS = 160
# What the processing job is doing, in words (its `stage`); unknown stages read as they are.
STAGE_WORDS = {
    "": "Starting in a moment",
    "assembling": "Joining the uploaded parts",
    "probing": "Reading the file",
    "remuxing": "Making it possible to skip around",
    "poster": "Picking a poster image",
    "audio": "Taking out the sound for the transcript",
}


def _stage_words(recording: Recording) -> str:
    """What the recording waits for: the recordings ahead of it, or the step under way."""
    if recording.state == State.QUEUED:
        ahead = queries.ahead_in_line(recording)
        if ahead:
            return f"{ahead} recording{pluralize(ahead)} ahead of it"
        return STAGE_WORDS[""]
    stage = recording.stage or ""
    return STAGE_WORDS.get(stage, stage.replace("_", " ").capitalize())


def _peaks(levels: list) -> str:
    """The stored waveform as at most WAVEFORM_PEAKS comma-separated levels 0–1."""
    values = [abs(float(v)) for v in levels if isinstance(v, int | float)]
    if not values:
        return ""
    size = math.ceil(len(values) / WAVEFORM_PEAKS)
    peaks = [max(values[i : i + size]) for i in range(0, len(values), size)]
    top = max(peaks) or 1.0
    return ",".join(f"{peak / top:.2f}" for peak in peaks)


def _source_type(content_type: str) -> str:
    # Without codec parameters: MediaRecorder's unquoted "codecs=vp8,opus" is no valid type.
    return content_type.split(";")[0].strip()


def player_context(person: User, recording: Recording, found: queries.ThreadMedia) -> dict:
    """What transcripts/_player.html shows for one recording, worked out once: signed media
    links for this person, markers of the moments replied at, the viewer count for those
    who may see it, and its transcript (a panel, and the captions track once it is ready). A
    just-posted recording plays from its uploaded pieces at once."""
    state = recording.state
    ready, failed = state == State.READY, state == State.FAILED
    busy = not ready and not failed
    # Ready plays; the poster and the waveform follow a moment later.
    finishing = ready and bool(recording.stage)
    own = recording.owner_id == person.pk
    playable = "" if failed else media_url(recording, "playable", person)
    # Uploads may be in formats browsers cannot play until processing converts them.
    show_player = bool(playable) and (ready or recording.source != Source.UPLOAD)
    is_audio = not recording.has_video if ready else recording.source == Source.AUDIO
    sources = []
    if show_player:
        kind = recording.playable_type or recording.mime_type
        sources.append({"url": playable, "type": _source_type(kind)})
        if ready and recording.rendition_state == RenditionState.READY:
            rendition = media_url(recording, "rendition", person)
            if rendition:
                mp4 = "audio/mp4" if is_audio else "video/mp4"
                sources.append({"url": rendition, "type": mp4})
    token = recording.token
    # [ms, reply id, label] of each moment replied at: player.js makes the timeline's markers.
    markers = [
        [
            moment.position_ms,
            moment.reply_id,
            f"{moment.author_name or 'Former member'} at "
            f"{clock(moment.position_ms)}: {moment.excerpt}",
        ]
        for moment in found.markers.get(recording.pk, [])
    ]
    # As compact JSON for the figure's data-markers attribute (escaped by the template).
    markers_json = json.dumps(markers, ensure_ascii=False, separators=(",", ":")) if markers else ""
    seen_by = found.seen_by.get(recording.pk)
    return {
        "token": token,
        "dom_id": f"rec-{token}",
        "title": recording.title or "Untitled recording",
        "is_audio": is_audio,
        "ready": ready,
        "busy": busy,
        "failed": failed,
        "show_player": show_player,
        "sources": sources,
        "poster_url": media_url(recording, "poster", person) if recording.poster else "",
        **transcript_queries.player_parts(recording),
        "duration_ms": recording.duration_ms or "",
        "waveform": _peaks(recording.waveform or []) if is_audio else "",
        "markers": markers_json,
        "progress": recording.progress,
        "stage": _stage_words(recording),
        "finishing": finishing,
        "status_url": (
            reverse("transcripts:player", kwargs={"token": token}) if busy or finishing else ""
        ),
        # The author's own watching is not counted: their player does not report it.
        "viewed_url": "" if own else reverse("recordings:viewed", kwargs={"token": token}),
        "seen_by": seen_by,
        "viewers_url": reverse("recordings:viewers", kwargs={"token": token}) if seen_by else "",
        "failure_reason": recording.failure_reason
        or "This file could not be read as audio or video.",
        "original_url": media_url(recording, "original", person) if failed and own else "",
    }


def thread_players(
    person: User, thread: Thread, posts: list[Post], *, is_admin: bool
) -> tuple[dict, dict]:
    """Players by post key ("post" or the reply id as text) and the moment links of replies
    made at a moment, by the same key, for some posts of a thread page."""
    reply_ids = [p.reply.pk for p in posts if p.reply is not None and p.reply.deleted_at is None]
    found = queries.thread_media(
        person,
        thread,
        reply_ids,
        include_opening=any(p.reply is None for p in posts),
        is_admin=is_admin,
    )
    players = {
        str(reply_id) if reply_id else "post": [player_context(person, r, found) for r in rows]
        for reply_id, rows in found.recordings.items()
    }
    links = {
        str(reply_id): {
            "token": moment.recording_token,
            "ms": moment.position_ms,
            "time": clock(moment.position_ms),
            "title": moment.recording_title or "the recording",
        }
        for reply_id, moment in found.moments.items()
    }
    return players, links


@login_required
@require_GET
def player_status(request: HttpRequest, token: str) -> HttpResponse:
    """How processing is going, polled by a player or card every 2 s; once the recording plays
    (and again once its poster and waveform are made: `?finishing=1`), the finished player,
    swapped in place of the old one."""
    recording = queries.recording_for(request.user, token)
    found = queries.recording_media(request.user, recording)
    player = player_context(request.user, recording, found)
    if player["busy"] or (player["finishing"] and request.GET.get("finishing")):
        return render(request, "transcripts/_player_status.html", {"player": player})
    response = render(request, "transcripts/_player.html", {"player": player})
    response["HX-Retarget"] = f"#{player['dom_id']}"
    response["HX-Reswap"] = "outerHTML"
    return response
