"""The shared lease: tokens that name their worker, a heartbeat that keeps what a worker holds
while it runs and stops the moment the job lets go, and claims that real workers racing on one
database (SQLite and PostgreSQL) never both win, never lose, and take back from a gone worker."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import subprocess
import time

import pytest
from django.utils import timezone

from tests import lease_workers
from tidings import leases
from tidings.recordings.tests.factories import posted_recording
from tidings.threads.tests.factories import thread_in
from tidings.transcripts.models import Transcript


def test_a_token_names_this_worker_and_a_gone_process_of_this_host(settings):
    token = leases.new_token()
    assert len(token) == 32 and token.startswith(leases.worker_identity())
    assert token != leases.new_token()
    assert not leases.holder_is_gone(token)  # this very process

    ended = subprocess.Popen(["true"])
    ended.wait()
    gone = leases.worker_identity()[:8] + f"{ended.pid:08x}" + "0" * 16
    assert leases.holder_is_gone(gone)
    elsewhere = "f" * 8 + gone[8:]  # the same process id on another host: its lease decides
    assert not leases.holder_is_gone(elsewhere)
    assert not leases.holder_is_gone("dead-worker")  # an older token's shape


def test_the_heartbeat_renews_only_what_is_held_while_it_is_held(world):
    thread = thread_in(world.open_space, world.owner)
    transcript = Transcript.objects.create(recording=posted_recording(world.owner, thread))
    token = leases.new_token()
    soon = timezone.now() + dt.timedelta(seconds=5)
    Transcript.objects.filter(pk=transcript.pk).update(claimed_by=token, claimed_until=soon)

    def renew(until: dt.datetime) -> None:
        Transcript.objects.filter(pk=transcript.pk, claimed_by=token).update(claimed_until=until)

    with leases.held(renew):
        assert leases.renew_held() >= 1
        renewed = Transcript.objects.get(pk=transcript.pk).claimed_until
        assert renewed > soon + dt.timedelta(seconds=20)
    later = timezone.now() + dt.timedelta(minutes=1)
    leases.renew_held(later)  # let go: no longer renewed
    assert Transcript.objects.get(pk=transcript.pk).claimed_until == renewed


def test_a_renewal_that_fails_is_tried_at_the_next_beat_and_others_go_on(world):
    renewed = []

    def broken(until: dt.datetime) -> None:
        raise RuntimeError("database went away")

    with leases.held(broken), leases.held(renewed.append):
        assert leases.renew_held() >= 2
    assert len(renewed) == 1


# --- The claim API with real workers: processes of their own racing on one database (a file
# for SQLite, a fresh database beside the test one for PostgreSQL), as background workers do.

ROWS = 120
WORKERS = 4
_spawn = multiprocessing.get_context("spawn")


def _run(target, *args) -> multiprocessing.process.BaseProcess:
    process = _spawn.Process(target=target, args=args)
    process.start()
    return process


def _finish(processes, results, count: int) -> list:
    """The `count` results the processes put, once they all ended well."""
    got = [results.get(timeout=120) for _ in range(count)]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    return got


def _rows(env: dict[str, str]) -> list[tuple]:
    results = _spawn.Queue()
    [rows] = _finish([_run(lease_workers.state, env, results)], results, 1)
    return rows


@pytest.fixture
def shared_database(fresh_database_env) -> dict[str, str]:
    """An empty database that worker processes share, migrated, with ROWS digests due."""
    env = {**fresh_database_env, "JOB_LEASE_SECONDS": "30", "JOB_HEARTBEAT_SECONDS": "10"}
    process = _run(lease_workers.prepare, env, ROWS)
    process.join(timeout=120)
    assert process.exitcode == 0
    return env


def _each_handled_once(env: dict[str, str], handled: list[list[int]]) -> None:
    done = [pk for one in handled for pk in one]
    assert len(done) == len(set(done)) == ROWS  # none twice, none lost
    rows = _rows(env)
    assert sorted(done) == [pk for pk, *_ in rows]
    assert all(
        finished is not None and note.startswith("handled by") for *_, note, finished in rows
    )


@pytest.mark.slow
@pytest.mark.parametrize("race", ["batches", "rows"])
def test_racing_workers_handle_every_row_once(shared_database, race):
    start, results = _spawn.Barrier(WORKERS), _spawn.Queue()
    if race == "batches":
        workers = [
            _run(lease_workers.race_batches, shared_database, start, results, 7)
            for _ in range(WORKERS)
        ]
    else:
        workers = [
            _run(lease_workers.race_rows, shared_database, start, results) for _ in range(WORKERS)
        ]
    got = _finish(workers, results, WORKERS)

    _each_handled_once(shared_database, [handled for handled, _released in got])
    assert all(attempts == 1 for _pk, attempts, *_ in _rows(shared_database))  # one claim each


@pytest.mark.slow
def test_workers_starting_take_back_at_once_what_a_gone_worker_held(shared_database):
    dead = _run(lease_workers.die_holding, shared_database, 25)
    dead.join(timeout=120)  # gone (and reaped), its 25 claims' leases still running
    held = [pk for pk, attempts, *_ in _rows(shared_database) if attempts]
    assert len(held) == 25

    start, results = _spawn.Barrier(WORKERS), _spawn.Queue()
    workers = [
        _run(lease_workers.race_batches, shared_database, start, results, 7) for _ in range(WORKERS)
    ]
    got = _finish(workers, results, WORKERS)

    assert sum(released for _handled, released in got) == 25  # let go of once, all of them
    _each_handled_once(shared_database, [handled for handled, _released in got])
    attempts = {pk: tries for pk, tries, *_ in _rows(shared_database)}
    assert {attempts[pk] for pk in held} == {2} and set(attempts.values()) == {1, 2}


@pytest.mark.slow
def test_a_held_claim_outlives_many_leases_and_no_one_takes_it(shared_database):
    # Margins for a loaded machine: a heartbeat may come seconds late and still renew in
    # time, and the taker has seconds to start before the holder finishes.
    env = {**shared_database, "JOB_LEASE_SECONDS": "4", "JOB_HEARTBEAT_SECONDS": "1"}
    held, results = _spawn.Event(), _spawn.Queue()
    holder = _run(lease_workers.hold, env, held, results, 14.0)
    assert held.wait(timeout=120)
    time.sleep(5)  # past the lease it was taken with: the heartbeat has renewed it since
    [(taken, _)] = _finish([_run(lease_workers.take_over, env, results)], results, 1)
    assert taken == []
    [(handled, _)] = _finish([holder], results, 1)
    _each_handled_once(env, [handled])


@pytest.mark.slow
def test_a_stalled_claim_is_taken_over_and_its_late_write_is_refused(shared_database):
    env = {**shared_database, "JOB_LEASE_SECONDS": "2", "JOB_HEARTBEAT_SECONDS": "1"}
    held, go_on, results = _spawn.Event(), _spawn.Event(), _spawn.Queue()
    staller = _run(lease_workers.stall, env, held, go_on, results)
    assert held.wait(timeout=120)
    time.sleep(2.5)  # no heartbeat: the lease ends
    [(handled, _)] = _finish([_run(lease_workers.take_over, env, results)], results, 1)
    go_on.set()
    [outcome] = _finish([staller], results, 1)

    assert outcome == ("lost", 0)
    _each_handled_once(env, [handled])
