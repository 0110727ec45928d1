"""State changes of a workspace's people: invitations, roles and removal."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone
from django_ratelimit.core import is_ratelimited
from django_ratelimit.exceptions import Ratelimited

from tidings.accounts.models import AccessToken, User, hash_token, header_safe_name
from tidings.events import publish
from tidings.threads import access
from tidings.workspaces.actions import time_zone_and_password_errors
from tidings.workspaces.models import Invite, Membership, Role, Workspace

# --- Invitations -------------------------------------------------------------------------

INVITE_LIFETIME = timedelta(days=7)
INVITABLE_ROLES = (Role.ADMIN, Role.MEMBER, Role.GUEST)
# Invitation emails (new and resent) each inviter may send, and each address may receive.
INVITE_RATE_PER_INVITER = "30/h"
INVITE_RATE_PER_ADDRESS = "5/d"


def _count_invitation_email(inviter: User, email: str) -> None:
    """Count one invitation email against both limits; Ratelimited (429) when one is spent, so
    that nobody turns invitations into a way of mailing strangers or flooding one inbox."""
    for group, value, rate, whom, period in [
        ("invite-inviter", str(inviter.pk), INVITE_RATE_PER_INVITER, "You have sent", "an hour"),
        ("invite-address", email, INVITE_RATE_PER_ADDRESS, f"{email} has been sent", "a day"),
    ]:
        if is_ratelimited(
            None, group=group, key=lambda _group, _request: value, rate=rate, increment=True
        ):
            raise Ratelimited(
                f"{whom} as many invitations as are allowed in {period}. Try again in {period}."
            )


def invite_link(raw_token: str) -> str:
    return f"{settings.SITE_URL}/invite/{raw_token}/"


def _require_admin(actor: User, workspace: Workspace) -> Membership:
    """The actor's membership when they manage people here; 404 if they cannot see it at all."""
    found = access.membership(actor, workspace)
    if found is None:
        raise Http404("No such workspace.")
    if not access.can_invite(actor, workspace):
        raise PermissionDenied("Only owners and admins manage people in this workspace.")
    return found


def _send_invite_email(invite: Invite, raw_token: str) -> None:
    context = {
        "invite": invite,
        "workspace": invite.workspace,
        "inviter": invite.invited_by,
        "link": invite_link(raw_token),
        "site_name": "Tidings",
    }
    inviter = header_safe_name(invite.invited_by.name) if invite.invited_by else "Someone"
    send_mail(
        subject=f"{inviter} invited you to {invite.workspace.name} on Tidings",
        message=render_to_string("people/email/invite.txt", context),
        from_email=None,
        recipient_list=[invite.email],
        html_message=render_to_string("people/email/invite.html", context),
    )


def create_invite(
    inviter: User,
    workspace: Workspace,
    *,
    email: str,
    role: str,
    space_ids: list[int] | tuple[int, ...] = (),
) -> tuple[Invite, str]:
    """Invite an email address into the workspace with a role, and email them the link.

    Only owners and admins invite; the owner role is never handed out by invitation. Guests
    join the chosen spaces, which must be spaces the inviter can see. Only the token's hash is
    stored; the raw token is returned once, for showing the link right away.
    """
    _require_admin(inviter, workspace)
    email = User.objects.normalize_email(email or "").strip().lower()
    errors: dict[str, list[str]] = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = ["Enter a valid email address, like name@example.com."]
    if role not in INVITABLE_ROLES:
        errors["role"] = ["Pick admin, member or guest."]
    spaces = []
    if role == Role.GUEST:
        visible = access.visible_spaces(inviter, workspace).filter(archived_at=None)
        spaces = list(visible.filter(pk__in=list(space_ids)))
        if len(spaces) != len(set(space_ids)):
            errors["spaces"] = ["Pick spaces from the list."]
        elif not spaces:
            errors["spaces"] = ["Pick at least one space: guests see only the spaces they join."]
    if "email" not in errors:
        if (
            Membership.objects.filter(workspace=workspace, person__email=email)
            .filter(deactivated_at=None)
            .exists()
        ):
            errors["email"] = [f"{email} is already a member of {workspace.name}."]
        elif _pending_invites(workspace).filter(email=email).exists():
            errors["email"] = [
                f"{email} already has a pending invitation. Use “Resend” to send a new link."
            ]
    if errors:
        raise ValidationError(errors)
    _count_invitation_email(inviter, email)
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        invite = Invite.objects.create(
            workspace=workspace,
            email=email,
            role=role,
            token_hash=hash_token(raw),
            invited_by=inviter,
            expires_at=timezone.now() + INVITE_LIFETIME,
        )
        invite.spaces.set(spaces)
    _send_invite_email(invite, raw)
    return invite, raw


