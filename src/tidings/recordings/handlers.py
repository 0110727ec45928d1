"""What recordings do when something happens below them. Each function takes an event's
payload as keyword arguments (see `tidings.handlers`) and runs in the action's transaction."""

from __future__ import annotations

from tidings.accounts.models import User
from tidings.recordings import moments, upload
from tidings.threads.models import Reply, Thread


def attach_to_post(
    person_id: int,
    recording_token: str,
    chunk_count: int | None,
    thread_id: int,
    reply_id: int | None,
) -> None:
    """A post made with a recording: the recording is linked to it, or the post is refused."""
    upload.attach_to_post(
        User.objects.get(pk=person_id),
        recording_token,
        thread=Thread.objects.select_related("space").get(pk=thread_id),
        reply=None if reply_id is None else Reply.objects.get(pk=reply_id),
        chunk_count=chunk_count,
    )


def save_moment(person_id: int, reply_id: int, recording_token: str, position_ms: str) -> None:
    """A reply made at a moment of a recording: the moment is kept, or the reply refused."""
    moments.save_moment(
        User.objects.get(pk=person_id),
        Reply.objects.select_related("thread").get(pk=reply_id),
        recording_token,
        position_ms,
    )
