import datetime as dt

import pytest
from django.utils import timezone

from tidings.inbox import jobs
from tidings.inbox.actions import (
    fan_out_reply_posted,
    fan_out_thread_posted,
    fan_out_thread_resolved,
    mark_done,
)
from tidings.inbox.models import InboxItem, Reason
from tidings.inbox.queries import open_items, tab_items
from tidings.threads.actions import reopen_thread, resolve_thread
from tidings.threads.models import SpaceLevel, SpaceMember, SpaceSubscription, ThreadFollow

from .factories import make_reply, make_thread


def item_for(person, thread) -> InboxItem | None:
    return InboxItem.objects.filter(person=person, thread=thread).first()


def test_new_thread_reaches_followers_of_the_space_but_not_the_author(world):
    thread = make_thread(world.open_space, world.member)
    fan_out_thread_posted(thread, [])
    people = set(InboxItem.objects.filter(thread=thread).values_list("person__name", flat=True))
    assert people == {"Olivia Owner", "Adam Admin", "Gus Guest"}
    assert item_for(world.owner, thread).reason == Reason.NEW_THREAD
    assert item_for(world.owner, thread).actor == world.member


def test_new_thread_in_private_space_reaches_only_its_members(world):
    thread = make_thread(world.private_space, world.owner)
    fan_out_thread_posted(thread, [world.member, world.guest, world.outsider])
    people = set(InboxItem.objects.filter(thread=thread).values_list("person__name", flat=True))
    assert people == {"Adam Admin"}


@pytest.mark.parametrize("level", [SpaceLevel.NORMAL, SpaceLevel.MUTED])
def test_quieter_levels_get_no_new_threads_but_still_get_mentions(world, level):
    SpaceSubscription.objects.create(space=world.open_space, person=world.admin, level=level)
    SpaceSubscription.objects.create(space=world.open_space, person=world.guest, level=level)
    thread = make_thread(world.open_space, world.member)
    fan_out_thread_posted(thread, [world.guest])
    assert item_for(world.admin, thread) is None
    assert item_for(world.guest, thread).reason == Reason.MENTION
    assert item_for(world.owner, thread).reason == Reason.NEW_THREAD


def test_explicit_follow_level_is_like_no_row(world):
    SpaceSubscription.objects.create(
        space=world.open_space, person=world.admin, level=SpaceLevel.FOLLOW
    )
    thread = make_thread(world.open_space, world.member)
    fan_out_thread_posted(thread, [])
    assert item_for(world.admin, thread).reason == Reason.NEW_THREAD


def test_mentioning_yourself_or_someone_who_cannot_see_gives_nothing(world):
    thread = make_thread(world.private_space, world.owner)
    fan_out_thread_posted(thread, [world.owner.pk, world.member.pk, world.outsider.pk])
    assert item_for(world.owner, thread) is None
    assert item_for(world.member, thread) is None
    assert item_for(world.outsider, thread) is None


def test_thread_task_is_idempotent(world):
    thread = make_thread(world.open_space, world.member)
    jobs.deliver_thread_posted(thread.pk, [world.owner.pk])
    jobs.deliver_thread_posted(thread.pk, [world.owner.pk])
    assert InboxItem.objects.filter(thread=thread).count() == 3
    assert item_for(world.owner, thread).activity_count == 1
    assert item_for(world.owner, thread).reason == Reason.MENTION


def test_reply_reaches_thread_followers_except_the_replier(world):
    thread = make_thread(world.open_space, world.member)
    ThreadFollow.objects.create(thread=thread, person=world.admin)
    ThreadFollow.objects.create(thread=thread, person=world.guest, following=False)
    reply = make_reply(thread, world.owner)
    fan_out_reply_posted(reply, [])
    people = set(InboxItem.objects.filter(thread=thread).values_list("person__name", flat=True))
    assert people == {"Mia Member", "Adam Admin"}
    item = item_for(world.member, thread)
    assert (item.reason, item.latest_reply, item.actor) == (Reason.REPLY, reply, world.owner)


