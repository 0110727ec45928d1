"""Invitations are rate limited, as the README says: per inviter and per invited address, on
the page and in the API, new invitations and resent ones alike."""

from __future__ import annotations

from django.core import mail

from tidings.accounts.actions import create_access_token
from tidings.accounts.models import TokenScope
from tidings.apikit.testing import ApiClient
from tidings.people.actions import (
    INVITE_RATE_PER_ADDRESS,
    INVITE_RATE_PER_INVITER,
    create_invite,
    resend_invite,
)
from tidings.workspaces.models import Invite, Role

PER_INVITER = int(INVITE_RATE_PER_INVITER.split("/")[0])
PER_ADDRESS = int(INVITE_RATE_PER_ADDRESS.split("/")[0])


def test_an_inviter_sends_so_many_an_hour_on_the_page(world, rate_limits):
    client = world.client_for("admin")
    for n in range(PER_INVITER):
        data = {"email": f"person{n}@new.test", "role": Role.MEMBER}
        assert client.post("/w/acme/people/invite", data).status_code == 201
    response = client.post("/w/acme/people/invite", {"email": "one@more.test", "role": "member"})
    assert response.status_code == 429
    assert (
        "You have sent as many invitations as are allowed in an hour." in response.content.decode()
    )
    assert "Try again in an hour." in response.content.decode()
    assert not Invite.objects.filter(email="one@more.test").exists()
    assert len(mail.outbox) == PER_INVITER
    # Another inviter is not held back.
    other = world.client_for("owner").post(
        "/w/acme/people/invite", {"email": "one@more.test", "role": "member"}
    )
    assert other.status_code == 201


def test_one_address_gets_so_many_invitations_a_day_resends_included(world, rate_limits):
    invite, _ = create_invite(world.admin, world.workspace, email="nina@new.test", role="member")
    for _ in range(PER_ADDRESS - 1):
        resend_invite(world.owner, world.workspace, invite.pk)
    client = world.client_for("owner")
    response = client.post(f"/w/acme/people/invites/{invite.pk}/resend", follow=True)
    assert "nina@new.test has been sent as many invitations" in response.content.decode()
    assert "Try again in a day." in response.content.decode()
    assert len(mail.outbox) == PER_ADDRESS


def test_the_api_answers_429_with_a_sentence(world, rate_limits):
    raw = create_access_token(world.owner, "Admin script", scopes=TokenScope.values)[1]
    client = ApiClient(raw)
    path = f"/workspaces/{world.workspace.pk}/invites"
    for _ in range(PER_ADDRESS):
        Invite.objects.filter(email="nina@new.test").update(revoked_at="2020-01-01T00:00Z")
        assert client.post(path, {"email": "nina@new.test", "role": "member"}).status_code == 201
    Invite.objects.filter(email="nina@new.test").update(revoked_at="2020-01-01T00:00Z")
    response = client.post(path, {"email": "nina@new.test", "role": "member"})
    assert response.status_code == 429
    assert response.json()["detail"].endswith("Try again in a day.")
    assert response["Retry-After"]
