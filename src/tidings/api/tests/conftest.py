"""API test helpers: a client per role that sends a real personal access token."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from tidings.accounts.actions import create_access_token
from tidings.accounts.models import TokenScope
from tidings.inbox.models import InboxItem
from tidings.threads import actions
from tidings.threads.models import Reply, Thread


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


@pytest.fixture
def api_for(world):
    """api_for("member") gives an ApiClient with a fresh token of that role's person, with
    every scope (test_scopes.py takes scopes away)."""

    def make(role: str) -> ApiClient:
        person = world.person(role)
        if person is None:
            return ApiClient(None)
        _, raw = create_access_token(person, f"{role} tests", scopes=TokenScope.values)
        return ApiClient(raw)

    return make


@dataclass
class Scene:
    """Posts on top of the world: a thread in each space, a reply in each, one decision."""

    open_thread: Thread
    private_thread: Thread
    open_reply: Reply
    private_reply: Reply
    owner_private_item: InboxItem


PRIVATE_TITLE = "Acquisition of Globex"
PRIVATE_WORDS = ("Globex", "Leadership", "confidential")


@pytest.fixture
def scene(world, django_capture_on_commit_callbacks) -> Scene:
    with django_capture_on_commit_callbacks(execute=True):
        open_thread = actions.post_thread(
            world.member, world.open_space, kind="question", title="Where is the style guide?",
            body="Looking for the **style guide**.",
        )  # fmt: skip
        private_thread = actions.post_thread(
            world.owner, world.private_space, kind="decision", title=PRIVATE_TITLE,
            body="The confidential numbers are in.",
        )  # fmt: skip
        open_reply = actions.post_reply(world.guest, open_thread, body="It is in the wiki.")
        private_reply = actions.post_reply(world.admin, private_thread, body="Globex agrees.")
        actions.resolve_thread(world.owner, private_thread, "We buy Globex.")
    item = InboxItem.objects.get(person=world.owner, thread=private_thread)
    return Scene(open_thread, private_thread, open_reply, private_reply, item)
