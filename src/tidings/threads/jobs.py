from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tidings.threads import actions


@db_periodic_task(crontab(hour="4", minute="7"))
def forget_unposted_attachments() -> None:
    actions.forget_unposted_attachments()
