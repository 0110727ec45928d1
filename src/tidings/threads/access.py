"""Who may see and do what with spaces, threads and posts (and, below, in the workspace).

Rules:
- Owners, admins and members see every open space; guests see only spaces they were added to.
- A private space is seen only by the people on its member list (admins included: being an
  admin does not open private spaces; it lets you manage people).
- Outsiders get 404 for anything they cannot see, never 403, so nothing leaks by existence.
- Only the author edits a post; the author or an admin deletes it or reads the email it came
  from. A thread is resolved by its author or any full member.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from tidings.accounts.models import User
from tidings.threads.models import Reply, Space, SpaceMember, Thread, Visibility
from tidings.workspaces.access import *  # noqa: F403  Every rule below this layer, re-exported.
from tidings.workspaces.access import __all__ as _below
from tidings.workspaces.access import (
    is_active_person,
    is_author_or_admin,
    is_workspace_admin,
    membership,
    memberships,
)
from tidings.workspaces.models import Membership, Role, Workspace

__all__ = [
    *_below,
    "ThreadRights",
    "can_delete_post",
    "can_edit_post",
    "can_manage_space",
    "can_post_in_space",
    "can_resolve_thread",
    "can_view_original_email",
    "can_view_space",
    "can_view_thread",
    "mentionable_people",
    "seen_by_their_person",
    "space_list_people",
    "thread_rights",
    "visible_replies",
    "visible_spaces",
    "visible_threads",
]


def visible_spaces(person: User | None, workspace: Workspace | None = None) -> QuerySet[Space]:
    if not is_active_person(person):
        return Space.objects.none()
    active = memberships(person)
    full_member_workspaces = active.exclude(role=Role.GUEST).values("workspace_id")
    all_workspaces = active.values("workspace_id")
    spaces = Space.objects.filter(workspace_id__in=all_workspaces).filter(
        Q(visibility=Visibility.OPEN, workspace_id__in=full_member_workspaces)
        | Q(members__person=person)
    )
    if workspace is not None:
        spaces = spaces.filter(workspace=workspace)
    return spaces.distinct()


def seen_by_their_person(person_field: str, space_field: str) -> Q:
    """A filter for rows that each belong to a person (inbox items of many people): keeps the
    rows whose space that person may see, by the same rules as `visible_spaces`, worked out
    inside the query so that one query serves a whole batch of people."""
    person = OuterRef(person_field)
    member = Membership.objects.filter(
        person=person, workspace=OuterRef(f"{space_field}__workspace"), deactivated_at=None
    )
    on_list = SpaceMember.objects.filter(person=person, space=OuterRef(space_field))
    return Q(**{f"{person_field}__is_active": True}) & (
        (
            Q(**{f"{space_field}__visibility": Visibility.OPEN})
            & Exists(member.exclude(role=Role.GUEST))
        )
        | (Exists(member) & Exists(on_list))
    )


def visible_threads(person: User | None) -> QuerySet[Thread]:
    return Thread.objects.filter(space__in=visible_spaces(person).values("pk"), deleted_at=None)


def visible_replies(person: User | None) -> QuerySet[Reply]:
    return Reply.objects.filter(thread__in=visible_threads(person).values("pk"), deleted_at=None)


def can_view_space(person: User | None, space: Space) -> bool:
    return visible_spaces(person).filter(pk=space.pk).exists()


def can_view_thread(person: User | None, thread: Thread) -> bool:
    return thread.deleted_at is None and can_view_space(person, thread.space)


def can_post_in_space(person: User | None, space: Space) -> bool:
    return space.archived_at is None and can_view_space(person, space)


def can_manage_space(person: User | None, space: Space) -> bool:
    """Rename, change members: the creator or a workspace admin, if they can see the space."""
    if not can_view_space(person, space):
        return False
    return space.created_by_id == person.pk or is_workspace_admin(person, space.workspace_id)


def can_edit_post(person: User | None, author_id: int | None, space: Space) -> bool:
    """Only the author edits their own words."""
    return is_active_person(person) and author_id == person.pk and can_view_space(person, space)


def can_delete_post(person: User | None, author_id: int | None, space: Space) -> bool:
    """The author, or a workspace admin who can see the space."""
    return can_view_space(person, space) and is_author_or_admin(
        person, author_id, space.workspace_id
    )


def can_view_original_email(person: User | None, author_id: int | None, space: Space) -> bool:
    """The message as it was received for a post made by email: the post's author, or a
    workspace admin who can see the space."""
    return can_delete_post(person, author_id, space)


def can_resolve_thread(person: User | None, thread: Thread) -> bool:
    """The thread's author or anyone in the workspace who is not a guest."""
    if not can_post_in_space(person, thread.space):
        return False
    found = membership(person, thread.space.workspace_id)
    return found is not None and _may_resolve(found, thread)


def _may_resolve(found: Membership, thread: Thread) -> bool:
    return thread.author_id == found.person_id or found.role != Role.GUEST


@dataclass(frozen=True)
class ThreadRights:
    """What a person may do in a thread they can see, worked out once per request."""

    is_admin: bool
    can_post: bool
    can_resolve: bool
    can_create_space: bool = False  # as `can_create_space` for the thread's workspace


def thread_rights(person: User | None, thread: Thread) -> ThreadRights:
    """`is_workspace_admin`, `can_post_in_space` and `can_resolve_thread` for a thread just
    found through `visible_threads(person)` in this request (so known to be visible): one
    membership query instead of a visibility check per question."""
    found = membership(person, thread.space.workspace_id) if is_active_person(person) else None
    if found is None:
        return ThreadRights(is_admin=False, can_post=False, can_resolve=False)
    can_post = thread.deleted_at is None and thread.space.archived_at is None
    return ThreadRights(
        is_admin=found.is_admin,
        can_post=can_post,
        can_resolve=can_post and _may_resolve(found, thread),
        can_create_space=found.role != Role.GUEST,
    )


def mentionable_people(space: Space) -> QuerySet[User]:
    """People who can see a space, so who may be @mentioned in it."""
    active = Membership.objects.filter(workspace_id=space.workspace_id, deactivated_at=None)
    in_space = Q(person__space_memberships__space=space)
    if not space.is_private:
        in_space |= Q(role__in=[Role.OWNER, Role.ADMIN, Role.MEMBER])
    people_ids = active.filter(in_space).values("person_id")
    return User.objects.filter(is_active=True, pk__in=people_ids).order_by("name")


def space_list_people(space: Space) -> QuerySet[User]:
    """The people on a space's member list who still belong to its workspace: a row left
    behind for someone removed (or deactivated) never shows them as a member."""
    active = Membership.objects.filter(workspace_id=space.workspace_id, deactivated_at=None)
    return User.objects.filter(
        is_active=True,
        space_memberships__space=space,
        pk__in=active.values("person_id"),
    ).order_by("name")
