"""Who listens to which event: the one table that wires the apps together.

It sits above every app. An action publishes an event (`tidings.events.publish`) and knows
nothing of who listens; this table names, for each event, the handlers that run at once in
the action's transaction and the jobs a worker runs once it commits.
"""

from __future__ import annotations

from tidings.events import Listeners
from tidings.inbox import handlers as inbox
from tidings.mail import handlers as mail
from tidings.recordings import handlers as recordings
from tidings.search import handlers as search
from tidings.threads import handlers as threads
from tidings.transcripts import handlers as transcripts

HANDLERS: dict[str, Listeners] = {
    # people
    "guest_joined": Listeners(at_once=(threads.add_guest_to_spaces,)),
    "member_removed": Listeners(at_once=(threads.forget_member, inbox.cancel_scheduled_posts)),
    # threads
    "recording_posted": Listeners(at_once=(recordings.attach_to_post,)),
    "reply_at_moment": Listeners(at_once=(recordings.save_moment,)),
    "thread_posted": Listeners(
        at_once=(search.index_thread,), after_commit=(inbox.deliver_thread_posted,)
    ),
    "thread_edited": Listeners(at_once=(search.index_thread,)),
    "thread_deleted": Listeners(at_once=(search.remove_thread,)),
    "thread_resolved": Listeners(
        at_once=(search.index_thread,), after_commit=(inbox.deliver_thread_resolved,)
    ),
    "thread_reopened": Listeners(at_once=(search.index_thread,)),
    "reply_posted": Listeners(
        at_once=(search.index_reply, inbox.answer_requests),
        after_commit=(inbox.deliver_reply_posted,),
    ),
    "reply_edited": Listeners(at_once=(search.index_reply,)),
    "reply_deleted": Listeners(at_once=(search.remove_reply,)),
    "mentions_added": Listeners(after_commit=(inbox.deliver_mentions_added,)),
    "thread_read": Listeners(at_once=(inbox.mark_thread_read,)),
    # inbox
    "inbox_delivered": Listeners(at_once=(mail.schedule_emails,)),
    # recordings
    "recording_processed": Listeners(at_once=(transcripts.request_transcript,)),
    # transcripts
    "transcript_changed": Listeners(at_once=(search.index_transcript,)),
}
