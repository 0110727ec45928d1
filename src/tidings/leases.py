"""Claims on background work, kept alive by the worker that holds them.

A job claims a row (a recording to process, a transcript, an email, a batch of digests) with
a conditional UPDATE that writes a claim token and a short lease (JOB_LEASE_SECONDS, 30 s by
default). While the job runs, a heartbeat thread in its worker renews the lease every
JOB_HEARTBEAT_SECONDS (10 s), so a long step never loses its claim, and a worker that dies
holds its work back by one lease at most, not by the longest step's length.

A token names the worker that took it (a fingerprint of its host and its process id), so a
worker starting on the same host releases at once the claims of a process of that host that
is gone: a crashed and restarted worker goes on with its work within seconds.

Every kind of background work claims the same way, through a `Claimable` that names the
model's claim fields: `claim(pk)` or `claim_batch(queryset, limit)` take free rows in one
conditional UPDATE (two workers never both win a row) and give a `Claim`, which writes only
while it still holds its rows (`ClaimLost` otherwise), is renewed by the heartbeat inside
`kept()`, and never brings a lease end nearer (a retry time stays). `sweep` and
`release_gone` let go of claims whose lease ended or whose worker is gone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from django.conf import settings
from django.db import close_old_connections
from django.db.models import F, Model, Q, QuerySet
from django.utils import timezone
from huey.contrib.djhuey import HUEY, on_startup

log = logging.getLogger(__name__)

# A renewal: given the new end of the lease, extend it where this claim still holds.
Renewal = Callable[[dt.datetime], object]

_held: dict[int, Renewal] = {}
_held_lock = threading.Lock()
_keys = itertools.count()
_heartbeat: threading.Thread | None = None
_heartbeat_lock = threading.Lock()


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.JOB_LEASE_SECONDS)


def lease_until(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) + lease()


def _host_fingerprint() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def worker_identity() -> str:
    """16 characters: this host's fingerprint and this process's id (read at each call, so
    a forked process has its own)."""
    return f"{_host_fingerprint()}{os.getpid() & 0xFFFFFFFF:08x}"


def new_token() -> str:
    """A claim token of 32 characters: the worker's identity and 16 random ones."""
    return worker_identity() + uuid.uuid4().hex[:16]


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def holder_is_gone(token: str) -> bool:
    """Whether the token was taken by a process of this host that no longer runs (and is
    not this one). A token of another host, or of an unknown shape, is never called gone:
    its lease decides."""
    if len(token) != 32 or token[:8] != _host_fingerprint():
        return False
    try:
        pid = int(token[8:16], 16)
    except ValueError:
        return False
    return pid != os.getpid() and not _process_alive(pid)


@contextmanager
def held(renew: Renewal) -> Iterator[None]:
    """Keep a claim's lease renewed by this process's heartbeat while the block runs.
    `renew(until)` must touch only rows this claim still holds (filter by its token), so a
    renewal racing the job's own last write changes nothing that matters."""
    key = next(_keys)
    with _held_lock:
        _held[key] = renew
    try:
        yield
    finally:
        with _held_lock:
            _held.pop(key, None)


def renew_held(now: dt.datetime | None = None) -> int:
    """Renew every claim held in this process; returns how many were renewed."""
    until = lease_until(now)
    with _held_lock:
        renewals = list(_held.values())
    for renew in renewals:
        try:
            renew(until)
        except Exception:  # a renewal that fails now is tried again at the next beat
            log.warning("could not renew a claim", exc_info=True)
    return len(renewals)


def start_heartbeat() -> bool:
    """Start this process's heartbeat thread (once; True when this call started it)."""
    global _heartbeat
    with _heartbeat_lock:
        if _heartbeat is not None and _heartbeat.is_alive():
            return False
        _heartbeat = threading.Thread(target=_beat, name="tidings-heartbeat", daemon=True)
        _heartbeat.start()
        log.info(
            "worker %s renews its claims every %s s",
            worker_identity(),
            settings.JOB_HEARTBEAT_SECONDS,
        )
        return True


