"""Bad input and faults in processing: whatever arrives, the worker does not crash, the
recording fails with a sentence that says why (or keeps what is playable), the original bytes
are kept, and the next recording is processed as usual."""

from __future__ import annotations

import hashlib
import io
import random

import av
import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from tidings.recordings import pipeline, upload
from tidings.recordings.models import Recording, RecordingChunk, Source, State
from tidings.recordings.tests.factories import recording_with_chunks, split, webm_bytes
from tidings.recordings.tests.test_processing import CUES, post, stored
from tidings.threads.tests.factories import png_bytes, thread_in

NOT_MEDIA = "This file is not audio or video we can read"


def assert_next_recording_is_processed(world) -> None:
    data = webm_bytes(1.0)
    recording = post(world, split(data, 2))
    assert recording.state == State.READY and stored(recording.original) == data


def assert_original_kept(recording: Recording, data: bytes) -> None:
    """The bytes that arrived are kept: as the original, or still as their chunks."""
    if recording.original:
        assert stored(recording.original) == data
    else:
        chunks = recording.chunks.order_by("index")
        assert b"".join(stored(chunk.file) for chunk in chunks) == data


def random_bytes(size: int) -> bytes:
    return random.Random(3).randbytes(size)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (random_bytes(200_000), f"{NOT_MEDIA}: its format is not recognised."),
        (png_bytes(), f"{NOT_MEDIA}: it is an image."),
        (b"%PDF-1.7\n" + random_bytes(5000), f"{NOT_MEDIA}: its format is not recognised."),
        (webm_bytes(1.0)[:300], f"{NOT_MEDIA}: its format is not recognised."),
    ],
    ids=["random-bytes", "png-renamed-webm", "pdf", "header-only"],
)
def test_what_is_not_media_fails_with_a_reason_and_the_original_kept(world, data, reason):
    recording = post(world, split(data, 2), original_name="clip.webm")
    assert recording.state == State.FAILED
    assert recording.failure_reason == f"{reason} The original is kept."
    assert recording.stage == "" and recording.job_lease_until is None
    assert stored(recording.original) == data
    assert not recording.playable and not recording.poster
    assert_next_recording_is_processed(world)


def test_a_zero_byte_file_is_refused_at_upload_and_at_processing(world):
    with pytest.raises(ValidationError, match="empty"):
        upload.start_recording(world.member, space=world.open_space, source=Source.UPLOAD, size=0)
    recording = post(world, [b""], original_name="empty.webm")
    assert recording.state == State.FAILED
    assert recording.failure_reason == f"{NOT_MEDIA}: it is empty. The original is kept."
    assert_next_recording_is_processed(world)


