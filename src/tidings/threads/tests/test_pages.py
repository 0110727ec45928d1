"""HTTP: the permission matrix over every page and POST endpoint, and what pages show."""

from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conftest import ROLES, by_role
from tidings.threads import actions
from tidings.threads.models import Attachment, Space, SpaceMember, Thread
from tidings.threads.tests.factories import png_bytes

OPEN_TITLE = "Roadmap for the open team"
PRIVATE_TITLE = "Confidential merger talks"
PRIVATE_BODY = "Zebra-secret opening words"


@dataclass
class Scene:
    world: object
    threads: dict
    replies: dict
    files: dict
    spaces: dict


@pytest.fixture
def scene(world) -> Scene:
    threads, replies, files = {}, {}, {}
    for key, space, title, body in [
        ("open", world.open_space, OPEN_TITLE, "Open words"),
        ("private", world.private_space, PRIVATE_TITLE, PRIVATE_BODY),
    ]:
        upload = actions.upload_attachment(
            world.owner, space, SimpleUploadedFile(f"{key}.png", png_bytes())
        )
        threads[key] = actions.post_thread(
            world.owner,
            space,
            kind="decision",
            title=title,
            body=body,
            attachment_tokens=[upload.token],
        )
        replies[key] = actions.post_reply(world.admin, threads[key], body=f"{key} reply by admin")
        files[key] = upload
    actions.resolve_thread(world.owner, threads["private"], "Decision: merge quietly")
    actions.resolve_thread(world.owner, threads["open"], "Decision: ship the roadmap")
    return Scene(
        world, threads, replies, files, {"open": world.open_space, "private": world.private_space}
    )


def ws_url(name, scene, key):
    return reverse(f"threads:{name}", kwargs={"workspace": "acme"})


def space_url(name, scene, key):
    return reverse(f"threads:{name}", kwargs={"workspace": "acme", "space": scene.spaces[key].slug})


def thread_url(name, scene, key):
    return reverse(f"threads:{name}", kwargs={"thread_id": scene.threads[key].pk})


def reply_url(name, scene, key):
    return reverse(
        f"threads:{name}",
        kwargs={"thread_id": scene.threads[key].pk, "reply_id": scene.replies[key].pk},
    )


def file_url(name, scene, key):
    attachment = scene.files[key]
    return reverse("threads:file", kwargs={"token": attachment.token, "name": attachment.name})


ANON = 302  # pages and forms send anonymous people to sign in
# Who sees what: open space = everyone of the workspace incl. the guest; private = owner, admin.
SEE_OPEN = by_role(200, 200, 200, 200, 404, ANON)
SEE_PRIVATE = by_role(200, 200, 404, 404, 404, ANON)


def same(statuses, ok):
    return {role: (ok if status == 200 else status) for role, status in statuses.items()}


