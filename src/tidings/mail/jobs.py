"""Periodic work of incoming mail: a thin wrapper around its action."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tidings.mail import inbound


@db_periodic_task(crontab(hour="4", minute="17"))
def forget_old_originals() -> None:
    """Daily: delete received messages kept longer than MAIL_KEEP_ORIGINAL_DAYS."""
    inbound.forget_old_originals()
