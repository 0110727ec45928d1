"""Search behaviour that keeps it fast on large data: a capped count over the newest matches,
an index that is the only truth about what exists, and the PostgreSQL walk/index switch."""

import pytest
from django.db import connection

from tidings.search import queries
from tidings.search.queries import author_choices, search
from tidings.threads import actions

from .factories import post_reply, post_thread


@pytest.fixture
def many(world):
    thread = post_thread(world.open_space, world.member, "Rollout plan", "canary rollout")
    replies = [post_reply(thread, world.owner, f"rollout step {n}") for n in range(6)]
    return thread, replies


def test_count_is_capped_and_ranked_over_the_newest_matches(world, many, monkeypatch):
    monkeypatch.setattr(queries, "RANK_WINDOW", 3)
    results = search(world.member, "rollout")
    assert results.total == 3 and results.total_is_capped
    newest = {reply.pk for reply in many[1][-3:]}
    assert {hit.reply_id for hit in results.hits} == newest
    page = world.client_for("member").get("/search/", {"q": "rollout"}).content.decode()
    assert "3+ results for “rollout”" in page


def test_count_is_exact_below_the_cap(world, many):
    results = search(world.member, "rollout")
    assert results.total == 7 and not results.total_is_capped
    page = world.client_for("member").get("/search/", {"q": "rollout"}).content.decode()
    assert "7 results for “rollout”" in page


def test_deleting_through_actions_takes_text_out_of_the_index(world, many):
    thread, replies = many
    actions.delete_reply(world.owner, replies[0])
    assert search(world.member, "rollout").total == 6
    actions.delete_thread(world.member, thread)
    assert search(world.member, "rollout").total == 0
    assert search(world.owner, "canary").total == 0


@pytest.mark.parametrize("role", ["owner", "admin", "member", "guest", "outsider"])
def test_author_filter_offers_only_people_with_visible_posts(world, role):
    post_thread(world.private_space, world.admin, "Board pay", "salaries")
    post_thread(world.open_space, world.member, "Lunch", "tacos")
    names = {p.name for p in author_choices(world.person(role))}
    assert (world.admin.name in names) is (role in {"owner", "admin"})
    assert (world.member.name in names) is (role != "outsider")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL search strategy")
@pytest.mark.parametrize(("stretch", "index_rows"), [(1, 0), (1, 10**9), (2, 3)])
def test_postgres_walk_and_index_give_the_same_results(
    world, many, monkeypatch, stretch, index_rows
):
    post_thread(world.private_space, world.owner, "Secret rollout", "rollout in private")
    expected = [(h.thread_id, h.reply_id) for h in search(world.member, "rollout").hits]
    monkeypatch.setattr(queries._Postgres, "FIRST_STRETCH", stretch)
    monkeypatch.setattr(queries._Postgres, "INDEX_ROWS", index_rows)
    results = search(world.member, "rollout")
    assert [(h.thread_id, h.reply_id) for h in results.hits] == expected
    assert results.total == 7 and "Secret rollout" not in {h.title for h in results.hits}
