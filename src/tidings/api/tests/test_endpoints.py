"""Each endpoint through HTTP with a real token: what it does, not only its status."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tidings.api.tests.conftest import PRIVATE_TITLE
from tidings.apikit.errors import NOT_FOUND
from tidings.workspaces.models import Membership, Role

# --- Workspaces and people.


def test_workspaces_list_my_role(world, api_for):
    body = api_for("admin").get("/workspaces").json()
    assert body == [{"id": world.workspace.pk, "name": "Acme", "slug": "acme", "my_role": "admin"}]
    assert [w["slug"] for w in api_for("outsider").get("/workspaces").json()] == ["other"]


def test_members_list(world, api_for):
    body = api_for("member").get(f"/workspaces/{world.workspace.pk}/members").json()
    assert [m["role"] for m in body] == ["owner", "admin", "member", "guest"]
    assert body[0]["person"] == {"id": world.owner.pk, "name": "Olivia Owner", "handle": "olivia"}


def test_invite_returns_link_once_and_emails_it(world, api_for):
    client = api_for("admin")
    url = f"/workspaces/{world.workspace.pk}/invites"
    response = client.post(
        url, {"email": "Gina@Client.test", "role": "guest", "space_ids": [world.open_space.pk]}
    )
    assert response.status_code == 201
    created = response.json()
    assert created["email"] == "gina@client.test"
    assert created["space_ids"] == [world.open_space.pk]
    assert "/invite/" in created["link"]
    assert len(mail.outbox) == 1 and created["link"] in mail.outbox[0].body
    listed = client.get(url).json()
    assert [i["email"] for i in listed] == ["gina@client.test"]
    assert listed[0]["link"] is None
    # A guest needs spaces; the action's sentence comes back as the detail.
    response = client.post(url, {"email": "x@y.test", "role": "guest", "space_ids": []})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "spaces"
    assert client.delete(f"{url}/{created['id']}").status_code == 204
    assert client.get(url).json() == []


@pytest.mark.parametrize("role", ["owner", "superuser", "", 7])
def test_invite_bad_role(world, api_for, role):
    response = api_for("owner").post(
        f"/workspaces/{world.workspace.pk}/invites", {"email": "a@b.test", "role": role}
    )
    assert response.status_code == 422
    assert response.json()["detail"]


def test_change_role_rules(world, api_for):
    ws = world.workspace.pk
    member = Membership.objects.get(person=world.member)
    owner = Membership.objects.get(person=world.owner)
    response = api_for("admin").patch(f"/workspaces/{ws}/members/{member.pk}", {"role": "admin"})
    assert response.status_code == 200
    assert response.json()["role"] == "admin"
    member.refresh_from_db()
    assert member.role == Role.ADMIN
    # Admins never touch owners; the last owner stays.
    response = api_for("admin").patch(f"/workspaces/{ws}/members/{owner.pk}", {"role": "member"})
    assert response.status_code == 403
    assert "owner" in response.json()["detail"]
    response = api_for("owner").patch(f"/workspaces/{ws}/members/{owner.pk}", {"role": "member"})
    assert response.status_code == 422
    assert "at least one owner" in response.json()["detail"]
    response = api_for("owner").patch(f"/workspaces/{ws}/members/{member.pk}", {"role": "boss"})
    assert response.status_code == 422


# --- Spaces.


def test_create_private_space_with_members(world, api_for):
    client = api_for("member")
    response = client.post(
        f"/workspaces/{world.workspace.pk}/spaces",
        {"name": "  Hiring  ", "visibility": "private", "member_ids": [world.admin.pk]},
    )
    assert response.status_code == 201
    space = response.json()
    assert space["name"] == "Hiring"
    assert space["visibility"] == "private"
    members = client.get(f"/spaces/{space['id']}/members").json()
    assert {m["id"] for m in members} == {world.member.pk, world.admin.pk}
    # The owner is not on the list, so the space does not exist for them.
    assert api_for("owner").get(f"/spaces/{space['id']}").status_code == 404
    names = [s["name"] for s in api_for("owner").get(f"/workspaces/{world.workspace.pk}/spaces")
             .json()]  # fmt: skip
    assert "Hiring" not in names and "Leadership" in names


def test_space_member_ids_from_another_workspace_are_refused(world, api_for):
    response = api_for("owner").put(
        f"/spaces/{world.private_space.pk}/members", {"member_ids": [world.outsider.pk]}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "member_ids"


def test_update_and_archive_space(world, api_for):
    client = api_for("admin")
    url = f"/spaces/{world.open_space.pk}"
    response = client.patch(url, {"name": "Everyone"})
    assert response.status_code == 200
    assert response.json()["name"] == "Everyone"
    assert response.json()["description"] == ""
    assert client.patch(url, {"archived": True}).json()["archived"] is True
    response = api_for("member").post(f"{url}/threads", {"title": "Hello"})
    assert response.status_code == 403
    assert "archived" in response.json()["detail"]
    assert client.patch(url, {"name": ""}).status_code == 422


def test_space_level(world, api_for):
    client = api_for("guest")
    url = f"/spaces/{world.open_space.pk}/level"
    assert client.get(url).json() == {"space_id": world.open_space.pk, "level": "follow"}
    assert client.put(url, {"level": "muted"}).json()["level"] == "muted"
    assert client.get(url).json()["level"] == "muted"
    assert client.put(url, {"level": "loud"}).status_code == 422


# --- Threads, replies, reactions, attachments, decisions.


def test_thread_with_attachment_and_sanitized_html(world, api_for):
    client = api_for("member")
    space = world.open_space.pk
    upload = client.call(
        "post",
        f"/spaces/{space}/attachments",
        {"file": SimpleUploadedFile("plan.txt", b"the plan", "text/plain")},
        multipart=True,
    )
    assert upload.status_code == 201
    token = upload.json()["token"]
    assert upload.json()["name"] == "plan.txt" and upload.json()["size"] == 8
    assert upload.json()["url"] == f"/files/{token}/plan.txt"
    response = client.post(
        f"/spaces/{space}/threads",
        {
            "kind": "decision",
            "title": "Pick a plan",
            "body": "**Bold** <script>alert(1)</script>",
            "attachments": [token],
        },
    )
    assert response.status_code == 201
    thread = response.json()
    assert thread["kind"] == "decision"
    assert thread["body"] == "**Bold** <script>alert(1)</script>"
    assert "<strong>Bold</strong>" in thread["body_html"]
    assert "<script" not in thread["body_html"]
    assert [a["token"] for a in thread["attachments"]] == [token]
    assert thread["following"] is True
    assert thread["author"]["id"] == world.member.pk
    assert thread["url"] == f"/t/{thread['id']}/"
    # The token is used up: posting it again is refused with a sentence.
    again = client.post(f"/spaces/{space}/threads", {"title": "x", "attachments": [token]})
    assert again.status_code == 422
    assert "Upload it again" in again.json()["detail"]


def test_attachment_needs_a_file(world, api_for):
    response = api_for("member").call(
        "post", f"/spaces/{world.open_space.pk}/attachments", {}, multipart=True
    )
    assert response.status_code == 422


def test_thread_list_filters_and_pagination(world, scene, api_for):
    client = api_for("member")
    space = world.open_space.pk
    client.post(f"/spaces/{space}/threads", {"kind": "status", "title": "Status one"})
    client.post(f"/spaces/{space}/threads", {"kind": "status", "title": "Status two"})
    all_threads = client.get(f"/spaces/{space}/threads").json()
    assert all_threads["count"] == 3
    assert [t["title"] for t in all_threads["items"]][0] == "Status two"
    statuses = client.get(f"/spaces/{space}/threads", {"kind": "status"}).json()
    assert {t["title"] for t in statuses["items"]} == {"Status one", "Status two"}
    page = client.get(f"/spaces/{space}/threads", {"limit": 1, "offset": 1}).json()
    assert page["count"] == 3 and [t["title"] for t in page["items"]] == ["Status one"]
    client.post(f"/threads/{scene.open_thread.pk}/resolve", {"outcome": "In the wiki."})
    resolved = client.get(f"/spaces/{space}/threads", {"resolved": "true"}).json()
    assert [t["id"] for t in resolved["items"]] == [scene.open_thread.pk]
    unresolved = client.get(f"/spaces/{space}/threads", {"resolved": "false"}).json()
    assert resolved["count"] + unresolved["count"] == 3


@pytest.mark.parametrize(
    "query",
    [{"kind": "rant"}, {"limit": 0}, {"limit": 101}, {"offset": -1}, {"resolved": "maybe"}],
)
def test_thread_list_bad_filters(world, api_for, query):
    response = api_for("member").get(f"/spaces/{world.open_space.pk}/threads", query)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] in {"kind", "limit", "offset", "resolved"}


def test_thread_detail_paginates_replies(world, scene, api_for):
    client = api_for("member")
    thread = scene.open_thread.pk
    for n in range(3):
        client.post(f"/threads/{thread}/replies", {"body": f"Reply {n}"})
    detail = client.get(f"/threads/{thread}", {"limit": 2, "offset": 1}).json()
    assert detail["replies"]["count"] == 4
    assert [r["body"] for r in detail["replies"]["items"]] == ["Reply 0", "Reply 1"]
    assert detail["reply_count"] == 4
    replies = client.get(f"/threads/{thread}/replies", {"limit": 1}).json()
    assert replies["items"][0]["body"] == "It is in the wiki."


def test_edit_thread_keeps_history(world, scene, api_for):
    client = api_for("member")
    url = f"/threads/{scene.open_thread.pk}"
    response = client.patch(url, {"title": "Where is the brand guide?"})
    assert response.status_code == 200
    assert response.json()["edited_at"] is not None
    assert response.json()["body"] == "Looking for the **style guide**."
    history = client.get(f"{url}/history").json()
    assert history[0]["title"] == "Where is the style guide?"
    response = client.patch(url, {"title": "x" * 201})
    assert response.status_code == 422
    assert "200 characters" in response.json()["detail"]


def test_delete_thread(world, scene, api_for):
    url = f"/threads/{scene.open_thread.pk}"
    assert api_for("admin").delete(url).status_code == 204
    response = api_for("member").get(url)
    assert response.status_code == 404


def test_resolve_and_reopen_move_the_decision_log(world, scene, api_for):
    client = api_for("member")
    ws_log = f"/workspaces/{world.workspace.pk}/decisions"
    thread = scene.open_thread.pk
    assert client.get(ws_log).json()["count"] == 0
    response = client.post(f"/threads/{thread}/resolve", {"outcome": "Use the *wiki*."})
    assert response.status_code == 200
    body = response.json()
    assert body["resolved"] is True and "<em>wiki</em>" in body["outcome_html"]
    assert body["resolved_by"]["id"] == world.member.pk
    log = client.get(ws_log).json()
    assert [t["id"] for t in log["items"]] == [thread]
    owner_log = api_for("owner").get(ws_log).json()
    assert {t["title"] for t in owner_log["items"]} == {PRIVATE_TITLE, scene.open_thread.title}
    space_log = client.get(f"/spaces/{world.open_space.pk}/decisions").json()
    assert space_log["count"] == 1
    assert client.post(f"/threads/{thread}/resolve", {"outcome": "  "}).status_code == 422
    assert client.post(f"/threads/{thread}/reopen").json()["resolved"] is False
    assert client.get(ws_log).json()["count"] == 0


def test_follow_unfollow_and_read(world, scene, api_for):
    client = api_for("admin")
    url = f"/threads/{scene.open_thread.pk}"
    assert client.put(f"{url}/follow").json() == {
        "thread_id": scene.open_thread.pk,
        "following": True,
    }
    assert client.get(url).json()["following"] is True
    assert client.delete(f"{url}/follow").json()["following"] is False
    assert client.get(url).json()["following"] is False
    assert client.get(url).json()["last_read_at"] is None
    read = client.post(f"{url}/read").json()
    assert client.get(url).json()["last_read_at"] == read["read_at"]


def test_reactions_toggle(world, scene, api_for):
    client = api_for("guest")
    url = f"/threads/{scene.open_thread.pk}/reactions"
    on = client.post(url, {"emoji": "🎉"}).json()
    assert on["on"] is True
    assert on["reactions"] == [{"emoji": "🎉", "count": 1, "mine": True}]
    assert api_for("member").get(f"/threads/{scene.open_thread.pk}").json()["reactions"] == [
        {"emoji": "🎉", "count": 1, "mine": False}
    ]
    off = client.post(url, {"emoji": "🎉"}).json()
    assert off == {"emoji": "🎉", "on": False, "reactions": []}
    on_reply = client.post(url, {"emoji": "👍", "reply_id": scene.open_reply.pk}).json()
    assert on_reply["on"] is True
    reply = client.get(f"/replies/{scene.open_reply.pk}").json()
    assert reply["reactions"] == [{"emoji": "👍", "count": 1, "mine": True}]
    assert client.post(url, {"emoji": "💩"}).status_code == 422
    assert client.post(url, {"emoji": "👍", "reply_id": scene.private_reply.pk}).status_code == 404


def test_reply_with_quote_edit_history_delete(world, scene, api_for):
    client = api_for("member")
    thread = scene.open_thread.pk
    response = client.post(
        f"/threads/{thread}/replies",
        {"body": "Found it", "quoted_reply_id": scene.open_reply.pk, "quote_text": "in the wiki"},
    )
    assert response.status_code == 201
    reply = response.json()
    assert reply["quoted_reply_id"] == scene.open_reply.pk
    assert reply["quote_text"] == "in the wiki"
    bad = client.post(
        f"/threads/{thread}/replies",
        {"body": "x", "quoted_reply_id": scene.open_reply.pk, "quote_text": "never said"},
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "quote_text"
    url = f"/replies/{reply['id']}"
    assert client.patch(url, {"body": "Found it!"}).json()["body"] == "Found it!"
    assert [r["body"] for r in client.get(f"{url}/history").json()] == ["Found it"]
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    items = client.get(f"/threads/{thread}/replies").json()["items"]
    deleted = next(r for r in items if r["id"] == reply["id"])
    assert deleted["deleted"] is True and deleted["body"] == "" and deleted["body_html"] == ""


def test_empty_reply_is_refused_without_saving(world, scene, api_for):
    client = api_for("member")
    response = client.post(f"/threads/{scene.open_thread.pk}/replies", {"body": "   "})
    assert response.status_code == 422
    assert response.json()["detail"] == "body: Write something first."
    assert client.get(f"/threads/{scene.open_thread.pk}").json()["reply_count"] == 1


# --- Inbox.


def test_inbox_triage(world, scene, api_for, django_capture_on_commit_callbacks):
    client = api_for("member")
    with django_capture_on_commit_callbacks(execute=True):
        api_for("guest").post(f"/threads/{scene.open_thread.pk}/replies", {"body": "One more"})
    page = client.get("/inbox").json()
    assert page["count"] == 1
    item = page["items"][0]
    assert item["thread"]["id"] == scene.open_thread.pk
    assert item["actor"]["id"] == world.guest.pk
    assert item["excerpt"] == "One more"
    url = f"/inbox/{item['id']}"
    assert client.post(f"{url}/done").json()["done_at"] is not None
    assert client.get("/inbox").json()["count"] == 0
    assert client.get("/inbox", {"state": "done"}).json()["count"] == 1
    assert client.post(f"{url}/undone").json()["done_at"] is None
    later = timezone.now() + timedelta(days=2)
    snoozed = client.post(f"{url}/snooze", {"until": later.isoformat()}).json()
    assert snoozed["snoozed_until"] is not None
    assert client.get("/inbox").json()["count"] == 0
    assert client.get("/inbox", {"state": "snoozed"}).json()["count"] == 1
    assert client.post(f"{url}/unsnooze").json()["snoozed_until"] is None
    assert client.get("/inbox").json()["count"] == 1
    assert client.post(f"{url}/read").json()["read_at"] is not None


def test_snooze_naive_time_is_in_my_time_zone(world, scene, api_for):
    item = scene.owner_private_item
    until = (timezone.now() + timedelta(days=3)).astimezone(world.owner.zone).replace(tzinfo=None)
    response = api_for("owner").post(
        f"/inbox/{item.pk}/snooze", {"until": until.isoformat(timespec="seconds")}
    )
    assert response.status_code == 200
    item.refresh_from_db()
    assert item.snoozed_until.astimezone(world.owner.zone).replace(tzinfo=None) == until.replace(
        microsecond=0
    )


@pytest.mark.parametrize(
    ("until", "field"),
    [
        ("tomorrow", "until"),
        ("2020-01-01T09:00:00Z", ""),
        ("2025-13-45T99:00:00", "until"),
        ("9999-12-31T23:59:59Z", ""),
        (12, ""),  # a number is read as a Unix time: long past
        (None, "until"),
    ],
)
def test_snooze_bad_times(world, scene, api_for, until, field):
    response = api_for("owner").post(
        f"/inbox/{scene.owner_private_item.pk}/snooze", {"until": until}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    scene.owner_private_item.refresh_from_db()
    assert scene.owner_private_item.snoozed_until is None


def test_inbox_unknown_state(world, api_for):
    assert api_for("member").get("/inbox", {"state": "later"}).status_code == 422


# --- Search.


def test_search_filters_and_visibility(world, scene, api_for):
    member = api_for("member")
    hits = member.get("/search", {"q": "style guide"}).json()
    assert hits["count"] == 1
    hit = hits["items"][0]
    assert hit["thread_id"] == scene.open_thread.pk and hit["reply_id"] is None
    assert "<mark>" in hit["snippet_html"]
    assert hit["url"] == f"/t/{scene.open_thread.pk}/"
    assert member.get("/search", {"q": "Globex"}).json() == {
        "items": [], "count": 0, "limit": 20, "offset": 0,
    }  # fmt: skip
    owner = api_for("owner")
    assert owner.get("/search", {"q": "Globex"}).json()["count"] >= 2
    assert owner.get("/search", {"q": "Globex", "kind": "question"}).json()["count"] == 0
    assert owner.get("/search", {"q": "Globex", "resolved": "true"}).json()["count"] >= 2
    assert owner.get("/search", {"q": "wiki", "author": world.guest.pk}).json()["count"] == 1
    assert owner.get("/search", {"q": "wiki", "from": "2999-01-01"}).json()["count"] == 0
    other = owner.get("/search", {"q": "wiki", "workspace": world.other_workspace.pk})
    assert other.status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"q": "x", "kind": "rant"},
        {"q": "x", "from": "yesterday"},
        {"q": "x", "to": "2024-02-30"},
        {"q": "x", "limit": 1000},
        {"q": "x" * 600},
        {"q": "x", "space": "general"},
    ],
)
def test_search_bad_input(world, api_for, query):
    response = api_for("member").get("/search", query)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], str)


@pytest.mark.parametrize("text", ['"', "NEAR(", "a* OR", "' OR 1=1 --", "\\", "AND"])
def test_search_odd_syntax_is_not_an_error(world, scene, api_for, text):
    assert api_for("member").get("/search", {"q": text}).status_code == 200


# --- Not found looks the same whether private or missing.


@pytest.mark.parametrize(
    "path",
    ["/threads/{}", "/threads/{}/replies", "/spaces/{}", "/replies/{}", "/spaces/{}/threads"],
)
def test_private_and_missing_give_identical_404(world, scene, api_for, path):
    ids = {
        "/threads/": scene.private_thread.pk,
        "/spaces/": world.private_space.pk,
        "/replies/": scene.private_reply.pk,
    }
    private_id = next(v for k, v in ids.items() if path.startswith(k))
    client = api_for("member")
    private = client.get(path.format(private_id))
    missing = client.get(path.format(987654))
    assert private.status_code == missing.status_code == 404
    assert private.content == missing.content
    assert private.json() == {"detail": NOT_FOUND}
    assert PRIVATE_TITLE.encode() not in private.content


def test_recent_threads_across_spaces(world, scene, api_for):
    url = f"/workspaces/{world.workspace.pk}/threads"
    owner = api_for("owner").get(url).json()
    assert {t["title"] for t in owner["items"]} == {PRIVATE_TITLE, scene.open_thread.title}
    member = api_for("member").get(url).json()
    assert [t["title"] for t in member["items"]] == [scene.open_thread.title]


def test_mention_candidates(world, scene, api_for):
    found = api_for("member").get(f"/threads/{scene.open_thread.pk}/mentions", {"q": "gu"}).json()
    assert found == [{"id": world.guest.pk, "name": "Gus Guest", "handle": "gus"}]
    private = api_for("owner").get(f"/threads/{scene.private_thread.pk}/mentions").json()
    assert {p["handle"] for p in private} == {"olivia", "adam"}
