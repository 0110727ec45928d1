"""Send later: a post published at a time exactly once, or delivered in readers' working hours."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from conftest import ROLES
from tidings.accounts import delivery
from tidings.inbox import send_later
from tidings.inbox.models import InboxItem, ScheduledDelivery, ScheduledPost, ScheduleState
from tidings.recordings.models import Recording
from tidings.recordings.queries import unfinished_recordings
from tidings.recordings.tests.factories import recording_with_chunks, split, webm_bytes
from tidings.search.models import SearchDocument
from tidings.threads import actions as thread_actions
from tidings.threads.models import Attachment, Reply, SpaceMember, Thread
from tidings.threads.tests.factories import png_bytes

from .factories import make_thread

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture
def thread(world):
    return make_thread(world.open_space, world.owner, "Roadmap", "Where next")


def test_thread_is_published_once_at_its_time(world, django_capture_on_commit_callbacks):
    post = send_later.schedule_post(
        world.member, space=world.open_space, kind="discussion", title="Late idea",
        body="Written at 2am", send_at=NOW + dt.timedelta(hours=6), now=NOW,
    )  # fmt: skip
    assert not Thread.objects.filter(title="Late idea").exists()  # invisible until sent
    assert send_later.publish_due_posts(NOW + dt.timedelta(hours=5)) == 0
    at = NOW + dt.timedelta(hours=6)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_later.publish_due_posts(at) == 1
        assert send_later.publish_due_posts(at) == 0  # the task running twice
    thread = Thread.objects.get(title="Late idea")
    assert thread.author == world.member and thread.body == "Written at 2am"
    post.refresh_from_db()
    assert post.state == ScheduleState.SENT and post.sent_thread == thread
    # The normal posting path: indexed and fanned out to the space's followers.
    assert SearchDocument.objects.filter(thread=thread, reply=None).exists()
    assert InboxItem.objects.filter(thread=thread, person=world.owner).exists()


def test_reply_is_published_at_its_time(world, thread):
    send_later.schedule_post(
        world.admin, thread=thread, body="Answer later", send_at=NOW + dt.timedelta(hours=1),
        now=NOW,
    )  # fmt: skip
    send_later.publish_due_posts(NOW + dt.timedelta(hours=1))
    assert Reply.objects.get(thread=thread).body == "Answer later"


def test_lost_access_marks_it_failed_with_a_reason(world):
    secret = make_thread(world.private_space, world.owner, "Reorg", "Private")
    post = send_later.schedule_post(
        world.admin, thread=secret, body="Later", send_at=NOW + dt.timedelta(hours=1), now=NOW
    )
    SpaceMember.objects.filter(space=world.private_space, person=world.admin).delete()
    assert send_later.publish_due_posts(NOW + dt.timedelta(hours=2)) == 0
    post.refresh_from_db()
    assert post.state == ScheduleState.FAILED and post.failure
    assert not Reply.objects.exists()


def test_cancelled_and_edited(world, thread):
    post = send_later.schedule_post(
        world.admin, thread=thread, body="v1", send_at=NOW + dt.timedelta(hours=1), now=NOW
    )
    send_later.edit_scheduled(
        world.admin, post.pk, title="", body="v2", send_at=NOW + dt.timedelta(hours=3), now=NOW
    )
    assert send_later.publish_due_posts(NOW + dt.timedelta(hours=2)) == 0
    with pytest.raises(Http404):
        send_later.cancel_scheduled(world.member, post.pk)
    send_later.cancel_scheduled(world.admin, post.pk)
    assert send_later.publish_due_posts(NOW + dt.timedelta(hours=4)) == 0
    with pytest.raises(Http404):
        send_later.edit_scheduled(
            world.admin, post.pk, title="", body="v3", send_at=NOW + dt.timedelta(hours=5)
        )


@pytest.mark.parametrize(
    "fields",
    [
        {"title": "", "kind": "discussion"},
        {"title": "x", "kind": "nonsense"},
        {"title": "x", "kind": "walkthrough"},
        {"title": "x" * 300, "kind": "discussion"},
        {"title": "x", "kind": "discussion", "send_at": NOW - dt.timedelta(minutes=1)},
    ],
)
def test_bad_scheduled_threads_are_refused(world, fields):
    fields = {"body": "b", "send_at": NOW + dt.timedelta(hours=1), **fields}
    with pytest.raises(ValidationError):
        send_later.schedule_post(world.member, space=world.open_space, now=NOW, **fields)
    assert not ScheduledPost.objects.exists()


@pytest.mark.parametrize("role", ["guest", "outsider"])
def test_cannot_schedule_where_one_cannot_see(world, role):
    with pytest.raises(Http404):
        send_later.schedule_post(
            world.person(role), space=world.private_space, kind="discussion", title="t",
            body="b", send_at=NOW + dt.timedelta(hours=1), now=NOW,
        )  # fmt: skip


def test_working_hours_delivery_waits_for_each_reader(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        thread = thread_actions.post_thread(
            world.owner, world.open_space, kind="discussion", title="Held", body="For later",
            hold_delivery=True,
        )  # fmt: skip
    rows = {row.person_id: row for row in ScheduledDelivery.objects.filter(thread=thread)}
    # Everyone who can see the space (the guest was added to it), never the author.
    assert set(rows) == {world.admin.pk, world.member.pk, world.guest.pk}
    for person_id, row in rows.items():
        item = InboxItem.objects.filter(thread=thread, person_id=person_id)
        assert item.exists() == (row.deliver_at <= timezone.now())
    later = max(row.deliver_at for row in rows.values()) + dt.timedelta(minutes=1)
    send_later.deliver_held(later)
    send_later.deliver_held(later)  # twice: nothing more
    assert InboxItem.objects.filter(thread=thread).count() == 3
    assert ScheduledDelivery.objects.filter(delivered_at=None).count() == 0


def test_held_reply_reaches_a_follower_only_in_their_window(world, thread, monkeypatch):
    start = NOW + dt.timedelta(hours=5)
    monkeypatch.setattr(delivery, "next_working_start", lambda settings, after: start)
    reply = Reply.objects.create(thread=thread, author=world.admin, body="Held reply")
    send_later.hold_delivery(thread, reply, [])
    assert send_later.hold_delivery(thread, reply, []) == 0  # held once
    assert not InboxItem.objects.filter(person=world.owner).exists()
    assert send_later.deliver_held(start - dt.timedelta(minutes=1)) == 0
    assert send_later.deliver_held(start) == 1  # the owner follows the thread
    assert InboxItem.objects.get(person=world.owner).latest_reply == reply


# --- Pages.

# role -> status of POST schedule on the open / private space's thread composer
SCHEDULE_STATUS = {
    "owner": (302, 302), "admin": (302, 302), "member": (302, 404), "guest": (302, 404),
    "outsider": (404, 404), "anonymous": (302, 302),
}  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_schedule_reply_matrix(world, role):
    client = world.client_for(role)
    when = timezone.localtime(NOW + dt.timedelta(days=1), world.person(role).zone if
                              world.person(role) else dt.UTC)  # fmt: skip
    for index, space in enumerate([world.open_space, world.private_space]):
        thread = make_thread(space, world.owner, f"Thread {index}", "Body")
        response = client.post(
            f"/t/{thread.pk}/schedule", {"body": "Later", "send_at": f"{when:%Y-%m-%dT%H:%M}"}
        )
        assert response.status_code == SCHEDULE_STATUS[role][index]
        made = ScheduledPost.objects.filter(thread=thread).exists()
        assert made == (response.status_code == 302 and role != "anonymous")


def test_schedule_thread_page_flow(world):
    client = world.client_for("member")
    when = timezone.localtime(NOW + dt.timedelta(days=2), world.member.zone)
    url = "/w/acme/s/general/schedule"
    bad = client.post(url, {"kind": "discussion", "title": "Plan", "body": "b", "send_at": "x"})
    assert bad.status_code == 400
    page = bad.content.decode()
    assert "Enter a date and time" in page and 'value="Plan"' in page
    again = client.post(
        url, {"kind": "discussion", "title": "Plan", "body": "b", "send_at": "x", "recording": "t"}
    )
    assert 'name="recording" value="t"' in again.content.decode()  # kept for the retry
    ok = client.post(
        url,
        {"kind": "discussion", "title": "Plan", "body": "b", "send_at": f"{when:%Y-%m-%dT%H:%M}"},
        follow=True,
    )
    listing = ok.content.decode()
    assert "Scheduled. It stays private" in listing and "Plan" in listing
    post = ScheduledPost.objects.get()
    assert timezone.localtime(post.send_at, world.member.zone).hour == when.hour
    # Nobody else sees it anywhere.
    assert "Plan" not in world.client_for("owner").get("/w/acme/s/general/").content.decode()
    edit = client.post(
        f"/inbox/scheduled/{post.pk}/",
        {"title": "Plan B", "body": "b2", "send_at": f"{when:%Y-%m-%dT%H:%M}"},
    )
    assert edit.status_code == 302
    assert world.client_for("owner").get(f"/inbox/scheduled/{post.pk}/").status_code == 404
    assert client.post(f"/inbox/scheduled/{post.pk}/cancel").status_code == 302
    assert ScheduledPost.objects.get().state == ScheduleState.CANCELLED


def test_composers_offer_send_later(world, thread):
    body = world.client_for("member").get(f"/t/{thread.pk}/").content.decode()
    assert "Send later…" in body and f'formaction="/t/{thread.pk}/schedule"' in body
    body = world.client_for("member").get("/w/acme/s/general/new").content.decode()
    assert 'formaction="/w/acme/s/general/schedule"' in body


def test_post_now_deliver_in_working_hours_from_the_composer(
    world, thread, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = world.client_for("admin").post(
            f"/t/{thread.pk}/reply", {"body": "Held", "deliver": "working_hours"}
        )
    assert response.status_code == 302
    assert ScheduledDelivery.objects.filter(person=world.owner, reply__body="Held").exists()


# --- API.


@pytest.mark.parametrize("role", ROLES)
def test_scheduled_api_matrix(world, api_for, role):
    api = api_for(role)
    send_at = (timezone.now() + dt.timedelta(days=1)).isoformat()
    expected = {
        "owner": (201, 201), "admin": (201, 201), "member": (201, 404), "guest": (201, 404),
        "outsider": (404, 404), "anonymous": (401, 401),
    }[role]  # fmt: skip
    for index, space in enumerate([world.open_space, world.private_space]):
        response = api.post(
            "/scheduled",
            {"space_id": space.pk, "title": "Later", "body": "Body", "send_at": send_at},
        )
        assert response.status_code == expected[index]
    listing = api.get("/scheduled")
    assert listing.status_code == (401 if role == "anonymous" else 200)
    if role == "anonymous":
        return
    rows = listing.json()
    assert len(rows) == sum(1 for status in expected if status == 201)
    if rows:
        assert api_for("outsider").delete(f"/scheduled/{rows[0]['id']}").status_code == 404
        assert api.delete(f"/scheduled/{rows[0]['id']}").status_code == 204


def test_scheduled_reply_api(world, api_for, thread):
    api = api_for("member")
    response = api.post(
        "/scheduled",
        {"thread_id": thread.pk, "body": "Later", "send_at": "2001-01-01T09:00"},
    )
    assert response.status_code == 422
    send_at = (timezone.now() + dt.timedelta(hours=2)).isoformat()
    response = api.post("/scheduled", {"thread_id": thread.pk, "body": "Later", "send_at": send_at})
    assert response.status_code == 201 and response.json()["state"] == "scheduled"


def test_new_thread_delivered_in_working_hours_from_the_composer(
    world, django_capture_on_commit_callbacks
):
    form = {"kind": "discussion", "title": "Held thread", "body": "b", "deliver": "working_hours"}
    with django_capture_on_commit_callbacks(execute=True):
        response = world.client_for("member").post("/w/acme/s/general/new", form)
    assert response.status_code == 302
    thread = Thread.objects.get(title="Held thread")  # published now, for its author
    held = set(ScheduledDelivery.objects.filter(thread=thread).values_list("person_id", flat=True))
    assert held == {world.owner.pk, world.admin.pk, world.guest.pk}


# --- Files and recordings sent later.


def _png(name: str = "plan.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def _unposted_recording(owner, space, thread=None):
    return recording_with_chunks(owner, space, split(webm_bytes(seconds=1), 3), thread=thread)


def test_a_reply_sent_later_keeps_its_files_and_recording_until_then(
    world, thread, django_capture_on_commit_callbacks
):
    attachment = thread_actions.upload_attachment(world.member, world.open_space, _png())
    recording = _unposted_recording(world.member, world.open_space, thread)
    Attachment.objects.filter(pk=attachment.pk).update(created_at=NOW - dt.timedelta(days=3))
    Recording.objects.filter(pk=recording.pk).update(created_at=NOW - dt.timedelta(days=3))
    recording.chunks.update(received_at=NOW - dt.timedelta(days=3))
    post = send_later.schedule_post(
        world.member, thread=thread, body="", send_at=NOW + dt.timedelta(days=2), now=NOW,
        attachment_tokens=[attachment.token], recording_token=recording.token,
        recording_chunks=3,
    )  # fmt: skip
    assert post.media_summary == "1 file and a recording"
    # While it waits, neither is cleaned up as abandoned nor offered as unfinished.
    assert thread_actions.forget_unposted_attachments() == 0
    assert not unfinished_recordings(world.member, world.workspace).exists()

    with django_capture_on_commit_callbacks(execute=True):
        assert send_later.publish_due_posts(NOW + dt.timedelta(days=2)) == 1
    reply = Reply.objects.get(thread=thread)
    assert list(reply.attachments.values_list("token", flat=True)) == [attachment.token]
    recording.refresh_from_db()
    assert recording.reply == reply and recording.posted_at is not None


def test_cancelling_lets_go_of_the_files_and_the_recording(world, thread):
    attachment = thread_actions.upload_attachment(world.member, world.open_space, _png())
    recording = _unposted_recording(world.member, world.open_space)
    recording.chunks.update(received_at=NOW - dt.timedelta(hours=2))
    post = send_later.schedule_post(
        world.member, space=world.open_space, kind="discussion", title="Demo", body="",
        send_at=NOW + dt.timedelta(days=1), now=NOW, attachment_tokens=[attachment.token],
        recording_token=recording.token,
    )  # fmt: skip
    send_later.cancel_scheduled(world.member, post.pk)
    assert not Attachment.objects.get(pk=attachment.pk).held_for_later
    assert not Recording.objects.get(pk=recording.pk).held_for_later
    assert list(unfinished_recordings(world.member, world.workspace)) == [recording]


def test_a_post_that_cannot_be_made_lets_go_of_its_files(world, thread):
    attachment = thread_actions.upload_attachment(world.member, world.open_space, _png())
    send_later.schedule_post(
        world.member, thread=thread, body="See attached", send_at=NOW + dt.timedelta(hours=1),
        now=NOW, attachment_tokens=[attachment.token],
    )  # fmt: skip
    world.member.memberships.update(deactivated_at=timezone.now())  # lost access meanwhile
    assert send_later.publish_due_posts(NOW + dt.timedelta(hours=1)) == 0
    post = ScheduledPost.objects.get()
    assert post.state == ScheduleState.FAILED and post.failure
    assert not Attachment.objects.get(pk=attachment.pk).held_for_later


@pytest.mark.parametrize("whose", ["someone else's", "posted", "other space"])
def test_only_ones_own_unposted_files_of_the_space_can_be_held(world, thread, whose):
    if whose == "someone else's":
        attachment = thread_actions.upload_attachment(world.owner, world.open_space, _png())
    elif whose == "posted":
        attachment = thread_actions.upload_attachment(world.member, world.open_space, _png())
        thread_actions.post_reply(
            world.member, thread, body="now", attachment_tokens=[attachment.token]
        )
    else:
        SpaceMember.objects.create(space=world.private_space, person=world.member)
        attachment = thread_actions.upload_attachment(world.member, world.private_space, _png())
    with pytest.raises(ValidationError) as error:
        send_later.schedule_post(
            world.member, thread=thread, body="x", send_at=NOW + dt.timedelta(hours=1),
            now=NOW, attachment_tokens=[attachment.token],
        )  # fmt: skip
    assert "attachments" in error.value.message_dict
    assert not ScheduledPost.objects.exists()


def test_a_recording_of_someone_else_cannot_be_scheduled(world, thread):
    recording = _unposted_recording(world.owner, world.open_space)
    with pytest.raises(ValidationError) as error:
        send_later.schedule_post(
            world.member, thread=thread, body="", send_at=NOW + dt.timedelta(hours=1), now=NOW,
            recording_token=recording.token,
        )  # fmt: skip
    assert "could not be found" in " ".join(error.value.message_dict["recording"])


def test_the_composer_schedules_a_thread_with_a_file(world):
    client = world.client_for("member")
    when = timezone.localtime(NOW + dt.timedelta(days=1), world.member.zone)
    answer = client.post(
        "/w/acme/s/general/schedule",
        {"kind": "discussion", "title": "Floor plan", "body": "", "files": _png(),
         "send_at": f"{when:%Y-%m-%dT%H:%M}"},
        follow=True,
    )  # fmt: skip
    page = answer.content.decode()
    assert "Floor plan" in page and "with 1 file" in page
    post = ScheduledPost.objects.get()
    assert len(post.attachment_tokens) == 1
    # A mistake shows the form again and says that the file must be attached again.
    again = client.post(
        "/w/acme/s/general/schedule",
        {"kind": "discussion", "title": "Plan", "files": _png(), "send_at": "soon"},
    )
    assert again.status_code == 400
    assert "Your files were not kept" in again.content.decode()
    assert ScheduledPost.objects.count() == 1


def test_scheduled_api_takes_uploaded_files_and_a_recording(world, api_for, thread):
    attachment = thread_actions.upload_attachment(world.member, world.open_space, _png())
    recording = _unposted_recording(world.member, world.open_space)
    send_at = (timezone.now() + dt.timedelta(days=1)).isoformat()
    response = api_for("member").post(
        "/scheduled",
        {"thread_id": thread.pk, "send_at": send_at, "attachments": [attachment.token],
         "recording": recording.token},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["attachments"] == [attachment.token] and body["recording"] == recording.token
    taken = api_for("owner").post(
        "/scheduled", {"thread_id": thread.pk, "send_at": send_at, "recording": recording.token}
    )
    assert taken.status_code == 422  # another person's recording
