"""Who may list a workspace's people and its open invitations: one query each, shared by the
People page and the API."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from tidings.people import actions, queries
from tidings.workspaces.models import Invite


def test_people_for(world):
    names = [row.person.name for row in queries.people_for(world.member, world.workspace)]
    assert names == ["Olivia Owner", "Adam Admin", "Mia Member", "Gus Guest"]
    with pytest.raises(PermissionDenied):
        queries.people_for(world.guest, world.workspace)
    for person in (world.outsider, None):
        with pytest.raises(Http404):
            queries.people_for(person, world.workspace)


def test_pending_invites_for(world):
    actions.create_invite(
        world.owner,
        world.workspace,
        email="new@client.test",
        role="guest",
        space_ids=[world.private_space.pk],
    )
    invites = queries.pending_invites_for(world.admin, world.workspace)
    assert [i.email for i in invites] == ["new@client.test"]
    assert [s.name for s in invites[0].shown_spaces] == ["Leadership"]
    for person in (world.member, world.guest):
        with pytest.raises(PermissionDenied):
            queries.pending_invites_for(person, world.workspace)
    for person in (world.outsider, None):
        with pytest.raises(Http404):
            queries.pending_invites_for(person, world.workspace)


def test_invite_spaces_are_shown_only_where_the_viewer_can_see(world):
    actions.create_invite(
        world.owner, world.workspace, email="new@client.test", role="guest",
        space_ids=[world.private_space.pk, world.open_space.pk],
    )  # fmt: skip
    invite = Invite.objects.get()
    assert [s.name for s in queries.shown_invite_spaces(world.owner, invite)] == [
        "General",
        "Leadership",
    ]
    assert [s.name for s in queries.shown_invite_spaces(world.member, invite)] == ["General"]