def test_reply_task_twice_counts_once(world):
    thread = make_thread(world.open_space, world.member)
    first = make_reply(thread, world.owner)
    jobs.deliver_reply_posted(first.pk, [])
    second = make_reply(thread, world.admin)
    jobs.deliver_reply_posted(second.pk, [])
    jobs.deliver_reply_posted(second.pk, [])
    jobs.deliver_reply_posted(first.pk, [])
    item = item_for(world.member, thread)
    assert item.activity_count == 2
    assert item.latest_reply == second
    assert item.actor == world.admin


def test_reason_upgrades_and_never_downgrades_while_unread(world):
    thread = make_thread(world.open_space, world.member)
    fan_out_thread_posted(thread, [])
    assert item_for(world.owner, thread).reason == Reason.NEW_THREAD
    ThreadFollow.objects.create(thread=thread, person=world.owner)
    fan_out_reply_posted(make_reply(thread, world.admin), [])
    assert item_for(world.owner, thread).reason == Reason.REPLY
    fan_out_reply_posted(make_reply(thread, world.guest), [world.owner])
    assert item_for(world.owner, thread).reason == Reason.MENTION
    fan_out_reply_posted(make_reply(thread, world.admin), [])
    item = item_for(world.owner, thread)
    assert item.reason == Reason.MENTION
    assert item.activity_count == 4


def test_read_item_takes_the_reason_of_new_activity(world):
    thread = make_thread(world.open_space, world.member)
    ThreadFollow.objects.create(thread=thread, person=world.owner)
    fan_out_reply_posted(make_reply(thread, world.admin), [world.owner])
    InboxItem.objects.filter(person=world.owner).update(read_at=timezone.now())
    fan_out_reply_posted(make_reply(thread, world.admin), [])
    item = item_for(world.owner, thread)
    assert (item.reason, item.read_at, item.activity_count) == (Reason.REPLY, None, 1)


def test_done_item_reopens_on_new_activity(world):
    thread = make_thread(world.open_space, world.member)
    fan_out_reply_posted(make_reply(thread, world.owner), [])
    item = item_for(world.member, thread)
    mark_done(world.member, item.pk)
    assert not open_items(world.member).exists()
    fan_out_reply_posted(make_reply(thread, world.admin), [])
    item.refresh_from_db()
    assert item.done_at is None and item.read_at is None
    assert list(open_items(world.member)) == [item]


def test_future_snooze_survives_new_activity_and_past_snooze_is_cleared(world):
    thread = make_thread(world.open_space, world.member)
    fan_out_reply_posted(make_reply(thread, world.owner), [])
    item = item_for(world.member, thread)
    later = timezone.now() + dt.timedelta(hours=5)
    InboxItem.objects.filter(pk=item.pk).update(snoozed_until=later)
    fan_out_reply_posted(make_reply(thread, world.admin), [])
    item.refresh_from_db()
    assert item.snoozed_until == later
    assert not open_items(world.member).exists()
    InboxItem.objects.filter(pk=item.pk).update(snoozed_until=timezone.now() - dt.timedelta(1))
    assert open_items(world.member).count() == 1  # an expired snooze is open by itself
    fan_out_reply_posted(make_reply(thread, world.guest), [])
    item.refresh_from_db()
    assert item.snoozed_until is None


def test_follower_removed_from_private_space_gets_nothing(world):
    thread = make_thread(world.private_space, world.owner)
    ThreadFollow.objects.create(thread=thread, person=world.admin)
    SpaceMember.objects.filter(space=world.private_space, person=world.admin).delete()
    fan_out_reply_posted(make_reply(thread, world.owner), [world.admin])
    assert not InboxItem.objects.filter(person=world.admin).exists()


