"""API authentication: personal access tokens sent as `Authorization: Bearer tid_...`.

Every call needs the `read` scope (GET, HEAD, OPTIONS) or `write` (anything else); the
endpoints that manage people also need `admin`, and those that manage tokens `tokens`: their
routers pass `auth=needs(...)`. It lives with the tokens so that every app's router may use it.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from tidings.accounts.actions import token_for
from tidings.accounts.models import TokenScope, User

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenExpired(AuthenticationError):
    """A real token past its end: 401 with a sentence saying so (errors.py)."""

    def __init__(self, detail: str) -> None:
        super().__init__(message=detail)
        self.detail = detail


class PersonalAccessToken(HttpBearer):
    """Resolves the bearer token to its person; unknown, revoked or deactivated gives 401,
    expired gives 401 saying so, a token without the scope the call needs gives 403."""

    openapi_description = "A personal access token from Settings → API tokens: `tid_…`."

    def __init__(self, scope: TokenScope | None = None) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        found = token_for(token.strip())
        if found is None:
            return None
        if found.is_expired:
            raise TokenExpired(
                f"This token expired on {found.expires_at:%Y-%m-%d}. "
                "Make a new one in Settings → Access tokens."
            )
        needed = [TokenScope.READ if request.method in READ_METHODS else TokenScope.WRITE]
        if self.scope is not None:
            needed.append(self.scope)
        missing = [scope.value for scope in needed if scope.value not in found.scopes]
        if missing:
            raise PermissionDenied(
                f"This token does not have the {' and '.join(missing)} scope this call needs. "
                "Make a token with it in Settings → Access tokens."
            )
        # Actions and queries read request.user like the web views do; the token itself is
        # kept for calls that depend on it (a token never makes a stronger one).
        request.user = found.user
        request.access_token = found
        return found.user


def needs(scope: TokenScope) -> PersonalAccessToken:
    """The `auth` of an endpoint that needs `scope` beside read or write."""
    return PersonalAccessToken(scope)
