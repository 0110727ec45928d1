from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from tidings.threads.models import Reply, Thread


class Reason(models.TextChoices):
    MENTION = "mention", "Mentioned you"
    REPLY = "reply", "New reply"
    NEW_THREAD = "new_thread", "New thread"


class InboxItem(models.Model):
    """One line in a person's inbox per thread that needs them.

    New activity on the thread updates the same item and brings it back if it was done.
    The strongest reason wins (a mention outranks a reply).
    """

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox_items"
    )
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="inbox_items")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    latest_reply = models.ForeignKey(Reply, on_delete=models.SET_NULL, null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    activity_count = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    # The newest reply already counted, so delivering the same reply twice counts it once
    # (a plain id, not a key: it must survive the reply being deleted).
    last_counted_reply_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["person", "thread"], name="one_inbox_item_per_thread")
        ]
        indexes = [models.Index(fields=["person", "done_at", "-updated_at"], name="inbox_open")]

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: thread {self.thread_id} for person {self.person_id}"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None

    @property
    def thread_url(self) -> str:
        """The thread page, at the latest reply when there is one."""
        url = reverse("threads:thread", args=[self.thread_id])
        return f"{url}#reply-{self.latest_reply_id}" if self.latest_reply_id else url
