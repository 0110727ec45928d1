"""Removing a person from a workspace takes away everything they held in it, and inviting
them again gives exactly what the new invitation names, nothing left from before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import ROLES
from tidings.accounts.actions import create_access_token, person_for_token
from tidings.apikit.testing import ApiClient
from tidings.inbox.models import ScheduleState
from tidings.inbox.send_later import schedule_post
from tidings.people.actions import accept_invite_as, create_invite, deactivate_member
from tidings.threads import access
from tidings.threads import actions as thread_actions
from tidings.threads.models import SpaceMember, SpaceSubscription, ThreadFollow
from tidings.threads.tests.factories import thread_in
from tidings.workspaces.models import Invite, Role


def _api(world, role: str) -> ApiClient:
    person = world.person(role)
    return ApiClient(create_access_token(person, "Tests")[1] if person else None)


def _remove(world, role: str) -> None:
    deactivate_member(
        world.owner, world.workspace, access.membership(world.person(role), world.workspace).pk
    )


def test_removal_takes_spaces_levels_follows_tokens_invites_and_waiting_posts(world):
    admin = world.admin
    thread = thread_in(world.private_space, world.owner)
    thread_actions.follow_thread(admin, thread, True)
    thread_actions.set_space_level(admin, world.private_space, "all")
    _, raw = create_access_token(admin, "Scripts")
    waiting = schedule_post(
        admin,
        space=world.private_space,
        kind="discussion",
        title="Later",
        body="Words for later",
        send_at=(timezone.now() + timedelta(days=1)).astimezone(admin.zone).replace(tzinfo=None),
    )
    Invite.objects.create(
        workspace=world.workspace,
        email=admin.email,
        role=Role.MEMBER,
        token_hash="x" * 64,
        invited_by=world.owner,
        expires_at=timezone.now() + timedelta(days=3),
    )

    _remove(world, "admin")

    assert not SpaceMember.objects.filter(person=admin).exists()
    assert not SpaceSubscription.objects.filter(person=admin).exists()
    assert not ThreadFollow.objects.filter(person=admin).exists()
    assert person_for_token(raw) is None
    waiting.refresh_from_db()
    assert waiting.state == ScheduleState.CANCELLED
    assert not Invite.objects.filter(email=admin.email, revoked_at=None).exists()
    # What others hold stays.
    assert SpaceMember.objects.filter(person=world.owner, space=world.private_space).exists()


@pytest.mark.parametrize("role", [Role.MEMBER, Role.GUEST])
def test_reinvited_person_gets_exactly_the_spaces_of_the_new_invite(world, role):
    admin = world.admin
    _remove(world, "admin")
    spaces = [world.open_space.pk] if role == Role.GUEST else []
    _, raw = create_invite(
        world.owner, world.workspace, email=admin.email, role=role, space_ids=spaces
    )
    accept_invite_as(admin, raw)
    visible = set(access.visible_spaces(admin, world.workspace).values_list("pk", flat=True))
    assert world.private_space.pk not in visible
    assert set(SpaceMember.objects.filter(person=admin).values_list("space_id", flat=True)) == set(
        spaces
    )


def test_people_removed_before_keep_nothing_when_they_come_back(world):
    """Rows a removal left behind in the past (kept with the inactive membership) are dropped
    when the person joins again."""
    membership = access.membership(world.admin, world.workspace)
    membership.deactivated_at = timezone.now()
    membership.save()
    assert SpaceMember.objects.filter(person=world.admin, space=world.private_space).exists()
    _, raw = create_invite(world.owner, world.workspace, email=world.admin.email, role=Role.MEMBER)
    accept_invite_as(world.admin, raw)
    assert not access.can_view_space(world.admin, world.private_space)


@pytest.mark.parametrize("role", ROLES)
def test_space_member_list_shows_only_active_members(world, role):
    """A row left for someone removed never shows them on the list, on the page or in the API."""
    membership = access.membership(world.admin, world.workspace)
    membership.deactivated_at = timezone.now()
    membership.save()
    client = _api(world, role)
    response = client.get(f"/spaces/{world.private_space.pk}/members")
    if role == "owner":
        names = [person["name"] for person in response.json()]
        assert names == ["Olivia Owner"]
        page = world.client_for("owner").get("/w/acme/s/leadership/manage").content.decode()
        assert f'value="{world.admin.pk}" checked' not in page
    else:
        assert response.status_code == (401 if role == "anonymous" else 404)
        assert b"Adam Admin" not in response.content


def test_removed_person_with_an_old_token_is_refused(world):
    _, raw = create_access_token(world.member, "Scripts")
    assert ApiClient(raw).get("/me").status_code == 200
    _remove(world, "member")
    assert ApiClient(raw).get("/me").status_code == 401
