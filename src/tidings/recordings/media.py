"""Media of recordings: signed, expiring links, and serving them with HTTP Range requests.

A link names a recording, a variant and the person it was made for. It works for
RECORDING_URL_TTL_SECONDS, and only while that person may still see the recording (checked
on every request, so someone removed from a private space loses access at once). In S3 mode
the stored files are reached through the storage's presigned links instead; the chunks of a
recording not processed yet are always served here, joined in order, so a recording plays
the moment it is posted.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core import signing
from django.core.files.storage import Storage, default_storage
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.utils.http import content_disposition_header, http_date

from tidings.accounts.models import User
from tidings.recordings import access
from tidings.recordings.models import Recording, State

if TYPE_CHECKING:
    from tidings.accounts.models import User

VARIANTS = ("playable", "rendition", "poster", "original", "audio")
SALT = "tidings.recordings.media"
BLOCK = 256 * 1024
# Chunks of a posted recording still being processed, or the held ones of an unposted one.
JOINABLE_STATES = (State.RECORDING, State.QUEUED, State.PROCESSING)
EXPIRED = "This media link has expired. Reload the page to get a fresh one."
NOT_FOUND = "Not found."
# Up to 18 digits: larger offsets than any file, and int() of huge digit strings fails.
RANGE_SPEC = re.compile(r"([0-9]{0,18}) *- *([0-9]{0,18})", re.ASCII)


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def _ttl() -> int:
    return settings.RECORDING_URL_TTL_SECONDS


def _stored_name(recording: Recording, variant: str) -> str:
    field = {
        "playable": recording.playable,
        "rendition": recording.rendition,
        "poster": recording.poster,
        "original": recording.original,
        "audio": recording.audio_track,
    }[variant]
    return field.name or ""


def _joins_chunks(recording: Recording, variant: str) -> bool:
    return variant == "playable" and recording.state in JOINABLE_STATES


def _content_type(recording: Recording, variant: str, name: str) -> str:
    """Only media types: whatever a file is called, it is never served as a page."""
    found = mimetypes.guess_type(name)[0] or ""
    if variant == "playable" and recording.playable_type:
        found = recording.playable_type
    elif variant in ("playable", "original") and not name.endswith((".mp4", ".webm")):
        declared = recording.mime_type.split(";")[0].strip()
        if declared:
            found = declared
        elif not recording.has_video and recording.has_audio:
            found = "audio/webm"
        elif variant == "playable":
            found = "video/webm"
    if found.startswith(("audio/", "video/")) or found == "image/jpeg":
        return found
    return "application/octet-stream"


def _file_name(recording: Recording, variant: str, stored: str) -> str:
    if variant == "original" and recording.original_name:
        return recording.original_name
    extension = stored.rpartition(".")[2] if "." in stored else "webm"
    return {"poster": "poster", "audio": "audio"}.get(variant, "recording") + f".{extension}"


def _presigns(storage: Storage) -> bool:
    """Object storage that makes its own expiring links (django-storages S3)."""
    return bool(getattr(storage, "querystring_auth", False))


def media_url(recording: Recording, variant: str, person: User | None) -> str:
    """A link to one variant of the recording for this person, valid for
    RECORDING_URL_TTL_SECONDS; "" when that variant does not exist (yet). Before processing
    is done, "playable" serves the chunks joined in order."""
    if variant not in VARIANTS:
        raise ValueError(f"Unknown media variant {variant!r}.")
    stored = _stored_name(recording, variant)
    joined = not stored and _joins_chunks(recording, variant)
    if not stored and not joined:
        return ""
    if stored and _presigns(default_storage):
        content_type = _content_type(recording, variant, stored)
        disposition = content_disposition_header(
            variant == "original", _file_name(recording, variant, stored)
        )
        return default_storage.url(
            stored,
            parameters={
                "ResponseContentType": content_type,
                "ResponseContentDisposition": disposition,
            },
            expire=_ttl(),
        )
    signed = _signer().sign_object(
        {"r": recording.pk, "v": variant, "p": person.pk if person else None}
    )
    filename = _file_name(recording, variant, stored or ".webm")
    return reverse("recordings:media", kwargs={"signed": signed, "filename": filename})


# --- What one link serves.


@dataclass(frozen=True)
class Media:
    size: int
    content_type: str
    etag: str
    last_modified: datetime
    filename: str
    as_attachment: bool
    read: Callable[[int, int], Iterator[bytes]]  # (start, length) → blocks


def _read_stored(storage: Storage, name: str) -> Callable[[int, int], Iterator[bytes]]:
    def read(start: int, length: int) -> Iterator[bytes]:
        with storage.open(name, "rb") as handle:
            handle.seek(start)
            while length > 0:
                block = handle.read(min(BLOCK, length))
                if not block:
                    return
                length -= len(block)
                yield block

    return read


def _read_joined(
    storage: Storage, pieces: list[tuple[str, int]]
) -> Callable[[int, int], Iterator[bytes]]:
    """The chunk files as one file: pieces are (name, size) in index order."""

    def read(start: int, length: int) -> Iterator[bytes]:
        offset = 0
        for name, size in pieces:
            if length <= 0:
                return
            end = offset + size
            if start < end:
                taken = min(length, end - start)
                yield from _read_stored(storage, name)(start - offset, taken)
                start, length = start + taken, length - taken
            offset = end

    return read


def _joined_pieces(recording: Recording) -> list[tuple[str, int]]:
    """The chunks that make the recording: 0..chunk_count-1 once posted, else the run of
    held chunks from 0 up to the first gap."""
    rows = recording.chunks.order_by("index")
    if recording.chunk_count is not None:
        rows = rows.filter(index__lt=recording.chunk_count)
    pieces = []
    for expected, (index, name, size) in enumerate(rows.values_list("index", "file", "size")):
        if index != expected:
            break
        pieces.append((name, size))
    return pieces


def media_for(recording: Recording, variant: str) -> Media:
    """What a link to this variant serves now; Http404 when there is nothing."""
    storage = default_storage
    stored = _stored_name(recording, variant)
    filename = _file_name(recording, variant, stored or ".webm")
    as_attachment = variant == "original"
    if stored:
        try:
            size = storage.size(stored)
        except Exception as error:  # each storage has its own error for a missing file
            raise Http404(NOT_FOUND) from error
        changed = recording.processed_at or recording.updated_at
        return Media(
            size=size,
            content_type=_content_type(recording, variant, stored),
            etag=f'"{recording.token}-{variant}-{size}-{int(changed.timestamp())}"',
            last_modified=changed,
            filename=filename,
            as_attachment=as_attachment,
            read=_read_stored(storage, stored),
        )
    if not _joins_chunks(recording, variant):
        raise Http404(NOT_FOUND)
    pieces = _joined_pieces(recording)
    if not pieces:
        raise Http404(NOT_FOUND)
    size = sum(piece_size for _, piece_size in pieces)
    return Media(
        size=size,
        content_type=_content_type(recording, variant, ""),
        etag=f'"{recording.token}-chunks-{len(pieces)}-{size}"',
        last_modified=recording.updated_at,
        filename=filename,
        as_attachment=False,
        read=_read_joined(storage, pieces),
    )


# --- Serving a link.


def signed_target(signed: str) -> tuple[int, str, int | None]:
    """(recording id, variant, person id) of a link. signing.SignatureExpired when it is
    too old, signing.BadSignature when it was not made here."""
    data = _signer().unsign_object(signed, max_age=_ttl())
    if not isinstance(data, dict) or data.get("v") not in VARIANTS:
        raise signing.BadSignature("Not a media link.")
    try:
        person_id = data.get("p")
        return int(data["r"]), data["v"], None if person_id is None else int(person_id)
    except (KeyError, TypeError, ValueError) as error:
        raise signing.BadSignature("Not a media link.") from error


def recording_for_link(recording_id: int, person_id: int | None) -> Recording:
    """The recording, if the person the link was made for may still see it."""
    person = User.objects.filter(pk=person_id, is_active=True).first() if person_id else None
    recording = access.visible_recordings(person).filter(pk=recording_id).first()
    if recording is None:
        raise Http404(NOT_FOUND)
    return recording


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The single range `bytes=a-b`, `a-` or `-n` of a Range header as (first, last)
    inclusive, clamped to the size. None means serve the whole file: no header, a malformed
    one (RFC 9110 says to ignore it) or several ranges (one answer is simpler and allowed).
    Raises Unsatisfiable when the range starts past the end. Django has no parser for this."""
    unit, _, spec = (header or "").partition("=")
    found = RANGE_SPEC.fullmatch(spec.strip())
    if unit.strip().lower() != "bytes" or found is None:
        return None
    first, last = found.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last n bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        return max(size - suffix, 0), size - 1
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise Unsatisfiable
    return start, min(int(last) if last else size - 1, size - 1)


