"""Names given when accepting an invitation or setting up the first workspace hold no control
characters: the form says so beside the field."""

from __future__ import annotations

from django.test import Client

from conftest import PASSWORD
from tidings.accounts.tests.test_display_names import SENTENCE
from tidings.people.actions import create_invite
from tidings.workspaces.actions import issue_setup_link_if_needed


def test_accepting_an_invitation_checks_the_name(world):
    _, raw = create_invite(world.owner, world.workspace, email="nina@new.test", role="member")
    client = Client()
    form = {"name": "Nina\u0007", "password": "a long and lovely passphrase", "time_zone": "UTC"}
    response = client.post(f"/invite/{raw}/", form)
    assert response.status_code == 400
    assert SENTENCE in response.content.decode()
    response = client.post(f"/invite/{raw}/", {**form, "name": "Nina 🌻 New"})
    assert response.status_code == 302


def test_setup_checks_the_name(db):
    link = issue_setup_link_if_needed()
    path = "/" + link.split("//", 1)[1].split("/", 1)[1]
    form = {
        "name": "Olivia\r\nBcc: x@evil.test",
        "email": "olivia@acme.test",
        "password": PASSWORD,
        "time_zone": "UTC",
        "workspace_name": "Acme",
    }
    response = Client().post(path, form)
    assert response.status_code == 400
    assert SENTENCE in response.content.decode()
