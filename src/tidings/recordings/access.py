"""Who may see and do what with recordings and collections (and, below, threads and the
workspace).

Rules:
- A posted recording follows its post: seen by whoever sees the thread, gone with a deleted
  reply. An unposted one is its owner's alone, while they can still see its space.
- Who watched a recording, and its transcript's corrections, are for its author and the
  admins of its workspace.
- A collection is its owner's, or shared to a space; seeing one opens none of its recordings.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from tidings.accounts.models import User
from tidings.recordings.models import Collection, Recording
from tidings.threads.access import *  # noqa: F403  Every rule below this layer, re-exported.
from tidings.threads.access import __all__ as _below
from tidings.threads.access import (
    is_active_person,
    is_author_or_admin,
    memberships,
    visible_spaces,
    visible_threads,
)

__all__ = [
    *_below,
    "can_correct_transcript",
    "can_see_recording_viewers",
    "can_view_recording",
    "visible_collections",
    "visible_recordings",
]


def visible_recordings(person: User | None) -> QuerySet[Recording]:
    """Posted recordings follow their post: not deleted, in a thread the person can see, and
    gone with a deleted reply. Unposted ones are seen only by their owner, while the owner
    can still see the space they are recording into."""
    if not is_active_person(person):
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
    return is_author_or_admin(
        person, recording.owner_id, lambda: recording.space.workspace_id, is_admin=is_admin
    )


def visible_collections(person: User | None) -> QuerySet[Collection]:
    """A person's own collections (in workspaces they still belong to) and those shared to a
    space they can see. Seeing a collection opens none of its recordings: each is listed
    only to those in `visible_recordings`."""
    if not is_active_person(person):
        return Collection.objects.none()
    own = Q(owner=person, workspace_id__in=memberships(person).values("workspace_id"))
    shared = Q(shared_space__in=visible_spaces(person).values("pk"))
    return Collection.objects.filter(own | shared)


def can_correct_transcript(person: User | None, recording: Recording) -> bool:
    """A recording's transcript is corrected by its author or an admin of its workspace,
    among those who can see the recording."""
    return can_view_recording(person, recording) and is_author_or_admin(
        person, recording.owner_id, lambda: recording.space.workspace_id
    )
