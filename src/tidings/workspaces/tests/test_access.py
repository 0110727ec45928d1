import pytest

from conftest import ROLES
from tidings.workspaces import access

# Who sees which space in the standard world.
SEES_OPEN = {
    "owner": True,
    "admin": True,
    "member": True,
    "guest": True,
    "outsider": False,
    "anonymous": False,
}
SEES_PRIVATE = {
    "owner": True,
    "admin": True,
    "member": False,
    "guest": False,
    "outsider": False,
    "anonymous": False,
}


@pytest.mark.parametrize("role", ROLES)
def test_space_visibility(world, role):
    person = world.person(role)
    assert access.can_view_space(person, world.open_space) is SEES_OPEN[role]
    assert access.can_view_space(person, world.private_space) is SEES_PRIVATE[role]


def test_guest_sees_only_spaces_they_were_added_to(world):
    from tidings.threads.models import Space

    Space.objects.create(workspace=world.workspace, name="Engineering", slug="eng")
    names = set(access.visible_spaces(world.guest).values_list("name", flat=True))
    assert names == {"General"}
    assert "Engineering" in set(access.visible_spaces(world.member).values_list("name", flat=True))


def test_mentionable_people_follow_space_visibility(world):
    private = set(access.mentionable_people(world.private_space).values_list("name", flat=True))
    assert private == {"Olivia Owner", "Adam Admin"}
    public = set(access.mentionable_people(world.open_space).values_list("name", flat=True))
    assert public == {"Olivia Owner", "Adam Admin", "Mia Member", "Gus Guest"}


def test_deactivated_member_sees_nothing(world):
    from django.utils import timezone

    world.member.memberships.update(deactivated_at=timezone.now())
    assert not access.visible_spaces(world.member).exists()
