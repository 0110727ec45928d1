"""The library: each person's recordings and the ones shared with them, searched, sorted and
paged; renaming; unfinished recordings posted or discarded. Nothing a person may not see shows,
not even in a count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import ROLES, by_role
from tidings.recordings import collections, queries
from tidings.recordings.models import Recording, RecordingChunk, RecordingView, State
from tidings.recordings.tests.factories import (
    posted_recording,
    recording_with_chunks,
    split,
    webm_bytes,
)
from tidings.threads import actions as thread_actions
from tidings.threads.tests.factories import reply_to, thread_in
from tidings.workspaces.models import Membership

PRIVATE_TITLE = "Layoff plan walkthrough"

ANON = 302
SEE_WORKSPACE = by_role(200, 200, 200, 200, 404, ANON)


@pytest.fixture
def shelf(world):
    """Open-space recordings by the member and the owner, a private one by the owner."""
    open_thread = thread_in(world.open_space, world.owner, title="Release checklist")
    private_thread = thread_in(world.private_space, world.owner, title="Board prep")
    return {
        "member_open": posted_recording(
            world.member, open_thread, title="Deploy steps", duration_ms=90_000
        ),
        "owner_open": posted_recording(world.owner, open_thread, title="", duration_ms=30_000),
        "owner_private": posted_recording(
            world.owner, private_thread, title=PRIVATE_TITLE, duration_ms=600_000
        ),
    }


def library_url(**params) -> str:
    url = reverse("recordings:library", kwargs={"workspace": "acme"})
    if params:
        url += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    return url


def titles(person, workspace, **kwargs) -> list[str]:
    return [r.display_title for r in queries.library_recordings(person, workspace, **kwargs)]


# --- Who reaches which page or form.


def rename_url(recording) -> str:
    return reverse(
        "recordings:library-rename", kwargs={"workspace": "acme", "token": recording.token}
    )


def collect_url(recording) -> str:
    return reverse(
        "recordings:collection-add", kwargs={"workspace": "acme", "token": recording.token}
    )


# (url maker, POST data or None for GET, {shelf key: statuses by role})
MATRIX = [
    (lambda r: library_url(), None, {"member_open": SEE_WORKSPACE}),
    (lambda r: library_url(tab="shared"), None, {"member_open": SEE_WORKSPACE}),
    (
        rename_url,
        {"title": "New name"},
        {
            "member_open": by_role(403, 403, 302, 403, 404, ANON),
            "owner_private": by_role(302, 403, 404, 404, 404, ANON),
        },
    ),
    (
        collect_url,
        {"new_title": "Favourites"},
        {
            "member_open": by_role(302, 302, 302, 302, 404, ANON),
            "owner_private": by_role(302, 302, 404, 404, 404, ANON),
        },
    ),
]
CASES = [
    (index, key, role, status)
    for index, (_url, _data, expected) in enumerate(MATRIX)
    for key, statuses in expected.items()
    for role, status in statuses.items()
]


@pytest.mark.parametrize(("index", "key", "role", "status"), CASES)
def test_permission_matrix(world, shelf, index, key, role, status):
    url_for, data, _expected = MATRIX[index]
    client = world.client_for(role)
    url = url_for(shelf[key])
    response = client.get(url) if data is None else client.post(url, data)
    assert response.status_code == status


@pytest.mark.parametrize("role", ROLES)
def test_unfinished_forms_are_only_their_owners(world, role):
    for name in ("unfinished-post", "unfinished-discard"):
        recording = recording_with_chunks(world.member, world.open_space, [b"abc"])
        url = reverse(f"recordings:{name}", kwargs={"workspace": "acme", "token": recording.token})
        response = world.client_for(role).post(url, {"title": "Saved"})
        expected = {"member": 302, "anonymous": ANON}.get(role, 404)
        assert response.status_code == expected, (name, role)


# --- What the tabs list.


def test_my_recordings_and_shared_with_me(world, shelf):
    assert titles(world.member, world.workspace) == ["Deploy steps"]
    assert titles(world.member, world.workspace, tab="shared") == ["Release checklist"]
    assert set(titles(world.owner, world.workspace)) == {PRIVATE_TITLE, "Release checklist"}
    assert titles(world.owner, world.workspace, tab="shared") == ["Deploy steps"]
    # The admin reads the private space: the owner's private recording is shared with them.
    assert PRIVATE_TITLE in titles(world.admin, world.workspace, tab="shared")
    # Guests see the open space only; outsiders nothing.
    assert set(titles(world.guest, world.workspace, tab="shared")) == {
        "Deploy steps",
        "Release checklist",
    }
    assert titles(world.outsider, world.workspace, tab="shared") == []


def test_unposted_deleted_and_hidden_recordings_stay_out(world, shelf):
    thread = thread_in(world.open_space, world.admin, title="Retro")
    reply = reply_to(thread, world.admin)
    posted_recording(world.admin, thread, reply=reply, title="Retro answer")
    recording_with_chunks(world.admin, world.open_space, [b"x"], title="Still recording")
    assert titles(world.admin, world.workspace) == ["Retro answer"]
    thread_actions.delete_reply(world.admin, reply)
    assert titles(world.admin, world.workspace) == []
    assert "Retro answer" not in titles(world.member, world.workspace, tab="shared")
    thread_actions.delete_thread(world.owner, shelf["owner_open"].thread)
    assert titles(world.member, world.workspace) == []


def test_library_page_shows_cards(world, shelf):
    RecordingView.objects.create(recording=shelf["member_open"], viewer=world.admin, percent=50)
    RecordingView.objects.create(recording=shelf["member_open"], viewer=world.guest, percent=10)
    RecordingView.objects.create(recording=shelf["member_open"], viewer=world.member)  # own
    page = world.client_for("member").get(library_url()).content.decode()
    assert "Deploy steps" in page and "1:30" in page and "#General" in page
    assert "2 viewers" in page  # the author's own viewing does not count
    thread_url = reverse("threads:thread", kwargs={"thread_id": shelf["member_open"].thread_id})
    assert f'href="{thread_url}#post"' in page
    assert "Rename" in page and "Add to collection" in page
    shared = world.client_for("member").get(library_url(tab="shared")).content.decode()
    assert "Release checklist" in shared and "viewer" not in shared  # counts only on own
    assert "Rename" not in shared and PRIVATE_TITLE not in shared


def test_card_of_a_reply_links_to_the_reply_and_shows_state(world):
    thread = thread_in(world.open_space, world.owner, title="Weekly demo")
    reply = reply_to(thread, world.member)
    busy = posted_recording(world.member, thread, reply=reply, state=State.PROCESSING, progress=40)
    posted_recording(
        world.member, thread, title="Broken", state=State.FAILED, failure_reason="Not media."
    )
    page = world.client_for("member").get(library_url()).content.decode()
    url = reverse("threads:thread", kwargs={"thread_id": thread.pk})
    assert f'href="{url}#reply-{reply.pk}"' in page
    assert "Preparing · 40%" in page and "Could not process" in page and "Not media." in page
    assert busy.title == "" and "Weekly demo" in page  # untitled: the thread's title


def test_times_show_in_the_viewers_zone(world):
    thread = thread_in(world.open_space, world.owner)
    recording = posted_recording(world.member, thread, title="Zoned")
    moment = timezone.now().replace(year=2024, month=3, day=1, hour=12, minute=0)
    Recording.objects.filter(pk=recording.pk).update(created_at=moment)
    page = world.client_for("member").get(library_url()).content.decode()
    assert "Mar 1, 2024" in page
    assert "17:30 IST" in page  # Mia lives in Asia/Kolkata: 12:00 UTC is 17:30 there


# --- Search, sort and pages.


def test_search_matches_every_word_in_recording_or_thread_title(world, shelf):
    assert titles(world.member, world.workspace, tab="shared", q="release") == ["Release checklist"]
    assert titles(world.member, world.workspace, q="DEPLOY") == ["Deploy steps"]
    assert titles(world.owner, world.workspace, tab="shared", q="deploy checklist") == [
        "Deploy steps"
    ]  # "checklist" is in its thread's title
    assert titles(world.member, world.workspace, q="nothing-like-this") == []


def test_search_never_finds_what_the_person_cannot_see(world, shelf):
    for role in ("member", "guest"):
        page = world.client_for(role).get(library_url(tab="shared", q="Layoff"))
        body = page.content.decode()
        assert page.status_code == 200
        assert PRIVATE_TITLE not in body and "No recordings match" in body
    found = world.client_for("admin").get(library_url(tab="shared", q="Layoff")).content.decode()
    assert PRIVATE_TITLE in found and "1 recording match" in found


def test_sorts(world, shelf):
    thread = shelf["owner_open"].thread
    extra = posted_recording(world.owner, thread, title="alpha", duration_ms=None)
    RecordingView.objects.create(recording=extra, viewer=world.member)
    RecordingView.objects.create(recording=extra, viewer=world.admin)
    RecordingView.objects.create(recording=shelf["owner_open"], viewer=world.member)
    old = timezone.now() - timedelta(days=3)
    Recording.objects.filter(pk=shelf["owner_private"].pk).update(created_at=old)

    def sorted_by(sort):
        return titles(world.owner, world.workspace, sort=sort)

    assert sorted_by("newest") == ["alpha", "Release checklist", PRIVATE_TITLE]
    assert sorted_by("oldest") == [PRIVATE_TITLE, "Release checklist", "alpha"]
    assert sorted_by("title") == ["alpha", PRIVATE_TITLE, "Release checklist"]
    assert sorted_by("longest") == [PRIVATE_TITLE, "Release checklist", "alpha"]
    assert sorted_by("most_viewed") == ["alpha", "Release checklist", PRIVATE_TITLE]
    assert sorted_by("bogus") == sorted_by("newest")


def test_bad_query_strings_fall_back(world, shelf):
    client = world.client_for("member")
    for params in (
        {"sort": "DROP TABLE"},
        {"tab": "everyone"},
        {"page": "-3"},
        {"page": "lots"},
        {"q": "x" * 5000},
    ):
        response = client.get(library_url(), params)
        assert response.status_code == 200, params
    page = client.get(library_url(), {"sort": "bogus"}).content.decode()
    assert '<option value="newest" selected>' in page


def test_pages_of_recordings(world):
    thread = thread_in(world.open_space, world.owner)
    for number in range(30):
        posted_recording(world.member, thread, title=f"Clip {number:02d}")
    client = world.client_for("member")
    first = client.get(library_url(sort="title")).content.decode()
    assert "Clip 00" in first and "Clip 23" in first and "Clip 24" not in first
    assert "Page 1 of 2" in first and "sort=title&amp;page=2" in first
    second = client.get(library_url(sort="title", page=2)).content.decode()
    assert "Clip 24" in second and "Clip 29" in second and "Clip 00" not in second


def test_empty_states_say_what_to_do(world):
    page = world.client_for("member").get(library_url()).content.decode()
    assert "No recordings yet" in page and "choose camera, screen or audio" in page
    shared = world.client_for("member").get(library_url(tab="shared")).content.decode()
    assert "Nothing shared with you yet" in shared


# --- Renaming.


def test_rename_own_recording(world, shelf):
    client = world.client_for("member")
    recording = shelf["member_open"]
    next_url = library_url(sort="title")
    response = client.post(rename_url(recording), {"title": "  Deploy   v2 ", "next": next_url})
    assert response.status_code == 302 and response["Location"] == next_url
    recording.refresh_from_db()
    assert recording.title == "Deploy v2"
    client.post(rename_url(recording), {"title": ""})
    assert titles(world.member, world.workspace) == ["Release checklist"]  # the thread's


def test_rename_refuses_a_long_title_with_a_sentence(world, shelf):
    client = world.client_for("member")
    response = client.post(rename_url(shelf["member_open"]), {"title": "x" * 201}, follow=True)
    assert "Keep the title to 200 characters or fewer (it has 201)." in response.content.decode()
    shelf["member_open"].refresh_from_db()
    assert shelf["member_open"].title == "Deploy steps"


def test_rename_goes_back_only_to_our_own_pages(world, shelf):
    client = world.client_for("member")
    response = client.post(
        rename_url(shelf["member_open"]), {"title": "x", "next": "https://evil.example/"}
    )
    assert response["Location"] == library_url()


# --- Unfinished recordings.


def died(recording, minutes=5):
    """As if the recording's last chunk arrived `minutes` ago."""
    then = timezone.now() - timedelta(minutes=minutes)
    RecordingChunk.objects.filter(recording=recording).update(received_at=then)


