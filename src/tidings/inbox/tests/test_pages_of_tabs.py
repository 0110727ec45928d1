"""A tab of the inbox comes in pages: the query takes an offset, and the API uses it."""

from __future__ import annotations

import pytest

from tidings.accounts.actions import create_access_token
from tidings.inbox import queries
from tidings.inbox.actions import fan_out_thread_posted, mark_done
from tidings.inbox.tests.factories import make_thread


@pytest.fixture
def five_items(world):
    threads = [make_thread(world.open_space, world.owner, title=f"Thread {n}") for n in range(5)]
    for thread in threads:
        fan_out_thread_posted(thread, [])
    return threads


def titles(rows) -> list[str]:
    return [row.thread.title for row in rows]


def test_tab_items_pages_with_offset(world, five_items):
    everything = titles(queries.tab_items(world.member, "open"))
    assert len(everything) == 5
    assert titles(queries.tab_items(world.member, "open", limit=2)) == everything[:2]
    assert titles(queries.tab_items(world.member, "open", limit=2, offset=2)) == everything[2:4]
    assert titles(queries.tab_items(world.member, "open", limit=2, offset=4)) == everything[4:]
    assert queries.tab_items(world.member, "open", offset=50) == []
    assert queries.tab_count(world.member, "open") == 5
    assert queries.tab_items(world.outsider, "open") == []


def test_api_pages_through_a_tab(world, client, five_items):
    _, raw = create_access_token(world.member, "tests")
    headers = {"Authorization": f"Bearer {raw}"}
    done = queries.tab_items(world.member, "open", limit=1)[0]
    mark_done(world.member, done.pk)
    first = client.get("/api/inbox", {"limit": 3}, headers=headers).json()
    second = client.get("/api/inbox", {"limit": 3, "offset": 3}, headers=headers).json()
    assert (first["count"], len(first["items"]), len(second["items"])) == (4, 3, 1)
    seen = [item["id"] for item in first["items"] + second["items"]]
    assert len(set(seen)) == 4 and done.pk not in seen
    done_tab = client.get("/api/inbox", {"state": "done"}, headers=headers).json()
    assert done_tab["count"] == 1 and done_tab["items"][0]["id"] == done.pk
