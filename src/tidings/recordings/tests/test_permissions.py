"""The permission matrix of recordings, as data: (endpoint, method, role) → expected status,
in the open and the private space of the world, for the browser endpoints, the media links
and the API. A private recording never leaks: every refusal of something one may not see is
the same 404 as for something that does not exist, and carries none of its words."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client

from conftest import ROLES, by_role
from tidings.accounts.actions import create_access_token
from tidings.recordings.media import media_url
from tidings.recordings.models import Recording
from tidings.recordings.tests.factories import recording_with_chunks, split, webm_bytes
from tidings.threads import actions as thread_actions
from tidings.threads.models import Thread
from tidings.threads.tests.factories import thread_in

PIECES = split(webm_bytes(0.5), 3)
PRIVATE_TITLE = "Globex acquisition walkthrough"
MISSING = "0123456789abcdef0123456789abcdef"


@dataclass
class Place:
    """A space's thread, a posted recording in it and an unposted one, both by `author`."""

    space_id: int
    thread: Thread
    posted: Recording
    unposted: Recording
    author: str


def _place(world, space, author: str, title: str) -> Place:
    person = world.person(author)
    thread = thread_in(space, person, title=title)
    posted = recording_with_chunks(person, space, PIECES, thread=thread)
    thread_actions.post_reply(person, thread, body="", recording_token=posted.token)
    posted.refresh_from_db()
    unposted = recording_with_chunks(person, space, PIECES[:2], thread=thread)
    return Place(space.pk, thread, posted, unposted, author)


@pytest.fixture
def places(world) -> dict[str, Place]:
    return {
        "open": _place(world, world.open_space, "member", "Onboarding tour"),
        "private": _place(world, world.private_space, "owner", PRIVATE_TITLE),
    }


