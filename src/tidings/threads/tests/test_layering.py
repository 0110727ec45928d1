"""One place per rule: the read queries the pages and the API share, file downloads through both,
@mention lists for a new thread, and live reply counts."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.urls import reverse

from tidings.accounts.actions import create_access_token
from tidings.threads import actions, queries
from tidings.threads.tests.factories import reply_to, thread_in

PRIVATE_TITLE = "Budget for the quiet acquisition"


def bearer(person) -> dict[str, str]:
    _, raw = create_access_token(person, "tests")
    return {"Authorization": f"Bearer {raw}"}


def upload(person, space, name="plan.txt", data=b"the plan"):
    return actions.upload_attachment(person, space, SimpleUploadedFile(name, data, "text/plain"))


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- Files: one rule, two doors.


@pytest.fixture
def posted_file(world):
    thread = thread_in(world.private_space, world.owner, title=PRIVATE_TITLE)
    attachment = upload(world.owner, world.private_space)
    actions.post_reply(
        world.owner, thread, body="See the file.", attachment_tokens=[attachment.token]
    )
    attachment.refresh_from_db()
    return attachment


def test_attachment_for_follows_where_the_file_was_posted(world, posted_file):
    found = queries.attachment_for(world.admin, posted_file.token, posted_file.name)
    assert found.pk == posted_file.pk
    for person in (world.member, world.guest, world.outsider, None):
        with pytest.raises(Http404):
            queries.attachment_for(person, posted_file.token, posted_file.name)
    with pytest.raises(Http404):  # the right token with another name is not the file
        queries.attachment_for(world.owner, posted_file.token, "other.txt")


def test_a_file_not_posted_yet_is_only_its_uploaders(world):
    pending = upload(world.member, world.open_space)
    assert queries.attachment_for(world.member, pending.token, pending.name).pk == pending.pk
    with pytest.raises(Http404):
        queries.attachment_for(world.owner, pending.token, pending.name)


def test_api_download_serves_the_same_file_as_the_web_link(world, client, posted_file):
    path = reverse("api:download_attachment", args=[posted_file.token, posted_file.name])
    response = client.get(path, headers=bearer(world.admin))
    assert response.status_code == 200
    assert body_of(response) == b"the plan"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Content-Disposition"].startswith("attachment")
    assert client.get(path).status_code == 401
    hidden = client.get(path, headers=bearer(world.member))
    assert hidden.status_code == 404 and b"the plan" not in body_of(hidden)
    reply_json = client.get(
        f"/api/replies/{posted_file.reply_id}", headers=bearer(world.owner)
    ).json()
    assert reply_json["attachments"][0]["download_url"] == path


def test_api_download_is_gone_with_the_reply(world, client, posted_file):
    path = reverse("api:download_attachment", args=[posted_file.token, posted_file.name])
    actions.delete_reply(world.owner, posted_file.reply)
    assert client.get(path, headers=bearer(world.owner)).status_code == 404


# --- Loading by id: 404 for what a person cannot see.


def test_space_and_reply_by_id(world):
    thread = thread_in(world.private_space, world.owner, title=PRIVATE_TITLE)
    reply = reply_to(thread, world.admin)
    assert queries.space_by_id(world.admin, world.private_space.pk) == world.private_space
    assert queries.reply_by_id(world.owner, reply.pk) == reply
    for person in (world.member, world.guest, world.outsider, None):
        with pytest.raises(Http404):
            queries.space_by_id(person, world.private_space.pk)
        with pytest.raises(Http404):
            queries.reply_by_id(person, reply.pk)
    actions.delete_reply(world.admin, reply)
    with pytest.raises(Http404):
        queries.reply_by_id(world.owner, reply.pk)


def test_private_space_members(world):
    names = [p.name for p in queries.private_space_members(world.member, world.open_space)]
    assert names == ["Gus Guest"]
    names = [p.name for p in queries.private_space_members(world.owner, world.private_space)]
    assert names == ["Adam Admin", "Olivia Owner"]
    for person in (world.member, world.guest, world.outsider):
        with pytest.raises(Http404):
            queries.private_space_members(person, world.private_space)


# --- @mentions while writing a new thread.


def test_new_thread_form_offers_mentions_for_its_space(world):
    client = world.client_for("member")
    page = client.get("/w/acme/s/general/new").content.decode()
    url = reverse("threads:space-mentions", kwargs={"workspace": "acme", "space": "general"})
    assert f'data-mentions-url="{url}"' in page and 'id="mention-list"' in page
    assert "js/mentions.js" in page
    people = client.get(url, {"q": "g"}).json()["people"]
    assert people == [{"handle": "gus", "name": "Gus Guest"}]


def test_space_mentions_list_only_people_who_see_the_space(world):
    url = reverse("threads:space-mentions", kwargs={"workspace": "acme", "space": "leadership"})
    people = world.client_for("owner").get(url).json()["people"]
    assert {p["handle"] for p in people} == {"olivia", "adam"}
    assert world.client_for("member").get(url).status_code == 404
    api = world.client_for("anonymous").get(
        f"/api/spaces/{world.private_space.pk}/mentions", {"q": "m"}, headers=bearer(world.admin)
    )
    assert api.status_code == 200 and api.json() == []  # Mia cannot see the private space


# --- The "N replies" heading follows live updates.


def test_polling_updates_the_replies_heading(world):
    thread = thread_in(world.open_space, world.owner)
    client = world.client_for("member")
    page = client.get(f"/t/{thread.pk}/").content.decode()
    assert 'id="replies-title"' in page and "hidden" in page.split('id="replies-title"')[1][:40]
    quiet = client.get(f"/t/{thread.pk}/updates", {"after": 0}).content.decode()
    assert "replies-title" not in quiet
    first = reply_to(thread, world.admin)
    reply_to(thread, world.guest)
    fresh = client.get(f"/t/{thread.pk}/updates", {"after": first.pk - 1}).content.decode()
    heading = fresh.split('id="replies-title"')[1].split("</h2>")[0]
    assert 'hx-swap-oob="true"' in heading and ">2 replies" in heading and "hidden" not in heading
    activity = fresh.split('id="thread-activity"')[1].split("</span>")[0]
    assert 'hx-swap-oob="true"' in activity and ">2 replies · last activity" in activity
