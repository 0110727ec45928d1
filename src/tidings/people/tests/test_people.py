import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from conftest import ROLES, by_role
from tidings.people.actions import create_invite, deactivate_member
from tidings.workspaces import access
from tidings.workspaces.models import Invite, Membership, Role

PEOPLE = "/w/acme/people/"

# Guests see only their spaces, not the member list; outsiders get 404 (nothing leaks).
PEOPLE_PAGE = by_role(200, 200, 200, 403, 404, 302)


def managers_only(ok: int) -> dict[str, int]:
    """`ok` for owners and admins, 403 for members and guests; outsiders get 404 and
    anonymous people are sent to sign in."""
    return by_role(ok, ok, 403, 403, 404, 302)


MANAGES = {"owner": True, "admin": True, "member": False}


def member_id(world, role):
    return access.membership(world.person(role), world.workspace).pk


@pytest.mark.parametrize("role", ROLES)
def test_people_page_matrix(world, role):
    response = world.client_for(role).get(PEOPLE)
    assert response.status_code == PEOPLE_PAGE[role]
    page = response.content.decode()
    if role != "outsider":  # the outsider's own name is in their top bar
        assert "Otto Outsider" not in page
    if role == "anonymous":
        assert response.url.startswith("/sign-in?next=")
    if response.status_code != 200:
        assert "Mia Member" not in page
        return
    for name in ("Olivia Owner", "Adam Admin", "Mia Member", "Gus Guest"):
        assert name in page
    assert ("Invite someone" in page) is MANAGES[role]


INVITE_POST = managers_only(201)


@pytest.mark.parametrize("role", ROLES)
def test_invite_post_matrix(world, role):
    response = world.client_for(role).post(
        PEOPLE + "invite", {"email": "nina@new.test", "role": "member"}
    )
    assert response.status_code == INVITE_POST[role]
    created = Invite.objects.filter(email="nina@new.test").exists()
    assert created is (INVITE_POST[role] == 201)
    if created:
        page = response.content.decode()
        assert "http://127.0.0.1:8000/invite/" in page or "/invite/" in page
        assert "Invitation emailed to nina@new.test" in page
        assert len(mail.outbox) == 1
        # The raw link is shown once: the next page view does not contain it.
        link = page.split('id="new-link" type="text" readonly value="', 1)[1].split('"')[0]
        assert link not in world.client_for(role).get(PEOPLE).content.decode()
        assert link in mail.outbox[0].body


def test_invite_post_with_bad_input_shows_errors(world):
    client = world.client_for("admin")
    response = client.post(PEOPLE + "invite", {"email": "nope", "role": "member"})
    assert response.status_code == 400
    assert b"Enter a valid email address" in response.content
    response = client.post(PEOPLE + "invite", {"email": "c@client.test", "role": "guest"})
    assert response.status_code == 400
    assert b"Pick at least one space" in response.content
    response = client.post(PEOPLE + "invite", {"email": "c@client.test", "role": "owner"})
    assert response.status_code == 400
    response = client.post(
        PEOPLE + "invite", {"email": "c@client.test", "role": "guest", "spaces": ["99999"]}
    )
    assert response.status_code == 400
    assert b"Pick spaces from the list" in response.content
    assert not Invite.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_manage_invite_matrix(world, role):
    invite, _ = create_invite(world.owner, world.workspace, email="nina@new.test", role=Role.MEMBER)
    expected = managers_only(200)[role]
    client = world.client_for(role)
    response = client.post(f"{PEOPLE}invites/{invite.pk}/resend")
    assert response.status_code == expected
    response = client.post(f"{PEOPLE}invites/{invite.pk}/revoke")
    assert response.status_code == (302 if expected == 200 else expected)
    invite.refresh_from_db()
    assert (invite.revoked_at is not None) is (expected == 200)


@pytest.mark.parametrize("role", ROLES)
def test_change_role_matrix(world, role):
    target = member_id(world, "member")
    response = world.client_for(role).post(f"{PEOPLE}members/{target}/role", {"role": "admin"})
    expected = managers_only(302)[role]
    assert response.status_code == expected
    now_admin = Membership.objects.get(pk=target).role == Role.ADMIN
    assert now_admin is (role in ("owner", "admin"))


@pytest.mark.parametrize("role", ROLES)
def test_deactivate_matrix(world, role):
    target = member_id(world, "member")
    response = world.client_for(role).post(f"{PEOPLE}members/{target}/deactivate")
    expected = managers_only(302)[role]
    assert response.status_code == expected
    removed = Membership.objects.get(pk=target).deactivated_at is not None
    assert removed is (role in ("owner", "admin"))


def test_role_change_refusals_are_explained_on_the_page(world):
    client = world.client_for("owner")
    response = client.post(
        f"{PEOPLE}members/{member_id(world, 'owner')}/role", {"role": "admin"}, follow=True
    )
    assert b"A workspace needs at least one owner" in response.content
    response = client.post(
        f"{PEOPLE}members/{member_id(world, 'member')}/role", {"role": "nonsense"}, follow=True
    )
    assert b"Pick owner, admin, member or guest" in response.content


def test_deactivation_rules(world):
    ws = world.workspace
    owner = member_id(world, "owner")
    with pytest.raises(PermissionDenied):
        deactivate_member(world.admin, ws, owner)
    with pytest.raises(ValidationError):
        deactivate_member(world.owner, ws, owner)
    with pytest.raises(ValidationError):
        deactivate_member(world.admin, ws, member_id(world, "admin"))
    assert access.membership(world.owner, ws) is not None
