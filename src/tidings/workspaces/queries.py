"""Read side of workspaces: the workspaces a person belongs to, and their members."""

from __future__ import annotations

from django.http import Http404

from tidings.accounts.models import User
from tidings.workspaces import access
from tidings.workspaces.models import Membership, Role, Workspace

ROLE_ORDER = {Role.OWNER: 0, Role.ADMIN: 1, Role.MEMBER: 2, Role.GUEST: 3}


def workspace_for(person: User | None, slug: str) -> Workspace:
    """The workspace with this slug if the person is an active member of it; 404 otherwise."""
    workspace = access.visible_workspaces(person).filter(slug=slug).first()
    if workspace is None:
        raise Http404("No such workspace.")
    return workspace


def workspace_by_id(person: User | None, workspace_id: int) -> Workspace:
    """A workspace the person is an active member of, by id; 404 for every other id."""
    workspace = access.visible_workspaces(person).filter(pk=workspace_id).first()
    if workspace is None:
        raise Http404("No such workspace.")
    return workspace


def active_members(workspace: Workspace | int) -> list[Membership]:
    """Active members, owners first, then by name."""
    members = Membership.objects.filter(
        workspace=workspace, deactivated_at=None, person__is_active=True
    ).select_related("person")
    return sorted(members, key=lambda m: (ROLE_ORDER.get(m.role, 9), m.person.name.lower()))


def my_workspaces(person: User | None) -> list[tuple[Workspace, str]]:
    """The workspaces the person is an active member of, by name, each with their role."""
    roles = dict(access.memberships(person).values_list("workspace_id", "role"))
    return [(ws, roles[ws.pk]) for ws in access.visible_workspaces(person).order_by("name")]
