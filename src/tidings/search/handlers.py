"""What search does when something happens below it: the index changes in the same
transaction as the words it holds (see `tidings.handlers`). Each function takes an event's
payload as keyword arguments."""

from __future__ import annotations

from tidings.search import index
from tidings.threads.models import Reply, Thread
from tidings.transcripts.models import Transcript


def index_thread(thread_id: int, **_: object) -> None:
    thread = Thread.objects.select_related("space").filter(pk=thread_id).first()
    if thread is not None:
        index.index_thread(thread)


def remove_thread(thread_id: int, **_: object) -> None:
    index.remove_thread(Thread(pk=thread_id))


# What the index reads of a reply: not its HTML, nor its thread's opening post.
_REPLY_FIELDS = (
    "author_id",
    "body",
    "created_at",
    "deleted_at",
    "thread__kind",
    "thread__resolved_at",
    "thread__deleted_at",
    "thread__space__workspace_id",
)


def index_reply(reply_id: int, **_: object) -> None:
    reply = (
        Reply.objects.select_related("thread__space")
        .only(*_REPLY_FIELDS)
        .filter(pk=reply_id)
        .first()
    )
    if reply is not None:
        index.index_reply(reply)


def remove_reply(reply_id: int, **_: object) -> None:
    index.remove_reply(Reply(pk=reply_id))


def index_transcript(transcript_id: int, **_: object) -> None:
    transcript = (
        Transcript.objects.select_related("recording__thread__space", "recording__reply")
        .filter(pk=transcript_id)
        .first()
    )
    if transcript is not None:
        index.index_transcript(transcript)
