"""Signing in to the API with the web app's own session, for the operations its pages call
(the recorder's upload): the session cookie of a signed-in person, and for a change the
page's CSRF token in the X-CSRFToken header, checked by Django's CSRF middleware as a form
post is. Such operations list it beside the personal access token."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import APIKeyCookie
from ninja.utils import check_csrf

SIGNED_OUT = "Your session has ended. Sign in again, then retry."
CSRF_REFUSED = "This page is out of date (its security token was refused). Reload it, then retry."


class SignedOut(AuthenticationError):
    """A page's request whose person is no longer signed in: 401 with a sentence saying so."""

    def __init__(self) -> None:
        super().__init__(message=SIGNED_OUT)
        self.detail = SIGNED_OUT


class SignedInSession(APIKeyCookie):
    """The person of a signed-in session. A request with a bearer token is left to the
    token's check. A page's request (it sends the CSRF header) without a signed-in session
    gets 401 saying the session ended; a change whose CSRF token is refused gets 403."""

    param_name = settings.SESSION_COOKIE_NAME
    openapi_description = "The web app's session cookie; changes also need the X-CSRFToken header."

    def __init__(self) -> None:
        super().__init__(csrf=False)  # Checked in authenticate, once the session is known.

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if request.headers.get("Authorization", "").lower().startswith("bearer "):
            return None
        if not request.user.is_authenticated:
            if settings.CSRF_HEADER_NAME in request.META:
                raise SignedOut()
            return None
        if check_csrf(request) is not None:  # Safe methods always pass.
            raise PermissionDenied(CSRF_REFUSED)
        return request.user
