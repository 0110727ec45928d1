import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD, ROLES, by_role
from tidings.accounts.models import User
from tidings.people.actions import (
    accept_invite,
    accept_invite_as,
    create_invite,
    resend_invite,
    revoke_invite,
)
from tidings.workspaces import access
from tidings.workspaces.models import Invite, Membership, Role

NEW = {"name": "Nina New", "password": "a long and lovely passphrase", "time_zone": "Asia/Tokyo"}


def path_of(raw: str) -> str:
    return f"/invite/{raw}/"


def test_invite_stores_hash_and_emails_link(world, settings):
    settings.SITE_URL = "https://tidings.example"
    invite, raw = create_invite(
        world.admin, world.workspace, email=" Nina@New.test ", role=Role.MEMBER
    )
    assert invite.email == "nina@new.test"
    assert raw not in invite.token_hash
    assert invite.expires_at - timezone.now() > timedelta(days=6, hours=23)
    [message] = mail.outbox
    assert message.to == ["nina@new.test"]
    assert "Adam Admin invited you to Acme" in message.subject
    link = f"https://tidings.example/invite/{raw}/"
    assert link in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and link in html


def test_invite_rules(world):
    with pytest.raises(PermissionDenied):
        create_invite(world.member, world.workspace, email="x@new.test", role=Role.MEMBER)
    with pytest.raises(PermissionDenied):
        create_invite(world.guest, world.workspace, email="x@new.test", role=Role.MEMBER)
    with pytest.raises(Http404):
        create_invite(world.outsider, world.workspace, email="x@new.test", role=Role.MEMBER)
    with pytest.raises(ValidationError) as error:
        create_invite(world.owner, world.workspace, email="x@new.test", role=Role.OWNER)
    assert "role" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        create_invite(world.owner, world.workspace, email="not-an-email", role=Role.MEMBER)
    assert "email" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        create_invite(world.owner, world.workspace, email="MIA@acme.test", role=Role.MEMBER)
    assert "already a member" in error.value.message_dict["email"][0]
    create_invite(world.owner, world.workspace, email="x@new.test", role=Role.MEMBER)
    with pytest.raises(ValidationError) as error:
        create_invite(world.owner, world.workspace, email="x@new.test", role=Role.ADMIN)
    assert "Resend" in error.value.message_dict["email"][0]


def test_accept_creates_account_membership_and_signs_in(world):
    invite, raw = create_invite(
        world.owner, world.workspace, email="nina@new.test", role=Role.ADMIN
    )
    client = Client()
    page = client.get(path_of(raw))
    assert page.status_code == 200
    assert b"Join Acme" in page.content
    assert b"Olivia Owner" in page.content
    assert b"nina@new.test" in page.content
    response = client.post(path_of(raw), NEW)
    assert response.status_code == 302
    assert response.url == "/w/acme/"
    nina = User.objects.get(email="nina@new.test")
    assert nina.time_zone == "Asia/Tokyo"
    assert Membership.objects.get(person=nina, workspace=world.workspace).role == Role.ADMIN
    assert client.session["_auth_user_id"] == str(nina.pk)
    invite.refresh_from_db()
    assert invite.accepted_at is not None
    # Used: a clear page, status 404, for anyone.
    for again in (Client(), client):
        response = again.get(path_of(raw))
        assert response.status_code == 404
        assert b"This invitation link does not work" in response.content
    assert Client().post(path_of(raw), {**NEW, "name": "Other"}).status_code == 404
    assert User.objects.filter(email="nina@new.test").count() == 1


