"""A test client for the API that sends a real personal access token."""

from __future__ import annotations

import json
from typing import Any

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
