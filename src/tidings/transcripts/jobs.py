"""Background transcription: thin wrappers around the transcript actions."""

import threading

from django.db import close_old_connections
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task, on_startup

from tidings.transcripts import actions
from tidings.transcripts.models import Transcript, TranscriptState

BUSY_RETRY_SECONDS = 15
FAILED_RETRY_SECONDS = 15
LATER_RETRY_SECONDS = 300


@db_task()
def transcribe_recording(transcript_id: int, ticket: str = "") -> None:
    """Transcribe the next piece of a recording; queue the rest behind what waits now. The
    ticket names the transcript's chain of jobs (see actions._queue)."""
    step = actions.transcribe_next_piece(transcript_id, ticket)
    if step is actions.Step.MORE:
        transcribe_recording(transcript_id, ticket)
    elif step is actions.Step.BUSY:
        transcribe_recording.schedule((transcript_id, ticket), delay=BUSY_RETRY_SECONDS)
    elif step is actions.Step.RETRY:
        transcribe_recording.schedule((transcript_id, ticket), delay=FAILED_RETRY_SECONDS)
    elif step is actions.Step.LATER:
        transcribe_recording.schedule((transcript_id, ticket), delay=LATER_RETRY_SECONDS)


@db_task()
def summarise_transcript(transcript_id: int) -> None:
    """The summary and suggested action items again, after a correction."""
    transcript = (
        Transcript.objects.select_related("recording__space", "recording__owner")
        .filter(pk=transcript_id, state=TranscriptState.READY)
        .first()
    )
    if transcript is not None:
        actions.summarise(transcript)


@db_periodic_task(crontab(minute="*"))
def requeue_stalled_transcripts() -> None:
    """Every minute: pick up transcripts whose worker died or whose task was lost."""
    actions.requeue_stalled()


_startup_sweep = threading.Lock()


@on_startup()
def requeue_when_worker_starts() -> None:
    """A worker starting (perhaps after one was killed mid-piece) queues again the waiting
    transcripts and those held by a process of this host that is gone; one held by a worker
    elsewhere is taken by the minute's sweep once its lease ends."""
    if HUEY.immediate or not _startup_sweep.acquire(blocking=False):
        return
    close_old_connections()
    try:
        actions.requeue_stalled(at_startup=True)
    finally:
        close_old_connections()
