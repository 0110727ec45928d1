"""The recorder of the thread and reply composers."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.urls import reverse

from tidings.recordings import queries, upload
from tidings.threads.models import Space, Thread
from tidings.workspaces.models import Workspace

register = template.Library()


@register.inclusion_tag("recordings/_recorder.html", takes_context=True)
def recorder(
    context: template.Context,
    workspace: Workspace,
    space: Space,
    thread: Thread | None = None,
    *,
    labelled: bool = False,
    errors: list | None = None,
) -> dict:
    """The "Record" control and its panel, inside a composer form: a recording started
    here belongs to `thread` (a reply) or else to `space` (a new thread). `labelled` shows
    it as a form field with a label; `errors` are the post's complaints about its recording."""
    return {
        "person_id": context["request"].user.pk,
        "labelled": labelled,
        "errors": errors or [],
        "space": space,
        "thread": thread,
        "recordings_url": reverse("api:start_recording"),
        "library_url": reverse("recordings:library", kwargs={"workspace": workspace.slug}),
        "max_seconds": settings.RECORDING_MAX_SECONDS,
        "max_bytes": upload.max_upload_bytes(),
        # The library lists a recording as unfinished after this quiet time; so does the
        # reminder, or it would point at a library that does not show the recording yet.
        "unfinished_after_ms": int(queries.UNFINISHED_AFTER.total_seconds() * 1000),
    }
