"""The permission matrix of recordings, as data: (endpoint, method, role) → expected status,
in the open and the private space of the world, for the media links and the API (asked with
a token, and with a page's session as the browser's recorder asks it). A private recording
never leaks: every refusal of something one may not see is the same 404 as for something
that does not exist, and carries none of its words."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client

from conftest import ROLES, by_role
from tidings.accounts.actions import create_access_token
from tidings.apikit.session import SIGNED_OUT
from tidings.apikit.testing import SessionApiClient
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


# The media links: name, path (from the place and the person), then (owner, admin, member,
# guest) expected in the open and in the private space. Outsiders and the signed-out (who
# hold no link made for them) always get 404.
MEDIA_ROWS: list[tuple[str, Callable, tuple, tuple]] = [
    ("media of posted", lambda p, who: media_url(p.posted, "playable", who), *seen(200)),
    ("media of unposted", lambda p, who: media_url(p.unposted, "playable", who),
     *authors_only(200)),
]  # fmt: skip


def _media_cases():
    for name, path, open_expected, private_expected in MEDIA_ROWS:
        for where, expected in (("open", open_expected), ("private", private_expected)):
            statuses = by_role(*expected, 404, 404)
            for role in ROLES:
                yield pytest.param(path, where, role, statuses[role], id=f"{name}-{where}-{role}")


@pytest.mark.parametrize(("path", "where", "role", "expected"), list(_media_cases()))
def test_media_links(world, places, path, where, role, expected):
    response = Client().get(path(places[where], world.person(role)))
    assert response.status_code == expected
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if expected == 404:
        assert content == b"Not found."


# --- The API: asked with a personal access token, and as the recorder asks it, with the
# page's session and CSRF token; the same answers either way.

# name, method, path (from the place), body, then (owner, admin, member, guest) expected in
# the open and in the private space. Outsiders always get 404; the signed-out 401.
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
    ("held chunks of posted", "get", lambda p: f"/api/recordings/{p.posted.token}/chunks", None,
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
                for via in ("token", "session"):
                    yield pytest.param(
                        method, path, data, where, role, via, statuses[role],
                        id=f"{name}-{where}-{role}-{via}",
                    )  # fmt: skip


def _call(client: Client, method: str, path: str, data, headers=None):
    headers = headers or {}
    if method == "put":
        return client.put(path, PIECES[2], content_type="application/octet-stream", headers=headers)
    if method == "post":
        return client.post(path, json.dumps(data), content_type="application/json", headers=headers)
    return getattr(client, method)(path, headers=headers)


def _asking(person, via: str) -> tuple[Client, dict[str, str]]:
    """A client and its headers: the person's token, or the page's session and CSRF token."""
    if via == "session":
        page = SessionApiClient(person)
        return page.client, page.headers()
    if person is None:
        return Client(), {}
    return Client(), {"Authorization": f"Bearer {create_access_token(person, 'tests')[1]}"}


@pytest.mark.parametrize(
    ("method", "path", "data", "where", "role", "via", "expected"), list(_api_cases())
)
def test_api_endpoints(world, places, method, path, data, where, role, via, expected):
    place = places[where]
    client, headers = _asking(world.person(role), via)
    response = _call(client, method, path(place), data(place) if data else None, headers)
    assert response.status_code == expected, response.content[:300]
    if expected == 404:
        assert response.json() == {"detail": "Not found."}
    if expected == 401 and via == "session":
        assert response.json() == {"detail": SIGNED_OUT}
    if where == "private" and expected >= 400:
        assert PRIVATE_TITLE.encode() not in response.content


@pytest.mark.parametrize("via", ["token", "session"])
def test_missing_and_private_recordings_answer_alike(world, places, via):
    client, headers = _asking(world.member, via)
    private = places["private"].posted.token
    for suffix in ("", "/chunks", "/post"):
        method = "post" if suffix == "/post" else "get"
        hidden = _call(client, method, f"/api/recordings/{private}{suffix}", {}, headers)
        missing = _call(client, method, f"/api/recordings/{MISSING}{suffix}", {}, headers)
        assert (hidden.status_code, hidden.content) == (missing.status_code, missing.content)
        assert hidden.status_code == 404


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
