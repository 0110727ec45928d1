"""The access rules of spaces and threads: who sees which space and thread, who can be
mentioned, and rights that agree with the single checks."""

import pytest
from django.utils import timezone

from conftest import ROLES
from tidings.threads import access
from tidings.threads.models import Space, Thread

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
    world.member.memberships.update(deactivated_at=timezone.now())
    assert not access.visible_spaces(world.member).exists()


@pytest.mark.parametrize("archived", [False, True])
@pytest.mark.parametrize("role", ["owner", "admin", "member", "guest"])
def test_thread_rights_agree_with_the_single_checks(world, role, archived):
    person = world.person(role)
    for space in (world.open_space, world.private_space):
        if archived:
            space.archived_at = timezone.now()
            space.save()
        for author in (world.owner, world.guest):
            thread = Thread.objects.create(space=space, author=author, title="t", body="b")
            if not access.visible_threads(person).filter(pk=thread.pk).exists():
                continue  # thread_rights is only asked about threads found visible
            rights = access.thread_rights(person, thread)
            assert rights.is_admin == access.is_workspace_admin(person, space.workspace_id)
            assert rights.can_post == access.can_post_in_space(person, space)
            assert rights.can_resolve == access.can_resolve_thread(person, thread)
