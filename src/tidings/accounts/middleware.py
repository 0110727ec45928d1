from collections.abc import Callable
from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from tidings.accounts.models import SignedInSession

# Touch the "signed in on" row at most this often, to keep page views write-free.
TOUCH_INTERVAL = timedelta(minutes=5)


class SignedInSessionMiddleware:
    """Keeps the list of places a person is signed in, and ends sessions revoked from it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        key = request.session.session_key if hasattr(request, "session") else None
        if user is not None and user.is_authenticated and key:
            now = timezone.now()
            row = SignedInSession.objects.filter(session_key=key, user=user).first()
            if row is None:
                SignedInSession.objects.create(
                    user=user,
                    session_key=key,
                    user_agent=request.headers.get("User-Agent", "")[:300],
                    ip_address=request.META.get("REMOTE_ADDR"),
                )
            elif now - row.last_seen_at > TOUCH_INTERVAL:
                SignedInSession.objects.filter(pk=row.pk).update(last_seen_at=now)
        return self.get_response(request)
