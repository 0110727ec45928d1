"""API for a workspace's people: members, their roles, and invitations."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from tidings.accounts.api import PersonOut, person_out
from tidings.accounts.models import TokenScope
from tidings.accounts.token_auth import needs
from tidings.apikit.errors import ErrorOut
from tidings.bounds import Id
from tidings.people import actions, queries
from tidings.workspaces.models import Invite, Membership, Role
from tidings.workspaces.queries import workspace_by_id

# Under the workspaces tag: every path here is a workspace's (/workspaces/{id}/...).
router = Router(tags=["workspaces"])


class MemberOut(Schema):
    id: int = Field(..., description="The membership id (used to change the role).")
    person: PersonOut
    email: str
    role: Role
    joined_at: datetime


class InviteIn(Schema):
    email: str = Field(..., max_length=320)
    role: Role
    space_ids: list[Id] = Field(default_factory=list, max_length=500)


class InviteOut(Schema):
    id: int
    email: str
    role: Role
    space_ids: list[int]
    created_at: datetime
    expires_at: datetime
    link: str | None = Field(None, description="The invitation link, shown only when created.")


class RoleIn(Schema):
    role: Role


def _member_out(membership: Membership) -> MemberOut:
    return MemberOut(
        id=membership.pk,
        person=person_out(membership.person),
        email=membership.person.email,
        role=membership.role,
        joined_at=membership.joined_at,
    )


def _invite_out(invite: Invite, spaces: list, raw: str | None = None) -> InviteOut:
    return InviteOut(
        id=invite.pk,
        email=invite.email,
        role=invite.role,
        space_ids=[space.pk for space in spaces],
        created_at=invite.created_at,
        expires_at=invite.expires_at,
        link=actions.invite_link(raw) if raw else None,
    )


@router.get(
    "/workspaces/{workspace_id}/members",
    response=list[MemberOut],
    summary="People of a workspace (not for guests, as on the People page)",
)
def list_members(request: HttpRequest, workspace_id: int) -> list[MemberOut]:
    workspace = workspace_by_id(request.auth, workspace_id)
    return [_member_out(m) for m in queries.people_for(request.auth, workspace)]


@router.patch(
    "/workspaces/{workspace_id}/members/{membership_id}",
    response=MemberOut,
    auth=needs(TokenScope.ADMIN),
    summary="Change a member's role (owners and admins)",
)
def change_role(
    request: HttpRequest, workspace_id: int, membership_id: int, payload: RoleIn
) -> MemberOut:
    workspace = workspace_by_id(request.auth, workspace_id)
    changed = actions.change_role(request.auth, workspace, membership_id, payload.role.value)
    return _member_out(changed)


@router.delete(
    "/workspaces/{workspace_id}/members/{membership_id}",
    response={204: None},
    auth=needs(TokenScope.ADMIN),
    summary="Remove a person from the workspace (owners and admins)",
)
def deactivate_member(request: HttpRequest, workspace_id: int, membership_id: int) -> Status:
    workspace = workspace_by_id(request.auth, workspace_id)
    actions.deactivate_member(request.auth, workspace, membership_id)
    return Status(204, None)


@router.get(
    "/workspaces/{workspace_id}/invites",
    response=list[InviteOut],
    auth=needs(TokenScope.ADMIN),
    summary="Open invitations (owners and admins)",
)
def list_invites(request: HttpRequest, workspace_id: int) -> list[InviteOut]:
    workspace = workspace_by_id(request.auth, workspace_id)
    invites = queries.pending_invites_for(request.auth, workspace)
    return [_invite_out(invite, invite.shown_spaces) for invite in invites]


@router.post(
    "/workspaces/{workspace_id}/invites",
    response={201: InviteOut, 429: ErrorOut},
    auth=needs(TokenScope.ADMIN),
    summary="Invite someone by email (owners and admins); the link is returned once",
)
def create_invite(request: HttpRequest, workspace_id: int, payload: InviteIn) -> Status:
    workspace = workspace_by_id(request.auth, workspace_id)
    invite, raw = actions.create_invite(
        request.auth,
        workspace,
        email=payload.email,
        role=payload.role.value,
        space_ids=payload.space_ids,
    )
    # The inviter picked these spaces from the ones they can see.
    return Status(201, _invite_out(invite, list(invite.spaces.all()), raw))


@router.post(
    "/workspaces/{workspace_id}/invites/{invite_id}/resend",
    response={200: InviteOut, 429: ErrorOut},
    auth=needs(TokenScope.ADMIN),
    summary="Send a pending invitation again with a new link",
)
def resend_invite(request: HttpRequest, workspace_id: int, invite_id: int) -> InviteOut:
    workspace = workspace_by_id(request.auth, workspace_id)
    invite, raw = actions.resend_invite(request.auth, workspace, invite_id)
    return _invite_out(invite, queries.shown_invite_spaces(request.auth, invite), raw)


@router.delete(
    "/workspaces/{workspace_id}/invites/{invite_id}",
    response={204: None},
    auth=needs(TokenScope.ADMIN),
    summary="Revoke a pending invitation",
)
def revoke_invite(request: HttpRequest, workspace_id: int, invite_id: int) -> Status:
    workspace = workspace_by_id(request.auth, workspace_id)
    actions.revoke_invite(request.auth, workspace, invite_id)
    return Status(204, None)
