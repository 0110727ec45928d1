"""Media links: signed, expiring, checked against the access rules on every request, and
served with HTTP Range (first bytes, middle, suffix, open-ended, unsatisfiable, malformed),
both from a stored file and from the chunks joined in order before processing is done."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from tidings.apikit.testing import SessionApiClient
from tidings.recordings import media
from tidings.recordings.media import Unsatisfiable, byte_range, media_url
from tidings.recordings.models import State
from tidings.recordings.tests.factories import recording_with_chunks, split, webm_bytes
from tidings.threads import actions as thread_actions
from tidings.threads.models import SpaceMember
from tidings.threads.tests.factories import thread_in

MEDIA = webm_bytes(1.5)
PIECES = split(MEDIA, 5)


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def posted(person, space, chunks=PIECES, **fields):
    """A recording posted as the opening of a thread, not processed yet (state queued)."""
    recording = recording_with_chunks(person, space, chunks, **fields)
    thread_actions.post_thread(
        person, space, kind="walkthrough", title="Tour", body="", recording_token=recording.token
    )
    recording.refresh_from_db()
    return recording


@pytest.fixture
def recording(world):
    return posted(world.member, world.open_space)


@pytest.fixture
def processed(world):
    """A private-space recording whose processing left a playable file and a poster."""
    recording = posted(world.owner, world.private_space)
    recording.playable.save("playable.webm", ContentFile(MEDIA), save=False)
    recording.poster.save("poster.jpg", ContentFile(b"\xff\xd8 a poster \xff\xd9"), save=False)
    recording.playable_type = "video/webm"
    recording.state = State.READY
    recording.save()
    return recording


# --- The Range header, as data.


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-99", 1000, (0, 99)),  # first bytes
        ("bytes=100-199", 1000, (100, 199)),  # middle
        ("bytes=-100", 1000, (900, 999)),  # suffix
        ("bytes=900-", 1000, (900, 999)),  # open-ended
        ("bytes=990-5000", 1000, (990, 999)),  # clamped to the end
        ("bytes=-5000", 1000, (0, 999)),  # a suffix longer than the file is the whole file
        ("BYTES = 5-5", 1000, (5, 5)),
        ("", 1000, None),
        ("bytes=", 1000, None),
        ("bytes=-", 1000, None),
        ("bytes=abc-", 1000, None),  # malformed: ignored (RFC 9110)
        ("bytes=9-1", 1000, None),  # last before first: malformed
        ("items=0-1", 1000, None),  # unknown unit: ignored
        ("bytes=0-1,5-6", 1000, None),  # several ranges: the whole file
        ("bytes=" + "9" * 40 + "-", 1000, None),  # absurdly large: ignored, no crash
        ("bytes=١-٢", 1000, None),  # non-ASCII digits are not digits here
    ],
)
def test_byte_range(header, size, expected):
    assert byte_range(header, size) == expected


@pytest.mark.parametrize(
    ("header", "size"), [("bytes=1000-", 1000), ("bytes=1000-1001", 1000), ("bytes=-0", 1000),
                         ("bytes=0-", 0), ("bytes=-1", 0)]
)  # fmt: skip
def test_unsatisfiable_ranges(header, size):
    with pytest.raises(Unsatisfiable):
        byte_range(header, size)


# --- Joined chunks before processing.


def test_a_just_posted_recording_plays_from_its_chunks(world, recording):
    url = media_url(recording, "playable", world.admin)
    assert url.startswith("/media/r/") and url.endswith("/recording.webm")
    response = world.client_for("admin").get(url)
    assert response.status_code == 200
    assert body(response) == MEDIA
    assert response["Content-Type"] == "video/webm"
    assert response["Content-Length"] == str(len(MEDIA))
    assert response["Accept-Ranges"] == "bytes"
    assert response["Cache-Control"] == "private, max-age=21600"
    assert response["Content-Disposition"] == 'inline; filename="recording.webm"'
    assert response["ETag"] and response["Last-Modified"]


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, None),
        ("bytes=-700", -700, None),
        # Across chunk boundaries: from inside the first chunk to inside the fourth.
        (f"bytes={len(PIECES[0]) - 10}-{len(PIECES[0]) * 3 + 10}", len(PIECES[0]) - 10,
         len(PIECES[0]) * 3 + 10),
    ],
)  # fmt: skip
def test_ranges_over_the_joined_chunks(world, recording, header, first, last):
    response = Client().get(
        media_url(recording, "playable", world.member), headers={"Range": header}
    )
    assert response.status_code == 206
    expected = MEDIA[first : None if last is None else last + 1]
    assert body(response) == expected
    start = first % len(MEDIA)
    end = start + len(expected) - 1
    assert response["Content-Range"] == f"bytes {start}-{end}/{len(MEDIA)}"
    assert response["Content-Length"] == str(len(expected))


def test_an_unsatisfiable_range_is_416_with_the_size(world, recording):
    url = media_url(recording, "playable", world.member)
    response = Client().get(url, headers={"Range": f"bytes={len(MEDIA)}-"})
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(MEDIA)}"
    assert body(response) == b""


@pytest.mark.parametrize("header", ["bytes=abc", "bytes=5-1", "bytes=0-1,4-5", "pages=1-2"])
def test_a_malformed_or_multiple_range_gets_the_whole_file(world, recording, header):
    response = Client().get(
        media_url(recording, "playable", world.member), headers={"Range": header}
    )
    assert response.status_code == 200 and body(response) == MEDIA


def test_the_joined_chunks_stop_at_the_posted_count(world):
    """A chunk the client sent after posting (past the end) is never served."""
    held = recording_with_chunks(world.member, world.open_space, PIECES)
    thread_actions.post_thread(
        world.member, world.open_space, kind="discussion", title="Cut", body="",
        recording_token=held.token, recording_chunks=3,
    )  # fmt: skip
    held.refresh_from_db()
    response = Client().get(media_url(held, "playable", world.member))
    assert body(response) == b"".join(PIECES[:3])


def test_head_and_conditional_requests(world, recording):
    url = media_url(recording, "playable", world.member)
    client = Client()
    head = client.head(url)
    assert head.status_code == 200 and head["Content-Length"] == str(len(MEDIA))
    assert body(head) == b""
    etag = client.get(url)["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    stale = client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"old"'})
    assert stale.status_code == 200 and body(stale) == MEDIA
    fresh = client.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert fresh.status_code == 206 and body(fresh) == MEDIA[:10]


# --- Stored files after processing.


def test_stored_files_are_served_with_ranges(world, processed):
    client = world.client_for("admin")
    url = media_url(processed, "playable", world.admin)
    whole = client.get(url)
    assert whole.status_code == 200 and body(whole) == MEDIA
    middle = client.get(url, headers={"Range": "bytes=200-299"})
    assert middle.status_code == 206 and body(middle) == MEDIA[200:300]
    assert middle["Content-Range"] == f"bytes 200-299/{len(MEDIA)}"
    poster = client.get(media_url(processed, "poster", world.admin))
    assert poster.status_code == 200 and poster["Content-Type"] == "image/jpeg"
    assert body(poster).startswith(b"\xff\xd8")


def test_variants_that_do_not_exist_have_no_link(world, processed, recording):
    assert media_url(processed, "rendition", world.owner) == ""
    assert media_url(processed, "audio", world.owner) == ""
    assert media_url(recording, "poster", world.member) == ""
    with pytest.raises(ValueError):
        media_url(recording, "thumbnail", world.member)


def test_a_failed_recording_does_not_serve_its_chunks(world, recording):
    url = media_url(recording, "playable", world.member)
    recording.state = State.FAILED
    recording.save()
    assert Client().get(url).status_code == 404
    assert media_url(recording, "playable", world.member) == ""


# --- Signatures, expiry and access.


def test_an_expired_link_is_refused_with_a_sentence(world, recording, settings):
    made_at = time.time() - settings.RECORDING_URL_TTL_SECONDS - 5
    with mock.patch("django.core.signing.time.time", return_value=made_at):
        url = media_url(recording, "playable", world.member)
    response = Client().get(url)
    assert response.status_code == 410
    assert response.content.decode() == media.EXPIRED
    assert MEDIA[:20] not in response.content


def test_a_tampered_link_is_not_found(world, recording):
    url = media_url(recording, "playable", world.member)
    prefix, signed, name = url.rsplit("/", 2)
    forged = signed[:-3] + ("AAA" if not signed.endswith("AAA") else "BBB")
    for bad in (f"{prefix}/{forged}/{name}", f"{prefix}/not-signed/{name}"):
        response = Client().get(bad)
        assert response.status_code == 404 and response.content == b"Not found."


def test_a_link_for_another_variant_cannot_be_made_by_editing(world, processed):
    url = media_url(processed, "poster", world.owner)
    assert "playable" not in url
    assert body(Client().get(url.replace("poster.jpg", "recording.webm"))).startswith(b"\xff")


def test_access_is_checked_when_the_link_is_used(world, processed):
    """Someone removed from a private space loses its media at once, links already made
    included; a link made for one person does not open for a person who cannot see it."""
    url = media_url(processed, "playable", world.admin)
    assert Client().get(url).status_code == 200
    SpaceMember.objects.filter(space=world.private_space, person=world.admin).delete()
    refused = Client().get(url)
    assert refused.status_code == 404 and refused.content == b"Not found."
    outsider_url = media_url(processed, "playable", world.member)
    assert Client().get(outsider_url).status_code == 404


def test_a_deleted_post_takes_its_media_with_it(world):
    thread = thread_in(world.open_space, world.owner)
    recording = recording_with_chunks(world.member, world.open_space, PIECES, thread=thread)
    reply = thread_actions.post_reply(
        world.member, thread, body="", recording_token=recording.token
    )
    url = media_url(recording, "playable", world.owner)
    assert Client().get(url).status_code == 200
    thread_actions.delete_reply(world.member, reply)
    assert Client().get(url).status_code == 404


def test_an_unposted_recording_plays_only_for_its_owner(world):
    unposted = recording_with_chunks(world.member, world.open_space, PIECES[:2])
    assert body(Client().get(media_url(unposted, "playable", world.member))) == b"".join(PIECES[:2])
    assert Client().get(media_url(unposted, "playable", world.owner)).status_code == 404


def test_status_gives_the_viewer_state_and_links(world, recording, processed):
    """What a page polls (the API with its session): the state and signed media links."""
    response = SessionApiClient(world.guest).get(f"/recordings/{recording.token}")
    assert response.status_code == 200
    data = response.json()
    assert data["state"] == "queued" and data["progress"] == 0
    assert data["media"]["playable"].startswith("/media/r/") and data["media"]["poster"] == ""
    assert body(Client().get(data["media"]["playable"])) == MEDIA
    ready = SessionApiClient(world.owner).get(f"/recordings/{processed.token}").json()
    assert ready["state"] == "ready" and ready["media"]["poster"].endswith("/poster.jpg")
