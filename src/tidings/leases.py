"""Claims on background work, kept alive by the worker that holds them.

A job claims a row (a recording to process, a transcript, an email, a batch of digests) with
a conditional UPDATE that writes a claim token and a short lease (JOB_LEASE_SECONDS, 30 s by
default). While the job runs, a heartbeat thread in its worker renews the lease every
JOB_HEARTBEAT_SECONDS (10 s), so a long step never loses its claim, and a worker that dies
holds its work back by one lease at most, not by the longest step's length.

A token names the worker that took it (a fingerprint of its host and its process id), so a
worker starting on the same host releases at once the claims of a process of that host that
is gone: a crashed and restarted worker goes on with its work within seconds.
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
from contextlib import contextmanager

from django.conf import settings
from django.db import close_old_connections
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
