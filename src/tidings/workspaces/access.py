"""Who may see and do what in a workspace: memberships and roles.

Rules:
- Only active members of a workspace see anything in it.
- Owners and admins manage people; only owners make, change or remove owners.
- Members, admins and owners are full members: they create spaces and see the member list;
  guests only meet the people of the spaces they were added to.
- Whatever belongs to someone (a post, a recording) may be changed by that person or an admin.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet

from tidings.accounts.models import User
from tidings.workspaces.models import Membership, Role, Workspace

__all__ = [
    "can_create_space",
    "can_invite",
    "can_see_people",
    "is_active_person",
    "is_author_or_admin",
    "is_full_member",
    "is_workspace_admin",
    "may_handle_role",
    "membership",
    "memberships",
    "visible_workspaces",
]


def is_active_person(person: User | None) -> bool:
    return person is not None and person.is_authenticated and person.is_active


def memberships(person: User | None) -> QuerySet[Membership]:
    if not is_active_person(person):
        return Membership.objects.none()
    return Membership.objects.filter(person=person, deactivated_at=None)


def membership(person: User | None, workspace: Workspace | int) -> Membership | None:
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    return memberships(person).filter(workspace_id=workspace_id).first()


def visible_workspaces(person: User | None) -> QuerySet[Workspace]:
    return Workspace.objects.filter(pk__in=memberships(person).values("workspace_id"))


def is_workspace_admin(person: User | None, workspace: Workspace | int) -> bool:
    found = membership(person, workspace)
    return found is not None and found.is_admin


def is_full_member(person: User | None, workspace: Workspace) -> bool:
    """A member of any role but guest: creates spaces and sees the member list."""
    found = membership(person, workspace)
    return found is not None and found.role != Role.GUEST


def can_create_space(person: User | None, workspace: Workspace) -> bool:
    return is_full_member(person, workspace)


def can_see_people(person: User | None, workspace: Workspace) -> bool:
    """The member list is for members; guests only meet the people in their spaces."""
    return is_full_member(person, workspace)


def can_invite(person: User | None, workspace: Workspace) -> bool:
    return is_workspace_admin(person, workspace)


def is_author_or_admin(
    person: User | None,
    author_id: int | None,
    workspace_id: int | Callable[[], int],
    *,
    is_admin: bool | None = None,
) -> bool:
    """The author of something, or an admin of its workspace. `is_admin` saves the membership
    read when the caller already knows it; `workspace_id` may be a function, called only when
    the answer needs it (finding the workspace can cost a query the author never needs)."""
    if not is_active_person(person):
        return False
    if author_id == person.pk:
        return True
    if is_admin is not None:
        return is_admin
    return is_workspace_admin(person, workspace_id() if callable(workspace_id) else workspace_id)


def may_handle_role(mine: Membership, role: str) -> bool:
    """Whether someone with membership `mine` may give, take or touch a member of `role`:
    only owners handle owners (admins the rest)."""
    return role != Role.OWNER or mine.role == Role.OWNER
