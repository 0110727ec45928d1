"""Collections: hand-ordered lists of recordings, shared to a space. Only the owner changes
one; readers of its space view it; a recording a reader may not see never shows, not even in a
count. Also the walkthrough kind: a thread that is a recording."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse

from conftest import by_role
from tidings.recordings import collections, queries
from tidings.recordings.models import Collection, CollectionItem
from tidings.recordings.tests.factories import posted_recording, recording_with_chunks
from tidings.threads import actions as thread_actions
from tidings.threads.models import Space, ThreadKind
from tidings.threads.tests.factories import thread_in
from tidings.workspaces.models import Membership

SECRET = "Salary bands explained"
ANON = 302


@pytest.fixture
def onboarding(world):
    """The owner's "Onboarding": two open recordings and one from the private space."""
    open_thread = thread_in(world.open_space, world.owner, title="Welcome")
    private_thread = thread_in(world.private_space, world.owner, title="Leadership notes")
    collection = collections.create_collection(world.owner, world.workspace, title="Onboarding")
    recordings = {
        "tour": posted_recording(world.owner, open_thread, title="Office tour"),
        "secret": posted_recording(world.owner, private_thread, title=SECRET),
        "tools": posted_recording(world.member, open_thread, title="Our tools"),
    }
    for key in ("tour", "secret", "tools"):
        collections.add_to_collection(world.owner, collection, recordings[key])
    return collection, recordings


def order(collection) -> list[str]:
    items = CollectionItem.objects.filter(collection=collection).order_by("position")
    return [item.recording.title for item in items]


def positions(collection) -> list[int]:
    return list(
        CollectionItem.objects.filter(collection=collection)
        .order_by("position")
        .values_list("position", flat=True)
    )


def url(name, collection, **kwargs) -> str:
    return reverse(
        f"recordings:{name}",
        kwargs={"workspace": "acme", "collection_id": collection.pk, **kwargs},
    )


# --- Who may open and change a collection.

OWNER_ONLY_OPEN = by_role(302, 403, 403, 403, 404, ANON)  # shared to the open space
OWNER_ONLY_PRIVATE = by_role(302, 403, 404, 404, 404, ANON)  # shared to the private space
OWNER_ONLY_UNSHARED = by_role(302, 404, 404, 404, 404, ANON)

# (what, method, data, shared to: statuses)
MATRIX = [
    ("collection", "get", None, "open", by_role(200, 200, 200, 200, 404, ANON)),
    ("collection", "get", None, "private", by_role(200, 200, 404, 404, 404, ANON)),
    ("collection", "get", None, None, by_role(200, 404, 404, 404, 404, ANON)),
    ("collection-edit", "post", {"title": "Renamed"}, "open", OWNER_ONLY_OPEN),
    ("collection-edit", "post", {"title": "Renamed"}, "private", OWNER_ONLY_PRIVATE),
    ("collection-edit", "post", {"title": "Renamed"}, None, OWNER_ONLY_UNSHARED),
    ("collection-share", "post", {"space": ""}, "open", OWNER_ONLY_OPEN),
    ("collection-share", "post", {"space": ""}, "private", OWNER_ONLY_PRIVATE),
    ("collection-delete", "post", {}, "open", OWNER_ONLY_OPEN),
    ("collection-delete", "post", {}, None, OWNER_ONLY_UNSHARED),
    ("collection-move", "post", {"direction": "down"}, "open", OWNER_ONLY_OPEN),
    ("collection-move", "post", {"direction": "down"}, "private", OWNER_ONLY_PRIVATE),
    ("collection-remove", "post", {}, "open", OWNER_ONLY_OPEN),
    ("collection-remove", "post", {}, None, OWNER_ONLY_UNSHARED),
]
CASES = [
    (name, method, data, shared, role, status)
    for name, method, data, shared, statuses in MATRIX
    for role, status in statuses.items()
]