# (endpoint, url builder, method, data, {"open": {role: status}, "private": {...}})
MATRIX = [
    ("workspace", ws_url, "get", None, {"open": SEE_OPEN, "private": SEE_OPEN}),
    ("decisions", ws_url, "get", None, {"open": SEE_OPEN, "private": SEE_OPEN}),
    (
        "space-new",
        ws_url,
        "get",
        None,
        {"open": {**SEE_OPEN, "guest": 403}, "private": {**SEE_OPEN, "guest": 403}},
    ),
    (
        "space-new",
        ws_url,
        "post",
        {"name": "Fresh space"},
        {
            "open": same({**SEE_OPEN, "guest": 403}, 302),
            "private": same({**SEE_OPEN, "guest": 403}, 302),
        },
    ),
    ("space", space_url, "get", None, {"open": SEE_OPEN, "private": SEE_PRIVATE}),
    ("space-decisions", space_url, "get", None, {"open": SEE_OPEN, "private": SEE_PRIVATE}),
    ("thread-new", space_url, "get", None, {"open": SEE_OPEN, "private": SEE_PRIVATE}),
    ("space-mentions", space_url, "get", None, {"open": SEE_OPEN, "private": SEE_PRIVATE}),
    (
        "thread-new",
        space_url,
        "post",
        {"kind": "question", "title": "Q?", "body": "b"},
        {"open": same(SEE_OPEN, 302), "private": same(SEE_PRIVATE, 302)},
    ),
    (
        "space-manage",
        space_url,
        "get",
        None,
        {"open": {**SEE_OPEN, "member": 403, "guest": 403}, "private": SEE_PRIVATE},
    ),
    (
        "space-manage",
        space_url,
        "post",
        {"name": "Renamed", "description": ""},
        {
            "open": same({**SEE_OPEN, "member": 403, "guest": 403}, 302),
            "private": same(SEE_PRIVATE, 302),
        },
    ),
    (
        "space-archive",
        space_url,
        "post",
        {"archived": "1"},
        {
            "open": same({**SEE_OPEN, "member": 403, "guest": 403}, 302),
            "private": same(SEE_PRIVATE, 302),
        },
    ),
    (
        "space-level",
        space_url,
        "post",
        {"level": "muted"},
        {"open": same(SEE_OPEN, 302), "private": same(SEE_PRIVATE, 302)},
    ),
    ("thread", thread_url, "get", None, {"open": SEE_OPEN, "private": SEE_PRIVATE}),
    ("updates", thread_url, "get", None, {"open": SEE_OPEN, "private": SEE_PRIVATE}),
    ("mentions", thread_url, "get", None, {"open": SEE_OPEN, "private": SEE_PRIVATE}),
    ("thread-history", thread_url, "get", None, {"open": SEE_OPEN, "private": SEE_PRIVATE}),
    (
        "thread-edit",
        thread_url,
        "get",
        None,
        {
            "open": {**SEE_OPEN, "admin": 403, "member": 403, "guest": 403},
            "private": {**SEE_PRIVATE, "admin": 403},
        },
    ),
    (
        "thread-edit",
        thread_url,
        "post",
        {"title": "Edited", "body": "new"},
        {
            "open": same({**SEE_OPEN, "admin": 403, "member": 403, "guest": 403}, 302),
            "private": same({**SEE_PRIVATE, "admin": 403}, 302),
        },
    ),
    (
        "thread-delete",
        thread_url,
        "post",
        {},
        {
            "open": same({**SEE_OPEN, "member": 403, "guest": 403}, 302),
            "private": same(SEE_PRIVATE, 302),
        },
    ),
    (
        "reply",
        thread_url,
        "post",
        {"body": "A new reply"},
        {"open": same(SEE_OPEN, 302), "private": same(SEE_PRIVATE, 302)},
    ),
    (
        "react",
        thread_url,
        "post",
        {"emoji": "👍"},
        {"open": same(SEE_OPEN, 302), "private": same(SEE_PRIVATE, 302)},
    ),
    (
        "follow",
        thread_url,
        "post",
        {"following": "0"},
        {"open": same(SEE_OPEN, 302), "private": same(SEE_PRIVATE, 302)},
    ),
    (
        "resolve",
        thread_url,
        "post",
        {"outcome": "Decision: yes"},
        {"open": same({**SEE_OPEN, "guest": 403}, 302), "private": same(SEE_PRIVATE, 302)},
    ),
    (
        "reopen",
        thread_url,
        "post",
        {},
        {"open": same({**SEE_OPEN, "guest": 403}, 302), "private": same(SEE_PRIVATE, 302)},
    ),
    ("reply-history", reply_url, "get", None, {"open": SEE_OPEN, "private": SEE_PRIVATE}),
    (
        "reply-edit",
        reply_url,
        "get",
        None,
        {
            "open": {**SEE_OPEN, "owner": 403, "member": 403, "guest": 403},
            "private": {**SEE_PRIVATE, "owner": 403},
        },
    ),
    (
        "reply-edit",
        reply_url,
        "post",
        {"body": "changed"},
        {
            "open": same({**SEE_OPEN, "owner": 403, "member": 403, "guest": 403}, 302),
            "private": same({**SEE_PRIVATE, "owner": 403}, 302),
        },
    ),
    (
        "reply-delete",
        reply_url,
        "post",
        {},
        {
            "open": same({**SEE_OPEN, "member": 403, "guest": 403}, 302),
            "private": same(SEE_PRIVATE, 302),
        },
    ),
    (
        "file",
        file_url,
        "get",
        None,
        {"open": {**SEE_OPEN, "anonymous": 404}, "private": {**SEE_PRIVATE, "anonymous": 404}},
    ),
]

CASES = [
    pytest.param(
        endpoint,
        builder,
        method,
        data,
        key,
        role,
        expected[key][role],
        id=f"{method}-{endpoint}-{key}-{role}",
    )
    for endpoint, builder, method, data, expected in MATRIX
    for key in ("open", "private")
    for role in ROLES
]


