"""The shared lease: tokens that name their worker, and a heartbeat that keeps what a worker
holds while it runs and stops the moment the job lets go."""

from __future__ import annotations

import datetime as dt
import subprocess

from django.utils import timezone

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
