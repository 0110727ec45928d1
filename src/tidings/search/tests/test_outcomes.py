"""A resolved thread's outcome is found by search and shown with the hit, on the opening post's
hit only; a private outcome never leaks; a rebuilt index keeps it."""

import pytest

from tidings.search import index
from tidings.search.models import SearchDocument
from tidings.threads import actions
from tidings.threads.tests.factories import thread_in
from tidings.threads.tests.test_resolve_outcome import OUTCOME


@pytest.fixture
def thread(world):
    return thread_in(world.open_space, world.member, "Which database?", "Pick one by Friday.")


def test_outcome_words_are_found_and_shown_in_the_hit(world, thread):
    client = world.client_for("guest")
    assert "No results" in client.get("/search/", {"q": "flamingo"}).content.decode()
    actions.resolve_thread(world.member, thread, OUTCOME)
    body = client.get("/search/", {"q": "flamingo"}).content.decode()
    assert "1 result" in body and "Which database?" in body
    assert "<mark>flamingo</mark>" in body
    assert (
        '<p class="search-hit-outcome"><strong>✓ Outcome:</strong> We chose Postgres over the'
        " flamingo datastore.</p>"
    ) in body
    actions.reopen_thread(world.member, thread)
    assert "No results" in client.get("/search/", {"q": "flamingo"}).content.decode()


def test_outcome_only_on_the_opening_post_hit(world, thread):
    actions.post_reply(world.admin, thread, body="Postgres has the flamingo extension too.")
    actions.resolve_thread(world.member, thread, OUTCOME)
    body = world.client_for("member").get("/search/", {"q": "flamingo"}).content.decode()
    assert "2 results" in body
    assert body.count('class="search-hit-outcome"') == 1


def test_api_search_finds_the_outcome(world, thread, api_for):
    actions.resolve_thread(world.member, thread, OUTCOME)
    items = api_for("guest").get("/search", {"q": "flamingo"}).json()["items"]
    assert [(i["thread_id"], i["resolved"]) for i in items] == [(thread.pk, True)]
    assert items[0]["outcome"] == "We chose Postgres over the flamingo datastore."
    assert "<mark>flamingo</mark>" in items[0]["snippet_html"]
    assert api_for("outsider").get("/search", {"q": "flamingo"}).json()["items"] == []


def test_private_outcome_never_leaks(world):
    secret = thread_in(world.private_space, world.owner, "Reorg", "Quiet.")
    actions.resolve_thread(world.owner, secret, "The pelican team merges.")
    for role in ("member", "guest", "outsider"):
        assert (
            "No results"
            in world.client_for(role).get("/search/", {"q": "pelican"}).content.decode()
        )
    assert (
        "The pelican team merges."
        in world.client_for("admin").get("/search/", {"q": "pelican"}).content.decode()
    )


def test_rebuilt_index_keeps_the_outcome(world, thread):
    actions.resolve_thread(world.member, thread, OUTCOME)
    index.rebuild()
    opening = SearchDocument.objects.get(thread=thread, reply=None, recording=None)
    assert opening.body == "Pick one by Friday.\n\nWe chose Postgres over the flamingo datastore."


def test_the_word_outcome_does_not_find_every_resolved_thread(world, thread):
    actions.resolve_thread(world.member, thread, OUTCOME)
    page = world.client_for("member").get("/search/", {"q": "outcome"}).content.decode()
    assert "No results" in page
