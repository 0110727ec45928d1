"""Background fan-out of new activity into inboxes (placeholder until the inbox lands)."""

from huey.contrib.djhuey import db_task


@db_task()
def deliver_thread_posted(thread_id: int, mentioned_ids: list[int]) -> None:
    """Create inbox items for a new thread: followers of the space and mentioned people."""


@db_task()
def deliver_reply_posted(reply_id: int, mentioned_ids: list[int]) -> None:
    """Create or refresh inbox items for a reply: thread followers and mentioned people."""
