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

from conftest import ROLES, by_role
from tidings.api.tests.conftest import PRIVATE_WORDS
from tidings.apikit.errors import NOT_FOUND
from tidings.threads import actions
from tidings.workspaces.models import Membership

PRIVATE_VIEWERS = {"owner", "admin"}


def statuses(owner, admin, member, guest, outsider=404, anonymous=401) -> dict[str, int]:
    return by_role(owner, admin, member, guest, outsider, anonymous)


def private_members(status: int) -> tuple[int, ...]:
    """In the private space: `status` for its members (owner and admin), 404 for the others."""
    return (status, status, 404, 404)


def seen(status: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """`status` for people who can see the space, 404 for the others: (open, private)."""
    return (status, status, status, status), private_members(status)


# Rows run against each space: the open thread is by the member (replied to by the guest), the
# private one by the owner (replied to by the admin).
# name, method, path, then (owner, admin, member, guest) in the open and in the private space.
SPACE_ROWS = [
    ("get space", "get", "/spaces/{space}", *seen(200)),
    ("update space", "patch", "/spaces/{space}", (200, 200, 403, 403), (200, 200, 404, 404)),
    ("space members", "get", "/spaces/{space}/members", *seen(200)),
    (
        "set space members",
        "put",
        "/spaces/{space}/members",
        (422, 422, 403, 403),
        private_members(200),
    ),
    ("get level", "get", "/spaces/{space}/level", *seen(200)),
    ("set level", "put", "/spaces/{space}/level", *seen(200)),
    ("list threads", "get", "/spaces/{space}/threads?kind=decision", *seen(200)),
    ("post thread", "post", "/spaces/{space}/threads", *seen(201)),
    ("space decisions", "get", "/spaces/{space}/decisions", *seen(200)),
    ("upload attachment", "post", "/spaces/{space}/attachments", *seen(201)),
    ("get thread", "get", "/threads/{thread}", *seen(200)),
    ("edit thread", "patch", "/threads/{thread}", (403, 403, 200, 403), (200, 403, 404, 404)),
    ("delete thread", "delete", "/threads/{thread}", (204, 204, 204, 403), private_members(204)),
    ("thread history", "get", "/threads/{thread}/history", *seen(200)),
    (
        "resolve thread",
        "post",
        "/threads/{thread}/resolve",
        (200, 200, 200, 403),
        private_members(200),
    ),
    (
        "reopen thread",
        "post",
        "/threads/{thread}/reopen",
        (200, 200, 200, 403),
        private_members(200),
    ),
    ("follow", "put", "/threads/{thread}/follow", *seen(200)),
    ("unfollow", "delete", "/threads/{thread}/follow", *seen(200)),
    ("mark read", "post", "/threads/{thread}/read", *seen(200)),
    ("react", "post", "/threads/{thread}/reactions", *seen(200)),
    ("mention candidates", "get", "/threads/{thread}/mentions?q=a", *seen(200)),
    ("space mention candidates", "get", "/spaces/{space}/mentions?q=a", *seen(200)),
    ("download attachment", "get", "/attachments/{file_token}/{file_name}", *seen(200)),
    ("list replies", "get", "/threads/{thread}/replies", *seen(200)),
    ("post reply", "post", "/threads/{thread}/replies", *seen(201)),
    ("get reply", "get", "/replies/{reply}", *seen(200)),
    ("reply history", "get", "/replies/{reply}/history", *seen(200)),
    ("edit reply", "patch", "/replies/{reply}", (403, 403, 403, 200), (403, 200, 404, 404)),
    ("delete reply", "delete", "/replies/{reply}", (204, 204, 403, 204), private_members(204)),
]

EVERYONE = (200, 200, 200, 200, 200)  # every signed-in person, outsiders included
# name, method, path, then (owner, admin, member, guest[, outsider: 404 when left out]).
WORKSPACE_ROWS = [
    ("me", "get", "/me", EVERYONE),
    ("my delivery", "get", "/me/delivery", EVERYONE),
    ("set my delivery", "put", "/me/delivery", EVERYONE),
    ("list tokens", "get", "/tokens", EVERYONE),
    ("create token", "post", "/tokens", (201, 201, 201, 201, 201)),
    ("list workspaces", "get", "/workspaces", EVERYONE),
    ("members", "get", "/workspaces/{ws}/members", (200, 200, 200, 403)),
    ("change role", "patch", "/workspaces/{ws}/members/{member_membership}", (200, 200, 403, 403)),
    (
        "remove member",
        "delete",
        "/workspaces/{ws}/members/{member_membership}",
        (204, 204, 403, 403),
    ),
    ("list invites", "get", "/workspaces/{ws}/invites", (200, 200, 403, 403)),
    ("invite", "post", "/workspaces/{ws}/invites", (201, 201, 403, 403)),
    ("workspace threads", "get", "/workspaces/{ws}/threads", (200, 200, 200, 200)),
    ("list spaces", "get", "/workspaces/{ws}/spaces", (200, 200, 200, 200)),
    ("create space", "post", "/workspaces/{ws}/spaces", (201, 201, 201, 403)),
    ("decision log", "get", "/workspaces/{ws}/decisions", (200, 200, 200, 200)),
    ("inbox", "get", "/inbox", EVERYONE),
    ("inbox snoozed", "get", "/inbox?state=snoozed", EVERYONE),
    ("inbox done", "post", "/inbox/{item}/done", (200, 404, 404, 404)),
    ("inbox undone", "post", "/inbox/{item}/undone", (200, 404, 404, 404)),
    ("inbox read", "post", "/inbox/{item}/read", (200, 404, 404, 404)),
    ("inbox snooze", "post", "/inbox/{item}/snooze", (200, 404, 404, 404)),
    ("inbox unsnooze", "post", "/inbox/{item}/unsnooze", (200, 404, 404, 404)),
    ("search", "get", "/search?q=Globex", EVERYONE),
    ("search open words", "get", "/search?q=wiki", EVERYONE),
]

# What the rows that need one send, by row name; `ids` are the world's and the scene's ids.
BODIES: dict[str, Callable[[dict], Any]] = {
    "update space": lambda ids: {"description": "New words"},
    "set space members": lambda ids: {"member_ids": [ids["member_id"]]},
    "set level": lambda ids: {"level": "muted"},
    "set my delivery": lambda ids: {"cadence": "daily", "digest_time": "07:45"},
    "post thread": lambda ids: {"kind": "status", "title": "Weekly status", "body": "All good."},
    "upload attachment": lambda ids: {
        "file": SimpleUploadedFile("notes.txt", b"hello", "text/plain")
    },
    "edit thread": lambda ids: {"title": "Renamed"},
    "resolve thread": lambda ids: {"outcome": "Settled."},
    "react": lambda ids: {"emoji": "👍", "reply_id": ids["reply"]},
    "post reply": lambda ids: {"body": "Thanks!"},
    "edit reply": lambda ids: {"body": "Edited words"},
    "create token": lambda ids: {"name": "Laptop"},
    "change role": lambda ids: {"role": "guest"},
    "invite": lambda ids: {"email": "new@acme.test", "role": "member"},
    "create space": lambda ids: {"name": "Design"},
    "inbox snooze": lambda ids: {"until": (timezone.now() + timedelta(days=1)).isoformat()},
}
MULTIPART = {"upload attachment"}


@dataclass
class Row:
    name: str
    method: str
    path: str
    expected: dict[str, int]

    @property
    def body(self) -> Callable[[dict], Any] | None:
        return BODIES.get(self.name)

    @property
    def multipart(self) -> bool:
        return self.name in MULTIPART

    def __str__(self) -> str:
        return self.name


MATRIX = [
    (space, Row(name, method, path, statuses(*(in_open, in_private)[space == "private"])), role)
    for space in ("open", "private")
    for name, method, path, in_open, in_private in SPACE_ROWS
    for role in ROLES
] + [
    ("-", Row(name, method, path, statuses(*expected)), role)
    for name, method, path, expected in WORKSPACE_ROWS
    for role in ROLES
]


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
    if role not in PRIVATE_VIEWERS:
        raw = b"".join(response.streaming_content) if response.streaming else response.content
        text = raw.decode()
        for word in PRIVATE_WORDS:
            assert word not in text, f"{word!r} leaked to {role}"
