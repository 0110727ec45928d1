"""What transcripts do when something happens below them. Each function takes an event's
payload as keyword arguments (see `tidings.handlers`)."""

from __future__ import annotations

from tidings.recordings.models import Recording
from tidings.transcripts import actions


def request_transcript(recording_id: int, **_: object) -> None:
    """A processed recording gets its transcript queued (once)."""
    recording = Recording.objects.filter(pk=recording_id).first()
    if recording is not None:
        actions.request_transcript(recording)
