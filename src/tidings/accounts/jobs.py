from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tidings.accounts import actions


@db_periodic_task(crontab(hour="3", minute="17"))
def forget_expired_sessions() -> None:
    actions.forget_expired_sessions()
