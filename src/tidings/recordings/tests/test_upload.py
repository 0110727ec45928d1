"""The upload protocol of the browser's recorder (the API, called with the page's session and
CSRF token) and posting a recording with a thread or a reply: idempotent chunks, conflicts,
damaged and oversized chunks, resuming, posting with missing chunks, other people's
recordings, posting twice, unfinished recordings, a session that ended, and a post whose link
works at once whatever the recording's length."""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tidings.apikit.errors import UNAUTHORIZED
from tidings.apikit.session import CSRF_REFUSED, SIGNED_OUT
from tidings.apikit.testing import SessionApiClient
from tidings.recordings import upload
from tidings.recordings.models import Recording, RecordingChunk, State
from tidings.recordings.tests.factories import recording_with_chunks, split, webm_bytes
from tidings.threads import actions as thread_actions
from tidings.threads.tests.factories import thread_in

MEDIA = webm_bytes(1.0)
PIECES = split(MEDIA, 4)


def start(client: SessionApiClient, **fields):
    return client.post("/recordings", fields)


def put_chunk(client: SessionApiClient, recording, index, data, sha=None):
    headers = {} if sha is None else {"X-Chunk-SHA256": sha}
    return client.client.put(
        f"/api/recordings/{recording.token}/chunks/{index}",
        data,
        content_type="application/octet-stream",
        headers={**client.headers(), **headers},
    )


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def member(world):
    """The member's recorder: the API, with the page's session and CSRF token."""
    return SessionApiClient(world.member)


@pytest.fixture
def member_page(world):
    """The member's browser on the pages (the composer's forms)."""
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
    assert data["chunk_url"] == f"/api/recordings/{recording.token}/chunks/"
    assert data["max_bytes"] == 2048 * 1024 * 1024 and data["max_seconds"] == 3600
    assert data["max_chunk_bytes"] == 16 * 1024 * 1024
    # The address the recorder polls for its state.
    status = member.get(f"/recordings/{recording.token}")
    assert status.status_code == 200 and status.json()["state"] == "recording"


def test_start_in_a_thread_records_a_reply_there(world, member):
    thread = thread_in(world.open_space, world.owner)
    response = start(member, thread_id=thread.pk, source="audio", for_transcription=False)
    assert response.status_code == 201
    recording = Recording.objects.get(token=response.json()["token"])
    assert recording.thread == thread and recording.space == world.open_space
    assert recording.source == "audio" and recording.for_transcription is False


OPEN = "open space"  # replaced by the open space's id


# Invalid input is 422 (the API's validation status); the sentence is the field's own, and
# the detail names the field in front of it.
@pytest.mark.parametrize(
    ("fields", "status", "field", "words"),
    [
        ({"source": "camera"}, 422, "space_id", "Choose the space or thread"),
        ({"space_id": "x1", "source": "camera"}, 422, "space_id", "Choose a space to post in."),
        ({"space_id": 0, "source": "camera"}, 422, "space_id", "Choose a space to post in."),
        ({"thread_id": [1], "source": "camera"}, 422, "thread_id", "Choose a thread to reply"),
        ({"space_id": OPEN, "source": "hologram"}, 422, "source", "Choose camera, screen"),
        ({"space_id": OPEN, "source": 7}, 422, "source", "Choose camera, screen"),
        ({"space_id": OPEN, "source": "upload", "mime_type": "text/html"}, 422, "mime_type",
         "audio or video"),
        ({"space_id": OPEN, "source": "upload", "size": "0"}, 422, "size", "empty"),
        ({"space_id": OPEN, "source": "upload", "size": -1}, 422, "size", "size in bytes"),
        ({"space_id": OPEN, "source": "upload", "size": "1e3x"}, 422, "size", "size in bytes"),
        ({"space_id": OPEN, "source": "upload", "size": str(2049 << 20)}, 413, "",
         "up to 2,048 MB"),
        ({"space_id": OPEN, "source": "upload", "size": "9" * 30}, 413, "", "up to 2,048 MB"),
        ({"space_id": OPEN, "source": "camera", "title": "t" * 201}, 422, "title",
         "200 characters"),
    ],
)  # fmt: skip
def test_start_refuses_bad_input_with_a_sentence(world, member, fields, status, field, words):
    fields = {k: world.open_space.pk if v == OPEN else v for k, v in fields.items()}
    response = start(member, **fields)
    assert response.status_code == status
    answer = response.json()
    assert words in answer["detail"]
    if field:
        assert answer["errors"][0]["field"] == field and words in answer["errors"][0]["message"]
        assert answer["detail"] == f"{field}: {answer['errors'][0]['message']}"
    assert not Recording.objects.exists()


def test_start_refuses_an_archived_space_and_a_bad_json_body(world, member):
    thread_actions.archive_space(world.owner, world.open_space)
    response = start(member, space_id=world.open_space.pk, source="camera")
    assert response.status_code == 403 and "archived" in response.json()["detail"]
    bad = member.post("/recordings", raw="[1")
    assert bad.status_code == 400 and "JSON" in bad.json()["detail"]


