"""Keeping the search index in step with threads, replies and transcripts.

The threads app calls these inside the transaction that writes the thread or reply, so the
index never shows words that were not saved (or misses words that were).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q
from markdown_it import MarkdownIt

from tidings.search.models import SearchDocument
from tidings.threads.models import Reply, Thread
from tidings.transcripts.models import Transcript

if TYPE_CHECKING:
    from tidings.threads.models import Reply, Thread
    from tidings.transcripts.models import Transcript

_markdown = MarkdownIt("commonmark", {"html": False}).enable("strikethrough").enable("table")
# Token types whose content is the words a reader sees.
_TEXT_TOKENS = {"text", "code_inline", "code_block", "fence", "html_inline", "html_block"}
# Parts the opening post's words from its outcome's in a resolved thread's document; plain
# text never holds an empty line, so the excerpt of the post alone is the text before it.
OUTCOME_SEPARATOR = "\n\n"


def plain_text(markdown: str) -> str:
    """The words of a Markdown text without its syntax: what search indexes and excerpts show."""
    parts: list[str] = []

    def walk(tokens) -> None:
        for token in tokens:
            if token.children:
                walk(token.children)
            elif token.type in _TEXT_TOKENS:
                parts.append(token.content)
            elif token.type in {"softbreak", "hardbreak"}:
                parts.append(" ")
            elif token.type == "image":
                parts.append(token.content)
            if token.nesting == -1 and token.block:
                parts.append("\n")

    walk(_markdown.parse(markdown or ""))
    lines = (" ".join(line.split()) for line in "".join(parts).splitlines())
    return "\n".join(line for line in lines if line)


def opening_text(thread: Thread) -> str:
    """The words of a thread's opening post as search finds them: its text, then the outcome
    it was resolved with, so a decision is found by the words it was recorded in."""
    body = plain_text(thread.body)
    if thread.resolved_at is None or not thread.outcome:
        return body
    return f"{body}{OUTCOME_SEPARATOR}{plain_text(thread.outcome)}"


def index_thread(thread: Thread) -> None:
    """Add or refresh the thread's opening post, and bring its replies' documents in step
    (space, kind, resolved) so a move, a kind change or resolving shows up in filters."""
    if thread.deleted_at is not None:
        remove_thread(thread)
        return
    common = {
        "space_id": thread.space_id,
        "workspace_id": thread.space.workspace_id,
        "kind": thread.kind,
        "resolved": thread.resolved_at is not None,
    }
    SearchDocument.objects.update_or_create(
        thread=thread,
        reply=None,
        recording=None,
        defaults={
            **common,
            "author_id": thread.author_id,
            "created_at": thread.created_at,
            "title": thread.title,
            "body": opening_text(thread),
        },
    )
    SearchDocument.objects.filter(thread=thread).exclude(reply=None, recording=None).update(
        **common
    )


def index_reply(reply: Reply) -> None:
    """Add or refresh a reply in the index (a deleted reply, or one in a deleted thread, leaves)."""
    thread = reply.thread
    if reply.deleted_at is not None or thread.deleted_at is not None:
        remove_reply(reply)
        return
    fields = {
        "thread_id": thread.pk,
        "space_id": thread.space_id,
        "workspace_id": thread.space.workspace_id,
        "author_id": reply.author_id,
        "kind": thread.kind,
        "created_at": reply.created_at,
        "resolved": thread.resolved_at is not None,
        "title": "",
        "body": plain_text(reply.body),
    }
    # An update, or an insert for a new reply: two statements where update_or_create takes
    # five (select for update, savepoint, insert, release), on every reply posted.
    if not SearchDocument.objects.filter(reply=reply).update(**fields):
        SearchDocument.objects.create(reply=reply, **fields)


def remove_thread(thread: Thread) -> None:
    """Drop the thread and all its replies from the index."""
    SearchDocument.objects.filter(thread_id=thread.pk).delete()


def remove_reply(reply: Reply) -> None:
    """Drop one reply from the index, with the words of its recordings."""
    SearchDocument.objects.filter(Q(reply_id=reply.pk) | Q(recording__reply_id=reply.pk)).delete()


def index_transcript(transcript: Transcript) -> None:
    """Add or refresh the words spoken in a posted recording (its transcript as corrected);
    a recording no longer posted, or gone with its post, leaves the index."""
    recording = transcript.recording
    thread = recording.thread
    gone = (
        recording.posted_at is None
        or recording.deleted_at is not None
        or thread is None
        or thread.deleted_at is not None
        or (recording.reply is not None and recording.reply.deleted_at is not None)
    )
    if gone or not transcript.text:
        SearchDocument.objects.filter(recording=recording).delete()
        return
    SearchDocument.objects.update_or_create(
        recording=recording, defaults=_transcript_fields(transcript)
    )


def _transcript_fields(transcript: Transcript) -> dict:
    recording = transcript.recording
    thread = recording.thread
    return {
        "thread_id": thread.pk,
        "space_id": thread.space_id,
        "workspace_id": thread.space.workspace_id,
        "author_id": recording.owner_id,
        "kind": thread.kind,
        "created_at": recording.posted_at,
        "resolved": thread.resolved_at is not None,
        "title": "",
        "body": transcript.text,
    }


def rebuild(batch_size: int = 500) -> int:
    """Rebuild the whole index from threads and replies; returns how many documents it holds."""
    from django.db import transaction

    def thread_doc(thread: Thread) -> SearchDocument:
        return SearchDocument(
            thread=thread, space_id=thread.space_id, workspace_id=thread.space.workspace_id,
            author_id=thread.author_id, kind=thread.kind, created_at=thread.created_at,
            resolved=thread.resolved_at is not None, title=thread.title,
            body=opening_text(thread),
        )  # fmt: skip

    def reply_doc(reply: Reply) -> SearchDocument:
        thread = reply.thread
        return SearchDocument(
            thread=thread, reply=reply, space_id=thread.space_id,
            workspace_id=thread.space.workspace_id, author_id=reply.author_id, kind=thread.kind,
            created_at=reply.created_at, resolved=thread.resolved_at is not None,
            body=plain_text(reply.body),
        )  # fmt: skip

    threads = Thread.objects.filter(deleted_at=None).select_related("space")
    replies = Reply.objects.filter(deleted_at=None, thread__deleted_at=None).select_related(
        "thread__space"
    )
    transcripts = (
        Transcript.objects.filter(
            recording__posted_at__isnull=False,
            recording__deleted_at=None,
            recording__thread__deleted_at=None,
        )
        .filter(Q(recording__reply=None) | Q(recording__reply__deleted_at=None))
        .exclude(text="")
        .select_related("recording__thread__space")
    )
    with transaction.atomic():
        SearchDocument.objects.all().delete()
        SearchDocument.objects.bulk_create(
            (thread_doc(t) for t in threads.iterator()), batch_size=batch_size
        )
        SearchDocument.objects.bulk_create(
            (reply_doc(r) for r in replies.iterator()), batch_size=batch_size
        )
        SearchDocument.objects.bulk_create(
            (
                SearchDocument(recording=t.recording, **_transcript_fields(t))
                for t in transcripts.iterator()
            ),
            batch_size=batch_size,
        )
    return SearchDocument.objects.count()
