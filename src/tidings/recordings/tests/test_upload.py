"""The upload protocol of the browser's recorder and posting a recording with a thread or a
reply: idempotent chunks, conflicts, damaged and oversized chunks, resuming, posting with
missing chunks, other people's recordings, posting twice, unfinished recordings, and a post
whose link works at once whatever the recording's length."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tidings.recordings import upload
from tidings.recordings.models import Recording, RecordingChunk, State
from tidings.recordings.tests.factories import recording_with_chunks, split, webm_bytes
from tidings.threads import actions as thread_actions
from tidings.threads.tests.factories import thread_in

MEDIA = webm_bytes(1.0)
PIECES = split(MEDIA, 4)


def start(client, **fields):
    return client.post(reverse("recordings:start"), fields)


def put_chunk(client, recording, index, data, sha=None):
    headers = {} if sha is None else {"X-Chunk-SHA256": sha}
    return client.put(
        reverse("recordings:chunk", kwargs={"token": recording.token, "index": index}),
        data,
        content_type="application/octet-stream",
        headers=headers,
    )


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def member(world):
    return world.client_for("member")


@pytest.fixture
def recording(world):
    return upload.start_recording(world.member, space=world.open_space, source="camera")


# --- Starting.


def test_start_answers_where_to_send_the_chunks(world, member):
    response = start(
        member, space_id=world.open_space.pk, source="camera", mime_type="video/webm;codecs=vp8"
    )
    assert response.status_code == 201
    data = response.json()
    recording = Recording.objects.get(token=data["token"])
    assert recording.owner == world.member and recording.space == world.open_space
    assert recording.state == State.RECORDING and recording.thread is None
    assert data["chunk_url"] == f"/recordings/{recording.token}/chunks/"
    assert data["status_url"] == f"/recordings/{recording.token}/status"
    assert data["max_bytes"] == 2048 * 1024 * 1024 and data["max_seconds"] == 3600


def test_start_in_a_thread_records_a_reply_there(world, member):
    thread = thread_in(world.open_space, world.owner)
    response = member.post(
        reverse("recordings:start"),
        json.dumps({"thread_id": thread.pk, "source": "audio", "for_transcription": False}),
        content_type="application/json",
    )
    assert response.status_code == 201
    recording = Recording.objects.get(token=response.json()["token"])
    assert recording.thread == thread and recording.space == world.open_space
    assert recording.source == "audio" and recording.for_transcription is False


OPEN = "open space"  # replaced by the open space's id


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"source": "camera"}, 400, "Choose the space or thread"),
        ({"space_id": "x1", "source": "camera"}, 400, "Choose a space"),
        ({"space_id": OPEN, "source": "hologram"}, 400, "Choose camera, screen"),
        ({"space_id": OPEN, "source": "upload", "mime_type": "text/html"}, 400, "audio or video"),
        ({"space_id": OPEN, "source": "upload", "size": "0"}, 400, "empty"),
        ({"space_id": OPEN, "source": "upload", "size": str(2049 << 20)}, 413, "up to 2,048 MB"),
        ({"space_id": OPEN, "source": "camera", "title": "t" * 201}, 400, "200 characters"),
    ],
)
def test_start_refuses_bad_input_with_a_sentence(world, member, fields, status, words):
    fields = {k: world.open_space.pk if v == OPEN else v for k, v in fields.items()}
    response = start(member, **fields)
    assert response.status_code == status
    assert words in response.json()["error"]
    assert not Recording.objects.exists()


def test_start_refuses_an_archived_space_and_a_bad_json_body(world, member):
    thread_actions.archive_space(world.owner, world.open_space)
    response = start(member, space_id=world.open_space.pk, source="camera")
    assert response.status_code == 403 and "archived" in response.json()["error"]
    bad = member.post(reverse("recordings:start"), "[1", content_type="application/json")
    assert bad.status_code == 400 and "JSON" in bad.json()["error"]


def test_the_endpoints_answer_json_to_the_signed_out_and_wrong_methods(world, client, recording):
    response = start(client, space_id=world.open_space.pk, source="camera")
    assert response.status_code == 401 and "Sign in" in response.json()["error"]
    wrong = world.client_for("member").get(reverse("recordings:start"))
    assert wrong.status_code == 405 and wrong["Allow"] == "POST" and wrong.json()["error"]


# --- Chunks.


def test_a_chunk_is_stored_and_a_retry_of_the_same_bytes_is_harmless(member, recording):
    first = put_chunk(member, recording, 0, PIECES[0], sha(PIECES[0]))
    assert first.status_code == 201
    assert first.json() == {"index": 0, "size": len(PIECES[0]), "sha256": sha(PIECES[0])}
    again = put_chunk(member, recording, 0, PIECES[0])
    assert again.status_code == 200
    chunk = RecordingChunk.objects.get(recording=recording)
    assert chunk.file.name == f"recordings/{recording.token}/chunks/000000"
    assert chunk.file.read() == PIECES[0]
    recording.refresh_from_db()
    assert recording.bytes_received == len(PIECES[0])  # counted once


def test_other_bytes_at_a_held_index_conflict(member, recording):
    put_chunk(member, recording, 0, PIECES[0])
    response = put_chunk(member, recording, 0, PIECES[1])
    assert response.status_code == 409
    assert "already stored with other bytes" in response.json()["error"]
    assert RecordingChunk.objects.get(recording=recording).sha256 == sha(PIECES[0])


def test_a_damaged_chunk_is_refused_so_the_client_sends_it_again(member, recording):
    response = put_chunk(member, recording, 0, PIECES[0], sha(b"something else"))
    assert response.status_code == 400 and "Send it again" in response.json()["error"]
    assert not RecordingChunk.objects.exists()
    assert put_chunk(member, recording, 0, PIECES[0], sha(PIECES[0])).status_code == 201


def test_empty_and_oversized_chunks_are_refused(settings, member, recording):
    settings.RECORDING_CHUNK_MAX_MB = 1
    assert put_chunk(member, recording, 0, b"").status_code == 400
    big = put_chunk(member, recording, 0, b"x" * (1024 * 1024 + 1))
    assert big.status_code == 413 and "at most 1 MB" in big.json()["error"]
    assert put_chunk(member, recording, 0, b"x" * (1024 * 1024)).status_code == 201


def test_the_upload_limit_counts_every_chunk(settings, member, recording):
    settings.RECORDING_MAX_UPLOAD_MB = 1
    half = b"y" * (600 * 1024)
    assert put_chunk(member, recording, 0, half).status_code == 201
    refused = put_chunk(member, recording, 1, half)
    assert refused.status_code == 413 and "up to 1 MB" in refused.json()["error"]
    recording.refresh_from_db()
    assert recording.bytes_received == len(half)
    assert list(recording.chunks.values_list("index", flat=True)) == [0]


def test_the_body_is_read_with_a_bound(settings, member, recording):
    """A body that says it is larger than a chunk may be is refused before it is read."""
    settings.RECORDING_CHUNK_MAX_MB = 1
    path = reverse("recordings:chunk", kwargs={"token": recording.token, "index": 0})
    response = member.generic(
        "PUT", path, b"z" * 10, content_type="application/octet-stream",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
    )  # fmt: skip
    assert response.status_code == 413


def test_only_the_owner_sends_chunks(world, recording):
    for role in ("owner", "admin", "guest", "outsider"):
        response = put_chunk(world.client_for(role), recording, 0, PIECES[0])
        assert response.status_code == 404 and response.json() == {"error": "Not found."}
    assert not RecordingChunk.objects.exists()


def test_the_client_resumes_from_the_list_of_held_chunks(member, recording):
    for index in (2, 0, 3):  # out of order, one lost on the way
        put_chunk(member, recording, index, PIECES[index])
    response = member.get(reverse("recordings:chunks", kwargs={"token": recording.token}))
    assert response.status_code == 200
    assert response.json() == {
        "received": [0, 2, 3],
        "bytes": len(PIECES[0]) + len(PIECES[2]) + len(PIECES[3]),
        "state": "recording",
    }


def test_after_posting_no_chunk_past_the_end_is_taken(world, member, recording, posted_thread):
    for index, piece in enumerate(PIECES):
        put_chunk(member, recording, index, piece)
    thread_actions.post_reply(
        world.member, posted_thread, body="", recording_token=recording.token, recording_chunks=4
    )
    assert put_chunk(member, recording, 3, PIECES[3]).status_code == 200  # a late retry
    late = put_chunk(member, recording, 4, b"more")
    assert late.status_code == 409 and "past its end" in late.json()["error"]


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite's shared in-memory test database locks tables instead of waiting",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_chunks_are_all_counted(world):
    """Uploads at the same time (the recorder sends two at once) keep the byte count right."""
    recording = upload.start_recording(world.member, space=world.open_space, source="camera")
    pieces = split(webm_bytes(2.0), 12)

    def send(index: int) -> bool:
        try:
            return upload.store_chunk(world.member, recording, index, pieces[index])[1]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        created = list(pool.map(send, [*range(len(pieces)), 0, 5]))
    assert created.count(True) == len(pieces)
    recording.refresh_from_db()
    assert recording.bytes_received == sum(len(p) for p in pieces)
    assert upload.received_chunks(world.member, recording) == list(range(len(pieces)))


# --- Posting.


@pytest.fixture
def posted_thread(world):
    return thread_in(world.open_space, world.owner, title="Launch plan")


def reply_with(client, thread, token, chunks, body=""):
    return client.post(
        reverse("threads:reply", kwargs={"thread_id": thread.pk}),
        {"body": body, "recording": token, "recording_chunks": chunks},
    )


def test_a_reply_can_be_a_recording_alone(
    world, member, posted_thread, django_capture_on_commit_callbacks
):
    recording = recording_with_chunks(world.member, world.open_space, PIECES, thread=posted_thread)
    with django_capture_on_commit_callbacks() as callbacks:
        response = reply_with(member, posted_thread, recording.token, len(PIECES))
    assert response.status_code == 302
    recording.refresh_from_db()
    reply = posted_thread.replies.get()
    assert response["Location"].endswith(f"#reply-{reply.pk}")
    assert (recording.reply, recording.thread, recording.chunk_count) == (
        reply,
        posted_thread,
        4,
    )
    assert recording.state == State.QUEUED and recording.posted_at is not None
    assert recording.title == "Reply in Launch plan"
    assert len(callbacks) >= 1  # processing is queued once the post is committed


def test_a_thread_can_open_with_a_recording(world, member):
    recording = recording_with_chunks(world.member, world.open_space, PIECES)
    response = member.post(
        reverse("threads:thread-new", kwargs={"workspace": "acme", "space": "general"}),
        {"kind": "walkthrough", "title": "How billing works", "body": "",
         "recording": recording.token, "recording_chunks": "4"},
    )  # fmt: skip
    assert response.status_code == 302
    recording.refresh_from_db()
    assert recording.thread.title == "How billing works" and recording.reply is None
    assert recording.title == "How billing works" and recording.state == State.QUEUED


def test_posting_with_missing_chunks_names_them_and_posts_nothing(world, member, posted_thread):
    held = [PIECES[0], PIECES[1]]
    recording = recording_with_chunks(world.member, world.open_space, held, thread=posted_thread)
    response = reply_with(member, posted_thread, recording.token, 5)
    assert response.status_code == 400
    assert "missing chunks 2, 3, 4 of this recording" in response.context["errors"]["recording"][0]
    assert not posted_thread.replies.exists()
    recording.refresh_from_db()
    assert recording.posted_at is None and recording.state == State.RECORDING


def test_without_a_count_the_held_chunks_must_have_no_gap(world, posted_thread):
    chunks = recording_with_chunks(world.member, world.open_space, PIECES, thread=posted_thread)
    chunks.chunks.filter(index=1).delete()
    with pytest.raises(ValidationError, match="missing chunks 1 of"):
        thread_actions.post_reply(
            world.member, posted_thread, body="", recording_token=chunks.token
        )
    full = recording_with_chunks(world.member, world.open_space, PIECES, thread=posted_thread)
    thread_actions.post_reply(world.member, posted_thread, body="", recording_token=full.token)
    full.refresh_from_db()
    assert full.chunk_count == 4


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("someone else's", "could not be found"),
        ("unknown", "could not be found"),
        ("posted twice", "already posted"),
        ("another space", "made for another place"),
        ("another thread", "made for another place"),
        ("discarded", "could not be found"),
        ("no chunks", "no media yet"),
    ],
)
def test_a_recording_is_posted_once_by_its_owner_where_it_was_made(
    world, posted_thread, case, words
):
    recording = recording_with_chunks(world.member, world.open_space, PIECES)
    token = recording.token
    if case == "someone else's":
        recording = recording_with_chunks(world.admin, world.open_space, PIECES)
        token = recording.token
    elif case == "unknown":
        token = "0" * 32
    elif case == "posted twice":
        thread_actions.post_reply(world.member, posted_thread, body="", recording_token=token)
    elif case == "another space":
        recording.space = world.private_space
        recording.save()
    elif case == "another thread":
        recording.thread = thread_in(world.open_space, world.owner, title="Elsewhere")
        recording.save()
    elif case == "discarded":
        upload.discard_recording(world.member, recording)
    elif case == "no chunks":
        token = upload.start_recording(world.member, space=world.open_space, source="audio").token
    replies_before = posted_thread.replies.count()
    with pytest.raises(ValidationError, match=words):
        thread_actions.post_reply(world.member, posted_thread, body="", recording_token=token)
    assert posted_thread.replies.count() == replies_before


def test_a_post_without_text_still_needs_a_recording(world, posted_thread):
    with pytest.raises(ValidationError, match="Write something first"):
        thread_actions.post_reply(world.member, posted_thread, body="")


def test_a_recording_reply_keeps_needing_no_text_when_edited(world, posted_thread):
    recording = recording_with_chunks(world.member, world.open_space, PIECES)
    reply = thread_actions.post_reply(
        world.member, posted_thread, body="First take", recording_token=recording.token
    )
    thread_actions.edit_reply(world.member, reply, body="")
    reply.refresh_from_db()
    assert reply.body == "" and reply.recordings.get() == recording


def test_the_post_costs_the_same_whatever_the_length(world, posted_thread):
    """The link works at once: posting does no work per chunk (600 chunks = 10 minutes at a
    one-second timeslice), so its queries and its time do not grow with the recording."""
    small = recording_with_chunks(world.member, world.open_space, [b"a"] * 3, thread=posted_thread)
    long = recording_with_chunks(world.member, world.open_space, [b"b"] * 600, thread=posted_thread)
    client = world.client_for("member")
    # A first reply creates the replier's follow and read mark; compare the replies after it.
    reply_with(client, posted_thread, "", "", body="Recording two versions.")
    with CaptureQueriesContext(connection) as few:
        assert reply_with(client, posted_thread, small.token, 3).status_code == 302
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as many:
        assert reply_with(client, posted_thread, long.token, 600).status_code == 302
    elapsed = time.perf_counter() - started
    assert len(many) == len(few)
    assert elapsed < 0.5, f"posting a 600-chunk recording took {elapsed:.3f} s"
    long.refresh_from_db()
    assert long.chunk_count == 600 and long.state == State.QUEUED


# --- Unfinished recordings and discarding.


def test_an_unfinished_reply_is_posted_up_to_the_first_gap(world, member, posted_thread):
    recording = recording_with_chunks(world.member, world.open_space, PIECES, thread=posted_thread)
    recording.chunks.filter(index=2).delete()
    response = member.post(reverse("recordings:post", kwargs={"token": recording.token}))
    assert response.status_code == 201
    recording.refresh_from_db()
    assert recording.chunk_count == 2 and recording.reply.thread == posted_thread
    assert recording.gap_note == (
        "This recording stops at chunk 2: later pieces never reached the server."
    )
    assert response.json()["url"].endswith(f"#reply-{recording.reply_id}")
    again = member.post(reverse("recordings:post", kwargs={"token": recording.token}))
    assert again.status_code == 400 and "already posted" in again.json()["error"]


def test_an_unfinished_recording_opens_a_thread_with_a_title(world, member):
    recording = recording_with_chunks(world.member, world.open_space, PIECES)
    path = reverse("recordings:post", kwargs={"token": recording.token})
    untitled = member.post(path)
    assert untitled.status_code == 400 and "title" in untitled.json()["error"]
    response = member.post(path, {"title": "Demo of the new editor"})
    assert response.status_code == 201
    recording.refresh_from_db()
    assert recording.thread.title == "Demo of the new editor"
    assert recording.chunk_count == 4 and recording.gap_note == ""


def test_nothing_held_means_nothing_to_post(world, member, recording):
    response = member.post(
        reverse("recordings:post", kwargs={"token": recording.token}), {"title": "Lost"}
    )
    assert response.status_code == 400 and "Nothing of this recording" in response.json()["error"]


def test_discarding_removes_the_chunks(world, member):
    recording = recording_with_chunks(world.member, world.open_space, PIECES)
    names = list(recording.chunks.values_list("file", flat=True))
    storage = RecordingChunk.file.field.storage
    assert all(storage.exists(name) for name in names)
    path = reverse("recordings:discard", kwargs={"token": recording.token})
    assert world.client_for("owner").delete(path).status_code == 404
    assert member.delete(path).status_code == 204
    assert not any(storage.exists(name) for name in names)
    recording.refresh_from_db()
    assert recording.deleted_at is not None and not recording.chunks.exists()
    assert member.delete(path).status_code == 404


def test_a_posted_recording_is_not_discarded(world, member, posted_thread):
    recording = recording_with_chunks(world.member, world.open_space, PIECES)
    thread_actions.post_reply(world.member, posted_thread, body="", recording_token=recording.token)
    response = member.delete(reverse("recordings:discard", kwargs={"token": recording.token}))
    assert response.status_code == 403 and "delete the post" in response.json()["error"]


def test_chunks_need_the_csrf_header_from_the_page(world, recording):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.member)
    path = reverse("recordings:chunk", kwargs={"token": recording.token, "index": 0})
    refused = client.put(path, PIECES[0], content_type="application/octet-stream")
    assert refused.status_code == 403
    token = secrets.token_hex(16)  # the page's CSRF cookie, sent back in the header
    client.cookies["csrftoken"] = token
    accepted = client.put(
        path, PIECES[0], content_type="application/octet-stream", headers={"X-CSRFToken": token}
    )
    assert accepted.status_code == 201
