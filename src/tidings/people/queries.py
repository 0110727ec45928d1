"""Read side of a workspace's people: the people page and invitation links."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from tidings.accounts.models import User, hash_token
from tidings.threads import access
from tidings.workspaces.models import Invite, Membership, Role, Workspace
from tidings.workspaces.queries import active_members

if TYPE_CHECKING:
    from tidings.threads.models import Space


def _viewer_membership(viewer: User | None, workspace: Workspace) -> Membership:
    mine = access.membership(viewer, workspace)
    if mine is None:
        raise Http404("No such workspace.")
    return mine


def people_for(viewer: User | None, workspace: Workspace) -> list[Membership]:
    """The workspace's active members as the viewer may see them (see `member_rows`).
    Guests do not see the member list (PermissionDenied); non-members get 404."""
    mine = _viewer_membership(viewer, workspace)
    if not access.can_see_people(viewer, workspace):
        raise PermissionDenied("Guests do not see the member list.")
    return member_rows(mine)


def pending_invites_for(viewer: User | None, workspace: Workspace) -> list[Invite]:
    """Open invitations (see `open_invites`), for owners and admins only (PermissionDenied for
    other members); non-members get 404."""
    # `is_admin` is what `access.can_invite` asks, read off the membership already fetched.
    if not _viewer_membership(viewer, workspace).is_admin:
        raise PermissionDenied("Only owners and admins manage people in this workspace.")
    return open_invites(viewer, workspace)


def member_rows(viewer: Membership) -> list[Membership]:
    """Active members for the people page, each marked with what the viewer may do to them.

    `can_manage`: owners and admins manage others, but only owners touch owners.
    `role_choices`: only owners hand out the owner role.
    """
    rows = active_members(viewer.workspace_id)
    for row in rows:
        row.can_manage = (
            viewer.is_admin and row.pk != viewer.pk and access.may_handle_role(viewer, row.role)
        )
        row.role_choices = [
            (value, label) for value, label in Role.choices if access.may_handle_role(viewer, value)
        ]
    return rows


def invitable_spaces(viewer: User | None, workspace: Workspace) -> QuerySet[Space]:
    """Spaces the viewer may add an invited guest to: the ones they see, not archived."""
    return access.visible_spaces(viewer, workspace).filter(archived_at=None).order_by("name")


def shown_invite_spaces(viewer: User | None, invite: Invite) -> list[Space]:
    """The invitation's spaces that the viewer can see (never the others)."""
    visible = access.visible_spaces(viewer, invite.workspace).values("pk")
    return list(invite.spaces.filter(pk__in=visible).order_by("name"))


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
