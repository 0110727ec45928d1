"""Threads and replies made straight with the ORM, so inbox tests do not depend on posting."""

from __future__ import annotations

from django.utils import timezone

from tidings.threads.models import Reply, Space, Thread, ThreadFollow


def make_thread(space: Space, author, title: str = "Quarterly plan", body: str = "Opening post"):
    thread = Thread.objects.create(space=space, author=author, title=title, body=body)
    ThreadFollow.objects.create(thread=thread, person=author)
    return thread


def make_reply(thread: Thread, author, body: str = "A reply", follow: bool = True) -> Reply:
    reply = Reply.objects.create(thread=thread, author=author, body=body, created_at=timezone.now())
    if follow:
        ThreadFollow.objects.get_or_create(thread=thread, person=author)
    return reply