def test_a_truncated_webm_keeps_what_decodes(world):
    """The first half of a recording (a tab that died mid-upload) is a shorter recording: the
    demuxer stops where the bytes end and everything before plays and seeks."""
    data = webm_bytes(4.0)
    half = data[: len(data) // 2]
    recording = post(world, split(half, 3))
    assert recording.state == State.READY, recording.failure_reason
    assert 1000 <= recording.duration_ms <= 3000
    assert stored(recording.original) == half
    playable = stored(recording.playable)
    assert CUES in playable
    with av.open(io.BytesIO(playable)) as container:
        assert abs(container.duration / 1000 - recording.duration_ms) <= 200
        assert sum(1 for _ in container.decode(video=0)) >= 10
    assert_next_recording_is_processed(world)


def test_over_the_size_limit_is_refused_at_upload_and_at_processing(world, settings):
    settings.RECORDING_MAX_UPLOAD_MB = 1
    big = random_bytes(1024 * 1024 + 1)
    started = upload.start_recording(world.member, space=world.open_space, source=Source.CAMERA)
    with pytest.raises(upload.TooLarge):
        upload.store_chunk(world.member, started, 0, big)

    # A limit lowered after the upload: processing refuses it too, before reading a byte.
    recording = post(world, split(big, 2))
    assert recording.state == State.FAILED
    assert recording.failure_reason.startswith("This recording is larger than the 1 MB limit")
    assert not recording.original
    assert_original_kept(recording, big)
    assert_next_recording_is_processed(world)


def test_longer_than_the_time_limit_fails_with_a_sentence(world, settings):
    settings.RECORDING_MAX_MINUTES = 0
    data = webm_bytes(1.5)
    recording = post(world, split(data, 2))
    assert recording.state == State.FAILED
    assert recording.failure_reason == (
        "This recording is 0 min 02 s long, more than the 0-minute limit, so it was not"
        " processed. The original is kept."
    )
    assert stored(recording.original) == data
    settings.RECORDING_MAX_MINUTES = 120
    assert_next_recording_is_processed(world)


def test_chunks_sent_out_of_order_and_twice_assemble_exactly(world):
    data = webm_bytes(3.0)
    chunks = split(data, 9)
    thread = thread_in(world.open_space, world.member)
    recording = upload.start_recording(
        world.member, thread=thread, source=Source.CAMERA, mime_type="video/webm"
    )
    order = [4, 0, 8, 2, 2, 1, 7, 3, 0, 6, 5, 8]  # Retries after timeouts, out of order.
    created = [upload.store_chunk(world.member, recording, i, chunks[i])[1] for i in order]
    assert created.count(True) == 9
    upload.attach_to_post(world.member, recording.token, thread=thread, chunk_count=9)
    pipeline.finalize_recording(recording.pk)
    recording.refresh_from_db()
    assert recording.state == State.READY
    assert stored(recording.original) == data  # Byte for byte what the browser produced.


def damage(recording: Recording, *, missing: list[int], corrupt: list[int]) -> None:
    """Chunks lost or altered in storage after they were posted."""
    for chunk in recording.chunks.filter(index__in=missing):
        default_storage.delete(chunk.file.name)
    for chunk in recording.chunks.filter(index__in=corrupt):
        data = bytearray(stored(chunk.file))
        data[len(data) // 2] ^= 0xFF
        default_storage.delete(chunk.file.name)
        default_storage.save(chunk.file.name, ContentFile(bytes(data)))


def test_missing_or_damaged_chunks_fail_naming_them(world):
    data = webm_bytes(3.0)
    recording = post(world, split(data, 10), process=False)
    damage(recording, missing=[3, 4, 5], corrupt=[8])
    pipeline.finalize_recording(recording.pk)
    recording.refresh_from_db()
    assert recording.state == State.FAILED
    assert recording.failure_reason == (
        "Parts of this recording are missing or arrived damaged (3–5 and 8 of chunks 0–9)."
        " What arrived is kept; record it again."
    )
    # Nothing joined, nothing removed: every chunk row stays for a person to look at.
    assert not recording.original and recording.chunks.count() == 10
    assert_next_recording_is_processed(world)


def test_a_chunk_deleted_row_and_all_is_named_too(world):
    recording = post(world, split(webm_bytes(2.0), 5), process=False)
    chunk = recording.chunks.get(index=2)
    default_storage.delete(chunk.file.name)
    chunk.delete()
    pipeline.finalize_recording(recording.pk)
    recording.refresh_from_db()
    assert recording.state == State.FAILED and "(2 of chunks 0–4)" in recording.failure_reason


def test_a_gap_the_author_knows_of_keeps_the_part_before_it(world):
    data = webm_bytes(4.0)
    chunks = split(data, 8)
    recording = post(world, chunks, process=False)
    Recording.objects.filter(pk=recording.pk).update(
        gap_note="This recording stops at chunk 5: later pieces never reached the server."
    )
    damage(recording, missing=[5], corrupt=[])
    pipeline.finalize_recording(recording.pk)
    recording.refresh_from_db()
    assert recording.state == State.READY, recording.failure_reason
    prefix = b"".join(chunks[:5])
    assert stored(recording.original) == prefix
    assert recording.chunk_count == 5 and recording.duration_ms < 4000
    # The chunks after the gap are not part of the recording, but nothing uploaded is lost.
    assert sorted(recording.chunks.values_list("index", flat=True)) == [5, 6, 7]


def test_a_gap_at_the_very_start_cannot_be_played(world):
    recording = post(world, split(webm_bytes(2.0), 4), process=False)
    Recording.objects.filter(pk=recording.pk).update(gap_note="Stops early.")
    damage(recording, missing=[0], corrupt=[])
    pipeline.finalize_recording(recording.pk)
    recording.refresh_from_db()
    assert recording.state == State.FAILED
    assert recording.failure_reason.startswith("The start of this recording never reached")


def test_a_chunk_whose_checksum_was_never_recorded_is_checked_by_size(world):
    data = webm_bytes(2.0)
    recording = post(world, split(data, 3), process=False)
    RecordingChunk.objects.filter(recording=recording).update(sha256="")
    pipeline.finalize_recording(recording.pk)
    recording.refresh_from_db()
    assert recording.state == State.READY and stored(recording.original) == data


def test_a_deleted_recording_is_not_processed(world):
    recording = post(world, split(webm_bytes(1.0), 2), process=False)
    Recording.objects.filter(pk=recording.pk).update(deleted_at=recording.created_at)
    assert pipeline.finalize_recording(recording.pk) is None
    assert pipeline.finalize_recording(999_999) is None


def test_chunk_sizes_in_the_table_are_what_the_bytes_are(world):
    """The factory writes chunk rows the way the upload does (guards the tests above)."""
    chunks = split(webm_bytes(1.0), 3)
    recording = recording_with_chunks(world.member, world.open_space, chunks)
    for chunk, data in zip(recording.chunks.order_by("index"), chunks, strict=True):
        assert chunk.size == len(data) and chunk.sha256 == hashlib.sha256(data).hexdigest()
