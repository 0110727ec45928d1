from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from tidings.threads.models import Reply, Thread, ThreadKind


class Reason(models.TextChoices):
    MENTION = "mention", "Mentioned you"
    REPLY = "reply", "New reply"
    NEW_THREAD = "new_thread", "New thread"
    RESOLUTION = "resolution", "Resolved"
    REMINDER = "reminder", "Reminder"
    REQUEST = "request", "Request"


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


# --- Reminders and requests.


class Reminder(models.Model):
    """Bring this thread (at this post) back to my inbox at that time. Fired once by the
    periodic task; cancelled ones stay as a record and never fire."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders"
    )
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="reminders")
    reply = models.ForeignKey(Reply, on_delete=models.CASCADE, null=True, blank=True)
    remind_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    fired_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["remind_at", "pk"]
        indexes = [
            models.Index(fields=["fired_at", "cancelled_at", "remind_at"], name="reminder_due")
        ]

    def __str__(self) -> str:
        return f"Reminder {self.pk} for person {self.person_id} at {self.remind_at:%Y-%m-%d %H:%M}"

    @property
    def post_url(self) -> str:
        url = reverse("threads:thread", args=[self.thread_id])
        return f"{url}#reply-{self.reply_id}" if self.reply_id else url


class Request(models.Model):
    """A "please respond by <date>" asked on a post (the opening post when `reply` is null).
    `due_at` is the end of the due date in the asker's time zone."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="requests")
    reply = models.ForeignKey(Reply, on_delete=models.CASCADE, null=True, blank=True)
    asker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    due_on = models.DateField()
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Request {self.pk} on thread {self.thread_id}, due {self.due_on}"


class RequestRecipient(models.Model):
    """One person asked; answered by replying in the thread after the request or by hand."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="recipients")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="requests_received"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    answer = models.ForeignKey(Reply, on_delete=models.SET_NULL, null=True, blank=True)
    nudged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["request", "person"], name="ask_each_person_once")
        ]
        indexes = [models.Index(fields=["answered_at", "nudged_at"], name="request_waiting")]

    def __str__(self) -> str:
        return f"Request {self.request_id} to person {self.person_id}"


# --- Send later.


class ScheduleState(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    SENT = "sent", "Sent"
    FAILED = "failed", "Could not be sent"
    CANCELLED = "cancelled", "Cancelled"


class ScheduledPost(models.Model):
    """A thread (`thread` null) or a reply written now and published at `send_at` through the
    normal posting actions, exactly once. Nobody else sees it before then."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scheduled_posts"
    )
    space = models.ForeignKey("threads.Space", on_delete=models.CASCADE, related_name="+")
    thread = models.ForeignKey(
        Thread, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # The kind of thread to start; empty for a reply.
    kind = models.CharField(max_length=20, choices=ThreadKind.choices, blank=True)
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    # Files and a recording made now, held until the post is made with them.
    attachment_tokens = models.JSONField(default=list, blank=True)
    recording_token = models.CharField(max_length=32, blank=True)
    recording_chunks = models.PositiveIntegerField(null=True, blank=True)
    send_at = models.DateTimeField()
    state = models.CharField(
        max_length=12, choices=ScheduleState.choices, default=ScheduleState.SCHEDULED
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_thread = models.ForeignKey(
        Thread, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_reply = models.ForeignKey(
        Reply, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    failure = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["send_at", "pk"]
        indexes = [models.Index(fields=["state", "send_at"], name="scheduled_post_due")]

    def __str__(self) -> str:
        return (
            f"Scheduled post {self.pk} by person {self.author_id} at {self.send_at:%Y-%m-%d %H:%M}"
        )

    @property
    def media_summary(self) -> str:
        """ "2 files and a recording": what is held to be posted with the text."""
        parts = []
        if count := len(self.attachment_tokens):
            parts.append(f"{count} file{'s' if count > 1 else ''}")
        if self.recording_token:
            parts.append("a recording")
        return " and ".join(parts)


class ScheduledDelivery(models.Model):
    """A post published "in the recipients' working hours": its inbox delivery to one person,
    held until their next working window starts. The fan-out decides again at that time."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="+")
    reply = models.ForeignKey(Reply, on_delete=models.CASCADE, null=True, blank=True)
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    mentioned = models.BooleanField(default=False)
    deliver_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["deliver_at", "pk"]
        indexes = [models.Index(fields=["delivered_at", "deliver_at"], name="held_delivery_due")]

    def __str__(self) -> str:
        return f"Held delivery of thread {self.thread_id} to person {self.person_id}"