def _pending_invites(workspace: Workspace):
    return Invite.objects.filter(
        workspace=workspace, accepted_at=None, revoked_at=None, expires_at__gt=timezone.now()
    )


def _manageable_invite(actor: User, workspace: Workspace, invite_id: int) -> Invite:
    _require_admin(actor, workspace)
    invite = (
        Invite.objects.select_for_update()
        .filter(pk=invite_id, workspace=workspace, accepted_at=None, revoked_at=None)
        .first()
    )
    if invite is None:
        raise Http404("No such invitation.")
    return invite


def resend_invite(actor: User, workspace: Workspace, invite_id: int) -> tuple[Invite, str]:
    """Give a pending (or expired) invitation a new link valid for 7 more days, and email it.

    The previous link stops working.
    """
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        invite = _manageable_invite(actor, workspace, invite_id)
        _count_invitation_email(actor, invite.email)
        invite.token_hash = hash_token(raw)
        invite.expires_at = timezone.now() + INVITE_LIFETIME
        invite.invited_by = actor
        invite.save(update_fields=["token_hash", "expires_at", "invited_by"])
    _send_invite_email(invite, raw)
    return invite, raw


@transaction.atomic
def revoke_invite(actor: User, workspace: Workspace, invite_id: int) -> Invite:
    """Withdraw an invitation that was not accepted yet; its link stops working."""
    invite = _manageable_invite(actor, workspace, invite_id)
    invite.revoked_at = timezone.now()
    invite.save(update_fields=["revoked_at"])
    return invite


def _lock_usable_invite(raw_token: str) -> Invite:
    invite = (
        Invite.objects.select_for_update()
        .select_related("workspace")
        .filter(token_hash=hash_token(raw_token))
        .first()
    )
    if invite is None or not invite.is_usable:
        raise Http404("This invitation link is not valid.")
    return invite


def _join(person: User, invite: Invite) -> Membership:
    """Make the person an active member with the invited role, and add guests to their spaces."""
    found = Membership.objects.filter(workspace=invite.workspace, person=person).first()
    if found is None:
        found = Membership.objects.create(
            workspace=invite.workspace, person=person, role=invite.role
        )
    elif found.deactivated_at is not None:
        _forget_access(person, invite.workspace)
        found.deactivated_at = None
        found.role = invite.role
        found.joined_at = timezone.now()
        found.save(update_fields=["deactivated_at", "role", "joined_at"])
    if invite.role == Role.GUEST:
        publish(
            "guest_joined",
            person_id=person.pk,
            space_ids=list(
                invite.spaces.filter(workspace=invite.workspace).values_list("pk", flat=True)
            ),
        )
    invite.accepted_at = timezone.now()
    invite.save(update_fields=["accepted_at"])
    return found


@transaction.atomic
def accept_invite(
    raw_token: str, *, name: str, password: str, time_zone: str = "UTC"
) -> tuple[User, Workspace]:
    """Create the invited person's account and membership. Works once per link.

    Http404 when the link is unknown, expired, revoked or used; ValidationError for bad input
    or when an account with the invited email exists (that person signs in instead).
    """
    invite = _lock_usable_invite(raw_token)
    if User.objects.filter(email=invite.email).exists():
        raise ValidationError(
            "An account with this email already exists. Sign in to accept the invitation."
        )
    name = name.strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Enter your name."]
    errors = (
        time_zone_and_password_errors(time_zone, password, User(email=invite.email, name=name))
        | errors
    )
    if errors:
        raise ValidationError(errors)
    person = User.objects.create_user(invite.email, password, name=name[:120], time_zone=time_zone)
    _join(person, invite)
    return person, invite.workspace


