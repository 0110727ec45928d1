"""Spoken words in search: a result opens the recording at the moment they are said."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from tidings.recordings.queries import library_recordings
from tidings.recordings.tests.factories import posted_recording
from tidings.search import index
from tidings.search.models import SearchDocument
from tidings.search.queries import search
from tidings.threads import actions as thread_actions
from tidings.threads.tests.factories import reply_to, thread_in
from tidings.transcripts.tests.test_pages import transcript_for


def spoken(world, space, author, words: str, *, in_reply: bool = False):
    thread = thread_in(space, author, title="Weekly call")
    reply = reply_to(thread, author, body="Notes in the recording") if in_reply else None
    recording = posted_recording(author, thread, reply=reply, title="Call")
    transcript = transcript_for(recording, words)
    index.index_transcript(transcript)
    return thread, reply, recording, transcript


def test_spoken_words_are_found_and_open_the_recording_at_their_moment(world):
    thread, _reply, recording, _ = spoken(
        world, world.open_space, world.member, "first we talk about the quarterly budget"
    )
    [hit] = search(world.guest, "budget").hits
    assert hit.spoken and hit.thread_id == thread.pk and hit.author_name == "Mia Member"
    assert hit.moment_ms == 6 * 400 and hit.moment == "0:02"
    assert "<mark>budget</mark>" in hit.snippet
    address = urlparse(hit.url)
    assert address.path == f"/t/{thread.pk}/" and address.fragment == f"rec-{recording.token}"
    assert parse_qs(address.query) == {"t": ["2"], "rec": [recording.token], "q": ["budget"]}
    page = world.client_for("guest").get("/search/", {"q": "budget"}).content.decode()
    assert "Said at 0:02 in a recording by" in page


def test_a_prefix_finds_the_word_being_typed(world):
    spoken(world, world.open_space, world.member, "the meeting moves to Thursday")
    [hit] = search(world.member, "meet").hits
    assert hit.moment_ms == 400


def test_spoken_words_in_a_private_space_stay_there(world):
    spoken(world, world.private_space, world.owner, "the Globex acquisition closes in March")
    assert search(world.owner, "globex").hits
    for role in ("member", "guest", "outsider"):
        assert not search(world.person(role), "globex").hits
        page = world.client_for(role).get("/search/", {"q": "globex"}).content.decode()
        assert "Globex" not in page


def test_deleting_the_post_takes_its_spoken_words_out(world):
    thread, reply, recording, transcript = spoken(
        world, world.open_space, world.member, "a word only said once: zanzibar", in_reply=True
    )
    assert search(world.member, "zanzibar").hits
    thread_actions.delete_reply(world.member, reply)
    assert not search(world.member, "zanzibar").hits
    assert not SearchDocument.objects.filter(recording=recording).exists()


def test_reindex_keeps_transcripts_and_a_resolved_thread_updates_them(world):
    thread, *_ = spoken(world, world.open_space, world.member, "we choose the blue logo")
    assert index.rebuild() == SearchDocument.objects.count()
    assert search(world.member, "logo").hits[0].spoken
    thread_actions.resolve_thread(world.member, thread, "Blue it is.")
    assert search(world.member, "logo", resolved=True).hits


def test_the_library_finds_recordings_by_what_is_said_in_them(world):
    _thread, _reply, recording, _ = spoken(
        world, world.open_space, world.member, "the lighthouse lamp needs new bulbs"
    )
    found = library_recordings(world.member, world.workspace, q="lamp bulbs")
    assert list(found) == [recording]
    assert not library_recordings(world.member, world.workspace, q="lamp anchors").exists()
    shared = library_recordings(world.guest, world.workspace, tab="shared", q="lighthouse")
    assert list(shared) == [recording]


def test_the_moment_is_the_word_asked_for_not_a_short_word_before_it(world):
    spoken(world, world.open_space, world.member, "a note to all from alice about meetings")
    [hit] = search(world.member, "alice").hits
    assert hit.moment_ms == 5 * 400
    [hit] = search(world.member, "meeting").hits
    assert hit.moment_ms == 7 * 400
