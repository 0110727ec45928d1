"""An edit that adds a mention brings the thread to the newly mentioned only, once: not to
the editor, not again to someone mentioned before, never into a space they cannot see."""

from __future__ import annotations

from tidings.inbox import actions as inbox_actions
from tidings.inbox.models import InboxItem, Reason
from tidings.threads import actions
from tidings.threads.tests.factories import reply_to, thread_in
from tidings.threads.tests.test_layering import PRIVATE_TITLE


def items(person):
    return InboxItem.objects.filter(person=person)


def test_editing_a_reply_to_add_a_mention(world, django_capture_on_commit_callbacks):
    actions.set_space_level(world.admin, world.open_space, "muted")
    with django_capture_on_commit_callbacks(execute=True):
        thread = thread_in(world.open_space, world.owner)
        reply = actions.post_reply(world.member, thread, body="Thoughts, @gus?")
    guest_item = items(world.guest).get()
    actions.mark_thread_read(world.guest, thread)
    assert not items(world.admin).exists()
    with django_capture_on_commit_callbacks(execute=True):
        actions.edit_reply(world.member, reply, body="Thoughts, @gus? And @adam, @mia too.")
    admin_item = items(world.admin).get()
    assert admin_item.reason == Reason.MENTION and admin_item.latest_reply_id == reply.pk
    assert admin_item.actor_id == world.member.pk
    guest_item.refresh_from_db()
    assert guest_item.read_at is not None  # already mentioned: not brought back
    assert items(world.member).get().reason == Reason.NEW_THREAD  # never the editor
    with django_capture_on_commit_callbacks(execute=True):  # editing again keeps the mention
        actions.edit_reply(world.member, reply, body="Thoughts, @gus? And @adam, @mia, please.")
    assert items(world.admin).get().activity_count == admin_item.activity_count


def test_editing_a_thread_to_add_a_mention(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        thread = thread_in(world.private_space, world.owner, title=PRIVATE_TITLE)
    item = items(world.admin).get()
    actions.mark_thread_read(world.admin, thread)
    inbox_actions.mark_done(world.admin, item.pk)
    with django_capture_on_commit_callbacks(execute=True):
        actions.edit_thread(world.owner, thread, title=PRIVATE_TITLE, body="@adam @mia @gus look")
    item.refresh_from_db()
    assert item.reason == Reason.MENTION and item.done_at is None and item.read_at is None
    # Mia and Gus cannot see the private space: a mention does not open it.
    assert not items(world.member).exists() and not items(world.guest).exists()


def test_mention_delivery_is_idempotent(world):
    thread = thread_in(world.open_space, world.owner)
    reply = reply_to(thread, world.admin, body="Done.")
    args = (thread, reply, [world.member.pk, world.owner.pk])
    assert inbox_actions.fan_out_mentions_added(*args, actor_id=world.owner.pk) == 1
    assert inbox_actions.fan_out_mentions_added(*args, actor_id=world.owner.pk) == 0
    item = items(world.member).get()
    assert item.activity_count == 1 and item.reason == Reason.MENTION
    # The reply delivered later by the usual fan-out is not counted twice.
    inbox_actions.fan_out_reply_posted(reply, [world.member.pk])
    item.refresh_from_db()
    assert item.activity_count == 1
