from collections.abc import Callable
from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from tidings.accounts.models import SignedInSession
from tidings.security import client_address

# Touch the "signed in on" row at most this often; the session remembers the last touch, so
# most page views read and write nothing for it.
TOUCH_INTERVAL = timedelta(minutes=5)
TOUCHED_KEY = "signed_in_touched_at"


class SignedInSessionMiddleware:
    """Keeps the list of places a person is signed in (browser, address, last seen)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        key = request.session.session_key if hasattr(request, "session") else None
        if user is not None and user.is_authenticated and key:
            now = timezone.now()
            # Remember which key was touched too: a renewed session key needs its own row.
            touched_key, touched_at = request.session.get(TOUCHED_KEY) or (None, 0.0)
            if touched_key != key or now.timestamp() - touched_at > TOUCH_INTERVAL.total_seconds():
                self._touch(request, user, key, now)
                request.session[TOUCHED_KEY] = (key, now.timestamp())
        return self.get_response(request)

    @staticmethod
    def _touch(request: HttpRequest, user, key: str, now) -> None:
        seen = SignedInSession.objects.filter(session_key=key, user=user)
        if not seen.update(last_seen_at=now):
            SignedInSession.objects.create(
                user=user,
                session_key=key,
                user_agent=request.headers.get("User-Agent", "")[:300],
                ip_address=client_address(request) or None,
            )
