"""Reminders: bring a thread back to one's inbox at a chosen time, once, while still visible."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from conftest import ROLES
from tidings.inbox import actions, queries
from tidings.inbox.jobs import fire_due_reminders
from tidings.inbox.models import InboxItem, Reason, Reminder
from tidings.threads.models import SpaceMember

from .factories import make_reply, make_thread

NOW = dt.datetime(2030, 3, 13, 15, 0, tzinfo=dt.UTC)  # a Wednesday


@pytest.fixture
def thread(world):
    return make_thread(world.open_space, world.owner, "Launch checklist", "Ship it")


def test_presets_are_in_the_persons_zone(world):
    person, zone = world.member, world.member.zone  # Asia/Kolkata, UTC+05:30
    assert actions.remind_time("hour", person, NOW) == NOW + dt.timedelta(hours=1)
    tomorrow = actions.remind_time("tomorrow", person, NOW).astimezone(zone)
    assert (tomorrow.date(), tomorrow.hour, tomorrow.minute) == (dt.date(2030, 3, 14), 9, 0)
    monday = actions.remind_time("monday", person, NOW).astimezone(zone)
    assert (monday.date(), monday.hour) == (dt.date(2030, 3, 18), 9)
    with pytest.raises(ValidationError):
        actions.remind_time("someday", person, NOW)


def test_reminder_fires_once_at_its_time_with_the_post(world, thread):
    reply = make_reply(thread, world.admin, "The numbers are in")
    item = InboxItem.objects.create(
        person=world.member, thread=thread, reason=Reason.NEW_THREAD, done_at=NOW, read_at=NOW,
        updated_at=NOW - dt.timedelta(days=2),
    )  # fmt: skip
    reminder = actions.create_reminder(
        world.member, thread.pk, reply_id=reply.pk, preset="hour", now=NOW
    )
    assert reminder.remind_at == NOW + dt.timedelta(hours=1)
    assert actions.fire_due_reminders(NOW + dt.timedelta(minutes=59)) == 0
    later = NOW + dt.timedelta(hours=1, seconds=30)
    assert actions.fire_due_reminders(later) == 1
    assert actions.fire_due_reminders(later) == 0  # the task running twice fires nothing more
    item.refresh_from_db()
    assert item.reason == Reason.REMINDER and item.latest_reply == reply
    assert item.done_at is None and item.read_at is None and item.updated_at == later
    reminder.refresh_from_db()
    assert reminder.fired_at == later
    assert list(queries.pending_reminders(world.member)) == []


def test_reminder_creates_an_item_and_clears_a_snooze(world, thread):
    actions.create_reminder(world.admin, thread.pk, at=NOW + dt.timedelta(days=1), now=NOW)
    actions.fire_due_reminders(NOW + dt.timedelta(days=1))
    item = InboxItem.objects.get(person=world.admin, thread=thread)
    assert item.reason == Reason.REMINDER and item.latest_reply is None
    item.snoozed_until = NOW + dt.timedelta(days=30)
    item.save()
    actions.create_reminder(world.admin, thread.pk, at=NOW + dt.timedelta(days=2), now=NOW)
    actions.fire_due_reminders(NOW + dt.timedelta(days=2))
    item.refresh_from_db()
    assert item.snoozed_until is None


def test_naive_time_is_read_in_the_persons_zone(world, thread):
    reminder = actions.create_reminder(
        world.member, thread.pk, at=dt.datetime(2030, 3, 14, 9, 30), now=NOW
    )
    assert reminder.remind_at == dt.datetime(2030, 3, 14, 4, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("at", [NOW - dt.timedelta(minutes=1), NOW, NOW + dt.timedelta(days=400)])
def test_times_in_the_past_or_too_far_are_refused(world, thread, at):
    with pytest.raises(ValidationError):
        actions.create_reminder(world.member, thread.pk, at=at, now=NOW)


def test_private_thread_reminder_never_fires_after_losing_access(world):
    secret = make_thread(world.private_space, world.owner, "Reorg", "Private")
    actions.create_reminder(world.admin, secret.pk, preset="hour", now=NOW)
    SpaceMember.objects.filter(space=world.private_space, person=world.admin).delete()
    assert actions.fire_due_reminders(NOW + dt.timedelta(hours=2)) == 0
    assert not InboxItem.objects.filter(person=world.admin, thread=secret).exists()
    assert Reminder.objects.get().fired_at is not None  # spent, not retried every minute


@pytest.mark.parametrize("role", ["guest", "outsider"])
def test_cannot_remind_of_what_one_cannot_see(world, role):
    secret = make_thread(world.private_space, world.owner, "Reorg", "Private")
    with pytest.raises(Http404):
        actions.create_reminder(world.person(role), secret.pk, preset="hour", now=NOW)


def test_cancelled_reminder_never_fires(world, thread):
    reminder = actions.create_reminder(world.member, thread.pk, preset="hour", now=NOW)
    actions.cancel_reminder(world.member, reminder.pk)
    assert actions.fire_due_reminders(NOW + dt.timedelta(hours=2)) == 0
    with pytest.raises(Http404):
        actions.cancel_reminder(world.member, reminder.pk)


def test_someone_elses_reminder_cannot_be_cancelled(world, thread):
    reminder = actions.create_reminder(world.member, thread.pk, preset="hour", now=NOW)
    with pytest.raises(Http404):
        actions.cancel_reminder(world.admin, reminder.pk)


# role -> status of POST /inbox/remind on a thread in the open / private space
REMIND_STATUS = {
    "owner": (302, 302), "admin": (302, 302), "member": (302, 404), "guest": (302, 404),
    "outsider": (404, 404), "anonymous": (302, 302),
}  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_remind_page_matrix(world, role):
    client = world.client_for(role)
    for index, space in enumerate([world.open_space, world.private_space]):
        thread = make_thread(space, world.owner, f"Thread {index}", "Body")
        response = client.post("/inbox/remind", {"thread_id": thread.pk, "preset": "tomorrow"})
        assert response.status_code == REMIND_STATUS[role][index], space
        made = Reminder.objects.filter(thread=thread).exists()
        assert made == (response.status_code == 302 and role != "anonymous")
    listing = client.get("/inbox/later")
    assert listing.status_code == (302 if role == "anonymous" else 200)
    if role in ("member", "guest", "outsider"):
        assert "Thread 1" not in listing.content.decode()


def test_remind_form_and_list_and_cancel(world, thread):
    client = world.client_for("member")
    day = timezone.localdate(timezone.now(), world.member.zone) + dt.timedelta(days=30)
    until = f"{day:%Y-%m-%d}T09:00"
    response = client.post("/inbox/remind", {"thread_id": thread.pk, "until": until}, follow=True)
    assert "back to your inbox" in response.content.decode()
    reminder = Reminder.objects.get(person=world.member)
    assert timezone.localtime(reminder.remind_at, world.member.zone).hour == 9
    page = client.get("/inbox/later").content.decode()
    assert "Launch checklist" in page and f"{day:%a} {day.day} {day:%b}, 09:00" in page
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert title.startswith("Reminders, requests and scheduled posts") and "<" not in title
    response = client.post(f"/inbox/reminders/{reminder.pk}/cancel", follow=True)
    assert "Reminder cancelled." in response.content.decode()
    assert "Launch checklist" not in client.get("/inbox/later").content.decode()


@pytest.mark.parametrize(
    "data",
    [{"preset": "never"}, {"until": "yesterday"}, {"until": "2001-01-01T09:00"}, {}],
)
def test_bad_remind_input_says_what_to_do(world, thread, data):
    client = world.client_for("member")
    response = client.post("/inbox/remind", {"thread_id": thread.pk, **data}, follow=True)
    assert response.status_code == 200
    assert 'class="message message-error' in response.content.decode() or "Pick" in (
        response.content.decode()
    )
    assert not Reminder.objects.exists()


@pytest.mark.parametrize("thread_id", ["", "abc", "99999999", "1" * 30])
def test_malformed_thread_ids_are_404(world, thread_id):
    response = world.client_for("member").post(
        "/inbox/remind", {"thread_id": thread_id, "preset": "hour"}
    )
    assert response.status_code == 404


def test_thread_page_offers_remind_me_on_each_post(world, thread):
    reply = make_reply(thread, world.admin, "A reply")
    client = world.client_for("member")
    body = client.get(f"/t/{thread.pk}/").content.decode()
    # The menu is rendered once and filled for the post it opens on...
    assert body.count("Remind me</summary>") == 1
    assert "Tomorrow morning" in body
    # ...and each post links to a page of its own actions, which offers it without JavaScript.
    for url, reply_id in [
        (f"/t/{thread.pk}/actions", ""),
        (f"/t/{thread.pk}/r/{reply.pk}/", reply.pk),
    ]:
        assert f'<a class="post-more" href="{url.removeprefix(f"/t/{thread.pk}/")}">' in body
        page = client.get(url).content.decode()
        assert "Remind me" in page and "Tomorrow morning" in page
        assert page.count(f'name="reply_id" value="{reply_id}"') >= 2
        assert page.count(f'name="thread_id" value="{thread.pk}"') >= 2


def test_the_periodic_task_fires_due_reminders(world, thread):
    Reminder.objects.create(
        person=world.member, thread=thread, remind_at=timezone.now() - dt.timedelta(minutes=1)
    )
    fire_due_reminders.call_local()
    assert InboxItem.objects.get(person=world.member).reason == Reason.REMINDER


# --- API.

# role -> (create on the open thread, create on the private thread)
API_CREATE = {
    "owner": (201, 201), "admin": (201, 201), "member": (201, 404), "guest": (201, 404),
    "outsider": (404, 404), "anonymous": (401, 401),
}  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_reminders_api_matrix(world, api_for, role):
    api = api_for(role)
    secret = make_thread(world.private_space, world.owner, "Reorg", "Private")
    public = make_thread(world.open_space, world.owner, "Launch", "Public")
    made = []
    for index, thread in enumerate([public, secret]):
        response = api.post("/reminders", {"thread_id": thread.pk, "preset": "tomorrow"})
        assert response.status_code == API_CREATE[role][index]
        if response.status_code == 201:
            made.append(response.json()["id"])
    listing = api.get("/reminders")
    assert listing.status_code == (401 if role == "anonymous" else 200)
    if role != "anonymous":
        assert sorted(r["id"] for r in listing.json()) == sorted(made)
        assert "Reorg" not in listing.content.decode() or role in ("owner", "admin")
    other = actions.create_reminder(world.admin, public.pk, preset="hour")
    cancel = api.delete(f"/reminders/{other.pk}")
    assert cancel.status_code == {"admin": 204, "anonymous": 401}.get(role, 404)


def test_reminders_api_with_a_time_and_bad_input(world, api_for, thread):
    api = api_for("member")
    day = timezone.localdate(timezone.now(), world.member.zone) + dt.timedelta(days=3)
    response = api.post("/reminders", {"thread_id": thread.pk, "at": f"{day}T09:00"})
    assert response.status_code == 201
    assert (
        timezone.localtime(
            dt.datetime.fromisoformat(response.json()["remind_at"]), world.member.zone
        ).hour
        == 9
    )
    for bad in [{"preset": "soon"}, {"at": "2001-01-01T00:00"}, {}, {"at": "nonsense"}]:
        assert api.post("/reminders", {"thread_id": thread.pk, **bad}).status_code == 422
    assert api.post("/reminders", {"thread_id": "x", "preset": "hour"}).status_code == 422