def test_the_endpoints_answer_json_to_the_signed_out_and_wrong_methods(world, recording):
    # A page whose person signed out (in another tab, or the session ran out) says so.
    member = SessionApiClient(world.member)
    member.client.logout()
    for response in (
        start(member, space_id=world.open_space.pk, source="camera"),
        put_chunk(member, recording, 0, PIECES[0]),
        member.get(f"/recordings/{recording.token}/chunks"),
    ):
        assert response.status_code == 401 and response.json() == {"detail": SIGNED_OUT}
    assert not RecordingChunk.objects.exists()
    # Neither a session nor a page's token: the API's own answer.
    bare = SessionApiClient(csrf=False).post("/recordings", {"source": "camera"})
    assert bare.status_code == 401 and bare.json() == {"detail": UNAUTHORIZED}
    wrong = SessionApiClient(world.member).patch("/recordings", {})
    assert wrong.status_code == 405 and set(wrong["Allow"].split(", ")) == {"GET", "POST"}
    assert wrong.json() == {"detail": "This address does not take PATCH; it takes GET, POST."}


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
    assert "already stored with other bytes" in response.json()["detail"]
    assert RecordingChunk.objects.get(recording=recording).sha256 == sha(PIECES[0])


def test_a_damaged_chunk_is_refused_so_the_client_sends_it_again(member, recording):
    response = put_chunk(member, recording, 0, PIECES[0], sha(b"something else"))
    assert response.status_code == 400 and "Send it again" in response.json()["detail"]
    assert not RecordingChunk.objects.exists()
    assert put_chunk(member, recording, 0, PIECES[0], sha(PIECES[0])).status_code == 201


def test_empty_and_oversized_chunks_are_refused(settings, member, recording):
    settings.RECORDING_CHUNK_MAX_MB = 1
    assert put_chunk(member, recording, 0, b"").status_code == 400
    big = put_chunk(member, recording, 0, b"x" * (1024 * 1024 + 1))
    assert big.status_code == 413 and "at most 1 MB" in big.json()["detail"]
    assert put_chunk(member, recording, 0, b"x" * (1024 * 1024)).status_code == 201


def test_the_upload_limit_counts_every_chunk(settings, member, recording):
    settings.RECORDING_MAX_UPLOAD_MB = 1
    half = b"y" * (600 * 1024)
    assert put_chunk(member, recording, 0, half).status_code == 201
    refused = put_chunk(member, recording, 1, half)
    assert refused.status_code == 413 and "up to 1 MB" in refused.json()["detail"]
    recording.refresh_from_db()
    assert recording.bytes_received == len(half)
    assert list(recording.chunks.values_list("index", flat=True)) == [0]


def test_the_body_is_read_with_a_bound(settings, member, recording):
    """A body that says it is larger than a chunk may be is refused before it is read."""
    settings.RECORDING_CHUNK_MAX_MB = 1
    path = f"/api/recordings/{recording.token}/chunks/0"
    response = member.client.generic(
        "PUT", path, b"z" * 10, content_type="application/octet-stream",
        CONTENT_LENGTH=str(50 * 1024 * 1024), headers=member.headers(),
    )  # fmt: skip
    assert response.status_code == 413 and "at most 1 MB" in response.json()["detail"]
    assert not RecordingChunk.objects.exists()


@pytest.mark.parametrize(
    ("index", "status", "words"),
    [
        ("-1", 400, "Chunk numbers go from 0 to 999,999."),
        ("1000000", 400, "Chunk numbers go from 0 to 999,999."),
        ("9" * 30, 400, "Chunk numbers go from 0 to 999,999."),
        ("two", 422, "index: "),
        ("1.5", 422, "index: "),
    ],
)
def test_chunk_numbers_outside_the_protocol_are_refused(member, recording, index, status, words):
    response = member.client.put(
        f"/api/recordings/{recording.token}/chunks/{index}", PIECES[0],
        content_type="application/octet-stream", headers=member.headers(),
    )  # fmt: skip
    assert response.status_code == status and words in response.json()["detail"]
    assert not RecordingChunk.objects.exists()


def test_a_truncated_chunk_is_refused_by_its_checksum(member, recording):
    """A piece cut short on the way (a proxy, a dropped connection) fails its SHA-256."""
    response = put_chunk(member, recording, 0, PIECES[0][:-7], sha(PIECES[0]))
    assert response.status_code == 400
    assert response.json()["detail"] == (
        "Chunk 0 arrived damaged (its checksum differs). Send it again."
    )
    assert not RecordingChunk.objects.exists()


def test_only_the_owner_sends_chunks(world, recording):
    for role in ("owner", "admin", "guest", "outsider"):
        response = put_chunk(SessionApiClient(world.person(role)), recording, 0, PIECES[0])
        assert response.status_code == 404 and response.json() == {"detail": "Not found."}
    assert not RecordingChunk.objects.exists()


