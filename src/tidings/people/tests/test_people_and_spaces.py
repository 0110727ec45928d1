"""What a person's place in the workspace means for spaces: a guest is invited only into
spaces the inviter can see (and the form lists only those), a guest made a member sees the open
spaces, and someone deactivated sees none."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from tidings.people.actions import accept_invite, change_role, create_invite, deactivate_member
from tidings.people.tests.test_invites import NEW
from tidings.people.tests.test_people import PEOPLE, member_id
from tidings.threads import access
from tidings.threads.models import Space, SpaceMember
from tidings.workspaces.models import Membership, Role


def test_guest_invite_needs_spaces_the_inviter_can_see(world):
    secret = Space.objects.create(
        workspace=world.workspace, name="Board", slug="board", visibility="private"
    )
    SpaceMember.objects.create(space=secret, person=world.owner)
    with pytest.raises(ValidationError) as error:
        create_invite(world.admin, world.workspace, email="c@client.test", role=Role.GUEST)
    assert "at least one space" in error.value.message_dict["spaces"][0]
    with pytest.raises(ValidationError):
        create_invite(
            world.admin,
            world.workspace,
            email="c@client.test",
            role=Role.GUEST,
            space_ids=[world.open_space.pk, secret.pk],
        )
    invite, raw = create_invite(
        world.admin,
        world.workspace,
        email="c@client.test",
        role=Role.GUEST,
        space_ids=[world.open_space.pk],
    )
    person, workspace = accept_invite(raw, **NEW)
    assert Membership.objects.get(person=person).role == Role.GUEST
    assert set(access.visible_spaces(person)) == {world.open_space}


def test_invite_form_lists_only_spaces_the_inviter_can_see(world):
    board = Space.objects.create(
        workspace=world.workspace, name="Board Room", slug="board", visibility="private"
    )
    SpaceMember.objects.create(space=board, person=world.owner)
    admin_page = world.client_for("admin").get(PEOPLE).content.decode()
    assert "General" in admin_page and "Leadership" in admin_page
    assert "Board Room" not in admin_page
    owner_page = world.client_for("owner").get(PEOPLE).content.decode()
    assert "Board Room" in owner_page
    # A guest invited by the owner into the board room: the admin does not see that space named.
    create_invite(
        world.owner,
        world.workspace,
        email="c@client.test",
        role=Role.GUEST,
        space_ids=[board.pk, world.open_space.pk],
    )
    admin_page = world.client_for("admin").get(PEOPLE).content.decode()
    assert "c@client.test" in admin_page and "joins General" in admin_page
    assert "Board Room" not in admin_page
    # A member sees neither pending invitations nor the invite form.
    member_page = world.client_for("member").get(PEOPLE).content.decode()
    assert "c@client.test" not in member_page and "Leadership" not in member_page


def test_role_change_rules(world):
    ws = world.workspace
    owner, admin = member_id(world, "owner"), member_id(world, "admin")
    guest = member_id(world, "guest")
    # An admin can neither demote an owner nor make anyone owner.
    with pytest.raises(PermissionDenied):
        change_role(world.admin, ws, owner, Role.MEMBER)
    with pytest.raises(PermissionDenied):
        change_role(world.admin, ws, guest, Role.OWNER)
    # The last owner cannot step down.
    with pytest.raises(ValidationError) as error:
        change_role(world.owner, ws, owner, Role.ADMIN)
    assert "at least one owner" in error.value.messages[0]
    with pytest.raises(ValidationError):
        change_role(world.owner, ws, guest, "emperor")
    # Owners hand out the owner role; then the first owner may step down.
    change_role(world.owner, ws, admin, Role.OWNER)
    change_role(world.owner, ws, owner, Role.MEMBER)
    assert Membership.objects.get(pk=owner).role == Role.MEMBER
    assert Membership.objects.get(pk=admin).role == Role.OWNER
    # Guests promoted to members see open spaces.
    change_role(world.admin, ws, guest, Role.MEMBER)
    assert access.can_view_space(world.guest, world.open_space)
    with pytest.raises(Http404):
        change_role(world.outsider, ws, guest, Role.ADMIN)
    other = Membership.objects.get(person=world.outsider)
    with pytest.raises(Http404):
        change_role(world.admin, ws, other.pk, Role.MEMBER)


def test_deactivated_member_loses_access(world):
    member_client = world.client_for("member")
    assert member_client.get(PEOPLE).status_code == 200
    deactivate_member(world.admin, world.workspace, member_id(world, "member"))
    assert member_client.get(PEOPLE).status_code == 404
    assert member_client.get("/w/acme/").status_code == 404
    assert not access.visible_spaces(world.member).exists()
    page = world.client_for("admin").get(PEOPLE).content.decode()
    assert "Mia Member" not in page
    with pytest.raises(Http404):
        deactivate_member(world.admin, world.workspace, member_id(world, "guest") + 999)
