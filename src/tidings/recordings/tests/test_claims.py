"""Claims on processing and renditions: a job holds its recording with a token that names its
worker and a short lease that the worker's heartbeat renews; a worker that starts takes back
at once what a gone worker of its host held, and schedules nothing; and a job that never gets
through, crashing or killed every time, ends in a bounded number of runs."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tidings import leases
from tidings.recordings import pipeline, processing
from tidings.recordings.models import Recording, RenditionState, State
from tidings.recordings.tests.factories import gone_worker_token, split, webm_bytes
from tidings.recordings.tests.test_processing import Killed, expire_lease, post

FAULTS = {"crashes": RuntimeError("the disk is on fire"), "is killed": Killed()}


def test_a_job_holds_its_recording_with_a_token_the_heartbeat_renews(world, monkeypatch):
    recording = post(world, split(webm_bytes(1.0), 2), process=False)
    real_probe = processing.probe
    seen: dict[str, object] = {}

    def probe(*args, **kwargs):
        if not seen:  # processing's probe (the rendition probes too)
            row = Recording.objects.get(pk=recording.pk)
            seen["token"], seen["until"] = row.job_claimed_by, row.job_lease_until
            leases.renew_held(timezone.now() + timedelta(minutes=5))  # a beat, five minutes on
            seen["renewed"] = Recording.objects.get(pk=recording.pk).job_lease_until
        return real_probe(*args, **kwargs)

    monkeypatch.setattr(processing, "probe", probe)
    started = timezone.now()
    pipeline.finalize_recording(recording.pk)

    assert len(seen["token"]) == 32 and seen["token"].startswith(leases.worker_identity())
    assert started + leases.lease() <= seen["until"] <= timezone.now() + leases.lease()
    assert seen["renewed"] >= started + timedelta(minutes=5) + leases.lease()
    recording.refresh_from_db()
    assert recording.state == State.READY and recording.processed_at is not None
    assert recording.job_claimed_by == "" and recording.job_lease_until is None
    assert leases.renew_held() == 0  # the job let go of its claim


def test_a_job_taken_over_stops_and_its_beat_leaves_the_new_claim_alone(world, monkeypatch):
    recording = post(world, split(webm_bytes(1.0), 2), process=False)
    real_probe = processing.probe
    other, other_until = leases.new_token(), timezone.now() + timedelta(seconds=20)

    def probe(*args, **kwargs):
        # This job's lease ran out and another job took the recording meanwhile.
        Recording.objects.filter(pk=recording.pk).update(
            job_claimed_by=other, job_lease_until=other_until
        )
        leases.renew_held(timezone.now() + timedelta(minutes=5))
        return real_probe(*args, **kwargs)

    monkeypatch.setattr(processing, "probe", probe)
    pipeline.finalize_recording(recording.pk)

    recording.refresh_from_db()
    assert recording.job_claimed_by == other and recording.job_lease_until == other_until
    assert recording.state == State.PROCESSING and not recording.playable


def test_a_starting_worker_takes_back_at_once_what_a_gone_worker_held(world, settings):
    from huey.contrib.djhuey import HUEY

    orphaned, held_elsewhere, held_here = (
        post(world, split(webm_bytes(1.0), 2), process=False) for _ in range(3)
    )
    until = timezone.now() + timedelta(seconds=25)
    for recording, token in [
        (orphaned, gone_worker_token()),
        (held_elsewhere, "f" * 32),  # a worker of another host: its lease decides
        (held_here, leases.new_token()),  # a worker of this host that still runs
    ]:
        Recording.objects.filter(pk=recording.pk).update(
            state=State.PROCESSING, job_claimed_by=token, job_lease_until=until, attempts=1
        )
    stale = Path(settings.DATA_DIR) / "work" / f"{pipeline.WORK_DIR_PREFIX}killed-job"
    stale.mkdir(parents=True, exist_ok=True)
    (stale / "original.webm").write_bytes(b"half")
    old = time.time() - 2 * 24 * 3600
    os.utime(stale, (old, old))

    HUEY.storage.flush_schedule()
    queued = [pipeline.requeue_stalled_recordings(at_startup=True) for _restart in range(3)]
    assert queued == [1, 0, 0]
    assert HUEY.scheduled() == []  # restarts never pile up scheduled jobs
    assert not stale.exists()
    states = dict(Recording.objects.values_list("pk", "state"))
    assert states[orphaned.pk] == State.READY
    assert states[held_elsewhere.pk] == states[held_here.pk] == State.PROCESSING
    assert pipeline.requeue_stalled_recordings() == 0  # the live leases still run

    expire_lease(held_elsewhere)
    assert pipeline.requeue_stalled_recordings() == 1  # the every-minute sweep, once it ends
    assert Recording.objects.get(pk=held_elsewhere.pk).state == State.READY


def _sweeps_until(done: Callable[[], bool], fault: BaseException) -> int:
    """Run the worker's sweeps until `done()`, as they come after each faulty run: after a
    crash, the every-minute sweep once the lease ended; after a kill, a new worker's first
    sweep, finding the claim of a worker that is gone. Returns how many sweeps it took."""
    for sweep in range(1, pipeline.MAX_ATTEMPTS + 2):
        if isinstance(fault, Killed):
            Recording.objects.exclude(job_claimed_by="").update(job_claimed_by=gone_worker_token())
        else:
            Recording.objects.filter(job_lease_until__isnull=False).update(
                job_lease_until=timezone.now() - timedelta(seconds=1)
            )
        with suppress(Killed):
            pipeline.requeue_stalled_recordings(at_startup=isinstance(fault, Killed))
        if done():
            return sweep
    pytest.fail("the job is queued again for ever")


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_processing_that_never_gets_through_fails_in_a_bounded_number_of_runs(
    world, monkeypatch, fault
):
    runs: list[int] = []

    def probe(*args, **kwargs):
        runs.append(1)
        raise fault

    monkeypatch.setattr(processing, "probe", probe)
    recording = post(world, split(webm_bytes(1.0), 2), process=False)
    with suppress(Killed):
        pipeline.finalize_recording(recording.pk)  # the run the post queued

    def failed() -> bool:
        recording.refresh_from_db()
        return recording.state == State.FAILED

    sweeps = _sweeps_until(failed, fault)
    assert len(runs) == pipeline.MAX_ATTEMPTS
    assert sweeps == pipeline.MAX_ATTEMPTS - (0 if isinstance(fault, Killed) else 1)
    assert recording.failure_reason == pipeline.FAILED_REPEATEDLY
    assert recording.job_claimed_by == "" and recording.job_lease_until is None
    expire_lease(recording)
    assert pipeline.requeue_stalled_recordings(at_startup=True) == 0


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_a_rendition_that_never_gets_through_fails_in_a_bounded_number_of_runs(
    world, monkeypatch, fault
):
    runs: list[int] = []

    def transcode(*args, **kwargs):
        runs.append(1)
        raise fault

    monkeypatch.setattr(processing, "transcode_mp4", transcode)
    recording = post(world, split(webm_bytes(1.0), 2), process=False)
    with suppress(Killed):
        pipeline.finalize_recording(recording.pk)  # processing queues the rendition at its end

    def failed() -> bool:
        recording.refresh_from_db()
        return recording.rendition_state == RenditionState.FAILED

    sweeps = _sweeps_until(failed, fault)
    assert len(runs) == pipeline.MAX_ATTEMPTS
    assert sweeps == pipeline.MAX_ATTEMPTS - (0 if isinstance(fault, Killed) else 1)
    assert recording.state == State.READY and recording.playable  # it still plays
    assert recording.job_claimed_by == "" and recording.job_lease_until is None
    expire_lease(recording)
    assert pipeline.requeue_stalled_recordings(at_startup=True) == 0
