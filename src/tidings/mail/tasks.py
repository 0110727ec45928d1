"""Periodic email work: thin wrappers around the outbox and digest actions."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tidings.mail import digests, outbox


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
    from tidings.mail import receiver

    receiver.poll_imap()