def test_mention_in_reply_reaches_non_follower_who_can_see(world):
    thread = make_thread(world.open_space, world.member)
    reply = make_reply(thread, world.member)
    fan_out_reply_posted(reply, [world.guest, world.outsider])
    assert item_for(world.guest, thread).reason == Reason.MENTION
    assert item_for(world.outsider, thread) is None


def test_items_of_deleted_threads_leave_the_inbox(world):
    thread = make_thread(world.open_space, world.member)
    fan_out_thread_posted(thread, [])
    assert open_items(world.owner).count() == 1
    thread.deleted_at = timezone.now()
    thread.save()
    assert open_items(world.owner).count() == 0


def resolved(thread, person, outcome: str = "We ship on **Friday**."):
    return resolve_thread(person, thread, outcome)


def test_resolution_reaches_thread_followers_except_the_resolver(world):
    thread = make_thread(world.open_space, world.member)
    ThreadFollow.objects.create(thread=thread, person=world.admin)
    ThreadFollow.objects.create(thread=thread, person=world.guest, following=False)
    SpaceSubscription.objects.create(
        space=world.open_space, person=world.outsider, level=SpaceLevel.ALL
    )  # not a member of the workspace: never told
    resolved(thread, world.owner)
    assert fan_out_thread_resolved(thread, thread.resolved_at) == 2
    people = set(InboxItem.objects.filter(thread=thread).values_list("person__name", flat=True))
    assert people == {"Mia Member", "Adam Admin"}
    item = item_for(world.member, thread)
    assert (item.reason, item.actor, item.read_at) == (Reason.RESOLUTION, world.owner, None)
    [shown] = [i for i in tab_items(world.member, "open") if i.thread_id == thread.pk]
    assert shown.get_reason_display() == "Resolved"
    assert shown.excerpt == "We ship on Friday."


def test_resolution_in_a_private_space_reaches_only_those_who_see_it(world):
    thread = make_thread(world.private_space, world.owner)
    ThreadFollow.objects.create(thread=thread, person=world.member)  # not a space member
    ThreadFollow.objects.create(thread=thread, person=world.admin)
    resolved(thread, world.owner)
    fan_out_thread_resolved(thread, thread.resolved_at)
    people = set(InboxItem.objects.filter(thread=thread).values_list("person__name", flat=True))
    assert people == {"Adam Admin"}


def test_resolution_task_twice_tells_once_and_brings_a_done_item_back(world):
    thread = make_thread(world.open_space, world.member)
    fan_out_reply_posted(make_reply(thread, world.admin), [])
    item = item_for(world.member, thread)
    mark_done(world.member, item.pk)
    resolved(thread, world.owner)
    jobs.deliver_thread_resolved(thread.pk, thread.resolved_at.isoformat())
    jobs.deliver_thread_resolved(thread.pk, thread.resolved_at.isoformat())
    item.refresh_from_db()
    assert (item.reason, item.done_at, item.activity_count) == (Reason.RESOLUTION, None, 1)


def test_a_mention_waiting_unread_outranks_the_resolution(world):
    thread = make_thread(world.open_space, world.member)
    fan_out_reply_posted(make_reply(thread, world.admin), [world.member])
    resolved(thread, world.owner)
    fan_out_thread_resolved(thread, thread.resolved_at)
    item = item_for(world.member, thread)
    assert (item.reason, item.activity_count) == (Reason.MENTION, 2)


def test_a_thread_reopened_before_the_task_ran_tells_nobody(world):
    thread = make_thread(world.open_space, world.member)
    resolved(thread, world.owner)
    at = thread.resolved_at
    reopen_thread(world.owner, thread)
    assert fan_out_thread_resolved(thread, at) == 0
    resolved(thread, world.owner, "Second thoughts: Monday.")
    assert fan_out_thread_resolved(thread, at) == 0
    assert fan_out_thread_resolved(thread, thread.resolved_at) == 1
