"""Background fan-out of new activity into inboxes: thin wrappers around inbox actions."""

import datetime as dt

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from tidings.inbox import actions
from tidings.inbox.send_later import deliver_held, hold_delivery, publish_due_posts
from tidings.threads.models import Reply, Thread


@db_task()
def deliver_thread_posted(thread_id: int, mentioned_ids: list[int]) -> None:
    """Create inbox items for a new thread: followers of the space and mentioned people."""
    thread = Thread.objects.select_related("space").filter(pk=thread_id).first()
    if thread is not None:
        actions.fan_out_thread_posted(thread, mentioned_ids)


@db_task()
def deliver_reply_posted(reply_id: int, mentioned_ids: list[int]) -> None:
    """Create or refresh inbox items for a reply: thread followers and mentioned people."""
    reply = Reply.objects.select_related("thread__space").filter(pk=reply_id).first()
    if reply is not None:
        actions.fan_out_reply_posted(reply, mentioned_ids)


@db_task()
def deliver_thread_resolved(thread_id: int, resolved_at: str) -> None:
    """Tell the thread's followers it was resolved, unless it changed again since."""
    thread = Thread.objects.select_related("space").filter(pk=thread_id).first()
    if thread is not None:
        actions.fan_out_thread_resolved(thread, dt.datetime.fromisoformat(resolved_at))


@db_task()
def deliver_mentions_added(
    thread_id: int, reply_id: int | None, mentioned_ids: list[int], actor_id: int | None
) -> None:
    """An edit added @mentions: bring the thread to the newly mentioned people."""
    thread = Thread.objects.select_related("space").filter(pk=thread_id).first()
    if thread is None:
        return
    reply = None
    if reply_id is not None:
        reply = Reply.objects.filter(pk=reply_id, thread=thread).first()
        if reply is None:
            return
    actions.fan_out_mentions_added(thread, reply, mentioned_ids, actor_id=actor_id)


@db_periodic_task(crontab(minute="*"))
def fire_due_reminders() -> None:
    """Every minute: bring back reminders whose time has come."""
    actions.fire_due_reminders()


@db_periodic_task(crontab(minute="23"))
def nudge_waiting_requests() -> None:
    """Hourly: bring back requests left unanswered for a day since the last nudge."""
    actions.nudge_waiting_requests()


@db_task()
def hold_thread_delivery(thread_id: int, mentioned_ids: list[int]) -> None:
    """A thread sent "in the recipients' working hours": hold each reader's delivery."""
    thread = Thread.objects.select_related("space").filter(pk=thread_id).first()
    if thread is not None:
        hold_delivery(thread, None, mentioned_ids)


@db_task()
def hold_reply_delivery(reply_id: int, mentioned_ids: list[int]) -> None:
    """A reply sent "in the recipients' working hours": each reader's delivery waits for
    their working window (it answered requests when it was posted)."""
    reply = Reply.objects.select_related("thread__space").filter(pk=reply_id).first()
    if reply is not None:
        hold_delivery(reply.thread, reply, mentioned_ids)


@db_periodic_task(crontab(minute="*"))
def send_later() -> None:
    """Every minute: publish scheduled posts that are due, and deliver held posts to people
    whose working hours have started."""
    publish_due_posts()
    deliver_held()
