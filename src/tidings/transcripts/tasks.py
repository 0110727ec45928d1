"""Background transcription: thin wrappers around the transcript actions."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from tidings.transcripts import actions

BUSY_RETRY_SECONDS = 15


@db_task()
def transcribe_recording(transcript_id: int) -> None:
    """Transcribe the next piece of a recording; queue the rest behind what waits now."""
    step = actions.transcribe_next_piece(transcript_id)
    if step is actions.Step.MORE:
        transcribe_recording(transcript_id)
    elif step is actions.Step.BUSY:
        transcribe_recording.schedule((transcript_id,), delay=BUSY_RETRY_SECONDS)


@db_periodic_task(crontab(minute="*"))
def requeue_stalled_transcripts() -> None:
    """Every minute: pick up transcripts whose worker died or whose task was lost."""
    actions.requeue_stalled()
