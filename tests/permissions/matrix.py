"""One format for every permission row, pages and API alike, and how a row is asked.

A row names a page route (its URL name, `threads:thread`) or an API operation (`api:` and its
operationId, `api:get_thread`), a method, and for each place it is asked in the statuses
expected for each role, in the order of ROLES (then LINK, for rows whose address is itself a
secret link). Places are the scene's: `open` (Acme's open space), `private` (Acme's private
space, whose members are the owner and the admin), `other` (an open space of another
workspace, run by the outsider); rows about a workspace ask `open` for Acme and `other` for
the other one; `any` is for rows that belong to no place (the inbox, one's settings).

The URL's parameters come from the place (PARAMS, by parameter name, or the row's own
`kwargs`). Roles: the workspace's owner, admin, member and guest (who was added to the open
space only), the outsider (the owner of the other workspace), and the signed-out. A row with
`link` (the names of its secret parameters) adds the link holder, signed out with the real
link, as the signed-in roles ask too; the signed-out then comes with a forged one. An API
row with `session` (an operation the web app's pages call, such as the recorder's upload)
is asked twice: with each role's token, and as a page asks it, with the role's session and
its CSRF token (the signed-out sending the page's token alone); the answers are the same."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.permissions.catalog import api_operations, page_routes
from tests.permissions.scene import Place, Scene
from tidings.apikit.testing import ApiClient, SessionApiClient

ROLES = ("owner", "admin", "member", "guest", "outsider", "anonymous")
LINK = "link"
TOKEN, SESSION = "token", "session"
# Who may see each place's words: everyone else must never be shown them.
SEES = {"open": set(ROLES) - {"outsider", "anonymous"}, "private": {"owner", "admin"}}
SEES["other"] = {"outsider"}


@dataclass(frozen=True)
class Row:
    target: str
    method: str
    expect: dict[str, str]  # place → "200 200 404 404 404 302" in the order of ROLES (+ LINK)
    data: Callable[[Place], Any] | None = None
    kwargs: Callable[[Place], dict] | None = None
    link: tuple[str, ...] = ()
    multipart: bool = False
    session: bool = False  # an API operation the pages call too: asked with a session as well
    xfail: dict[str, str] = field(default_factory=dict)  # "place role" → why it is wrong today

    @property
    def is_api(self) -> bool:
        return self.target.startswith("api:")

    @property
    def roles(self) -> tuple[str, ...]:
        return (*ROLES, LINK) if self.link else ROLES

    def expected(self, place: str, role: str) -> int:
        codes = self.expect[place].split()
        assert len(codes) == len(self.roles), f"{self}: {place} needs {len(self.roles)} codes"
        return int(codes[self.roles.index(role)])

    @property
    def ways(self) -> tuple[str, ...]:
        """How the row is asked: pages with a session, the API with a token (and a session)."""
        if not self.is_api:
            return (SESSION,)
        return (TOKEN, SESSION) if self.session else (TOKEN,)

    def cells(self) -> list[tuple[str, str, str]]:
        return [
            (place, role, way) for place in self.expect for role in self.roles for way in self.ways
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.target}"


def page(target: str, method: str = "GET", **expect: Any) -> Row:
    options = {k: expect.pop(k) for k in list(expect) if k in _OPTIONS}
    return Row(target, method, expect, **options)


def api(operation_id: str, method: str, **expect: Any) -> Row:
    options = {k: expect.pop(k) for k in list(expect) if k in _OPTIONS}
    return Row(f"api:{operation_id}", method, expect, **options)


_OPTIONS = {"data", "kwargs", "link", "multipart", "session", "xfail"}

# A URL parameter's value in a place, by the parameter's name (pages and API alike).
PARAMS: dict[str, Callable[[Place], Any]] = {
    "workspace": lambda p: p.workspace.slug,
    "workspace_id": lambda p: p.workspace.pk,
    "space": lambda p: p.space.slug,
    "space_id": lambda p: p.space.pk,
    "thread_id": lambda p: p.thread.pk,
    "reply_id": lambda p: p.reply.pk,
    "token": lambda p: p.recording.token,
    "index": lambda p: 0,
    "fmt": lambda p: "vtt",
    "item_id": lambda p: p.inbox_item.pk,
    "reminder_id": lambda p: p.reminder_id,
    "request_id": lambda p: p.request_id,
    "recipient_id": lambda p: p.recipient_id,
    "scheduled_id": lambda p: p.scheduled_id,
    "collection_id": lambda p: p.collection.pk,
    "invite_id": lambda p: p.invite.pk,
    "membership_id": lambda p: p.membership.pk,
    "token_id": lambda p: p.token_id,
    "session_id": lambda p: p.extra["session_id"],
    "message_id": lambda p: p.original.pk,
}


def forged(value: Any) -> str:
    """A secret of the same shape that was never handed out."""
    text = str(value)
    return text[:-6] + ("000000" if not text.endswith("000000") else "111111")


def address(row: Row, place: Place, role: str) -> str:
    if row.is_api:
        path, _ = api_operations()[row.target.removeprefix("api:")]
        names = [part.split("}")[0] for part in path.split("{")[1:]]
    else:
        names = page_routes()[row.target].params
    kwargs = row.kwargs(place) if row.kwargs else {name: PARAMS[name](place) for name in names}
    if role == "anonymous" and row.link:
        kwargs = {k: forged(v) if k in row.link else v for k, v in kwargs.items()}
    return path.format(**kwargs) if row.is_api else reverse(row.target, kwargs=kwargs)


def ask(scene: Scene, row: Row, place_name: str, role: str, sessions: dict[str, str], way: str):
    """The answer to `role` asking `row` in the place: pages with the role's session cookie,
    the API with the role's token, or (`way` SESSION) as a page asks it."""
    place = scene.place("open" if place_name == "any" else place_name)
    url = address(row, place, role)
    data = row.data(place) if row.data else None
    signed_out = role in ("anonymous", LINK)
    if row.is_api:
        if way == SESSION:
            client = SessionApiClient(session="" if signed_out else sessions[role])
        else:
            client = ApiClient(None if signed_out else scene.tokens[role])
        return client.call(row.method.lower(), url, data, multipart=row.multipart)
    client = Client()
    if not signed_out:
        client.cookies[settings.SESSION_COOKIE_NAME] = sessions[role]
    method = getattr(client, row.method.lower())
    if row.method in ("GET", "POST"):
        return method(url, data or {})
    return method(url, data or "", content_type="application/json")


def body_of(response) -> str:
    """The whole body. Never response.close(): that signals the end of a request, and Django
    then closes the database connection, which holds the scene's transaction; the test
    client closes a streamed answer once it is read, with that signal held back."""
    if getattr(response, "streaming", False):
        raw = b"".join(response.streaming_content)
    else:
        raw = response.content
    return raw.decode("utf-8", errors="replace")
