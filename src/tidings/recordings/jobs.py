"""Background work of recordings: thin Huey wrappers around recordings.pipeline (processing,
renditions, the sweep of stalled jobs) and the cleanup of abandoned uploads (recordings.upload).

A worker killed mid-job loses its Huey task; the recording keeps a short lease in the
database instead, and `sweep_stalled_recordings` (every minute) queues the job again once that
lease has run out. A worker that starts queues at once the jobs of a worker of its host that
is gone."""

from __future__ import annotations

import threading

from django.db import close_old_connections
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task, on_startup

from tidings.recordings import pipeline, upload


@db_task()
def process_recording(recording_id: int) -> None:
    """Assemble, probe and remux a posted recording, then make its poster and audio track."""
    pipeline.finalize_recording(recording_id)


@db_task()
def make_rendition(recording_id: int) -> None:
    """Convert a ready recording to MP4 (H.264/AAC) for browsers that cannot play WebM."""
    pipeline.make_rendition(recording_id)


@db_periodic_task(crontab(minute="*"))
def sweep_stalled_recordings() -> None:
    pipeline.requeue_stalled_recordings()


@db_periodic_task(crontab(hour="4", minute="17"))
def forget_abandoned_recordings() -> None:
    """Unposted recordings left for ABANDONED_UPLOADS_DAYS go, with their chunks."""
    upload.forget_abandoned_recordings()


# Taken once and never released: the first worker thread to start does the sweep.
_startup_sweep = threading.Lock()


@on_startup()
def sweep_when_worker_starts() -> None:
    """Each worker thread runs startup hooks; one sweep per process is enough. It schedules
    nothing for later, so restarts never pile up scheduled jobs: a claim still held by a
    worker that may live is left to the every-minute sweep."""
    if HUEY.immediate or not _startup_sweep.acquire(blocking=False):
        return
    close_old_connections()
    try:
        pipeline.requeue_stalled_recordings(at_startup=True)
    finally:
        close_old_connections()
