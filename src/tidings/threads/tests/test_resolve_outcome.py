"""Resolving a thread: an empty outcome is refused beside the field, the form still open;
guests may not resolve by htmx, and others cannot see the thread."""

import pytest

from conftest import ROLES
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
