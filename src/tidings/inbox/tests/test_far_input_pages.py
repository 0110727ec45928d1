"""The inbox's page tools (ask to respond, the composer's ask, remind, snooze, send later)
answer huge ids and dates at the calendar's ends with a sentence, never a server error,
and save nothing."""

from __future__ import annotations

import pytest

from tidings.inbox.models import InboxItem, Reason, Reminder, Request, ScheduledPost

from .factories import make_thread

HUGE = "99999999999999999999999"
AHEAD, PAST = "9999-12-31", "0001-01-01"


@pytest.fixture
def thread(world):
    return make_thread(world.open_space, world.owner, "Budget review", "Numbers, please")


def _flash(response) -> str:
    return " ".join(str(message) for message in response.context["messages"])


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"due_on": AHEAD}, "Pick a due date at most a year ahead."),
        ({"due_on": PAST}, "Pick a due date from today on."),
        ({"due_on": "10000-01-01"}, "Enter a date, like 2030-03-14."),
        ({"people": [HUGE]}, "Pick the people to ask from the list."),
        ({"people": [str(2**63)]}, "Pick the people to ask from the list."),
    ],
)
def test_ask_tool_refuses_far_dates_and_huge_ids(world, thread, fields, message):
    form = {"thread_id": thread.pk, "people": [world.member.pk], "due_on": "2030-01-01", **fields}
    response = world.client_for("owner").post("/inbox/ask", form, follow=True)
    assert response.status_code == 200
    assert message in _flash(response)
    assert not Request.objects.exists()


@pytest.mark.parametrize(
    ("due", "message"),
    [(AHEAD, "Pick a due date at most a year ahead."), (PAST, "Pick a due date from today on.")],
)
def test_composer_ask_refuses_far_dates_and_keeps_the_draft(world, thread, due, message):
    form = {"body": "Please check", "ask_people": [world.member.pk], "ask_due": due}
    response = world.client_for("owner").post(f"/t/{thread.pk}/reply", form)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and "Please check" in page
    assert not Request.objects.exists() and not thread.replies.exists()


@pytest.mark.parametrize(
    ("until", "message"),
    [
        (f"{AHEAD} 23:59", "Pick a time at most a year ahead for the reminder."),
        (f"{PAST} 00:00", "Pick a time in the future for the reminder."),
        ("10000-01-01 00:00", "Enter a date and time, like 2030-03-14 09:30."),
    ],
)
def test_remind_tool_refuses_far_times(world, thread, until, message):
    form = {"thread_id": thread.pk, "until": until}
    response = world.client_for("member").post("/inbox/remind", form, follow=True)
    assert message in _flash(response)
    assert not Reminder.objects.exists()


def test_remind_tool_takes_a_huge_reply_id_for_no_such_reply(world, thread):
    form = {"thread_id": thread.pk, "reply_id": HUGE, "preset": "hour"}
    assert world.client_for("member").post("/inbox/remind", form).status_code == 404
    assert not Reminder.objects.exists()


@pytest.mark.parametrize(
    ("until", "message"),
    [
        (f"{AHEAD} 23:59", "Snooze for at most a year."),
        (f"{PAST} 00:00", "Pick a time in the future to snooze until."),
    ],
)
def test_snooze_refuses_far_times(world, thread, until, message):
    item = InboxItem.objects.create(person=world.member, thread=thread, reason=Reason.REPLY)
    response = world.client_for("member").post(
        f"/inbox/{item.pk}/snooze", {"until": until}, follow=True
    )
    assert message in _flash(response)
    item.refresh_from_db()
    assert item.snoozed_until is None


@pytest.mark.parametrize(
    ("send_at", "message"),
    [
        (f"{AHEAD}T23:59", "Pick a time at most a year ahead for the post."),
        (f"{PAST}T00:00", "Pick a time in the future for the post."),
    ],
)
def test_send_later_refuses_far_times(world, thread, send_at, message):
    response = world.client_for("member").post(
        f"/t/{thread.pk}/schedule", {"body": "Later", "send_at": send_at}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ScheduledPost.objects.exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", f"/t/{HUGE}/"), ("post", f"/inbox/{2**63}/done"), ("post", f"/t/{HUGE}/schedule")],
)
def test_page_addresses_with_ids_beyond_64_bits_are_not_found(world, method, path):
    response = getattr(world.client_for("member"), method)(path)
    assert response.status_code == 404