@on_startup()
def beat_while_the_worker_runs() -> None:
    """Every worker process renews the claims its jobs hold."""
    if not HUEY.immediate:
        start_heartbeat()


def _beat() -> None:
    interval = settings.JOB_HEARTBEAT_SECONDS
    while True:
        time.sleep(interval)
        close_old_connections()
        renew_held()


class ClaimLost(Exception):
    """The claim is gone: its lease ran out and another job took the rows, or it was let go."""


class Claimable:
    """The claims on one model's rows, named by its fields: `by` holds the claim's token,
    `until` the end of its lease; `tries` (when given) counts each claim, `touched` (when
    given) is set to the time of each write; `open_work` is what a row must be for a claim to
    take it and for a renewal to extend it (unfinished, say).

    A row is free when it has no lease or its lease has ended. `claim` and `claim_batch`
    take free rows with one conditional UPDATE, so two workers never both win a row; a
    `Claim` then writes only while it still holds its rows, and its renewal never brings a
    lease end nearer (a retry time that a failure set further away than a lease stays)."""

    def __init__(
        self,
        model: type[Model],
        *,
        by: str = "claimed_by",
        until: str = "claimed_until",
        tries: str | None = "attempts",
        touched: str | None = None,
        open_work: Q | None = None,
    ) -> None:
        self.model = model
        self.by = by
        self.until = until
        self.tries = tries
        self.touched = touched
        self.open = open_work or Q()

    def free(self, now: dt.datetime) -> Q:
        return Q(**{self.until: None}) | Q(**{f"{self.until}__lte": now})

    def expired(self, now: dt.datetime) -> Q:
        """Rows whose lease has ended (not rows that never had one)."""
        return Q(**{f"{self.until}__lte": now})

    def _taking(self, token: str, now: dt.datetime, fields: dict) -> dict:
        taking = {self.by: token, self.until: lease_until(now)}
        if self.tries:
            taking[self.tries] = F(self.tries) + 1
        if self.touched:
            taking[self.touched] = now
        return taking | fields

    def new_claim(self) -> Claim:
        """A claim that holds nothing yet, to take rows into one at a time (`Claim.take`)."""
        return Claim(self, new_token())

    def claim(
        self, pk: int, *, where: Q | None = None, now: dt.datetime | None = None, **fields
    ) -> Claim | None:
        """Take row `pk` if it is open, free and matches `where`, writing `fields` too, in
        one UPDATE; None when another holds it or it has no work."""
        claim = Claim(self, new_token())
        return claim if claim.take(pk, where=where, now=now, **fields) else None

    def claim_batch(
        self,
        queryset: QuerySet,
        limit: int,
        *,
        now: dt.datetime | None = None,
        **fields,
    ) -> Claim | None:
        """Take up to `limit` open, free rows of `queryset` (in its order) under one token,
        in one UPDATE; when another worker took all of them a moment ago, look again. None
        when no free row is left."""
        now = now or timezone.now()
        free = self.free(now)
        token = new_token()
        while True:
            candidates = list(queryset.filter(self.open, free).values_list("pk", flat=True)[:limit])
            if not candidates:
                return None
            won = (
                self.model.objects.filter(self.open, free, pk__in=candidates)
                .update(**self._taking(token, now, fields))
            )  # fmt: skip
            if won:  # the rows it holds are those of the candidates under its token
                return Claim(self, token, candidates)

    def gone_holders(self, queryset: QuerySet | None = None) -> list[str]:
        """The tokens of claims on `queryset`'s rows taken by a process of this host that no
        longer runs."""
        rows = self.model.objects.all() if queryset is None else queryset
        tokens = set(rows.exclude(**{self.by: ""}).values_list(self.by, flat=True))
        return sorted(token for token in tokens if holder_is_gone(token))

    def release_gone(self, queryset: QuerySet | None = None) -> int:
        """Let go at once of the claims on `queryset`'s rows held by a gone process of this
        host (when a worker starts). Returns how many rows were let go of."""
        rows = self.model.objects.all() if queryset is None else queryset
        gone = self.gone_holders(rows)
        if not gone:
            return 0
        return rows.filter(**{f"{self.by}__in": gone}).update(**self._letting_go(None))

    def _letting_go(self, now: dt.datetime | None) -> dict:
        fields = {self.by: "", self.until: None}
        if self.touched and now is not None:
            fields[self.touched] = now
        return fields

    def sweep(
        self,
        queryset: QuerySet,
        *,
        now: dt.datetime | None = None,
        at_startup: bool = False,
        also: Q | None = None,
    ) -> Iterator[int]:
        """Let go of the claims on `queryset`'s rows whose lease ended (and, when a worker
        starts, of those a gone process of this host held; and of rows matching `also`),
        each with its own conditional UPDATE, so one sweep lets each go once and a claim
        taken meanwhile is never disturbed. Yields each id as it is let go of, in order, for
        its job to be queued again before the next is let go of."""
        now = now or timezone.now()
        lost = self.expired(now) | (also or Q())
        if at_startup and (gone := self.gone_holders(queryset)):
            lost |= Q(**{f"{self.by}__in": gone})
        for pk in list(queryset.filter(lost).order_by("pk").values_list("pk", flat=True)):
            if queryset.filter(lost, pk=pk).update(**self._letting_go(now)):
                yield pk


