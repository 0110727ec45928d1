from datetime import datetime, timedelta

from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from tidings.accounts import actions, jobs
from tidings.accounts.models import SignedInSession


def test_expired_sessions_and_their_rows_are_forgotten(world):
    live = SessionStore()
    live.create()
    expired = SessionStore()
    expired.set_expiry(timezone.now() - timedelta(days=1))
    expired.create()
    for key in (live.session_key, expired.session_key, "gone-already"):
        SignedInSession.objects.create(user=world.member, session_key=key)

    assert actions.forget_expired_sessions() == 2
    assert list(SignedInSession.objects.values_list("session_key", flat=True)) == [live.session_key]


def test_cleanup_is_a_scheduled_job(world):
    # Huey's scheduler checks naive UTC times once a minute.
    assert jobs.forget_expired_sessions.s().validate_datetime(datetime(2026, 1, 1, 3, 17))
    assert not jobs.forget_expired_sessions.s().validate_datetime(datetime(2026, 1, 1, 4, 17))