def test_unfinished_recordings_show_once_their_tab_is_silent(world):
    live = recording_with_chunks(world.member, world.open_space, [b"a", b"b"])
    assert list(queries.unfinished_recordings(world.member, world.workspace)) == []
    died(live)
    found = list(queries.unfinished_recordings(world.member, world.workspace))
    assert found == [live] and found[0].saved_chunks == 2
    assert list(queries.unfinished_recordings(world.owner, world.workspace)) == []
    empty = recording_with_chunks(world.member, world.open_space, [])
    assert empty not in queries.unfinished_recordings(world.member, world.workspace)
    page = world.client_for("member").get(library_url()).content.decode()
    assert "Unfinished recordings" in page and "Post what was saved" in page
    assert "a new thread in #General" in page and 'name="title"' in page
    assert (
        "Unfinished recordings" not in world.client_for("owner").get(library_url()).content.decode()
    )


def test_unfinished_reply_recording_offers_no_title(world):
    thread = thread_in(world.open_space, world.owner, title="Design review")
    recording = recording_with_chunks(world.member, world.open_space, [b"a"], thread=thread)
    died(recording)
    page = world.client_for("member").get(library_url()).content.decode()
    assert "a reply to “Design review”" in page
    assert f'id="unfinished-title-{recording.pk}"' not in page


