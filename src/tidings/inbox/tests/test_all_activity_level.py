"""The "all activity" space level: every new thread and every reply in the space's threads."""

from tidings.inbox.actions import fan_out_reply_posted, fan_out_thread_posted
from tidings.inbox.models import InboxItem, Reason
from tidings.threads import actions as thread_actions
from tidings.threads.models import SpaceLevel, SpaceSubscription, ThreadFollow

from .factories import make_reply, make_thread


def item_for(person, thread) -> InboxItem | None:
    return InboxItem.objects.filter(person=person, thread=thread).first()


def test_all_activity_brings_new_threads_and_every_reply(world):
    thread_actions.set_space_level(world.admin, world.open_space, SpaceLevel.ALL)
    thread = make_thread(world.open_space, world.member)
    fan_out_thread_posted(thread, [])
    assert item_for(world.admin, thread).reason == Reason.NEW_THREAD
    item_for(world.admin, thread).delete()
    # The owner follows the space (new threads) but not this thread: replies pass them by.
    reply = make_reply(thread, world.guest)
    fan_out_reply_posted(reply, [])
    assert item_for(world.admin, thread).reason == Reason.REPLY
    assert item_for(world.admin, thread).latest_reply == reply
    assert item_for(world.owner, thread).reason == Reason.NEW_THREAD  # from before, untouched
    assert item_for(world.guest, thread).reason == Reason.NEW_THREAD  # the replier: not bumped


def test_all_activity_counts_each_reply_once_and_respects_unfollow(world):
    SpaceSubscription.objects.create(
        space=world.open_space, person=world.admin, level=SpaceLevel.ALL
    )
    thread = make_thread(world.open_space, world.member)
    first, second = make_reply(thread, world.member), make_reply(thread, world.member)
    for reply in (first, second, second):
        fan_out_reply_posted(reply, [])
    assert item_for(world.admin, thread).activity_count == 2
    other = make_thread(world.open_space, world.member, title="Other")
    ThreadFollow.objects.create(thread=other, person=world.admin, following=False)
    fan_out_reply_posted(make_reply(other, world.member), [])
    assert item_for(world.admin, other) is None


def test_all_activity_never_reaches_past_visibility(world):
    # A subscription row left over from before someone lost access gives them nothing.
    SpaceSubscription.objects.create(
        space=world.private_space, person=world.member, level=SpaceLevel.ALL
    )
    thread = make_thread(world.private_space, world.owner)
    fan_out_thread_posted(thread, [])
    fan_out_reply_posted(make_reply(thread, world.owner), [])
    assert item_for(world.member, thread) is None
    assert item_for(world.admin, thread).reason == Reason.NEW_THREAD


def test_level_labels_name_the_four_choices(world):
    labels = dict(SpaceLevel.choices)
    assert labels["all"].startswith("All activity")
    assert labels["follow"].startswith("New threads")
    assert labels["normal"] == "Threads I'm in and mentions"
    assert labels["muted"].startswith("Muted")
