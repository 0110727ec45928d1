"""Test clients for the API: one that sends a real personal access token, and one that calls
it as the web app's pages do, with a signed-in session and its CSRF token."""

from __future__ import annotations

import json
import secrets
from typing import Any

from django.conf import settings
from django.test import Client


class ApiClient:
    """Calls /api/... with `Authorization: Bearer <token>` (or none, for anonymous)."""

    def __init__(self, token: str | None) -> None:
        self.token = token
        self.client = Client()

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def call(
        self,
        method: str,
        path: str,
        data: Any = None,
        raw: str | None = None,
        multipart: bool = False,
        **extra,
    ):
        path = path if path.startswith("/api/") else "/api" + path
        kwargs: dict[str, Any] = {"headers": self.headers(), **extra}
        if multipart:
            kwargs["data"] = data
        elif method in {"post", "put", "patch", "delete"} and "content_type" not in kwargs:
            kwargs["content_type"] = "application/json"
            if raw is not None:
                kwargs["data"] = raw
            elif data is not None:
                kwargs["data"] = json.dumps(data, default=str)
        elif data is not None:
            kwargs["data"] = data
        return getattr(self.client, method)(path, **kwargs)

    def get(self, path: str, data: Any = None, **extra):
        return self.call("get", path, data, **extra)

    def post(self, path: str, data: Any = None, **extra):
        return self.call("post", path, data, **extra)

    def put(self, path: str, data: Any = None, **extra):
        return self.call("put", path, data, **extra)

    def patch(self, path: str, data: Any = None, **extra):
        return self.call("patch", path, data, **extra)

    def delete(self, path: str, data: Any = None, **extra):
        return self.call("delete", path, data, **extra)


class SessionApiClient(ApiClient):
    """Calls /api/... as the web app's pages do: with the session cookie of `person` signed in
    (none, for the signed-out) and the page's CSRF token in the X-CSRFToken header, with CSRF
    checks enforced (`csrf=False` leaves the header out)."""

    def __init__(self, person: Any = None, *, session: str = "", csrf: bool = True) -> None:
        super().__init__(None)
        self.client = Client(enforce_csrf_checks=True)
        if person is not None:
            self.client.force_login(person)
        if session:
            self.client.cookies[settings.SESSION_COOKIE_NAME] = session
        self.csrf_token = secrets.token_hex(16) if csrf else ""
        if csrf:  # The page's CSRF cookie, sent back in the header.
            self.client.cookies[settings.CSRF_COOKIE_NAME] = self.csrf_token

    def headers(self) -> dict[str, str]:
        return {"X-CSRFToken": self.csrf_token} if self.csrf_token else {}
