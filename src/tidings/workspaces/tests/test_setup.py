import pytest
from django.test import Client

from conftest import ROLES
from tidings.accounts.models import User
from tidings.workspaces.actions import issue_setup_link_if_needed
from tidings.workspaces.models import Membership, Role, SetupToken

FIELDS = {
    "name": "Olivia Owner",
    "email": "Olivia@Example.test",
    "password": "a long and lovely passphrase",
    "time_zone": "Europe/Berlin",
    "workspace_name": "Acme Corp",
}


@pytest.fixture
def path(db) -> str:
    return "/" + issue_setup_link_if_needed().split("/", 3)[3]


def test_setup_page_defaults_to_utc_and_lists_zones(path):
    response = Client().get(path)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Set up Tidings" in page
    assert 'name="time_zone" value="UTC"' in page  # a box, suggesting as one types
    assert '<option value="Asia/Kolkata">' in page and "Asia/Calcutta" not in page
    assert "data-guess-zone" in page
    assert "js/timezone.js" in page


def test_setup_creates_owner_signs_in_and_works_once(path):
    client = Client()
    response = client.post(path, FIELDS)
    assert response.status_code == 302
    assert response.url == "/"
    owner = User.objects.get()
    assert owner.email == "olivia@example.test"
    assert owner.time_zone == "Europe/Berlin"
    assert owner.password.startswith(("argon2", "md5"))
    membership = Membership.objects.get(person=owner)
    assert membership.role == Role.OWNER
    assert membership.workspace.slug == "acme-corp"
    assert client.session["_auth_user_id"] == str(owner.pk)
    assert SetupToken.objects.get().used_at is not None

    # Used: nobody can use it again, signed in or not.
    for again in (Client(), client):
        response = again.get(path)
        assert response.status_code == 410
        assert b"This setup link was already used" in response.content
        response = again.post(path, {**FIELDS, "email": "mallory@example.test"})
        assert response.status_code == 410
    assert User.objects.count() == 1


def test_setup_link_stops_working_once_any_account_exists(path):
    User.objects.create_user("someone@example.test", "pw", name="Someone")
    response = Client().post(path, FIELDS)
    assert response.status_code == 410
    assert User.objects.count() == 1


def test_unknown_setup_token_is_refused(db):
    issue_setup_link_if_needed()
    response = Client().get("/setup/not-the-token/")
    assert response.status_code == 410


def test_bad_input_gives_clear_errors_and_saves_nothing(path):
    response = Client().post(
        path, {**FIELDS, "password": "short", "time_zone": "Nowhere/Land", "workspace_name": " "}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "“Nowhere/Land” is not a known time zone" in page
    assert "This field is required" in page or "Enter a name for the workspace" in page
    response = Client().post(path, {**FIELDS, "password": "short"})
    assert response.status_code == 400
    assert "too short" in response.content.decode()
    assert not User.objects.exists()
    assert SetupToken.objects.get().used_at is None
    assert Client().post(path, FIELDS).status_code == 302


@pytest.mark.parametrize("role", ROLES)
def test_setup_matrix_with_accounts_existing(world, role):
    SetupToken.objects.create(token_hash="x" * 64)
    response = world.client_for(role).get("/setup/anything/")
    assert response.status_code == 410
    assert b"Leadership" not in response.content
