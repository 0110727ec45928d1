"""The permission matrix, as data: (endpoint, method, role) → expected status, in the open
and the private space of the world. Private words never appear in a response to someone who
cannot see the private space, and every 404 has the same body."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from conftest import ROLES
from tidings.api.errors import NOT_FOUND
from tidings.api.tests.conftest import PRIVATE_WORDS
from tidings.threads import actions
from tidings.workspaces.models import Membership

PRIVATE_VIEWERS = {"owner", "admin"}


def statuses(owner, admin, member, guest, outsider=404, anonymous=401) -> dict[str, int]:
    return dict(zip(ROLES, [owner, admin, member, guest, outsider, anonymous], strict=True))


def seen(status: int, space: str) -> dict[str, int]:
    """`status` for people who can see the space, 404 for the others, 401 without a token."""
    if space == "open":
        return statuses(status, status, status, status)
    return statuses(status, status, 404, 404)


@dataclass
class Row:
    name: str
    method: str
    path: str
    expected: dict[str, int]
    body: Callable[[dict], Any] | None = None
    multipart: bool = False

    def __str__(self) -> str:
        return self.name


def space_rows(space: str) -> list[Row]:
    """Rows run against one space; the open thread is by the member (replied to by the guest),
    the private one by the owner (replied to by the admin)."""
    both = {"open": 0, "private": 1}[space]

    def pick(open_status: dict[str, int], private_status: dict[str, int]) -> dict[str, int]:
        return (open_status, private_status)[both]

    return [
        Row("get space", "get", "/spaces/{space}", seen(200, space)),
        Row(
            "update space",
            "patch",
            "/spaces/{space}",
            pick(statuses(200, 200, 403, 403), statuses(200, 200, 404, 404)),
            lambda ids: {"description": "New words"},
        ),
        Row("space members", "get", "/spaces/{space}/members", seen(200, space)),
        Row(
            "set space members",
            "put",
            "/spaces/{space}/members",
            pick(statuses(422, 422, 403, 403), statuses(200, 200, 404, 404)),
            lambda ids: {"member_ids": [ids["member_id"]]},
        ),
        Row("get level", "get", "/spaces/{space}/level", seen(200, space)),
        Row(
            "set level",
            "put",
            "/spaces/{space}/level",
            seen(200, space),
            lambda ids: {"level": "muted"},
        ),  # fmt: skip
        Row("list threads", "get", "/spaces/{space}/threads?kind=decision", seen(200, space)),
        Row(
            "post thread",
            "post",
            "/spaces/{space}/threads",
            seen(201, space),
            lambda ids: {"kind": "status", "title": "Weekly status", "body": "All good."},
        ),  # fmt: skip
        Row("space decisions", "get", "/spaces/{space}/decisions", seen(200, space)),
        Row(
            "upload attachment",
            "post",
            "/spaces/{space}/attachments",
            seen(201, space),
            lambda ids: {"file": SimpleUploadedFile("notes.txt", b"hello", "text/plain")},
            multipart=True,
        ),  # fmt: skip
        Row("get thread", "get", "/threads/{thread}", seen(200, space)),
        Row(
            "edit thread",
            "patch",
            "/threads/{thread}",
            pick(statuses(403, 403, 200, 403), statuses(200, 403, 404, 404)),
            lambda ids: {"title": "Renamed"},
        ),
        Row(
            "delete thread",
            "delete",
            "/threads/{thread}",
            pick(statuses(204, 204, 204, 403), statuses(204, 204, 404, 404)),
        ),
        Row("thread history", "get", "/threads/{thread}/history", seen(200, space)),
        Row(
            "resolve thread",
            "post",
            "/threads/{thread}/resolve",
            pick(statuses(200, 200, 200, 403), statuses(200, 200, 404, 404)),
            lambda ids: {"outcome": "Settled."},
        ),
        Row(
            "reopen thread",
            "post",
            "/threads/{thread}/reopen",
            pick(statuses(200, 200, 200, 403), statuses(200, 200, 404, 404)),
        ),
        Row("follow", "put", "/threads/{thread}/follow", seen(200, space)),
        Row("unfollow", "delete", "/threads/{thread}/follow", seen(200, space)),
        Row("mark read", "post", "/threads/{thread}/read", seen(200, space)),
        Row(
            "react",
            "post",
            "/threads/{thread}/reactions",
            seen(200, space),
            lambda ids: {"emoji": "👍", "reply_id": ids["reply"]},
        ),  # fmt: skip
        Row("mention candidates", "get", "/threads/{thread}/mentions?q=a", seen(200, space)),
        Row("space mention candidates", "get", "/spaces/{space}/mentions?q=a", seen(200, space)),
        Row(
            "download attachment", "get", "/attachments/{file_token}/{file_name}", seen(200, space)
        ),
        Row("list replies", "get", "/threads/{thread}/replies", seen(200, space)),
        Row(
            "post reply",
            "post",
            "/threads/{thread}/replies",
            seen(201, space),
            lambda ids: {"body": "Thanks!"},
        ),  # fmt: skip
        Row("get reply", "get", "/replies/{reply}", seen(200, space)),
        Row("reply history", "get", "/replies/{reply}/history", seen(200, space)),
        Row(
            "edit reply",
            "patch",
            "/replies/{reply}",
            pick(statuses(403, 403, 403, 200), statuses(403, 200, 404, 404)),
            lambda ids: {"body": "Edited words"},
        ),
        Row(
            "delete reply",
            "delete",
            "/replies/{reply}",
            pick(statuses(204, 204, 403, 204), statuses(204, 204, 404, 404)),
        ),
    ]


WORKSPACE_ROWS = [
    Row("me", "get", "/me", statuses(200, 200, 200, 200, 200)),
    Row("list tokens", "get", "/tokens", statuses(200, 200, 200, 200, 200)),
    Row(
        "create token",
        "post",
        "/tokens",
        statuses(201, 201, 201, 201, 201),
        lambda ids: {"name": "Laptop"},
    ),  # fmt: skip
    Row("list workspaces", "get", "/workspaces", statuses(200, 200, 200, 200, 200)),
    Row("members", "get", "/workspaces/{ws}/members", statuses(200, 200, 200, 403)),
    Row(
        "change role",
        "patch",
        "/workspaces/{ws}/members/{member_membership}",
        statuses(200, 200, 403, 403),
        lambda ids: {"role": "guest"},
    ),
    Row(
        "remove member",
        "delete",
        "/workspaces/{ws}/members/{member_membership}",
        statuses(204, 204, 403, 403),
    ),
    Row("list invites", "get", "/workspaces/{ws}/invites", statuses(200, 200, 403, 403)),
    Row(
        "invite",
        "post",
        "/workspaces/{ws}/invites",
        statuses(201, 201, 403, 403),
        lambda ids: {"email": "new@acme.test", "role": "member"},
    ),
    Row("workspace threads", "get", "/workspaces/{ws}/threads", statuses(200, 200, 200, 200)),
    Row("list spaces", "get", "/workspaces/{ws}/spaces", statuses(200, 200, 200, 200)),
    Row(
        "create space",
        "post",
        "/workspaces/{ws}/spaces",
        statuses(201, 201, 201, 403),
        lambda ids: {"name": "Design"},
    ),
    Row("decision log", "get", "/workspaces/{ws}/decisions", statuses(200, 200, 200, 200)),
    Row("inbox", "get", "/inbox", statuses(200, 200, 200, 200, 200)),
    Row("inbox snoozed", "get", "/inbox?state=snoozed", statuses(200, 200, 200, 200, 200)),
    Row("inbox done", "post", "/inbox/{item}/done", statuses(200, 404, 404, 404)),
    Row("inbox undone", "post", "/inbox/{item}/undone", statuses(200, 404, 404, 404)),
    Row("inbox read", "post", "/inbox/{item}/read", statuses(200, 404, 404, 404)),
    Row(
        "inbox snooze",
        "post",
        "/inbox/{item}/snooze",
        statuses(200, 404, 404, 404),
        lambda ids: {"until": (timezone.now() + timedelta(days=1)).isoformat()},
    ),  # fmt: skip
    Row("inbox unsnooze", "post", "/inbox/{item}/unsnooze", statuses(200, 404, 404, 404)),
    Row("search", "get", "/search?q=Globex", statuses(200, 200, 200, 200, 200)),
    Row("search open words", "get", "/search?q=wiki", statuses(200, 200, 200, 200, 200)),
]

MATRIX = [
    (space, row, role)
    for space in ("open", "private")
    for row in space_rows(space)
    for role in ROLES
] + [("-", row, role) for row in WORKSPACE_ROWS for role in ROLES]


def _posted_file(world, thread) -> dict[str, str]:
    """A file posted with a reply in the thread, by someone who can see it."""
    author = world.admin if thread.space.is_private else world.member
    upload = actions.upload_attachment(
        author, thread.space, SimpleUploadedFile("plan.txt", b"the plan", "text/plain")
    )
    actions.post_reply(author, thread, body="", attachment_tokens=[upload.token])
    return {"file_token": upload.token, "file_name": upload.name}


@pytest.mark.parametrize(
    ("space", "row", "role"), MATRIX, ids=[f"{s}-{r.name}-{role}" for s, r, role in MATRIX]
)
def test_permission_matrix(world, scene, api_for, space, row, role):
    private = space == "private"
    ids = {
        "ws": world.workspace.pk,
        "space": (world.private_space if private else world.open_space).pk,
        "thread": (scene.private_thread if private else scene.open_thread).pk,
        "reply": (scene.private_reply if private else scene.open_reply).pk,
        "item": scene.owner_private_item.pk,
        "member_id": world.member.pk,
        "member_membership": Membership.objects.get(person=world.member).pk,
        **_posted_file(world, scene.private_thread if private else scene.open_thread),
    }
    client = api_for(role)
    body = row.body(ids) if row.body else None
    response = client.call(row.method, row.path.format(**ids), body, multipart=row.multipart)
    expected = row.expected[role]
    assert response.status_code == expected, response.content[:500]
    if expected == 404:
        assert response.json() == {"detail": NOT_FOUND}
    if role not in {"owner", "admin"}:
        raw = b"".join(response.streaming_content) if response.streaming else response.content
        text = raw.decode()
        for word in PRIVATE_WORDS:
            assert word not in text, f"{word!r} leaked to {role}"
