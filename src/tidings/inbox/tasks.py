"""Background fan-out of new activity into inboxes: thin wrappers around inbox actions."""

from huey.contrib.djhuey import db_task

from tidings.inbox import actions


@db_task()
def deliver_thread_posted(thread_id: int, mentioned_ids: list[int]) -> None:
    """Create inbox items for a new thread: followers of the space and mentioned people."""
    from tidings.threads.models import Thread

    thread = Thread.objects.select_related("space").filter(pk=thread_id).first()
    if thread is not None:
        actions.fan_out_thread_posted(thread, mentioned_ids)


@db_task()
def deliver_reply_posted(reply_id: int, mentioned_ids: list[int]) -> None:
    """Create or refresh inbox items for a reply: thread followers and mentioned people."""
    from tidings.threads.models import Reply

    reply = Reply.objects.select_related("thread__space").filter(pk=reply_id).first()
    if reply is not None:
        actions.fan_out_reply_posted(reply, mentioned_ids)


@db_task()
def deliver_mentions_added(
    thread_id: int, reply_id: int | None, mentioned_ids: list[int], actor_id: int | None
) -> None:
    """An edit added @mentions: bring the thread to the newly mentioned people."""
    from tidings.threads.models import Reply, Thread

    thread = Thread.objects.select_related("space").filter(pk=thread_id).first()
    if thread is None:
        return
    reply = None
    if reply_id is not None:
        reply = Reply.objects.filter(pk=reply_id, thread=thread).first()
        if reply is None:
            return
    actions.fan_out_mentions_added(thread, reply, mentioned_ids, actor_id=actor_id)
