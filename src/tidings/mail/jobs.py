"""Periodic email work: thin wrappers around the outbox, digest and incoming-mail actions."""

import threading

from django.conf import settings
from django.db import close_old_connections
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, on_startup

from tidings.mail import digests, inbound, outbox, receiver


@db_periodic_task(crontab(minute="*"))
def send_due_emails() -> None:
    """Every minute: send the notification emails that are due, retry failed ones."""
    outbox.send_due_emails()


@db_periodic_task(crontab(minute="*"))
def send_due_digests() -> None:
    """Every minute: send the digests whose local time has come, schedule the next ones."""
    digests.send_due_digests()


@db_periodic_task(crontab(minute="*"))
def poll_imap_mailbox() -> None:
    """Every minute, when IMAP_HOST is set: fetch and handle mail waiting in the mailbox."""
    receiver.poll_imap()


@db_periodic_task(crontab(hour="4", minute="17"))
def forget_old_originals() -> None:
    """Daily: delete received messages kept longer than MAIL_KEEP_ORIGINAL_DAYS."""
    inbound.forget_old_originals()


# Taken once and never released: the first worker thread to start does the release.
_startup_release = threading.Lock()


@on_startup()
def release_digests_when_worker_starts() -> None:
    """Each worker thread runs startup hooks; once per process is enough. Digests that a
    killed worker of this host held go out with the next run, not a lease later. An email's
    claim names no worker: one run of the outbox just after a lease from now sends the email
    a killed worker had in flight, within a minute of the restart (that run queues nothing
    more, so restarts never pile runs up)."""
    if HUEY.immediate or not _startup_release.acquire(blocking=False):
        return
    close_old_connections()
    try:
        digests.release_claims_of_gone_workers()
    finally:
        close_old_connections()
    send_due_emails.schedule(delay=settings.JOB_LEASE_SECONDS + 1)