class Claim:
    """One job's hold on one or more rows, named by its token. It writes only while it holds
    them (`ClaimLost` otherwise); `kept()` has the heartbeat renew it while a block runs."""

    def __init__(self, claimable: Claimable, token: str, pks: list[int] | None = None) -> None:
        self.claimable = claimable
        self.token = token
        self.pks: list[int] = list(pks or [])
        self.renewed = time.monotonic()

    def take(
        self, pk: int, *, where: Q | None = None, now: dt.datetime | None = None, **fields
    ) -> bool:
        """Add row `pk` to this claim if it is open, free and matches `where` (one UPDATE,
        which writes `fields` too). True when it was taken."""
        kind = self.claimable
        now = now or timezone.now()
        taken = kind.model.objects.filter(kind.open, kind.free(now), where or Q(), pk=pk).update(
            **kind._taking(self.token, now, fields)
        )
        if taken:
            self.pks.append(pk)
            self.renewed = time.monotonic()
        return bool(taken)

    def rows(self) -> QuerySet:
        """The rows this claim still holds."""
        kind = self.claimable
        return kind.model.objects.filter(pk__in=self.pks, **{kind.by: self.token})

    def held(self) -> bool:
        return self.rows().exists()

    def write(self, *, renew: bool = True, touch: bool = True, **fields) -> int:
        """Write `fields` to the rows still held, renewing the lease (unless `renew` is
        False or `fields` set its end) and marking the time of the write (unless `touch` is
        False); raises ClaimLost when none is held any more."""
        kind = self.claimable
        now = timezone.now()
        if renew:
            fields.setdefault(kind.until, lease_until(now))
        if kind.touched and touch:
            fields.setdefault(kind.touched, now)
        written = self.rows().update(**fields)
        if not written:
            raise ClaimLost
        self.renewed = time.monotonic()
        return written

    def release(self, *, until: dt.datetime | None = None, touch: bool = True, **fields) -> int:
        """The job's last write: `fields`, and the claim ends (with `until`, the row stays
        taken until then: a retry time). Raises ClaimLost when none is held any more."""
        kind = self.claimable
        return self.write(touch=touch, **{kind.by: "", kind.until: until}, **fields)

    def renew(self, until: dt.datetime) -> int:
        """The heartbeat's renewal: extends the lease of the open rows still held, never to
        an end nearer than the one they have."""
        kind = self.claimable
        return (
            self.rows()
            .filter(kind.open, **{f"{kind.until}__lte": until})
            .update(**{kind.until: until})
        )

    def kept(self) -> AbstractContextManager[None]:
        """While the block runs, this process's heartbeat renews the claim."""
        return held(self.renew)