@transaction.atomic
def accept_invite_as(person: User, raw_token: str) -> Workspace:
    """Join the workspace with an existing, signed-in account whose email was invited.

    Http404 for unusable links; PermissionDenied when the invitation is for another email.
    """
    invite = _lock_usable_invite(raw_token)
    if not person.is_active or person.email.lower() != invite.email:
        raise PermissionDenied(f"This invitation is for {invite.email}.")
    _join(person, invite)
    return invite.workspace


# --- Roles and deactivation ---------------------------------------------------------------


def _lock_member(workspace: Workspace, membership_id: int) -> Membership:
    found = (
        Membership.objects.select_for_update()
        .select_related("person")
        .filter(pk=membership_id, workspace=workspace, deactivated_at=None)
        .first()
    )
    if found is None:
        raise Http404("No such member.")
    return found


def _other_active_owners(workspace: Workspace, membership: Membership) -> int:
    owners = Membership.objects.select_for_update().filter(
        workspace=workspace, role=Role.OWNER, deactivated_at=None
    )
    return len([m for m in owners if m.pk != membership.pk])


@transaction.atomic
def change_role(actor: User, workspace: Workspace, membership_id: int, role: str) -> Membership:
    """Change a member's role.

    Owners and admins change roles; only an owner gives or takes the owner role, so an admin
    can never demote an owner; the workspace always keeps at least one active owner.
    """
    mine = _require_admin(actor, workspace)
    if role not in Role.values:
        raise ValidationError("Pick owner, admin, member or guest.")
    target = _lock_member(workspace, membership_id)
    if target.role == role:
        return target
    if not (access.may_handle_role(mine, target.role) and access.may_handle_role(mine, role)):
        raise PermissionDenied("Only an owner can give or take the owner role.")
    if target.role == Role.OWNER and not _other_active_owners(workspace, target):
        raise ValidationError(
            "A workspace needs at least one owner. Make someone else owner first."
        )
    target.role = role
    target.save(update_fields=["role"])
    return target


@transaction.atomic
def deactivate_member(actor: User, workspace: Workspace, membership_id: int) -> Membership:
    """Remove a person from the workspace: from now on they see nothing in it.

    Admins cannot remove owners; nobody removes themselves here; the last owner stays.
    Their threads and replies stay, under their name.
    """
    mine = _require_admin(actor, workspace)
    target = _lock_member(workspace, membership_id)
    if target.pk == mine.pk:
        raise ValidationError("You cannot remove yourself. Ask another owner or admin.")
    if not access.may_handle_role(mine, target.role):
        raise PermissionDenied("Only an owner can remove an owner.")
    if target.role == Role.OWNER and not _other_active_owners(workspace, target):
        raise ValidationError("A workspace needs at least one owner.")
    target.deactivated_at = timezone.now()
    target.save(update_fields=["deactivated_at"])
    _forget_access(target.person, workspace)
    # Tokens belong to the person, not to one workspace: a token that outlived its owner's
    # removal would open the workspace again on a re-invitation, so all of them stop now.
    AccessToken.objects.filter(user=target.person, revoked_at=None).update(
        revoked_at=timezone.now()
    )
    _pending_invites(workspace).filter(email=target.person.email.lower()).update(
        revoked_at=timezone.now()
    )
    return target


def _forget_access(person: User, workspace: Workspace) -> None:
    """Everything a person held in a workspace beside their membership: private spaces,
    levels, follows and posts waiting to be sent. Emptied on removal, and again when a removed
    person joins anew (people removed before this was done kept theirs)."""
    # Removal must take effect in the same transaction: the listeners run at once.
    publish("member_removed", person_id=person.pk, workspace_id=workspace.pk)
