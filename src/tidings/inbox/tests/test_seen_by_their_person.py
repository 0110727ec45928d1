"""The batch access filter, used where one query serves many people (inbox rows), keeps
exactly the spaces each person may see."""

from django.utils import timezone

from conftest import ROLES
from tidings.accounts.models import User
from tidings.inbox.models import InboxItem
from tidings.threads import access
from tidings.threads.models import Space, SpaceMember, Thread, Visibility
from tidings.workspaces.models import Workspace


def test_the_batch_filter_agrees_with_visible_spaces_for_everyone(world):
    """`seen_by_their_person` (one query for many people) keeps exactly what `visible_spaces`
    shows each of them, including the cases at the edges of the rules."""
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