def seen(status: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """`status` for those who see the space, 404 for the others: (open, private)."""
    return (status, status, status, status), (status, status, 404, 404)


def authors_only(status: int, others_who_see: int = 404) -> tuple[tuple[int, ...], ...]:
    """`status` for the recording's author (the member in the open space, the owner in the
    private one); `others_who_see` for the rest of its viewers, 404 for everyone else."""
    return (
        (others_who_see, others_who_see, status, others_who_see),
        (status, others_who_see, 404, 404),
    )


# name, method, path (from the place and the person), body, then (owner, admin, member, guest)
# expected in the open and in the private space. Outsiders always get 404; the signed-out 401.
BROWSER_ROWS: list[tuple[str, str, Callable, dict | None, tuple, tuple]] = [
    ("start in space", "post", lambda p, _: "/recordings/start",
     lambda p: {"space_id": p.space_id, "source": "camera"}, *seen(201)),
    ("start in thread", "post", lambda p, _: "/recordings/start",
     lambda p: {"thread_id": p.thread.pk, "source": "screen"}, *seen(201)),
    ("status of posted", "get", lambda p, _: f"/recordings/{p.posted.token}/status", None,
     *seen(200)),
    ("status of unposted", "get", lambda p, _: f"/recordings/{p.unposted.token}/status", None,
     *authors_only(200)),
    ("send chunk", "put", lambda p, _: f"/recordings/{p.unposted.token}/chunks/2", None,
     *authors_only(201)),
    ("held chunks", "get", lambda p, _: f"/recordings/{p.unposted.token}/chunks", None,
     *authors_only(200)),
    ("held chunks of posted", "get", lambda p, _: f"/recordings/{p.posted.token}/chunks", None,
     *authors_only(200)),
    ("post unfinished", "post", lambda p, _: f"/recordings/{p.unposted.token}/post", {},
     *authors_only(201)),
    ("discard", "delete", lambda p, _: f"/recordings/{p.unposted.token}", None,
     *authors_only(204)),
    ("discard posted", "delete", lambda p, _: f"/recordings/{p.posted.token}", None,
     *authors_only(403)),
    ("media of posted", "get", lambda p, who: media_url(p.posted, "playable", who), None,
     *seen(200)),
    ("media of unposted", "get", lambda p, who: media_url(p.unposted, "playable", who), None,
     *authors_only(200)),
]  # fmt: skip


def _browser_cases():
    for name, method, path, data, open_expected, private_expected in BROWSER_ROWS:
        for where, expected in (("open", open_expected), ("private", private_expected)):
            statuses = by_role(*expected, 404, 404 if name.startswith("media") else 401)
            for role in ROLES:
                yield pytest.param(
                    method, path, data, where, role, statuses[role], id=f"{name}-{where}-{role}"
                )


def _call(client: Client, method: str, path: str, data, headers=None):
    headers = headers or {}
    if method == "put":
        return client.put(path, PIECES[2], content_type="application/octet-stream", headers=headers)
    if method == "post":
        return client.post(path, json.dumps(data), content_type="application/json", headers=headers)
    return getattr(client, method)(path, headers=headers)


@pytest.mark.parametrize(
    ("method", "path", "data", "where", "role", "expected"), list(_browser_cases())
)
def test_browser_endpoints(world, places, method, path, data, where, role, expected):
    place = places[where]
    person = world.person(role)
    client = world.client_for(role) if role != "anonymous" else Client()
    body = data(place) if callable(data) else data
    response = _call(client, method, path(place, person), body)
    assert response.status_code == expected, response.content[:300]
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if expected == 404:
        assert content in (b'{"error": "Not found."}', b"Not found.")
    if where == "private" and expected >= 400:
        assert PRIVATE_TITLE.encode() not in content


def test_missing_and_private_recordings_answer_alike(world, places):
    client = world.client_for("member")
    private = places["private"].posted.token
    for suffix in ("/status", "/chunks", "/post"):
        method = client.post if suffix == "/post" else client.get
        hidden = method(f"/recordings/{private}{suffix}")
        missing = method(f"/recordings/{MISSING}{suffix}")
        assert (hidden.status_code, hidden.content) == (missing.status_code, missing.content)
        assert hidden.status_code == 404


# --- The API: the same rules through personal access tokens.

API_ROWS: list[tuple[str, str, Callable, Callable | None, tuple, tuple]] = [
    ("start in space", "post", lambda p: "/api/recordings",
     lambda p: {"space_id": p.space_id, "source": "camera"}, *seen(201)),
    ("start in thread", "post", lambda p: "/api/recordings",
     lambda p: {"thread_id": p.thread.pk, "source": "audio"}, *seen(201)),
    ("get posted", "get", lambda p: f"/api/recordings/{p.posted.token}", None, *seen(200)),
    ("get unposted", "get", lambda p: f"/api/recordings/{p.unposted.token}", None,
     *authors_only(200)),
    ("send chunk", "put", lambda p: f"/api/recordings/{p.unposted.token}/chunks/2", None,
     *authors_only(201)),
    ("held chunks", "get", lambda p: f"/api/recordings/{p.unposted.token}/chunks", None,
     *authors_only(200)),
    ("post unfinished", "post", lambda p: f"/api/recordings/{p.unposted.token}/post",
     lambda p: {}, *authors_only(201)),
    ("discard", "delete", lambda p: f"/api/recordings/{p.unposted.token}", None,
     *authors_only(204)),
    ("discard posted", "delete", lambda p: f"/api/recordings/{p.posted.token}", None,
     *authors_only(403)),
]  # fmt: skip


def _api_cases():
    for name, method, path, data, open_expected, private_expected in API_ROWS:
        for where, expected in (("open", open_expected), ("private", private_expected)):
            statuses = by_role(*expected, 404, 401)
            for role in ROLES:
                yield pytest.param(
                    method, path, data, where, role, statuses[role], id=f"{name}-{where}-{role}"
                )


@pytest.mark.parametrize(
    ("method", "path", "data", "where", "role", "expected"), list(_api_cases())
)
def test_api_endpoints(world, places, method, path, data, where, role, expected):
    place = places[where]
    person = world.person(role)
    headers = {}
    if person is not None:
        headers = {"Authorization": f"Bearer {create_access_token(person, 'tests')[1]}"}
    response = _call(Client(), method, path(place), data(place) if data else None, headers)
    assert response.status_code == expected, response.content[:300]
    if expected == 404:
        assert response.json() == {"detail": "Not found."}
    if where == "private" and expected >= 400:
        assert PRIVATE_TITLE.encode() not in response.content


def test_the_api_list_holds_only_what_each_person_may_see(world, places):
    def tokens(role: str) -> set[str]:
        raw = create_access_token(world.person(role), "tests")[1]
        response = Client().get("/api/recordings", headers={"Authorization": f"Bearer {raw}"})
        assert response.status_code == 200
        return {item["token"] for item in response.json()["items"]}

    open_place, private = places["open"], places["private"]
    assert tokens("owner") == {
        open_place.posted.token,
        private.posted.token,
        private.unposted.token,
    }
    assert tokens("admin") == {open_place.posted.token, private.posted.token}
    assert tokens("member") == {open_place.posted.token, open_place.unposted.token}
    assert tokens("guest") == {open_place.posted.token}
    assert tokens("outsider") == set()