@pytest.mark.parametrize(("endpoint", "builder", "method", "data", "key", "role", "status"), CASES)
def test_permission_matrix(scene, endpoint, builder, method, data, key, role, status):
    client = scene.world.client_for(role)
    url = builder(endpoint, scene, key)
    response = client.get(url) if method == "get" else client.post(url, data or {})
    assert response.status_code == status, (url, getattr(response, "content", b"")[:300])
    if status == 302 and role == "anonymous":
        assert response["Location"].startswith(reverse("accounts:sign-in"))
    body = b"".join(response) if response.streaming else response.content
    if role not in ("owner", "admin"):  # only they are on the private space's list
        assert PRIVATE_TITLE.encode() not in body
        assert PRIVATE_BODY.encode() not in body
        assert b"merge quietly" not in body


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", ["workspace", "decisions"])
def test_private_titles_never_leak_into_lists_or_sidebar(scene, role, page):
    response = scene.world.client_for(role).get(
        reverse(f"threads:{page}", kwargs={"workspace": "acme"})
    )
    content = response.content.decode()
    private_visible = role in ("owner", "admin")
    assert (PRIVATE_TITLE in content) is private_visible
    assert ("Leadership" in content) is private_visible
    assert ("merge quietly" in content) is (private_visible and page == "decisions")
    if response.status_code == 200:
        assert OPEN_TITLE in content
        assert "General" in content


def test_sidebar_on_space_page_marks_private_spaces(scene):
    content = (
        scene.world.client_for("admin")
        .get(reverse("threads:space", kwargs={"workspace": "acme", "space": "general"}))
        .content.decode()
    )
    assert "Leadership" in content and "badge-private" in content
    assert reverse("people:people", kwargs={"workspace": "acme"}) in content
    assert reverse("threads:space-new", kwargs={"workspace": "acme"}) in content
    guest = (
        scene.world.client_for("guest")
        .get(reverse("threads:space", kwargs={"workspace": "acme", "space": "general"}))
        .content.decode()
    )
    assert reverse("threads:space-new", kwargs={"workspace": "acme"}) not in guest


def test_space_filters(scene, world):
    actions.post_thread(
        world.member, world.open_space, kind="question", title="Open question", body=""
    )
    client = world.client_for("member")
    url = reverse("threads:space", kwargs={"workspace": "acme", "space": "general"})
    content = client.get(url, {"kind": "question"}).content.decode()
    assert "Open question" in content and OPEN_TITLE not in content
    content = client.get(url, {"state": "resolved"}).content.decode()
    assert "Open question" not in content and OPEN_TITLE in content
    assert client.get(url, {"kind": "<script>", "state": "x", "page": "zz"}).status_code == 200


def test_thread_page_shows_outcome_replies_and_times_in_viewer_zone(scene, world):
    thread = scene.threads["open"]
    Thread.objects.filter(pk=thread.pk).update(
        created_at="2030-01-15T12:00:00Z", last_activity_at="2030-01-15T12:00:00Z"
    )
    content = world.client_for("member").get(f"/t/{thread.pk}/").content.decode()
    assert "ship the roadmap" in content and "Reopen" in content
    assert "open reply by admin" in content
    assert "Jan 15, 2030" in content or "17:30" in content  # Asia/Kolkata is UTC+5:30
    assert 'class="attachment-image"' in content
    assert scene.files["open"].token in content


def test_new_since_last_read_divider(scene, world):
    thread = scene.threads["open"]
    client = world.client_for("member")
    assert "New since you last read" not in client.get(f"/t/{thread.pk}/").content.decode()
    actions.post_reply(world.guest, thread, body="fresh news")
    content = client.get(f"/t/{thread.pk}/").content.decode()
    assert content.index("New since you last read") < content.index("fresh news")
    assert content.index("open reply by admin") < content.index("New since you last read")
    assert "New since you last read" not in client.get(f"/t/{thread.pk}/").content.decode()


def test_updates_returns_only_newer_replies_and_a_new_poller(scene, world):
    thread = scene.threads["open"]
    first = scene.replies["open"]
    newer = actions.post_reply(world.guest, thread, body="brand new")
    client = world.client_for("member")
    content = client.get(f"/t/{thread.pk}/updates", {"after": first.pk}).content.decode()
    assert "brand new" in content and "open reply by admin" not in content
    assert f"after={newer.pk}" in content
    assert client.get(f"/t/{thread.pk}/updates", {"after": "abc"}).status_code == 422


