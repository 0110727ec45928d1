"""What the inbox does when something happens below it.

Each function takes an event's payload as keyword arguments (see `tidings.handlers`). The
fan-out ones queue a Huey job, so they run once the posting transaction has committed; the
others change the inbox in the action's own transaction.
"""

from __future__ import annotations

import datetime as dt

from tidings.inbox import actions, jobs, send_later


def deliver_thread_posted(
    thread_id: int, mentioned_ids: list[int], hold_delivery: bool = False, **_: object
) -> None:
    """A new thread reaches inboxes: now, or held for each reader's working hours."""
    job = jobs.hold_thread_delivery if hold_delivery else jobs.deliver_thread_posted
    job(thread_id, mentioned_ids)


def deliver_reply_posted(
    reply_id: int, mentioned_ids: list[int], hold_delivery: bool = False, **_: object
) -> None:
    """A new reply reaches inboxes: now, or held for each reader's working hours."""
    job = jobs.hold_reply_delivery if hold_delivery else jobs.deliver_reply_posted
    job(reply_id, mentioned_ids)


def deliver_thread_resolved(thread_id: int, resolved_at: str, **_: object) -> None:
    jobs.deliver_thread_resolved(thread_id, resolved_at)


def deliver_mentions_added(
    thread_id: int, reply_id: int | None, mentioned_ids: list[int], actor_id: int | None
) -> None:
    jobs.deliver_mentions_added(thread_id, reply_id, mentioned_ids, actor_id)


def answer_requests(
    reply_id: int, thread_id: int, author_id: int, posted_at: str, **_: object
) -> None:
    """Answering is one update, in the reply's transaction: the asker sees it the moment the
    reply lands."""
    actions.answer_requests(reply_id, thread_id, author_id, dt.datetime.fromisoformat(posted_at))


def mark_thread_read(person_id: int, thread_id: int, **_: object) -> None:
    actions.read_thread(person_id, thread_id)


def cancel_scheduled_posts(person_id: int, workspace_id: int, **_: object) -> None:
    """A person removed from a workspace has nothing more sent there."""
    send_later.cancel_scheduled_posts_in(person_id, workspace_id)
