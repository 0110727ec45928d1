import datetime as dt
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from tidings.inbox import actions
from tidings.inbox.models import InboxItem
from tidings.inbox.queries import open_items, snoozed_items

from .factories import make_reply, make_thread


@pytest.fixture
def item(world) -> InboxItem:
    thread = make_thread(world.open_space, world.owner)
    actions.fan_out_reply_posted(make_reply(thread, world.admin), [world.member])
    return InboxItem.objects.get(person=world.member, thread=thread)


BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
KOLKATA = zoneinfo.ZoneInfo("Asia/Kolkata")


def test_unknown_preset_is_a_clear_error(world):
    with pytest.raises(ValidationError, match="Pick when"):
        actions.snooze_time("someday", world.owner)


def test_snooze_hides_until_the_time_then_comes_back(world, item):
    actions.snooze(world.member, item.pk, timezone.now() + dt.timedelta(hours=2))
    assert not open_items(world.member).exists()
    assert list(snoozed_items(world.member)) == [item]
    InboxItem.objects.filter(pk=item.pk).update(snoozed_until=timezone.now())
    assert list(open_items(world.member)) == [item]
    assert not snoozed_items(world.member).exists()


def test_naive_snooze_time_is_read_in_the_persons_zone(world, item):
    # Mia is in Asia/Kolkata (+05:30).
    local = (timezone.now() + dt.timedelta(days=2)).astimezone(KOLKATA).replace(tzinfo=None)
    snoozed = actions.snooze(world.member, item.pk, local.replace(second=0, microsecond=0))
    assert snoozed.snoozed_until.astimezone(KOLKATA).replace(tzinfo=None) == local.replace(
        second=0, microsecond=0
    )


@pytest.mark.parametrize(
    "until",
    [timezone.now() - dt.timedelta(minutes=1), timezone.now() + dt.timedelta(days=400)],
)
def test_snooze_refuses_past_and_far_times(world, item, until):
    with pytest.raises(ValidationError):
        actions.snooze(world.member, item.pk, until)
    item.refresh_from_db()
    assert item.snoozed_until is None


def test_done_undone_unsnooze_and_read(world, item):
    done = actions.mark_done(world.member, item.pk)
    assert done.done_at and done.read_at
    assert actions.mark_undone(world.member, item.pk).done_at is None
    actions.snooze(world.member, item.pk, timezone.now() + dt.timedelta(hours=1))
    assert actions.unsnooze(world.member, item.pk).snoozed_until is None
    InboxItem.objects.filter(pk=item.pk).update(read_at=None)
    assert actions.mark_read(world.member, item.pk).read_at is not None


def test_mark_thread_read(world, item):
    assert actions.mark_thread_read(world.member, item.thread) == 1
    assert actions.mark_thread_read(world.member, item.thread) == 0
    assert actions.mark_thread_read(None, item.thread) == 0


@pytest.mark.parametrize("role", ["owner", "admin", "guest", "outsider"])
def test_other_peoples_items_do_not_exist(world, item, role):
    person = world.person(role)
    for action in (actions.mark_done, actions.mark_undone, actions.unsnooze, actions.mark_read):
        with pytest.raises(Http404):
            action(person, item.pk)
    with pytest.raises(Http404):
        actions.snooze(person, item.pk, timezone.now() + dt.timedelta(hours=1))
    item.refresh_from_db()
    assert item.done_at is None and item.snoozed_until is None
