""" "Post now, deliver in working hours" tells the poster whose delivery is held, until when on
each reader's own clock, and who gets it now."""

import datetime as dt
import re

import pytest

from conftest import ROLES, make_person
from tidings.accounts.delivery import settings_for
from tidings.accounts.models import WEEKDAYS
from tidings.inbox.composer import held_delivery_notice
from tidings.inbox.models import ScheduledDelivery
from tidings.workspaces.models import Membership, Role

from .factories import make_thread

# Tuesday 2026-03-10 04:00 UTC: 09:30 in Kolkata (Mia, at work from 09:00), 05:00 in Berlin
# (Olivia, from 09:00 CET), 00:00 in New York (Adam, from 09:00 EDT: DST began on the 8th),
# 14:30 in Adelaide (Gus, a guest in the open space, at work).
NOW = dt.datetime(2026, 3, 10, 4, 0, tzinfo=dt.UTC)


@pytest.fixture
def thread(world):
    return make_thread(world.open_space, world.owner, "Roadmap", "Draft")


def test_the_notice_names_held_readers_with_their_clock_and_those_at_work(world, thread):
    notice = held_delivery_notice(world.member, thread, now=NOW)
    assert notice == (
        "Posted. Held until each reader's working day starts: Olivia Owner at Tue 09:00 CET,"
        " Adam Admin at Tue 09:00 EDT. In working hours now, so they get it now: Gus Guest."
    )


def test_the_notice_counts_beyond_the_first_eight(world, thread):
    for n in range(9):
        person = make_person(f"late{n}@acme.test", f"Late {n}", "America/Los_Angeles")
        Membership.objects.create(workspace=world.workspace, person=person, role=Role.MEMBER)
    notice = held_delivery_notice(world.owner, thread, now=NOW)
    assert "Late 0 at Tue 09:00 PDT" in notice and "Late 6 at Tue 09:00 PDT and 2 more." in notice


def test_a_private_space_names_only_its_readers(world):
    secret = make_thread(world.private_space, world.owner, "Reorg", "Quiet")
    assert held_delivery_notice(world.owner, secret, now=NOW) == (
        "Posted. Held until each reader's working day starts: Adam Admin at Tue 09:00 EDT."
    )


def test_nobody_else_in_the_space(world):
    lonely = make_thread(world.private_space, world.owner, "Reorg", "Quiet")
    world.private_space.members.filter(person=world.admin).delete()
    assert held_delivery_notice(world.owner, lonely, now=NOW) == (
        "Posted. Nobody else can see this space yet."
    )


@pytest.mark.parametrize("role", ROLES)
def test_posting_a_held_reply_says_what_will_happen(
    world, thread, role, django_capture_on_commit_callbacks
):
    """Always at work or never at work, whatever the time the test runs."""
    for person, hours in [(world.owner, ["00:00", "23:59"]), (world.admin, None)]:
        row = settings_for(person)
        row.working_hours = {day: hours for day in WEEKDAYS}
        row.away_until = None
        row.save()
    client = world.client_for(role)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/t/{thread.pk}/reply", {"body": "Held", "deliver": "working_hours"}, follow=True
        )
    expected = {"owner": 200, "admin": 200, "member": 200, "guest": 200, "outsider": 404,
                "anonymous": 200}[role]  # fmt: skip
    assert response.status_code == expected
    body = response.content.decode()
    if role in ("outsider", "anonymous"):
        assert "Held until" not in body and not ScheduledDelivery.objects.exists()
        return
    assert "Held until each reader&#x27;s working day starts:" in body
    if role != "owner":
        at_work = re.search(r"In working hours now, so they get it now: ([^.]*)\.", body)
        assert "Olivia Owner" in at_work.group(1)
    # What was said is what was held.
    held = ScheduledDelivery.objects.filter(reply__body="Held").exclude(person=world.owner)
    assert held.filter(person=world.admin).exists() == (role != "admin")
