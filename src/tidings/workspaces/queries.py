"""Read side of workspaces: the people page and invitation links."""

from __future__ import annotations

from django.http import Http404

from tidings.accounts.models import User, hash_token
from tidings.workspaces import access
from tidings.workspaces.models import Invite, Membership, Role, Workspace

ROLE_ORDER = {Role.OWNER: 0, Role.ADMIN: 1, Role.MEMBER: 2, Role.GUEST: 3}


def workspace_for(person: User | None, slug: str) -> Workspace:
    """The workspace with this slug if the person is an active member of it; 404 otherwise."""
    workspace = access.visible_workspaces(person).filter(slug=slug).first()
    if workspace is None:
        raise Http404("No such workspace.")
    return workspace


def active_members(workspace: Workspace) -> list[Membership]:
    """Active members, owners first, then by name."""
    members = Membership.objects.filter(
        workspace=workspace, deactivated_at=None, person__is_active=True
    ).select_related("person")
    return sorted(members, key=lambda m: (ROLE_ORDER.get(m.role, 9), m.person.name.lower()))


def member_rows(viewer: Membership) -> list[Membership]:
    """Active members for the people page, each marked with what the viewer may do to them.

    `can_manage`: owners and admins manage others, but only owners touch owners.
    `role_choices`: only owners hand out the owner role.
    """
    is_owner = viewer.role == Role.OWNER
    rows = active_members(viewer.workspace)
    for row in rows:
        row.can_manage = (
            viewer.is_admin and row.pk != viewer.pk and (row.role != Role.OWNER or is_owner)
        )
        row.role_choices = [
            (value, label) for value, label in Role.choices if value != Role.OWNER or is_owner
        ]
    return rows


def open_invites(viewer: User, workspace: Workspace) -> list[Invite]:
    """Invitations not accepted or revoked yet, expired ones included (they can be resent).

    Each has `shown_spaces`: the guest's spaces that the viewer can see (never the others).
    """
    visible = set(access.visible_spaces(viewer, workspace).values_list("pk", flat=True))
    invites = list(
        Invite.objects.filter(workspace=workspace, accepted_at=None, revoked_at=None)
        .select_related("invited_by")
        .prefetch_related("spaces")
    )
    for invite in invites:
        invite.shown_spaces = [space for space in invite.spaces.all() if space.pk in visible]
    return invites


def usable_invite(raw_token: str) -> Invite | None:
    """The invitation a link stands for, if it can still be accepted."""
    if not raw_token:
        return None
    invite = (
        Invite.objects.select_related("workspace", "invited_by")
        .filter(token_hash=hash_token(raw_token))
        .first()
    )
    return invite if invite is not None and invite.is_usable else None