def test_mentions_endpoint_lists_people_who_can_see_the_space(scene, world):
    client = world.client_for("owner")
    people = client.get(f"/t/{scene.threads['private'].pk}/mentions", {"q": ""}).json()["people"]
    assert {p["handle"] for p in people} == {"olivia", "adam"}
    people = client.get(f"/t/{scene.threads['open'].pk}/mentions", {"q": "mi"}).json()["people"]
    assert people == [{"handle": "mia", "name": "Mia Member"}]


def test_reply_with_quote_renders_blockquote_linking_back(scene, world):
    thread = scene.threads["open"]
    first = scene.replies["open"]
    client = world.client_for("member")
    response = client.post(
        f"/t/{thread.pk}/reply",
        {
            "body": "Quoting you",
            "quoted_reply_id": first.pk,
            "quote_text": "reply by admin",
        },
    )
    assert response.status_code == 302
    content = client.get(f"/t/{thread.pk}/").content.decode()
    assert f'href="#reply-{first.pk}">Adam Admin wrote:</a>' in content
    bad = client.post(
        f"/t/{thread.pk}/reply",
        {
            "body": "Made up",
            "quoted_reply_id": first.pk,
            "quote_text": "words nobody wrote",
        },
    )
    assert bad.status_code == 400
    assert "A quote must be a passage of the post it quotes." in bad.content.decode()
    assert "Made up" in bad.content.decode()  # the draft is kept


def test_quote_link_without_javascript_prefills_the_whole_post(scene, world):
    thread = scene.threads["open"]
    content = world.client_for("member").get(f"/t/{thread.pk}/", {"quote": "post"}).content.decode()
    assert 'name="quote_text" value="Open words"' in content


def test_new_thread_form_errors_are_clear_and_save_nothing(scene, world):
    client = world.client_for("member")
    url = reverse("threads:thread-new", kwargs={"workspace": "acme", "space": "general"})
    before = Thread.objects.count()
    for data, message in [
        ({"kind": "discussion", "title": "", "body": "x"}, "Give the thread a title."),
        ({"kind": "discussion", "title": "t" * 100_000, "body": "x"}, "200 characters or fewer"),
        ({"kind": "gossip", "title": "Hi", "body": "x"}, "Choose a kind"),
    ]:
        response = client.post(url, data)
        assert response.status_code == 400
        assert message in response.content.decode()
    assert Thread.objects.count() == before


def test_new_thread_with_files_and_a_too_large_file(scene, world, settings):
    client = world.client_for("member")
    url = reverse("threads:thread-new", kwargs={"workspace": "acme", "space": "general"})
    response = client.post(
        url,
        {
            "kind": "status",
            "title": "Status with files",
            "body": "see files",
            "files": [
                SimpleUploadedFile("a.png", png_bytes()),
                SimpleUploadedFile("b.pdf", b"%PDF-1"),
            ],
        },
    )
    assert response.status_code == 302
    thread = Thread.objects.get(title="Status with files")
    assert sorted(thread.attachments.values_list("name", "is_image")) == [
        ("a.png", True),
        ("b.pdf", False),
    ]
    settings.MAX_ATTACHMENT_BYTES = 10
    before = Attachment.objects.count()
    response = client.post(
        url,
        {
            "kind": "status",
            "title": "Too big",
            "body": "",
            "files": [SimpleUploadedFile("big.bin", b"x" * 11)],
        },
    )
    assert response.status_code == 400 and "too large" in response.content.decode()
    assert not Thread.objects.filter(title="Too big").exists()
    assert Attachment.objects.count() == before


def test_file_responses(scene, world):
    client = world.client_for("guest")
    image = scene.files["open"]
    response = client.get(
        reverse("threads:file", kwargs={"token": image.token, "name": image.name})
    )
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "attachment" not in response.get("Content-Disposition", "")
    other = actions.upload_attachment(
        world.member, world.open_space, SimpleUploadedFile("x.html", b"<b>")
    )
    url = reverse("threads:file", kwargs={"token": other.token, "name": other.name})
    assert client.get(url).status_code == 404  # not posted yet: only its uploader
    response = world.client_for("member").get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "application/octet-stream"
    wrong_name = reverse("threads:file", kwargs={"token": image.token, "name": "other.png"})
    assert client.get(wrong_name).status_code == 404
    actions.delete_thread(world.owner, scene.threads["open"])
    assert (
        client.get(
            reverse("threads:file", kwargs={"token": image.token, "name": image.name})
        ).status_code
        == 404
    )