class Unsatisfiable(Exception):
    """The range starts at or past the end of the file: 416."""


def ranged_response(request: HttpRequest, media: Media) -> HttpResponse:
    """Serve media with `Accept-Ranges: bytes`: 206 for one satisfiable range, 416 for a
    range past the end, 200 with the whole file otherwise; 304 for a matching ETag. The
    body streams from storage in blocks; HEAD gets the headers alone."""
    conditional = get_conditional_response(
        request, etag=media.etag, last_modified=int(media.last_modified.timestamp())
    )
    if conditional is not None:
        return _with_headers(conditional, media)
    header = request.headers.get("Range", "")
    if_range = request.headers.get("If-Range")
    if if_range and if_range not in (media.etag, http_date(media.last_modified.timestamp())):
        header = ""  # the file changed since the client's first part: send it whole
    try:
        wanted = byte_range(header, media.size)
    except Unsatisfiable:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{media.size}"
        return _with_headers(response, media)
    start, end = wanted if wanted else (0, media.size - 1)
    length = max(end - start + 1, 0)
    body = iter(()) if request.method == "HEAD" else media.read(start, length)
    response = StreamingHttpResponse(body, status=206 if wanted else 200)
    if wanted:
        response["Content-Range"] = f"bytes {start}-{end}/{media.size}"
    response["Content-Length"] = str(length)
    return _with_headers(response, media)


def _with_headers(response: HttpResponse, media: Media) -> HttpResponse:
    response["Content-Type"] = media.content_type
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = media.etag
    response["Last-Modified"] = http_date(media.last_modified.timestamp())
    response["Cache-Control"] = f"private, max-age={_ttl()}"
    response["Content-Disposition"] = content_disposition_header(
        media.as_attachment, media.filename
    )
    # Media is never a page: even opened directly it runs nothing.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
