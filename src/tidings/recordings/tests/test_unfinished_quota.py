"""Each person may keep only so many unfinished recordings (count and bytes): past that, the
recorder and the API are refused with a sentence that says what to do. Unposted recordings
left for ABANDONED_UPLOADS_DAYS are removed with their chunks; posted ones and those held
for a post scheduled for later never are."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from tidings.apikit.testing import SessionApiClient
from tidings.recordings import upload
from tidings.recordings.models import Recording, RecordingChunk
from tidings.recordings.tests.factories import recording_with_chunks
from tidings.threads import actions as thread_actions
from tidings.threads.tests.factories import thread_in

KB = 1024


def start(client: SessionApiClient, space):
    return client.post("/recordings", {"space_id": space.pk, "source": "camera"})


def put_chunk(client: SessionApiClient, token: str, index: int, data: bytes):
    return client.client.put(
        f"/api/recordings/{token}/chunks/{index}",
        data,
        content_type="application/octet-stream",
        headers=client.headers(),
    )


@pytest.fixture
def two_unfinished(settings, world):
    settings.RECORDING_UNFINISHED_MAX_COUNT = 2
    return [
        upload.start_recording(world.member, space=world.open_space, source="camera")
        for _ in range(2)
    ]


def test_the_recorder_is_refused_past_the_count_with_a_sentence(world, two_unfinished):
    member = SessionApiClient(world.member)
    response = start(member, world.open_space)
    assert response.status_code == 413
    assert response.json()["detail"] == (
        "You have 2 unfinished recordings, the most one person may keep. Post or discard some "
        "in your Library, then record again."
    )
    assert Recording.objects.filter(owner=world.member).count() == 2

    # Someone else records freely; the member does again after discarding one.
    assert start(SessionApiClient(world.admin), world.open_space).status_code == 201
    upload.discard_recording(world.member, two_unfinished[0])
    assert start(member, world.open_space).status_code == 201


def test_posted_and_held_recordings_leave_room(world, two_unfinished, settings):
    first, second = two_unfinished
    recording_chunks = [os.urandom(KB)]
    for recording in (first, second):
        upload.store_chunk(world.member, recording, 0, recording_chunks[0])
    thread_actions.post_thread(
        world.member, world.open_space, kind="discussion", title="Demo", body="",
        recording_token=first.token,
    )  # fmt: skip
    thread = thread_in(world.open_space, world.owner)
    # Moved to the thread it will be posted in, then held for a post scheduled for later.
    Recording.objects.filter(pk=second.pk).update(thread=thread)
    upload.hold_for_later(world.member, second.token, space=world.open_space, thread=thread)
    for _ in range(2):
        upload.start_recording(world.member, space=world.open_space, source="camera")
    with pytest.raises(upload.QuotaReached):
        upload.start_recording(world.member, space=world.open_space, source="camera")


def test_chunks_past_the_bytes_stop_the_recording_and_keep_what_arrived(world, settings):
    settings.RECORDING_UNFINISHED_MAX_MB = 1
    member = SessionApiClient(world.member)
    older = recording_with_chunks(world.member, world.open_space, [os.urandom(400 * KB)])
    token = start(member, world.open_space).json()["token"]
    assert put_chunk(member, token, 0, os.urandom(400 * KB)).status_code == 201

    refused = put_chunk(member, token, 1, os.urandom(400 * KB))
    assert refused.status_code == 413
    assert refused.json()["detail"] == (
        "Your unfinished recordings reached the 1.0\xa0MB one person may keep, so this "
        "recording stops here. Post it, or discard older ones, from your Library."
    )
    recording = Recording.objects.get(token=token)
    assert list(recording.chunks.values_list("index", flat=True)) == [0]
    assert recording.bytes_received == 400 * KB

    # A recording the full share could not hold does not start; a discard makes room.
    recording_with_chunks(world.member, world.open_space, [os.urandom(300 * KB)])
    full = start(member, world.open_space)
    assert full.status_code == 413
    assert full.json()["detail"].startswith(
        "Your unfinished recordings take 1.1\xa0MB of the 1.0\xa0MB one person may keep."
    )
    upload.discard_recording(world.member, older)
    assert put_chunk(member, token, 1, os.urandom(100 * KB)).status_code == 201


def test_the_api_answers_json_with_the_sentence(world, settings, api_for):  # noqa: F811
    settings.RECORDING_UNFINISHED_MAX_MB = 1
    api = api_for("member")
    declared = api.post(
        "/recordings",
        {"space_id": world.open_space.pk, "source": "upload", "mime_type": "video/mp4",
         "size": 2 * 1024 * KB},
    )  # fmt: skip
    assert declared.status_code == 413
    assert "Post or discard some in your Library" in declared.json()["detail"]

    token = api.post("/recordings", {"space_id": world.open_space.pk, "source": "camera"}).json()[
        "token"
    ]
    refused = api.client.put(
        f"/api/recordings/{token}/chunks/0",
        os.urandom(1024 * KB + 1),
        content_type="application/octet-stream",
        headers=api.headers(),
    )
    assert refused.status_code == 413
    assert "this recording stops here" in refused.json()["detail"]


# --- Abandoned recordings.


def test_abandoned_recordings_are_removed_with_their_chunks(
    world, settings, django_capture_on_commit_callbacks
):
    settings.ABANDONED_UPLOADS_DAYS = 7
    long_ago = timezone.now() - timedelta(days=8)
    abandoned = recording_with_chunks(world.member, world.open_space, [b"a" * 10, b"b" * 10])
    discarded = recording_with_chunks(world.member, world.open_space, [b"c" * 10])
    upload.discard_recording(world.member, discarded)
    recent = recording_with_chunks(world.member, world.open_space, [b"d" * 10])
    posted = recording_with_chunks(world.member, world.open_space, [b"e" * 10])
    thread_actions.post_thread(
        world.member, world.open_space, kind="discussion", title="Posted", body="",
        recording_token=posted.token,
    )  # fmt: skip
    thread = thread_in(world.open_space, world.owner)
    held = recording_with_chunks(world.member, world.open_space, [b"f" * 10], thread=thread)
    upload.hold_for_later(world.member, held.token, space=world.open_space, thread=thread)
    Recording.objects.exclude(pk=recent.pk).update(updated_at=long_ago)
    recent.refresh_from_db()
    Recording.objects.filter(pk=recent.pk).update(updated_at=timezone.now() - timedelta(days=6))
    storage = RecordingChunk.file.field.storage
    abandoned_files = list(abandoned.chunks.values_list("file", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        assert upload.forget_abandoned_recordings() == 2
    assert set(Recording.objects.values_list("pk", flat=True)) == {recent.pk, posted.pk, held.pk}
    assert not any(storage.exists(name) for name in abandoned_files)
    assert RecordingChunk.objects.filter(recording=recent).count() == 1
    assert RecordingChunk.objects.filter(recording=held).count() == 1
    assert upload.forget_abandoned_recordings() == 0


def test_an_unfinished_recording_that_still_grows_is_kept(world, settings):
    settings.ABANDONED_UPLOADS_DAYS = 7
    recording = recording_with_chunks(world.member, world.open_space, [b"a" * 10])
    Recording.objects.filter(pk=recording.pk).update(
        created_at=timezone.now() - timedelta(days=30),
        updated_at=timezone.now() - timedelta(days=30),
    )
    recording.refresh_from_db()
    upload.store_chunk(world.member, recording, 1, b"b" * 10)
    assert upload.forget_abandoned_recordings() == 0
    assert recording.chunks.count() == 2
