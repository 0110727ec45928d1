"""What a post composer sends besides its text, read from the request: uploaded files, the
recording, and "deliver in working hours". Posting now and sending later both use it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest

from tidings.threads import actions
from tidings.threads.models import Attachment


def upload_files(request: HttpRequest, space) -> list[Attachment]:
    """Store the composer's files as unposted attachments in `space`; after a refused file,
    none of them is kept."""
    uploaded: list[Attachment] = []
    try:
        for file in request.FILES.getlist("files"):
            uploaded.append(actions.upload_attachment(request.user, space, file))
    except ValidationError:
        discard_files(uploaded)
        raise
    return uploaded


def discard_files(uploaded: list[Attachment]) -> None:
    """Files written for a post that was not saved (the rows are rolled back with it)."""
    for attachment in uploaded:
        attachment.file.storage.delete(attachment.file.name)


def recording_fields(request: HttpRequest) -> dict:
    """The composer's recording (its token) and how many chunks the recorder made."""
    chunks = request.POST.get("recording_chunks", "").strip()
    if chunks and not (chunks.isascii() and chunks.isdigit() and len(chunks) <= 9):
        raise ValidationError({"recording": ["Record again: the recording's length was lost."]})
    return {
        "recording_token": request.POST.get("recording", "").strip(),
        "recording_chunks": int(chunks) if chunks else None,
    }


def holds_delivery(request: HttpRequest) -> bool:
    """The composer's "Post now, deliver in working hours" (send later)."""
    return request.POST.get("deliver") == "working_hours"
