"""A resolved thread's outcome is found by search and shown with the hit; an empty outcome is
refused beside the field, the form still open."""

import pytest

from conftest import ROLES
from tidings.search import index
from tidings.search.models import SearchDocument
from tidings.threads import actions
from tidings.threads.tests.factories import thread_in

HTMX = {"HTTP_HX_REQUEST": "true"}
OUTCOME = "We chose **Postgres** over the flamingo datastore."


@pytest.fixture
def thread(world):
    return thread_in(world.open_space, world.member, "Which database?", "Pick one by Friday.")


def test_empty_outcome_comes_back_beside_the_field_with_the_form_open(world, thread):
    response = world.client_for("member").post(
        f"/t/{thread.pk}/resolve", {"outcome": "   "}, **HTMX
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert body.startswith('<details id="resolve-box" class="card resolve-box" open>')
    assert 'aria-describedby="outcome-error"' in body
    assert 'id="outcome-error" role="alert">Write the outcome first: what was decided' in body
    thread.refresh_from_db()
    assert thread.resolved_at is None


def test_empty_outcome_without_htmx_shows_the_page_with_the_error(world, thread):
    response = world.client_for("member").post(f"/t/{thread.pk}/resolve", {"outcome": ""})
    assert response.status_code == 422
    body = response.content.decode()
    assert "Which database?" in body and 'id="outcome-error"' in body
    assert 'class="card resolve-box" open>' in body


def test_resolving_by_htmx_goes_to_the_resolved_thread(world, thread):
    response = world.client_for("member").post(
        f"/t/{thread.pk}/resolve", {"outcome": OUTCOME}, **HTMX
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/t/{thread.pk}/"
    thread.refresh_from_db()
    assert thread.outcome == OUTCOME


# Who may resolve by htmx: guests may not (403); others cannot see the thread (404).
RESOLVE_STATUS = {"owner": 200, "admin": 200, "member": 200, "guest": 403, "outsider": 404,
                  "anonymous": 302}  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_resolve_by_htmx_for_every_role(world, thread, role):
    response = world.client_for(role).post(f"/t/{thread.pk}/resolve", {"outcome": OUTCOME}, **HTMX)
    assert response.status_code == RESOLVE_STATUS[role]
    thread.refresh_from_db()
    assert (thread.resolved_at is not None) == (RESOLVE_STATUS[role] == 200)


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


def test_api_search_finds_the_outcome(world, thread, api_for):  # noqa: F811
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


def test_an_inbox_row_about_the_opening_post_quotes_the_post_not_its_outcome(world, thread):
    from tidings.inbox.models import InboxItem, Reason
    from tidings.inbox.queries import tab_items

    InboxItem.objects.create(person=world.owner, thread=thread, reason=Reason.NEW_THREAD)
    actions.resolve_thread(world.member, thread, OUTCOME)
    [row] = [item for item in tab_items(world.owner, "open") if item.thread_id == thread.pk]
    assert row.excerpt == "Pick one by Friday."