def test_deleted_reply_shows_placeholder_and_history_is_viewable(scene, world):
    thread = scene.threads["open"]
    reply = scene.replies["open"]
    actions.edit_reply(world.admin, reply, body="second version")
    history = (
        world.client_for("guest")
        .get(
            reverse("threads:reply-history", kwargs={"thread_id": thread.pk, "reply_id": reply.pk})
        )
        .content.decode()
    )
    assert "open reply by admin" in history and "second version" in history
    page = world.client_for("guest").get(f"/t/{thread.pk}/").content.decode()
    assert ">edited</a>" in page
    actions.delete_reply(world.admin, reply)
    page = world.client_for("guest").get(f"/t/{thread.pk}/").content.decode()
    assert "This reply was deleted." in page and "second version" not in page


def test_htmx_reaction_returns_the_partial(scene, world):
    thread = scene.threads["open"]
    response = world.client_for("guest").post(
        f"/t/{thread.pk}/react", {"emoji": "🎉"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="reactions-post"' in content and "is-mine" in content and "<html" not in content
    bad = world.client_for("guest").post(f"/t/{thread.pk}/react", {"emoji": "nope"})
    assert bad.status_code == 400


HOSTILE = """<script>alert("x")</script> & 'it'"""
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;it&#x27;"


def test_names_and_quotes_on_posts_are_escaped(world):
    """A post's markup is written in Python: every value is escaped as a template would."""
    world.member.name = HOSTILE
    world.member.save()
    thread = actions.post_thread(world.member, world.open_space, kind="discussion", title="T",
                                 body=f"Plan {HOSTILE} ends")  # fmt: skip
    reply = actions.post_reply(world.member, thread, body="Yes", quote_text=f"Plan {HOSTILE}")
    actions.toggle_reaction(world.member, thread, reply, "🎉")
    pages = [
        world.client_for(role).get(url).content.decode()
        for role in ("owner", "member")
        for url in (
            f"/t/{thread.pk}/",
            reverse("threads:updates", kwargs={"thread_id": thread.pk}) + "?after=0",
            reverse("threads:reply-actions", kwargs={"thread_id": thread.pk, "reply_id": reply.pk}),
        )
    ]
    for page in pages:
        assert "<script>" not in page and HOSTILE not in page
        assert f"<strong>{ESCAPED}</strong>" in page  # the author
        assert f"{ESCAPED} wrote:</a><p>Plan {ESCAPED}</p>" in page
        assert f'title="{ESCAPED}"' in page  # who reacted


def test_create_private_space_with_members_through_the_form(world):
    client = world.client_for("member")
    response = client.post(
        reverse("threads:space-new", kwargs={"workspace": "acme"}),
        {
            "name": "Hiring",
            "visibility": "private",
            "member_ids": [world.guest.pk],
        },
    )
    assert response.status_code == 302
    hiring = f"/w/acme/s/{Space.objects.get(name='Hiring').slug}/"
    assert response.url == hiring
    assert world.client_for("guest").get(hiring).status_code == 200
    assert world.client_for("admin").get(hiring).status_code == 404
    bad = client.post(
        reverse("threads:space-new", kwargs={"workspace": "acme"}),
        {
            "name": "X",
            "visibility": "private",
            "member_ids": ["abc"],
        },
    )
    assert bad.status_code == 400 and "Pick members from the list." in bad.content.decode()


def test_admin_not_on_the_private_list_gets_404_everywhere(scene, world):
    SpaceMember.objects.filter(space=world.private_space, person=world.admin).delete()
    client = world.client_for("admin")
    thread = scene.threads["private"]
    for url in [
        "/w/acme/s/leadership/",
        "/w/acme/s/leadership/manage",
        f"/t/{thread.pk}/",
        f"/t/{thread.pk}/updates",
        reverse(
            "threads:file",
            kwargs={"token": scene.files["private"].token, "name": scene.files["private"].name},
        ),
    ]:
        assert client.get(url).status_code == 404, url
    assert client.post(f"/t/{thread.pk}/delete").status_code == 404
    home = client.get("/w/acme/").content.decode()
    assert PRIVATE_TITLE not in home and "Leadership" not in home