@pytest.mark.parametrize(("name", "method", "data", "shared", "role", "status"), CASES)
def test_permission_matrix(world, onboarding, name, method, data, shared, role, status):
    collection, recordings = onboarding
    space = {"open": world.open_space, "private": world.private_space}.get(shared)
    collections.share_collection(world.owner, collection, space)
    kwargs = (
        {"token": recordings["tour"].token}
        if name in ("collection-move", "collection-remove")
        else {}
    )
    client = world.client_for(role)
    target = url(name, collection, **kwargs)
    response = client.get(target) if method == "get" else client.post(target, data)
    assert response.status_code == status
    changed = Collection.objects.filter(pk=collection.pk, title="Renamed").exists()
    assert changed == (name == "collection-edit" and status == 302 and role != "anonymous")


@pytest.mark.parametrize(("role", "status"), by_role(200, 200, 200, 200, 404, ANON).items())
def test_collections_page_and_creating_one(world, role, status):
    client = world.client_for(role)
    target = reverse("recordings:collections", kwargs={"workspace": "acme"})
    assert client.get(target).status_code == status
    response = client.post(target, {"title": f"Picks of {role}"})
    assert response.status_code == (302 if status == 200 else status)
    assert Collection.objects.filter(title=f"Picks of {role}").exists() == (status == 200)


def test_actions_refuse_people_who_do_not_own_the_collection(world, onboarding):
    collection, recordings = onboarding
    collections.share_collection(world.owner, collection, world.open_space)
    with pytest.raises(PermissionDenied):
        collections.update_collection(world.member, collection, title="Mine now")
    with pytest.raises(PermissionDenied):
        collections.add_to_collection(world.member, collection, recordings["tools"])
    with pytest.raises(Http404):
        collections.delete_collection(world.outsider, collection)
    with pytest.raises(Http404):
        collections.move_in_collection(None, collection, recordings["tools"].pk, "up")


# --- Nothing leaks through a shared collection.


def test_a_private_recording_never_shows_to_readers_of_an_open_space(world, onboarding):
    collection, _recordings = onboarding
    collections.share_collection(world.owner, collection, world.open_space)
    for role in ("member", "guest"):
        page = world.client_for(role).get(url("collection", collection)).content.decode()
        assert "Office tour" in page and "Our tools" in page
        assert SECRET not in page and "Leadership notes" not in page
        assert "2 recordings" in page and "3 recordings" not in page
        space = world.client_for(role).get("/w/acme/s/general/").content.decode()
        assert "Onboarding" in space and "· 2" in space
        listing = world.client_for(role).get("/w/acme/collections/").content.decode()
        assert "Onboarding" in listing and "2 recordings" in listing
    owner_page = world.client_for("owner").get(url("collection", collection)).content.decode()
    assert SECRET in owner_page and "3 recordings" in owner_page
    assert [r.title for r in queries.collection_recordings(world.member, collection)] == [
        "Office tour",
        "Our tools",
    ]


def test_a_collection_shared_to_a_private_space_stays_in_it(world, onboarding):
    collection, _recordings = onboarding
    collections.share_collection(world.owner, collection, world.private_space)
    assert list(queries.space_collections(world.admin, world.private_space)) == [collection]
    assert list(queries.shared_collections(world.member, world.workspace)) == []
    assert queries.collection_for(world.admin, world.workspace, collection.pk).item_count == 3
    with pytest.raises(Http404):
        queries.collection_for(world.member, world.workspace, collection.pk)
    collections.share_collection(world.owner, collection, None)
    assert list(queries.space_collections(world.admin, world.private_space)) == []
    with pytest.raises(Http404):
        queries.collection_for(world.admin, world.workspace, collection.pk)


def test_a_deleted_post_leaves_the_collection(world, onboarding):
    collection, recordings = onboarding
    thread_actions.delete_thread(world.owner, recordings["tour"].thread)
    assert [r.title for r in queries.collection_recordings(world.owner, collection)] == [SECRET]


def test_collections_of_another_workspace_are_not_found(world, onboarding):
    collection, _recordings = onboarding
    response = world.client_for("owner").get(
        reverse("recordings:collection", kwargs={"workspace": "other", "collection_id": 1})
    )
    assert response.status_code == 404
    with pytest.raises(Http404):
        queries.collection_for(world.outsider, world.other_workspace, collection.pk)


