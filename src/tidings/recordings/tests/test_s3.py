"""S3 mode against a local S3-compatible server (moto's, on a free loopback port: the only
stand-in allowed, for the cloud): chunks land in the bucket, a recording not processed yet
plays from them joined in order, processed files are reached by presigned links that answer
Range requests, and the CSP lets the browser load media from the storage's origin."""

from __future__ import annotations

import socket
import urllib.request
from urllib.parse import urlsplit

import boto3
import pytest
from django.core.files.base import ContentFile
from django.test import Client

from tidings.apikit.testing import SessionApiClient
from tidings.recordings import upload
from tidings.recordings.media import media_url
from tidings.recordings.models import State
from tidings.recordings.tests.factories import split, webm_bytes
from tidings.threads import actions as thread_actions

moto_server = pytest.importorskip("moto.server")

BUCKET = "tidings-media"
MEDIA = webm_bytes(1.0)
PIECES = split(MEDIA, 3)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(settings, s3_endpoint):
    """The settings S3_BUCKET and friends produce, pointed at the local server."""
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    client.create_bucket(Bucket=BUCKET)
    settings.S3_BUCKET, settings.S3_ENDPOINT_URL, settings.S3_REGION = (
        BUCKET,
        s3_endpoint,
        "us-east-1",
    )
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "access_key": "test",
                "secret_key": "test",
                "addressing_style": "path",
                "signature_version": "s3v4",
                "default_acl": None,
                "querystring_auth": True,
                "querystring_expire": settings.RECORDING_URL_TTL_SECONDS,
                "file_overwrite": False,
            },
        },
    }
    yield client
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    for item in listed:
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def _keys(client) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_chunks_go_to_the_bucket_and_play_joined_before_processing(world, s3):
    recording = upload.start_recording(world.member, space=world.open_space, source="camera")
    member = SessionApiClient(world.member)
    for index, piece in reversed(list(enumerate(PIECES))):
        response = member.client.put(
            f"/api/recordings/{recording.token}/chunks/{index}",
            piece,
            content_type="application/octet-stream",
            headers=member.headers(),
        )
        assert response.status_code == 201
    prefix = f"recordings/{recording.token}/chunks/"
    assert _keys(s3) == [f"{prefix}{i:06d}" for i in range(3)]
    thread_actions.post_thread(
        world.member, world.open_space, kind="walkthrough", title="Tour", body="",
        recording_token=recording.token, recording_chunks=3,
    )  # fmt: skip
    recording.refresh_from_db()
    url = media_url(recording, "playable", world.admin)
    assert url.startswith("/media/r/")  # joined chunks are served here, never presigned
    whole = Client().get(url)
    assert b"".join(whole.streaming_content) == MEDIA
    start, end = len(PIECES[0]) - 5, len(PIECES[0]) + 5
    part = Client().get(url, headers={"Range": f"bytes={start}-{end}"})
    assert part.status_code == 206
    assert b"".join(part.streaming_content) == MEDIA[start : end + 1]


def test_processed_files_are_reached_by_presigned_links_with_range(world, s3, s3_endpoint):
    recording = upload.start_recording(world.member, space=world.open_space, source="camera")
    upload.store_chunk(world.member, recording, 0, MEDIA)
    thread_actions.post_thread(
        world.member, world.open_space, kind="walkthrough", title="Tour", body="",
        recording_token=recording.token,
    )  # fmt: skip
    recording.refresh_from_db()
    recording.playable.save("playable.webm", ContentFile(MEDIA), save=False)
    recording.playable_type = "video/webm"
    recording.state = State.READY
    recording.save()
    url = media_url(recording, "playable", world.admin)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == s3_endpoint
    assert "X-Amz-Expires=21600" in url and "X-Amz-Signature=" in url
    request = urllib.request.Request(url, headers={"Range": "bytes=100-199"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 206
        assert response.read() == MEDIA[100:200]
        assert response.headers["Content-Type"] == "video/webm"
        assert response.headers["Content-Range"] == f"bytes 100-199/{len(MEDIA)}"


def test_the_csp_allows_media_from_the_storage(world, s3, s3_endpoint):
    policy = world.client_for("member").get("/")["Content-Security-Policy"]
    assert f"media-src 'self' blob: {s3_endpoint}" in policy
    assert f"img-src 'self' data: blob: {s3_endpoint}" in policy
    assert "script-src 'self';" in policy
