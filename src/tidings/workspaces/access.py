"""Who may see and do what. Every list, count, search and feed starts from these querysets.

Rules:
- Only active members of a workspace see anything in it.
- Owners, admins and members see every open space; guests see only spaces they were added to.
- A private space is seen only by the people on its member list (admins included: being an
  admin does not open private spaces; it lets you manage people).
- Outsiders get 404 for anything they cannot see, never 403, so nothing leaks by existence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q, QuerySet

from tidings.workspaces.models import Membership, Role, Workspace

if TYPE_CHECKING:
    from tidings.accounts.models import User
    from tidings.recordings.models import Collection, Recording
    from tidings.threads.models import Reply, Space, Thread


def _active(person: User | None) -> bool:
    return person is not None and person.is_authenticated and person.is_active


def memberships(person: User | None) -> QuerySet[Membership]:
    if not _active(person):
        return Membership.objects.none()
    return Membership.objects.filter(person=person, deactivated_at=None)


def membership(person: User | None, workspace: Workspace | int) -> Membership | None:
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    return memberships(person).filter(workspace_id=workspace_id).first()


def visible_workspaces(person: User | None) -> QuerySet[Workspace]:
    return Workspace.objects.filter(pk__in=memberships(person).values("workspace_id"))


def visible_spaces(person: User | None, workspace: Workspace | None = None) -> QuerySet[Space]:
    from tidings.threads.models import Space, Visibility

    if not _active(person):
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
    from tidings.threads.models import SpaceMember, Visibility

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
    from tidings.threads.models import Thread

    return Thread.objects.filter(space__in=visible_spaces(person).values("pk"), deleted_at=None)


def visible_replies(person: User | None) -> QuerySet[Reply]:
    from tidings.threads.models import Reply

    return Reply.objects.filter(thread__in=visible_threads(person).values("pk"), deleted_at=None)


def visible_recordings(person: User | None) -> QuerySet[Recording]:
    """Posted recordings follow their post: not deleted, in a thread the person can see, and
    gone with a deleted reply. Unposted ones are seen only by their owner, while the owner
    can still see the space they are recording into."""
    from tidings.recordings.models import Recording

    if not _active(person):
        return Recording.objects.none()
    posted = Q(
        posted_at__isnull=False,
        thread__in=visible_threads(person).values("pk"),
    ) & (Q(reply=None) | Q(reply__deleted_at=None))
    unposted = Q(posted_at=None, owner=person, space__in=visible_spaces(person).values("pk"))
    return Recording.objects.filter(posted | unposted, deleted_at=None)


def can_view_recording(person: User | None, recording: Recording) -> bool:
    return visible_recordings(person).filter(pk=recording.pk).exists()


def can_see_recording_viewers(
    person: User | None, recording: Recording, *, is_admin: bool | None = None
) -> bool:
    """Who watched a recording, and how much, is for its author and the admins of its
    workspace, among those who can see it (the caller found it visible). `is_admin` saves the
    membership read when the caller already knows it (`thread_rights`)."""
    return _author_or_admin(person, recording, is_admin=is_admin)


def _author_or_admin(
    person: User | None, recording: Recording, *, is_admin: bool | None = None
) -> bool:
    if not _active(person):
        return False
    if recording.owner_id == person.pk:
        return True
    if is_admin is None:
        return is_workspace_admin(person, recording.space.workspace_id)
    return is_admin


def visible_collections(person: User | None) -> QuerySet[Collection]:
    """A person's own collections (in workspaces they still belong to) and those shared to a
    space they can see. Seeing a collection opens none of its recordings: each is listed
    only to those in `visible_recordings`."""
    from tidings.recordings.models import Collection

    if not _active(person):
        return Collection.objects.none()
    own = Q(owner=person, workspace_id__in=memberships(person).values("workspace_id"))
    shared = Q(shared_space__in=visible_spaces(person).values("pk"))
    return Collection.objects.filter(own | shared)


def can_view_space(person: User | None, space: Space) -> bool:
    return visible_spaces(person).filter(pk=space.pk).exists()


def can_view_thread(person: User | None, thread: Thread) -> bool:
    return thread.deleted_at is None and can_view_space(person, thread.space)


def can_post_in_space(person: User | None, space: Space) -> bool:
    return space.archived_at is None and can_view_space(person, space)


def is_workspace_admin(person: User | None, workspace: Workspace | int) -> bool:
    found = membership(person, workspace)
    return found is not None and found.is_admin


def can_correct_transcript(person: User | None, recording: Recording) -> bool:
    """A recording's transcript is corrected by its author or an admin of its workspace,
    among those who can see the recording."""
    return can_view_recording(person, recording) and _author_or_admin(person, recording)


def is_full_member(person: User | None, workspace: Workspace) -> bool:
    """A member of any role but guest: creates spaces and sees the member list."""
    found = membership(person, workspace)
    return found is not None and found.role != Role.GUEST


def can_create_space(person: User | None, workspace: Workspace) -> bool:
    return is_full_member(person, workspace)


def can_see_people(person: User | None, workspace: Workspace) -> bool:
    """The member list is for members; guests only meet the people in their spaces."""
    return is_full_member(person, workspace)


def can_manage_space(person: User | None, space: Space) -> bool:
    """Rename, change members: the creator or a workspace admin, if they can see the space."""
    if not can_view_space(person, space):
        return False
    return space.created_by_id == person.pk or is_workspace_admin(person, space.workspace_id)


def can_invite(person: User | None, workspace: Workspace) -> bool:
    return is_workspace_admin(person, workspace)


def can_edit_post(person: User | None, author_id: int | None, space: Space) -> bool:
    """Only the author edits their own words."""
    return _active(person) and author_id == person.pk and can_view_space(person, space)


def can_delete_post(person: User | None, author_id: int | None, space: Space) -> bool:
    """The author, or a workspace admin who can see the space."""
    if not can_view_space(person, space):
        return False
    return author_id == person.pk or is_workspace_admin(person, space.workspace_id)


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
    found = membership(person, thread.space.workspace_id) if _active(person) else None
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
    from tidings.accounts.models import User

    active = Membership.objects.filter(workspace_id=space.workspace_id, deactivated_at=None)
    in_space = Q(person__space_memberships__space=space)
    if not space.is_private:
        in_space |= Q(role__in=[Role.OWNER, Role.ADMIN, Role.MEMBER])
    people_ids = active.filter(in_space).values("person_id")
    return User.objects.filter(is_active=True, pk__in=people_ids).order_by("name")


def space_list_people(space: Space) -> QuerySet[User]:
    """The people on a space's member list who still belong to its workspace: a row left
    behind for someone removed (or deactivated) never shows them as a member."""
    from tidings.accounts.models import User

    active = Membership.objects.filter(workspace_id=space.workspace_id, deactivated_at=None)
    return User.objects.filter(
        is_active=True,
        space_memberships__space=space,
        pk__in=active.values("person_id"),
    ).order_by("name")