# --- Adding, removing, and the hand-made order.


def test_adding_puts_at_the_end_once(world, onboarding):
    collection, recordings = onboarding
    assert order(collection) == ["Office tour", SECRET, "Our tools"]
    item, created = collections.add_to_collection(world.owner, collection, recordings["tour"])
    assert not created and item.position == 0
    assert positions(collection) == [0, 1, 2]


def test_only_posted_visible_recordings_of_the_workspace_go_in(world, onboarding):
    collection, recordings = onboarding
    unposted = recording_with_chunks(world.owner, world.open_space, [b"x"])
    with pytest.raises(ValidationError, match="Post the recording first"):
        collections.add_to_collection(world.owner, collection, unposted)
    mine = collections.create_collection(world.member, world.workspace, title="Mia's")
    with pytest.raises(Http404):
        collections.add_to_collection(world.member, mine, recordings["secret"])
    with pytest.raises(Http404):  # the outsider cannot see it
        collections.add_to_collection(world.outsider, collection, recordings["tour"])
    # The owner also belongs to another workspace: its collections take only its recordings.
    Membership.objects.create(workspace=world.other_workspace, person=world.owner)
    elsewhere = Space.objects.create(
        workspace=world.other_workspace, name="Far", slug="far", created_by=world.outsider
    )
    far = posted_recording(world.owner, thread_in(elsewhere, world.owner), title="Far")
    theirs = collections.create_collection(world.owner, world.other_workspace, title="Elsewhere")
    collections.add_to_collection(world.owner, theirs, far)
    with pytest.raises(ValidationError, match="another workspace"):
        collections.add_to_collection(world.owner, theirs, recordings["tour"])
    with pytest.raises(ValidationError, match="another workspace"):
        collections.add_to_collection(world.owner, collection, far)
    assert order(theirs) == ["Far"]


def test_moving_up_and_down_keeps_positions_dense(world, onboarding):
    collection, recordings = onboarding
    tools = recordings["tools"].pk
    assert collections.move_in_collection(world.owner, collection, tools, "up") == 1
    assert order(collection) == ["Office tour", "Our tools", SECRET]
    collections.move_in_collection(world.owner, collection, tools, "up")
    assert order(collection) == ["Our tools", "Office tour", SECRET]
    # Past the top end: nothing moves.
    assert collections.move_in_collection(world.owner, collection, tools, "up") == 0
    assert order(collection) == ["Our tools", "Office tour", SECRET]
    collections.move_in_collection(world.owner, collection, recordings["secret"].pk, "down")
    assert order(collection) == ["Our tools", "Office tour", SECRET]
    assert positions(collection) == [0, 1, 2]
    with pytest.raises(ValidationError, match="up or down"):
        collections.move_in_collection(world.owner, collection, tools, "sideways")
    stranger = posted_recording(world.owner, recordings["tour"].thread, title="Not in it")
    with pytest.raises(Http404):
        collections.move_in_collection(world.owner, collection, stranger.pk, "up")


def test_removing_closes_the_gap(world, onboarding):
    collection, recordings = onboarding
    collections.remove_from_collection(world.owner, collection, recordings["secret"].pk)
    assert order(collection) == ["Office tour", "Our tools"]
    assert positions(collection) == [0, 1]
    collections.remove_from_collection(world.owner, collection, recordings["secret"].pk)  # again
    assert positions(collection) == [0, 1]
    assert recordings["secret"].__class__.objects.filter(pk=recordings["secret"].pk).exists()


def test_a_move_steps_over_what_the_owner_no_longer_sees(world):
    thread = thread_in(world.open_space, world.owner, title="Open")
    private_thread = thread_in(world.private_space, world.owner, title="Closed")
    collection = collections.create_collection(world.admin, world.workspace, title="Admin picks")
    first = posted_recording(world.owner, thread, title="First")
    hidden = posted_recording(world.owner, private_thread, title="Hidden")
    last = posted_recording(world.owner, thread, title="Last")
    for recording in (first, hidden, last):
        collections.add_to_collection(world.admin, collection, recording)
    world.private_space.members.filter(person=world.admin).delete()  # the admin loses sight
    collections.move_in_collection(world.admin, collection, last.pk, "up")
    assert order(collection) == ["Last", "Hidden", "First"]
    assert positions(collection) == [0, 1, 2]


