"""Who listens to which event: the one table that wires the apps together.

It sits above every app. An action publishes an event (`tidings.events.publish`) and knows
nothing of who listens; this table names, for each event, the handlers that run at once in
the action's transaction and the jobs a worker runs once it commits.
"""

from __future__ import annotations

from tidings.events import Listeners
from tidings.inbox import handlers as inbox
from tidings.threads import handlers as threads

HANDLERS: dict[str, Listeners] = {
    # workspaces
    "member_removed": Listeners(at_once=(threads.forget_member, inbox.cancel_scheduled_posts)),
    # threads
    "thread_posted": Listeners(after_commit=(inbox.deliver_thread_posted,)),
    "thread_resolved": Listeners(after_commit=(inbox.deliver_thread_resolved,)),
    "reply_posted": Listeners(
        at_once=(inbox.answer_requests,), after_commit=(inbox.deliver_reply_posted,)
    ),
    "mentions_added": Listeners(after_commit=(inbox.deliver_mentions_added,)),
    "thread_read": Listeners(at_once=(inbox.mark_thread_read,)),
}
