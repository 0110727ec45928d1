"""What mail does when something happens below it. Each function takes an event's payload as
keyword arguments (see `tidings.handlers`)."""

from __future__ import annotations

from tidings.mail import outbox
from tidings.threads.models import Reply, Thread


def schedule_emails(
    thread_id: int, reasons: dict[int, str], reply_id: int | None, actor_id: int | None
) -> None:
    """People whose inbox just got an item about the thread get an email queued, as their
    delivery settings say."""
    thread = Thread.objects.filter(pk=thread_id).first()
    if thread is None:
        return
    reply = None if reply_id is None else Reply.objects.filter(pk=reply_id).first()
    outbox.schedule_emails(thread, reasons, reply=reply, actor_id=actor_id)
