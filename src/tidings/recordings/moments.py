"""Viewers and moments: what each person watched of a recording, and the moment a reply was
made at (threads publish it with the reply; the rules of which recordings and times are
allowed live here, with the recordings)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from tidings.events import publish
from tidings.recordings import access
from tidings.recordings.models import Moment, Recording, RecordingView
from tidings.recordings.queries import clock
from tidings.threads.models import Reply, Thread

if TYPE_CHECKING:
    from tidings.accounts.models import User

# A player reports every ~10 s, so a report holds a handful of ranges; more is not a player.
MAX_REPORTED_RANGES = 200
# Merged ranges kept per viewer; past this, the closest ranges are joined (seeking around a
# long recording many times would otherwise grow the row without bound).
MAX_KEPT_RANGES = 500
# The longest a recording can be before its duration is known (a day, in ms).
MAX_POSITION_MS = 24 * 60 * 60 * 1000


def _clean_ranges(ranges: object, limit_ms: int) -> list[list[int]]:
    """[start_ms, end_ms] pairs of numbers, clamped to 0..limit_ms; empty ones dropped."""
    wrong = ValidationError(
        {"ranges": ["Send what was watched as a list of [start_ms, end_ms] pairs."]}
    )
    if not isinstance(ranges, list | tuple):
        raise wrong
    if len(ranges) > MAX_REPORTED_RANGES:
        raise ValidationError(
            {"ranges": [f"Send at most {MAX_REPORTED_RANGES} ranges in one report."]}
        )
    cleaned = []
    for pair in ranges:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise wrong
        if not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in pair
        ):
            raise wrong
        start, end = max(0, int(pair[0])), min(int(pair[1]), limit_ms)
        if end > start:
            cleaned.append([start, end])
    return cleaned


def merge_ranges(ranges: list[list[int]], keep: int = MAX_KEPT_RANGES) -> list[list[int]]:
    """Overlapping or touching [start, end] ranges joined, in order; at most `keep` of them
    (the smallest gaps are closed first when there are more)."""
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    while len(merged) > keep:
        narrowest = min(range(len(merged) - 1), key=lambda i: merged[i + 1][0] - merged[i][1])
        merged[narrowest][1] = merged.pop(narrowest + 1)[1]
    return merged


def watched_share(ranges: list[list[int]], duration_ms: int | None) -> tuple[int, int]:
    """Milliseconds watched and the percent of the recording that makes (0 while its length
    is unknown)."""
    watched = sum(end - start for start, end in ranges)
    if not duration_ms:
        return watched, 0
    return watched, min(100, round(watched * 100 / duration_ms))


def record_viewing(person: User, recording: Recording, ranges: object) -> RecordingView | None:
    """Add what the person watched ([start_ms, end_ms] pairs from the player) to their view of
    the recording: ranges merged with those already reported, clamped to its length, watched
    time and percent updated, and their inbox item for the thread marked read. Reporting the
    same ranges twice changes nothing. The author's own watching is not counted (None), nor is
    a report with nothing watched. Http404 for a recording the person cannot see."""
    if not access.can_view_recording(person, recording):
        raise Http404("No such recording.")
    cleaned = _clean_ranges(ranges, recording.duration_ms or MAX_POSITION_MS)
    if recording.owner_id == person.pk or not cleaned:
        return None
    now = timezone.now()
    with transaction.atomic():
        view, _ = RecordingView.objects.get_or_create(
            recording=recording, viewer=person, defaults={"first_viewed_at": now}
        )
        view = RecordingView.objects.select_for_update().get(pk=view.pk)
        limit = recording.duration_ms or MAX_POSITION_MS
        kept = [[start, min(end, limit)] for start, end in view.watched if start < limit]
        view.watched = merge_ranges(kept + cleaned)
        view.watched_ms, view.percent = watched_share(view.watched, recording.duration_ms)
        view.last_viewed_at = now
        view.save(update_fields=["watched", "watched_ms", "percent", "last_viewed_at"])
        if recording.thread_id is not None:
            publish("thread_read", person_id=person.pk, thread_id=recording.thread_id)
    return view


def _moment_recording(person: User, thread: Thread, token: str) -> Recording:
    """A recording posted in this thread that the person can watch; the same sentence for
    every other token, so a moment never tells whether a recording exists elsewhere."""
    recording = (
        access.visible_recordings(person)
        .filter(token=str(token or "")[:64], thread=thread, posted_at__isnull=False)
        .first()
    )
    if recording is None:
        raise ValidationError(
            {"moment": ["That recording is not in this thread any more. Remove the moment."]}
        )
    return recording


def _clean_position(position_ms: int | str, recording: Recording) -> int:
    limit = recording.duration_ms or MAX_POSITION_MS
    text = str(position_ms).strip()
    # A few plain ASCII digits only: int() would also take "٣" or "1_000", and choke on 5000.
    plain = text.isascii() and text.isdigit() and len(text) <= 12
    position = int(text) if plain else -1
    if not 0 <= position <= limit:
        length = f" (0:00 to {clock(limit)})" if recording.duration_ms else ""
        raise ValidationError({"moment": [f"Pick a moment within the recording{length}."]})
    return position


def save_moment(person: User, reply: Reply, recording_token: str, position_ms: str) -> Moment:
    """The moment of a reply made at a time (`position_ms`) of a recording posted in its thread
    and watchable by the person; runs in the reply's transaction, so a ValidationError on the
    "moment" field (another thread's recording, a time outside it) undoes the reply."""
    recording = _moment_recording(person, reply.thread, recording_token)
    position = _clean_position(position_ms, recording)
    return Moment.objects.create(reply=reply, recording=recording, position_ms=position)