def test_discard_an_unfinished_recording(world):
    recording = recording_with_chunks(world.member, world.open_space, [b"a", b"b"])
    died(recording)
    response = world.client_for("member").post(
        reverse(
            "recordings:unfinished-discard", kwargs={"workspace": "acme", "token": recording.token}
        ),
        follow=True,
    )
    assert "Recording discarded." in response.content.decode()
    assert not RecordingChunk.objects.filter(recording=recording).exists()
    assert list(queries.unfinished_recordings(world.member, world.workspace)) == []


def test_post_unfinished_without_a_title_says_so(world):
    recording = recording_with_chunks(world.member, world.open_space, [b"a"])
    died(recording)
    url = reverse(
        "recordings:unfinished-post", kwargs={"workspace": "acme", "token": recording.token}
    )
    response = world.client_for("member").post(url, {"title": "  "}, follow=True)
    assert response.status_code == 200
    assert "Give the thread a title." in response.content.decode()
    recording.refresh_from_db()
    assert recording.posted_at is None


def test_post_what_was_saved_as_a_new_walkthrough(world):
    recording = recording_with_chunks(world.member, world.open_space, split(webm_bytes(2), 3))
    died(recording)
    url = reverse(
        "recordings:unfinished-post", kwargs={"workspace": "acme", "token": recording.token}
    )
    response = world.client_for("member").post(url, {"title": "Saved tour", "kind": "walkthrough"})
    recording.refresh_from_db()
    assert recording.posted_at is not None and recording.chunk_count == 3
    assert recording.thread.kind == "walkthrough" and recording.thread.title == "Saved tour"
    assert response["Location"] == f"/t/{recording.thread_id}/#post"
    assert list(queries.unfinished_recordings(world.member, world.workspace)) == []
    assert titles(world.member, world.workspace) == ["Saved tour"]