def test_htmx_move_returns_the_list_and_a_status_line(world, onboarding):
    collection, recordings = onboarding
    client = world.client_for("owner")
    target = url("collection-move", collection, token=recordings["tools"].token)
    response = client.post(target, {"direction": "up"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="collection-items"' in body and "<html" not in body
    assert 'hx-swap-oob="innerHTML"' in body and "“Our tools” is now number 2 of 3." in body
    assert body.index("Our tools") < body.index(SECRET)
    assert f'id="move-up-{recordings["tools"].token}"' in body
    plain = client.post(target, {"direction": "up"})
    assert plain.status_code == 302 and plain["Location"].endswith("#collection-items")
    bad = client.post(target, {"direction": "left"}, headers={"HX-Request": "true"})
    assert bad.status_code == 400 and "up or down" in bad.content.decode()


def test_htmx_remove(world, onboarding):
    collection, recordings = onboarding
    target = url("collection-remove", collection, token=recordings["tour"].token)
    response = world.client_for("owner").post(target, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "Removed from the collection." in body and "Office tour" not in body
    assert 'id="collection-count" hx-swap-oob="innerHTML">2 recordings<' in body


def test_the_status_reader_sees_no_owner_tools(world, onboarding):
    collection, _recordings = onboarding
    collections.share_collection(world.owner, collection, world.open_space)
    page = world.client_for("member").get(url("collection", collection)).content.decode()
    assert "Move “" not in page and "Delete the collection?" not in page
    owner_page = world.client_for("owner").get(url("collection", collection)).content.decode()
    assert "Move “Office tour” down" in owner_page and "Delete the collection?" in owner_page


# --- Adding from a library card.


def collect(client, recording, **data):
    target = reverse(
        "recordings:collection-add", kwargs={"workspace": "acme", "token": recording.token}
    )
    return client.post(target, data, follow=True).content.decode()


def test_add_from_the_library_card(world, onboarding):
    collection, recordings = onboarding
    client = world.client_for("owner")
    fresh = posted_recording(world.owner, recordings["tour"].thread, title="Fresh")
    assert "Added to “Onboarding”." in collect(client, fresh, collection=collection.pk)
    assert "Already in “Onboarding”." in collect(client, fresh, collection=collection.pk)
    page = collect(client, fresh, new_title="Later")
    assert "Added to “Later”." in page
    assert order(Collection.objects.get(title="Later")) == ["Fresh"]
    assert "Choose a collection, or name a new one." in collect(client, fresh, collection="x")
    assert "Give the collection a title" not in collect(client, fresh, new_title=" ")
    member = world.client_for("member")
    response = member.post(
        reverse("recordings:collection-add", kwargs={"workspace": "acme", "token": fresh.token}),
        {"collection": collection.pk},
    )
    assert response.status_code == 404  # someone else's collection, not shared: not found
    assert order(collection)[-1] == "Fresh"


# --- Sharing and editing.


def test_share_to_a_space_the_owner_can_post_in(world, onboarding):
    collection, _recordings = onboarding
    client = world.client_for("owner")
    page = client.post(
        url("collection-share", collection), {"space": world.open_space.pk}, follow=True
    ).content.decode()
    assert "Shared to #General" in page
    collection.refresh_from_db()
    assert collection.shared_space == world.open_space
    thread_actions.archive_space(world.owner, world.private_space)
    page = client.post(
        url("collection-share", collection), {"space": world.private_space.pk}, follow=True
    ).content.decode()
    assert "Choose a space you can post in." in page
    with pytest.raises(ValidationError, match="archived"):
        collections.share_collection(world.owner, collection, world.private_space)
    for bad in ("abc", "99999", str(world.private_space.pk)):
        client.post(url("collection-share", collection), {"space": bad})
        collection.refresh_from_db()
        assert collection.shared_space == world.open_space
    mine = collections.create_collection(world.member, world.workspace, title="Mia's")
    with pytest.raises(ValidationError, match="can see"):
        collections.share_collection(world.member, mine, world.private_space)
    page = client.post(url("collection-share", collection), {"space": ""}, follow=True)
    assert "no longer shared" in page.content.decode()


@pytest.mark.parametrize(
    ("title", "description", "message"),
    [
        ("", "", "Give the collection a title"),
        ("x" * 121, "", "Keep the title to 120 characters or fewer (it has 121)."),
        ("Fine", "d" * 501, "Keep the description to 500 characters or fewer (it has 501)."),
    ],
)
def test_bad_titles_get_a_sentence(world, title, description, message):
    client = world.client_for("member")
    target = reverse("recordings:collections", kwargs={"workspace": "acme"})
    response = client.post(target, {"title": title, "description": description})
    assert response.status_code == 400 and message in response.content.decode()
    collection = collections.create_collection(world.member, world.workspace, title="Keep")
    page = client.post(
        url("collection-edit", collection),
        {"title": title, "description": description},
        follow=True,
    ).content.decode()
    assert message in page
    collection.refresh_from_db()
    assert collection.title == "Keep"


def test_edit_and_delete(world, onboarding):
    collection, recordings = onboarding
    client = world.client_for("owner")
    client.post(url("collection-edit", collection), {"title": " New  hires ", "description": "Hi"})
    collection.refresh_from_db()
    assert (collection.title, collection.description) == ("New hires", "Hi")
    response = client.post(url("collection-delete", collection), follow=True)
    assert "Collection “New hires” deleted." in response.content.decode()
    assert not Collection.objects.filter(pk=collection.pk).exists()
    assert recordings["tour"].__class__.objects.filter(pk=recordings["tour"].pk).exists()


def test_empty_collection_says_what_to_do(world):
    collection = collections.create_collection(world.member, world.workspace, title="Empty")
    page = world.client_for("member").get(url("collection", collection)).content.decode()
    assert "This collection is empty" in page and "Add to collection" in page
    listing = world.client_for("guest").get("/w/acme/collections/").content.decode()
    assert "You have no collections yet" in listing


# --- Walkthroughs.


def test_a_walkthrough_needs_a_recording(world):
    with pytest.raises(ValidationError) as caught:
        thread_actions.post_thread(
            world.member, world.open_space, kind=ThreadKind.WALKTHROUGH, title="Tour", body=""
        )
    assert caught.value.message_dict["recording"] == [
        "A walkthrough needs a recording: record or upload one."
    ]
    response = world.client_for("member").post(
        "/w/acme/s/general/new", {"kind": "walkthrough", "title": "Tour", "body": ""}
    )
    assert response.status_code == 400
    assert "A walkthrough needs a recording: record or upload one." in response.content.decode()


def test_the_space_page_offers_a_walkthrough_and_lists_show_its_badge(world):
    page = world.client_for("member").get("/w/acme/s/general/").content.decode()
    assert "?kind=walkthrough&amp;record=1" in page and "New walkthrough" in page
    form = world.client_for("member").get("/w/acme/s/general/new?kind=walkthrough&record=1")
    html = form.content.decode()
    assert "<h1>New walkthrough</h1>" in html and "js/walkthrough.js" in html
    assert 'value="walkthrough" checked' in html
    recording = recording_with_chunks(world.member, world.open_space, [b"x"])
    thread = thread_actions.post_thread(
        world.member,
        world.open_space,
        kind=ThreadKind.WALKTHROUGH,
        title="Tour of the build",
        body="",
        recording_token=recording.token,
    )
    listing = world.client_for("guest").get("/w/acme/s/general/").content.decode()
    row = listing.split("Tour of the build")[0].rsplit('<li class="thread-row', 1)[1]
    assert "badge-walkthrough" in row and "🎬" in row
    assert thread.kind == ThreadKind.WALKTHROUGH
