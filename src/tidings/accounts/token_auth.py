"""API authentication: personal access tokens sent as `Authorization: Bearer tid_...`."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from tidings.accounts.actions import person_for_token
from tidings.accounts.models import User


class PersonalAccessToken(HttpBearer):
    """Resolves the bearer token to its person; unknown, revoked or deactivated gives 401."""

    openapi_description = "A personal access token from Settings → API tokens: `tid_…`."

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        person = person_for_token(token.strip())
        if person is not None:
            # Actions and queries read request.user like the web views do.
            request.user = person
        return person
