"""The recordings API: a token client records the way the browser does (start, chunks, resume,
post with a thread or reply) through the same actions, and reads state and media links."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client

from tidings.accounts.actions import create_access_token
from tidings.apikit.testing import ApiClient
from tidings.recordings.models import Recording, State
from tidings.recordings.tests.factories import recording_with_chunks, split, webm_bytes
from tidings.threads.tests.factories import thread_in

MEDIA = webm_bytes(1.0)
PIECES = split(MEDIA, 3)


@pytest.fixture
def api_for(world):
    def make(role: str) -> ApiClient:
        return ApiClient(create_access_token(world.person(role), "tests")[1])

    return make


def put_chunk(api: ApiClient, token: str, index: int, data: bytes, **headers):
    return api.client.put(
        f"/api/recordings/{token}/chunks/{index}",
        data,
        content_type="application/octet-stream",
        headers={**api.headers(), **headers},
    )


def test_a_token_client_records_and_posts_a_reply(world, api_for):
    api = api_for("member")
    thread = thread_in(world.open_space, world.owner, title="Release notes")
    started = api.post("/recordings", {"thread_id": thread.pk, "source": "camera",
                                       "mime_type": "video/webm"})  # fmt: skip
    assert started.status_code == 201
    token = started.json()["token"]
    assert started.json()["chunk_url"] == f"/api/recordings/{token}/chunks/"
    for index in (0, 2):
        assert put_chunk(api, token, index, PIECES[index]).status_code == 201
    held = api.get(f"/recordings/{token}/chunks").json()
    assert held == {"received": [0, 2], "bytes": len(PIECES[0]) + len(PIECES[2]),
                    "state": "recording"}  # fmt: skip
    missing = api.post(f"/threads/{thread.pk}/replies",
                       {"recording": token, "recording_chunks": 3})  # fmt: skip
    assert missing.status_code == 422
    assert "missing chunks 1 of this recording" in missing.json()["detail"]
    assert put_chunk(api, token, 1, PIECES[1]).status_code == 201
    reply = api.post(f"/threads/{thread.pk}/replies", {"recording": token, "recording_chunks": 3})
    assert reply.status_code == 201 and reply.json()["body"] == ""
    recording = Recording.objects.get(token=token)
    assert recording.reply_id == reply.json()["id"] and recording.state == State.QUEUED


def test_a_thread_opens_with_a_recording_through_the_api(world, api_for):
    api = api_for("member")
    recording = recording_with_chunks(world.member, world.open_space, PIECES)
    response = api.post(
        f"/spaces/{world.open_space.pk}/threads",
        {"kind": "walkthrough", "title": "Billing tour", "recording": recording.token},
    )
    assert response.status_code == 201
    recording.refresh_from_db()
    assert recording.thread_id == response.json()["id"] and recording.chunk_count == 3


def test_chunk_refusals_carry_their_status_and_a_sentence(world, api_for, settings):
    api = api_for("member")
    token = api.post("/recordings", {"space_id": world.open_space.pk, "source": "audio"}).json()[
        "token"
    ]
    damaged = put_chunk(api, token, 0, PIECES[0], **{"X-Chunk-SHA256": "0" * 64})
    assert damaged.status_code == 400 and "Send it again" in damaged.json()["detail"]
    digest = hashlib.sha256(PIECES[0]).hexdigest()
    assert put_chunk(api, token, 0, PIECES[0], **{"X-Chunk-SHA256": digest}).status_code == 201
    assert put_chunk(api, token, 0, PIECES[0]).status_code == 200
    conflict = put_chunk(api, token, 0, PIECES[1])
    assert conflict.status_code == 409 and "other bytes" in conflict.json()["detail"]
    settings.RECORDING_CHUNK_MAX_MB = 1
    too_big = put_chunk(api, token, 1, b"x" * (1024 * 1024 + 1))
    assert too_big.status_code == 413 and "at most 1 MB" in too_big.json()["detail"]
    big_file = api.post(
        "/recordings",
        {"space_id": world.open_space.pk, "source": "upload", "size": 10**13,
         "original_name": "all-hands.mp4", "mime_type": "video/mp4"},
    )  # fmt: skip
    assert big_file.status_code == 413 and "MB" in big_file.json()["detail"]
    bad = api.post("/recordings", {"space_id": world.open_space.pk, "source": "hologram"})
    assert bad.status_code == 422


def test_a_recording_reads_with_its_state_and_media_links(world, api_for):
    thread = thread_in(world.open_space, world.owner)
    recording = recording_with_chunks(world.member, world.open_space, PIECES, thread=thread)
    api_for("member").post(f"/threads/{thread.pk}/replies", {"recording": recording.token})
    response = api_for("guest").get(f"/recordings/{recording.token}")
    assert response.status_code == 200
    data = response.json()
    assert data["state"] == "queued" and data["posted"] is True
    assert data["reply_id"] is not None and data["owner"]["name"] == "Mia Member"
    assert data["media"]["poster"] == "" and data["media"]["rendition"] == ""
    played = Client().get(data["media"]["playable"])
    assert b"".join(played.streaming_content) == MEDIA


def test_an_unfinished_recording_is_posted_through_the_api(world, api_for):
    recording = recording_with_chunks(world.member, world.open_space, PIECES)
    recording.chunks.filter(index=1).delete()
    response = api_for("member").post(
        f"/recordings/{recording.token}/post", {"title": "Half a demo", "kind": "walkthrough"}
    )
    assert response.status_code == 201
    data = response.json()
    assert data["chunk_count"] == 1 and "stops at chunk 1" in data["gap_note"]
    assert data["posted"] is True
    assert data["post_url"] == f"/t/{data['thread_id']}/#post"
    unposted = recording_with_chunks(world.member, world.open_space, PIECES)
    assert api_for("member").get(f"/recordings/{unposted.token}").json()["post_url"] == ""


def test_the_list_is_paginated_newest_first(world, api_for):
    thread = thread_in(world.open_space, world.owner)
    api = api_for("member")
    tokens = []
    for _ in range(3):
        recording = recording_with_chunks(world.member, world.open_space, PIECES[:1], thread=thread)
        api.post(f"/threads/{thread.pk}/replies", {"recording": recording.token})
        tokens.append(recording.token)
    page = api.get("/recordings", {"limit": 2}).json()
    assert page["count"] == 3
    assert [item["token"] for item in page["items"]] == tokens[::-1][:2]
    rest = api.get("/recordings", {"limit": 2, "offset": 2}).json()
    assert [item["token"] for item in rest["items"]] == tokens[:1]


@pytest.mark.parametrize("path", ["/recordings", "/recordings/" + "a" * 32])
def test_the_api_needs_a_token(path):
    assert ApiClient(None).get(path).status_code == 401


def test_the_openapi_document_describes_the_upload(db):
    document = Client().get("/api/openapi.json").json()
    put = document["paths"]["/api/recordings/{token}/chunks/{index}"]["put"]
    assert "application/octet-stream" in put["requestBody"]["content"]
    assert put["operationId"] == "upload_chunk"
