"""Comments at a moment: a reply made at a time of a recording in its thread, checked in the
reply's transaction, so nothing is written when it is refused; it shows as a "▶ 0:42" link on
the reply and a marker on the player's timeline; a recording of another thread (a private one
above all) is never reachable."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from django.core.exceptions import ValidationError

from tidings.accounts.actions import create_access_token
from tidings.recordings.models import Moment
from tidings.recordings.tests.factories import (
    page,
    player_html,
    posted_opening,
    ready,
    recording_with_chunks,
    split,
    webm_bytes,
)
from tidings.threads import actions as thread_actions
from tidings.threads.models import Reply
from tidings.threads.tests.factories import thread_in


@pytest.fixture
def walkthrough(world):
    """A ready 3-second recording opening a thread in the open space, by the member."""
    return ready(posted_opening(world.member, world.open_space, title="Release tour"))


def markers(player: str) -> list:
    """The player's timeline markers as its figure carries them: [ms, reply id, label]."""
    found = re.search(r'data-markers="([^"]*)"', player[: player.index(">")])
    return json.loads(unescape(found.group(1))) if found else []


def comment(person, recording, ms, body="Look here", **fields):
    return thread_actions.post_reply(
        person,
        recording.thread,
        moment_recording=recording.token,
        moment_ms=ms,
        body=body,
        **fields,
    )


# --- The action.


def test_a_comment_at_a_moment_is_a_reply_with_its_moment(world, walkthrough):
    reply = comment(world.guest, walkthrough, 1500, body="The **banner** flickers here.")
    assert reply.thread_id == walkthrough.thread_id and reply.author == world.guest
    moment = Moment.objects.get(reply=reply)
    assert moment.recording == walkthrough and moment.position_ms == 1500
    walkthrough.thread.refresh_from_db()
    assert walkthrough.thread.reply_count == 1


@pytest.mark.parametrize(
    ("ms", "message"),
    [
        (-1, "Pick a moment within the recording (0:00 to 0:03)."),
        ("soon", "Pick a moment within the recording (0:00 to 0:03)."),
        ("", "Pick a moment within the recording (0:00 to 0:03)."),
        (10**12, "Pick a moment within the recording (0:00 to 0:03)."),
    ],
)
def test_the_moment_must_be_within_the_recording(world, walkthrough, ms, message):
    walkthrough.duration_ms = 3000  # fixed, so the sentence is known
    walkthrough.save()
    with pytest.raises(ValidationError) as raised:
        comment(world.member, walkthrough, ms)
    assert raised.value.message_dict == {"moment": [message]}
    assert not Reply.objects.exists() and not Moment.objects.exists()


def test_the_very_end_is_a_moment(world, walkthrough):
    reply = comment(world.member, walkthrough, walkthrough.duration_ms)
    assert reply.moment.position_ms == walkthrough.duration_ms


def test_before_processing_any_sane_moment_is_taken(world):
    recording = posted_opening(world.member, world.open_space)
    assert recording.duration_ms is None
    assert comment(world.admin, recording, 90_000).moment.position_ms == 90_000


NOT_HERE = {"moment": ["That recording is not in this thread any more. Remove the moment."]}


def test_a_recording_of_another_thread_is_refused(world, walkthrough):
    elsewhere = thread_in(world.open_space, world.owner, title="Elsewhere")
    with pytest.raises(ValidationError) as raised:
        thread_actions.post_reply(
            world.owner, elsewhere, moment_recording=walkthrough.token, moment_ms=0, body="Hm"
        )
    assert raised.value.message_dict == NOT_HERE
    assert not elsewhere.replies.exists()


def test_a_private_recording_never_leaks_through_a_moment(world):
    """The same sentence as for a token that does not exist: nothing tells it is there."""
    private = ready(posted_opening(world.owner, world.private_space, title="Layoffs"))
    open_thread = thread_in(world.open_space, world.owner)
    for token in (private.token, "0" * 32):
        with pytest.raises(ValidationError) as raised:
            thread_actions.post_reply(
                world.member, open_thread, moment_recording=token, moment_ms=0, body="?"
            )
        assert raised.value.message_dict == NOT_HERE
    # Not even its owner can pin it into a thread where others would see it.
    with pytest.raises(ValidationError):
        thread_actions.post_reply(
            world.owner, open_thread, moment_recording=private.token, moment_ms=0, body="?"
        )
    page_html = world.client_for("member").get(f"/t/{open_thread.pk}/").content.decode()
    assert "Layoffs" not in page_html and private.token not in page_html


def test_an_unposted_or_deleted_recording_is_refused(world, walkthrough):
    thread = walkthrough.thread
    unposted = recording_with_chunks(
        world.member, world.open_space, split(webm_bytes(1.0), 2), thread=thread
    )
    with pytest.raises(ValidationError):
        thread_actions.post_reply(
            world.member, thread, moment_recording=unposted.token, moment_ms=0, body="x"
        )
    walkthrough.deleted_at = walkthrough.posted_at
    walkthrough.save()
    with pytest.raises(ValidationError):
        comment(world.member, walkthrough, 0)


