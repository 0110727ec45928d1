"""Workers for tests/test_leases.py, each run in a process of its own (multiprocessing spawn)
on one shared database, as background workers run. Nothing here imports Django before `_start`
has set it up from the environment it is handed."""

from __future__ import annotations

import os
import random
import time


def _start(env: dict[str, str]) -> None:
    os.environ.clear()
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tidings.settings"
    import django

    django.setup()


def _claims():
    from django.db.models import Q

    from tidings import leases
    from tidings.mail.models import Digest

    return leases.Claimable(Digest, open_work=Q(finished_at=None)), Digest


def prepare(env: dict[str, str], rows: int) -> None:
    """The database migrated, one person and `rows` digests, all due."""
    _start(env)
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", interactive=False, verbosity=0)
    from tidings.accounts.models import User
    from tidings.mail.models import Digest, DigestKind

    person = User.objects.create_user("wren@acme.test", "correct horse battery", name="Wren")
    now = timezone.now()
    Digest.objects.bulk_create(
        Digest(
            person=person,
            kind=DigestKind.DAILY,
            period_key=f"daily:{number}",
            period_start=now,
            due_at=now,
        )
        for number in range(rows)
    )


def _handle(claim, handled: list[int]) -> None:
    """Do a claim's work: note its rows, then mark them done (only while still held)."""
    from django.utils import timezone

    pks = list(claim.rows().values_list("pk", flat=True))
    handled.extend(pks)
    time.sleep(random.uniform(0, 0.01))  # the work: long enough for the others to try
    claim.release(finished_at=timezone.now(), last_error=f"handled by {os.getpid()}")


def race_batches(env: dict[str, str], start, results, limit: int) -> None:
    """Claim `limit` rows at a time until none is free; when it starts, first let go of what
    a gone worker of this host held. Puts (handled ids, rows let go of)."""
    _start(env)
    claims, digest = _claims()
    start.wait()
    released = claims.release_gone(digest.objects.filter(finished_at=None))
    handled: list[int] = []
    while claim := claims.claim_batch(digest.objects.order_by("pk"), limit):
        with claim.kept():
            _handle(claim, handled)
    results.put((handled, released))


def race_rows(env: dict[str, str], start, results) -> None:
    """Try to claim every row, one at a time, in an order of its own."""
    _start(env)
    claims, digest = _claims()
    pks = list(digest.objects.values_list("pk", flat=True))
    random.Random(os.getpid()).shuffle(pks)
    start.wait()
    handled: list[int] = []
    for pk in pks:
        if claim := claims.claim(pk):
            _handle(claim, handled)
    results.put((handled, 0))


def die_holding(env: dict[str, str], limit: int) -> None:
    """Claim `limit` rows, then die before doing their work."""
    _start(env)
    claims, digest = _claims()
    claims.claim_batch(digest.objects.order_by("pk"), limit)
    os._exit(0)


def hold(env: dict[str, str], held, results, seconds: float) -> None:
    """Claim every row and hold them for `seconds` with the heartbeat running (leases far
    shorter than that), then finish. Puts (handled ids, 0)."""
    _start(env)
    from tidings import leases

    claims, digest = _claims()
    leases.start_heartbeat()
    claim = claims.claim_batch(digest.objects.order_by("pk"), 1000)
    with claim.kept():
        held.set()
        time.sleep(seconds)
        handled: list[int] = []
        _handle(claim, handled)
    results.put((handled, 0))


def stall(env: dict[str, str], held, go_on, results) -> None:
    """Claim every row without the heartbeat, stall past the lease, then try to write:
    puts ("lost", rows it finds held) when another worker took them meanwhile."""
    _start(env)
    from tidings import leases

    claims, digest = _claims()
    claim = claims.claim_batch(digest.objects.order_by("pk"), 1000)
    held.set()
    go_on.wait()
    try:
        claim.write(last_error="too late")
    except leases.ClaimLost:
        results.put(("lost", claim.rows().count()))
    else:
        results.put(("written", claim.rows().count()))


def take_over(env: dict[str, str], results) -> None:
    """Take what is free now and do its work. Puts (handled ids, 0)."""
    _start(env)
    claims, digest = _claims()
    handled: list[int] = []
    while claim := claims.claim_batch(digest.objects.order_by("pk"), 1000):
        _handle(claim, handled)
    results.put((handled, 0))


def state(env: dict[str, str], results) -> None:
    """Every row's id, attempts and note, and whether it is finished."""
    _start(env)
    _claims_, digest = _claims()
    results.put(
        list(
            digest.objects.order_by("pk").values_list("pk", "attempts", "last_error", "finished_at")
        )
    )
