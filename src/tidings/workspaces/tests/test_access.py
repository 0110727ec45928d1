import pytest

from conftest import ROLES
from tidings.access import threads as access

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


@pytest.mark.parametrize("archived", [False, True])
@pytest.mark.parametrize("role", ["owner", "admin", "member", "guest"])
def test_thread_rights_agree_with_the_single_checks(world, role, archived):
    from django.utils import timezone

    from tidings.threads.models import Thread

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


def test_the_batch_filter_agrees_with_visible_spaces_for_everyone(world):
    """`seen_by_their_person` (one query for many people) keeps exactly what `visible_spaces`
    shows each of them, including the cases at the edges of the rules."""
    from django.utils import timezone

    from tidings.accounts.models import User
    from tidings.inbox.models import InboxItem
    from tidings.threads.models import Space, SpaceMember, Thread, Visibility
    from tidings.workspaces.models import Workspace

    other = Workspace.objects.create(name="Elsewhere", slug="elsewhere")
    stray = Space.objects.create(workspace=other, name="Stray", slug="stray")
    # On a space's list without being in its workspace: still not visible.
    SpaceMember.objects.create(space=stray, person=world.member)
    guest_room = Space.objects.create(
        workspace=world.workspace, name="Guests", slug="guests", visibility=Visibility.PRIVATE
    )
    SpaceMember.objects.create(space=guest_room, person=world.guest)
    gone = User.objects.create(email="gone@example.com", name="Gone", is_active=False)
    world.workspace.memberships.create(person=gone)
    left = User.objects.create(email="left@example.com", name="Left")
    world.workspace.memberships.create(person=left, deactivated_at=timezone.now())
    SpaceMember.objects.create(space=world.private_space, person=left)

    people = [world.person(role) for role in ROLES if role != "anonymous"] + [gone, left]
    spaces = list(Space.objects.all())
    for space in spaces:
        thread = Thread.objects.create(space=space, author=world.owner, title=space.name)
        InboxItem.objects.bulk_create(
            [InboxItem(person=person, thread=thread, reason="new_thread") for person in people]
        )
    kept = set(
        InboxItem.objects.filter(
            access.seen_by_their_person("person", "thread__space")
        ).values_list("person_id", "thread__space_id")
    )
    expected = {
        (person.pk, space_id)
        for person in people
        for space_id in access.visible_spaces(person).values_list("pk", flat=True)
    }
    assert kept == expected
    assert len(expected) > 5