def test_accept_with_bad_input_keeps_the_invite(world):
    invite, raw = create_invite(
        world.owner, world.workspace, email="nina@new.test", role=Role.MEMBER
    )
    response = Client().post(path_of(raw), {**NEW, "password": "nina", "time_zone": "Moon/Base"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "“Moon/Base” is not a known time zone" in page
    response = Client().post(path_of(raw), {**NEW, "password": "nina"})
    assert response.status_code == 400
    assert "too short" in response.content.decode()
    assert not User.objects.filter(email="nina@new.test").exists()
    invite.refresh_from_db()
    assert invite.accepted_at is None


@pytest.mark.parametrize("state", ["expired", "revoked", "unknown", "resent"])
def test_unusable_links_give_a_clear_404(world, state):
    invite, raw = create_invite(
        world.owner, world.workspace, email="nina@new.test", role=Role.MEMBER
    )
    if state == "expired":
        Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif state == "revoked":
        revoke_invite(world.admin, world.workspace, invite.pk)
    elif state == "unknown":
        raw = "nope"
    elif state == "resent":
        resend_invite(world.admin, world.workspace, invite.pk)
    response = Client().get(path_of(raw))
    assert response.status_code == 404
    assert b"This invitation link does not work" in response.content
    assert b"expired" in response.content
    assert Client().post(path_of(raw), NEW).status_code == 404
    assert not User.objects.filter(email="nina@new.test").exists()
    with pytest.raises(Http404):
        accept_invite(raw, **NEW)


def test_resend_makes_a_new_link_and_extends_expiry(world):
    invite, old = create_invite(
        world.owner, world.workspace, email="nina@new.test", role=Role.MEMBER
    )
    Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - timedelta(days=1))
    mail.outbox.clear()
    with pytest.raises(PermissionDenied):
        resend_invite(world.member, world.workspace, invite.pk)
    invite, new = resend_invite(world.admin, world.workspace, invite.pk)
    assert new != old and invite.is_usable
    assert path_of(new) in mail.outbox[0].body
    assert Client().get(path_of(new)).status_code == 200


def test_existing_account_signs_in_then_joins(world):
    invite, raw = create_invite(
        world.admin, world.workspace, email="otto@other.test", role=Role.MEMBER
    )
    response = Client().get(path_of(raw))
    assert response.status_code == 200
    assert b"You already have a Tidings account" in response.content
    assert f"/sign-in?next=/invite/{raw}/".encode() in response.content
    # A post from someone not signed in creates nothing.
    assert Client().post(path_of(raw), NEW).status_code == 200
    assert User.objects.filter(email="otto@other.test").count() == 1

    client = Client()
    response = client.post(
        "/sign-in", {"username": "otto@other.test", "password": PASSWORD, "next": path_of(raw)}
    )
    assert response.url == path_of(raw)
    page = client.get(path_of(raw))
    assert b"Join Acme" in page.content
    response = client.post(path_of(raw))
    assert response.status_code == 302 and response.url == "/w/acme/"
    assert access.membership(world.outsider, world.workspace).role == Role.MEMBER
    assert User.objects.filter(email="otto@other.test").count() == 1


def test_signed_in_as_someone_else_cannot_accept(world):
    invite, raw = create_invite(
        world.admin, world.workspace, email="nina@new.test", role=Role.ADMIN
    )
    client = world.client_for("outsider")
    response = client.get(path_of(raw))
    assert response.status_code == 403
    assert b"This invitation is for someone else" in response.content
    assert client.post(path_of(raw)).status_code == 403
    assert access.membership(world.outsider, world.workspace) is None
    with pytest.raises(PermissionDenied):
        accept_invite_as(world.outsider, raw)


def test_reinvited_deactivated_member_is_reactivated(world):
    membership = access.membership(world.member, world.workspace)
    membership.deactivated_at = timezone.now()
    membership.save()
    invite, raw = create_invite(
        world.owner,
        world.workspace,
        email=world.member.email,
        role=Role.GUEST,
        space_ids=[world.open_space.pk],
    )
    accept_invite_as(world.member, raw)
    membership.refresh_from_db()
    assert membership.deactivated_at is None and membership.role == Role.GUEST


# Accepting: anyone may open a valid link; what they get depends on who they are.
ACCEPT_PAGE = by_role(403, 403, 403, 403, 403, 200)


@pytest.mark.parametrize("role", ROLES)
def test_accept_page_matrix(world, role):
    invite, raw = create_invite(
        world.owner,
        world.workspace,
        email="nina@new.test",
        role=Role.GUEST,
        space_ids=[world.private_space.pk],
    )
    response = world.client_for(role).get(path_of(raw))
    assert response.status_code == ACCEPT_PAGE[role]
    assert b"Leadership" not in response.content
    assert world.client_for(role).get("/invite/wrong/").status_code == 404


def test_accept_is_rate_limited(world, settings):
    settings.RATELIMIT_ENABLE = True
    cache.clear()
    invite, raw = create_invite(
        world.owner, world.workspace, email="nina@new.test", role=Role.MEMBER
    )
    client = Client()
    for _ in range(10):
        assert client.post(path_of(raw), {**NEW, "password": "x"}).status_code == 400
    response = client.post(path_of(raw), NEW)
    assert response.status_code == 429
    assert b"Too many attempts, try again in a few minutes" in response.content
    assert not User.objects.filter(email="nina@new.test").exists()
    cache.clear()


def test_invite_email_html_is_escaped(world):
    world.workspace.name = "<b>Acme</b>"
    world.workspace.save()
    create_invite(world.owner, world.workspace, email="nina@new.test", role=Role.MEMBER)
    html = mail.outbox[0].alternatives[0][0]
    assert "<b>Acme</b>" not in html and "&lt;b&gt;Acme&lt;/b&gt;" in html
    assert re.search(r"/invite/[\w-]+/", mail.outbox[0].body)
