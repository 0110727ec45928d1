"""Threads and replies made with the ORM and indexed, as the threads app does when posting."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tidings.search.index import index_reply, index_thread
from tidings.threads.models import Reply, Space, Thread


def post_thread(space: Space, author, title: str, body: str = "", **fields) -> Thread:
    thread = Thread.objects.create(space=space, author=author, title=title, body=body, **fields)
    index_thread(thread)
    return thread


def post_reply(thread: Thread, author, body: str, days_ago: int = 0) -> Reply:
    created = timezone.now() - dt.timedelta(days=days_ago)
    reply = Reply.objects.create(thread=thread, author=author, body=body, created_at=created)
    index_reply(reply)
    return reply