def test_the_reply_itself_is_checked_as_any_reply(world, walkthrough):
    with pytest.raises(ValidationError) as raised:
        comment(world.member, walkthrough, 1000, body="  ")
    assert "body" in raised.value.message_dict
    assert not Moment.objects.exists()


# --- In the thread.


def test_the_reply_links_to_its_moment_and_the_timeline_marks_it(world, walkthrough):
    reply = comment(world.guest, walkthrough, 2400, body="Typo in the *header*, see the logo.")
    html = page(world.client_for("admin"), walkthrough)
    post = html[html.index(f'id="reply-{reply.pk}"') :]
    link = post[post.index('<a class="moment-link"') :]
    link = link[: link.index("</a>")]
    assert f'href="#rec-{walkthrough.token}"' in link and 'data-ms="2400"' in link
    assert "▶</span> 0:02" in link and 'title="Play Release tour from 0:02"' in link
    # player.js makes each marker (a button named by its label) from these.
    assert markers(player_html(html, walkthrough)) == [
        [2400, reply.pk, "Gus Guest at 0:02: Typo in the header, see the logo."]
    ]


def test_a_deleted_reply_takes_its_marker_with_it(world, walkthrough):
    reply = comment(world.guest, walkthrough, 1000)
    thread_actions.delete_reply(world.guest, reply)
    html = page(world.client_for("owner"), walkthrough)
    assert markers(player_html(html, walkthrough)) == []


def test_long_excerpts_are_cut(world, walkthrough):
    comment(world.member, walkthrough, 0, body="word " * 60)
    player = player_html(page(world.client_for("owner"), walkthrough), walkthrough)
    [[_ms, _reply, label]] = markers(player)
    label = label.removeprefix("Mia Member at 0:00: ")
    assert len(label) == 80 and label.endswith("…")


# --- Through the composer.


def test_the_composer_posts_a_reply_at_a_moment(world, walkthrough):
    client = world.client_for("admin")
    thread_id = walkthrough.thread_id
    html = client.get(f"/t/{thread_id}/").content.decode()
    assert 'name="moment_recording"' in html and 'name="moment_ms"' in html
    assert 'class="composer-moment" hidden' in html
    response = client.post(
        f"/t/{thread_id}/reply",
        {"body": "Nice cut", "moment_recording": walkthrough.token, "moment_ms": "1200"},
    )
    reply = Reply.objects.get(body="Nice cut")
    assert response.status_code == 302 and response["Location"].endswith(f"#reply-{reply.pk}")
    assert reply.moment.position_ms == 1200


def test_a_refused_moment_keeps_the_reply_and_its_chip(world, walkthrough):
    client = world.client_for("admin")
    response = client.post(
        f"/t/{walkthrough.thread_id}/reply",
        {"body": "Keep my words", "moment_recording": walkthrough.token, "moment_ms": "999999"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Pick a moment within the recording" in html and "Keep my words" in html
    chip = html[html.index('class="composer-moment"') :]
    chip = chip[: chip.index("</div>")]
    assert "hidden" not in chip.split(">")[0] and "Release tour" in chip and "16:39" in chip
    assert not Reply.objects.exists()


@pytest.mark.parametrize("ms", ["²", "-3", "1e3", "1_000", "9" * 5000, "", "٣"])
def test_odd_moments_from_the_composer_get_a_sentence(world, walkthrough, ms):
    response = world.client_for("admin").post(
        f"/t/{walkthrough.thread_id}/reply",
        {"body": "Hm", "moment_recording": walkthrough.token, "moment_ms": ms},
    )
    assert response.status_code == 400
    assert "Pick a moment within the recording" in response.content.decode()


def test_a_composer_without_a_moment_posts_a_plain_reply(world, walkthrough):
    client = world.client_for("guest")
    client.post(f"/t/{walkthrough.thread_id}/reply", {"body": "Plain", "moment_recording": ""})
    assert Reply.objects.get(body="Plain") and not Moment.objects.exists()


# --- Through the JSON API: the same action.


def test_api_replies_at_a_moment(world, walkthrough, client):
    _, raw = create_access_token(world.guest, "tests")
    url = f"/api/threads/{walkthrough.thread_id}/replies"
    headers = {"Authorization": f"Bearer {raw}"}
    payload = {"body": "Here", "moment_recording": walkthrough.token, "moment_ms": 1000}
    response = client.post(url, payload, content_type="application/json", headers=headers)
    assert response.status_code == 201
    assert Reply.objects.get(pk=response.json()["id"]).moment.position_ms == 1000
    payload["moment_ms"] = walkthrough.duration_ms + 1
    refused = client.post(url, payload, content_type="application/json", headers=headers)
    assert refused.status_code == 422
    assert "Pick a moment within the recording" in str(refused.json()["errors"])
    del payload["moment_ms"]
    missing = client.post(url, payload, content_type="application/json", headers=headers)
    assert missing.status_code == 422 and Reply.objects.count() == 1