def test_post_what_was_saved_as_a_reply(world):
    thread = thread_in(world.open_space, world.owner, title="Design review")
    recording = recording_with_chunks(world.member, world.open_space, [b"a", b"b"], thread=thread)
    died(recording)
    url = reverse(
        "recordings:unfinished-post", kwargs={"workspace": "acme", "token": recording.token}
    )
    response = world.client_for("member").post(url)
    recording.refresh_from_db()
    assert recording.reply is not None and recording.reply.thread == thread
    assert response["Location"] == f"/t/{thread.pk}/#reply-{recording.reply_id}"


def test_the_page_costs_the_same_queries_for_few_or_many_cards(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    thread = thread_in(world.open_space, world.owner)
    collections.create_collection(world.member, world.workspace, title="Picks")
    client = world.client_for("member")

    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(library_url()).status_code == 200
        return len(captured)

    posted_recording(world.member, thread, title="One", poster="recordings/x/poster.jpg")
    queries_for_page()  # the first request of a session also records the session's use
    few = queries_for_page()
    for number in range(20):
        posted_recording(world.member, thread, title=f"Clip {number}", poster="p.jpg")
    assert queries_for_page() == few


def test_forms_answer_only_under_the_recordings_own_workspace(world, shelf):
    Membership.objects.create(workspace=world.other_workspace, person=world.member)
    url = reverse(
        "recordings:library-rename",
        kwargs={"workspace": "other", "token": shelf["member_open"].token},
    )
    assert world.client_for("member").post(url, {"title": "Moved"}).status_code == 404
    shelf["member_open"].refresh_from_db()
    assert shelf["member_open"].title == "Deploy steps"