def test_the_client_resumes_from_the_list_of_held_chunks(member, recording):
    for index in (2, 0, 3):  # out of order, one lost on the way
        put_chunk(member, recording, index, PIECES[index])
    response = member.get(f"/recordings/{recording.token}/chunks")
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
    assert late.status_code == 409 and "past its end" in late.json()["detail"]


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
    world, member_page, posted_thread, django_capture_on_commit_callbacks
):
    recording = recording_with_chunks(world.member, world.open_space, PIECES, thread=posted_thread)
    with django_capture_on_commit_callbacks() as callbacks:
        response = reply_with(member_page, posted_thread, recording.token, len(PIECES))
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


def test_a_thread_can_open_with_a_recording(world, member_page):
    recording = recording_with_chunks(world.member, world.open_space, PIECES)
    response = member_page.post(
        reverse("threads:thread-new", kwargs={"workspace": "acme", "space": "general"}),
        {"kind": "walkthrough", "title": "How billing works", "body": "",
         "recording": recording.token, "recording_chunks": "4"},
    )  # fmt: skip
    assert response.status_code == 302
    recording.refresh_from_db()
    assert recording.thread.title == "How billing works" and recording.reply is None
    assert recording.title == "How billing works" and recording.state == State.QUEUED


def test_posting_with_missing_chunks_names_them_and_posts_nothing(
    world, member_page, posted_thread
):
    held = [PIECES[0], PIECES[1]]
    recording = recording_with_chunks(world.member, world.open_space, held, thread=posted_thread)
    response = reply_with(member_page, posted_thread, recording.token, 5)
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
    response = member.post(f"/recordings/{recording.token}/post", {})
    assert response.status_code == 201
    recording.refresh_from_db()
    assert recording.chunk_count == 2 and recording.reply.thread == posted_thread
    assert recording.gap_note == (
        "This recording stops at chunk 2: later pieces never reached the server."
    )
    assert response.json()["gap_note"] == recording.gap_note
    assert response.json()["post_url"] == f"/t/{posted_thread.pk}/#reply-{recording.reply_id}"
    again = member.post(f"/recordings/{recording.token}/post", {})
    assert again.status_code == 422 and "already posted" in again.json()["detail"]


def test_an_unfinished_recording_opens_a_thread_with_a_title(world, member):
    recording = recording_with_chunks(world.member, world.open_space, PIECES)
    path = f"/recordings/{recording.token}/post"
    untitled = member.post(path, {})
    assert untitled.status_code == 422 and "title" in untitled.json()["detail"]
    response = member.post(path, {"title": "Demo of the new editor"})
    assert response.status_code == 201
    recording.refresh_from_db()
    assert recording.thread.title == "Demo of the new editor"
    assert recording.chunk_count == 4 and recording.gap_note == ""


def test_nothing_held_means_nothing_to_post(world, member, recording):
    response = member.post(f"/recordings/{recording.token}/post", {"title": "Lost"})
    assert response.status_code == 422 and "Nothing of this recording" in response.json()["detail"]


def test_discarding_removes_the_chunks(world, member):
    recording = recording_with_chunks(world.member, world.open_space, PIECES)
    names = list(recording.chunks.values_list("file", flat=True))
    storage = RecordingChunk.file.field.storage
    assert all(storage.exists(name) for name in names)
    path = f"/recordings/{recording.token}"
    assert SessionApiClient(world.owner).delete(path).status_code == 404
    assert member.delete(path).status_code == 204
    assert not any(storage.exists(name) for name in names)
    recording.refresh_from_db()
    assert recording.deleted_at is not None and not recording.chunks.exists()
    assert member.delete(path).status_code == 404


def test_a_posted_recording_is_not_discarded(world, member, posted_thread):
    recording = recording_with_chunks(world.member, world.open_space, PIECES)
    thread_actions.post_reply(world.member, posted_thread, body="", recording_token=recording.token)
    response = member.delete(f"/recordings/{recording.token}")
    assert response.status_code == 403 and "delete the post" in response.json()["detail"]


def test_chunks_need_the_csrf_header_from_the_page(world, recording):
    without = SessionApiClient(world.member, csrf=False)
    refused = put_chunk(without, recording, 0, PIECES[0])
    assert refused.status_code == 403 and refused.json() == {"detail": CSRF_REFUSED}
    forged = SessionApiClient(world.member)
    forged.csrf_token = "f" * 32  # not the page's cookie
    assert put_chunk(forged, recording, 0, PIECES[0]).status_code == 403
    assert not RecordingChunk.objects.exists()
    # Reading needs no CSRF token; the page's token in the header lets the chunk in.
    assert without.get(f"/recordings/{recording.token}/chunks").status_code == 200
    accepted = put_chunk(SessionApiClient(world.member), recording, 0, PIECES[0])
    assert accepted.status_code == 201
