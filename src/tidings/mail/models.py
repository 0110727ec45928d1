"""Outgoing email (the delivery outbox and digests) and incoming email (replies by email,
space addresses)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

# --- Outbox and digests.


class EmailEvent(models.TextChoices):
    """What happened in a thread that an email tells a person about."""

    NEW_THREAD = "new_thread", "New thread"
    REPLY = "reply", "New reply"
    MENTION = "mention", "Mentioned you"
    RESOLUTION = "resolution", "Resolved"
    REQUEST = "request", "Asked you to respond"
    REMINDER = "reminder", "Reminder"


class Outcome(models.TextChoices):
    SENT = "sent", "Sent"
    READ = "read", "Read in Tidings first"
    HIDDEN = "hidden", "No longer visible to the person"
    OFF = "off", "Email turned off for this"
    EMPTY = "empty", "Nothing new to tell"
    FAILED = "failed", "Gave up after repeated errors"


class OutboxEmail(models.Model):
    """One email about one thread waiting for one person. Events that happen before it is due
    join the same row, so a busy thread becomes one email. A row is claimed (claimed_until set,
    Message-ID fixed) before it is sent, and finished when it is sent or dropped: a worker that
    dies mid-send leaves a claim that expires and is retried under the same Message-ID."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="outbox_emails"
    )
    thread = models.ForeignKey(
        "threads.Thread", on_delete=models.CASCADE, related_name="outbox_emails"
    )
    # [{"kind": EmailEvent, "reply_id": int | None, "actor_id": int | None, "at": iso time}]
    events = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=32, blank=True)  # which claim won the row
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "thread"],
                condition=Q(finished_at=None, claimed_until=None),
                name="one_open_email_per_thread",
            )
        ]
        indexes = [models.Index(fields=["finished_at", "due_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"email about thread {self.thread_id} for person {self.person_id}"


class DigestKind(models.TextChoices):
    HOURLY = "hourly", "Hourly"
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"


class Digest(models.Model):
    """One digest per person and period ("daily:2030-03-31" in the person's zone): the unique
    key is what makes a digest go out exactly once, whatever the clocks and workers do."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digests"
    )
    kind = models.CharField(max_length=10, choices=DigestKind.choices)
    period_key = models.CharField(max_length=40)
    period_start = models.DateTimeField()
    due_at = models.DateTimeField()
    # Settings changed after this: the due time is worked out again before sending.
    scheduled_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=32, blank=True)  # which claim won the row
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    thread_count = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "period_key"], name="one_digest_per_period")
        ]
        indexes = [models.Index(fields=["finished_at", "due_at"], name="digest_due")]

    def __str__(self) -> str:
        return f"{self.period_key} digest for person {self.person_id}"


# --- Incoming mail.


class UnknownSenders(models.TextChoices):
    REJECT = "reject", "Refuse it (strangers are not told why)"
    HOLD = "hold", "Hold it for a space admin to accept or discard"


class SenderProof(models.TextChoices):
    """What happens to mail from a member whose address the message does not prove (no DKIM
    signature or SPF pass aligned with its From domain): anyone can write any From."""

    REQUIRE = "require", "Require proof: hold it for a space admin, with the reason"
    ACCEPT = "accept", "Post it anyway (only for teams whose mail is neither signed nor SPF-listed)"


class WorkspaceMail(models.Model):
    """A workspace's defaults for incoming mail, which each space may override."""

    workspace = models.OneToOneField(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="mail_settings"
    )
    sender_proof = models.CharField(
        max_length=10, choices=SenderProof.choices, default=SenderProof.REQUIRE
    )

    def __str__(self) -> str:
        return f"mail settings of workspace {self.workspace_id}"


class SpaceMailbox(models.Model):
    """A space's email address and what happens to mail from people who may not post there."""

    space = models.OneToOneField("threads.Space", on_delete=models.CASCADE, related_name="mailbox")
    # Stored, not derived, so renaming a space never changes an address people already use.
    local_part = models.CharField(max_length=64, unique=True)
    unknown_senders = models.CharField(
        max_length=10, choices=UnknownSenders.choices, default=UnknownSenders.REJECT
    )
    # Empty: the workspace's choice.
    sender_proof = models.CharField(max_length=10, choices=SenderProof.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.local_part


class InboundResult(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    HELD = "held", "Held for a space admin"
    IGNORED = "ignored", "Ignored"
    DISCARDED = "discarded", "Discarded by a space admin"


def held_message_path(instance: "InboundMessage", filename: str) -> str:
    return f"mail/held/{filename}"


def original_message_path(instance: "InboundMessage", filename: str) -> str:
    return f"mail/originals/{filename}"


class InboundMessage(models.Model):
    """One message received for one of our addresses, and what became of it. A message is
    handled once per recipient: the same Message-ID delivered again is not posted twice."""

    message_id = models.CharField(max_length=255, blank=True)
    recipient = models.CharField(max_length=255)
    sender = models.CharField(max_length=255, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    result = models.CharField(max_length=10, choices=InboundResult.choices)
    reason = models.CharField(max_length=300, blank=True)
    space = models.ForeignKey(
        "threads.Space", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    thread = models.ForeignKey(
        "threads.Thread", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reply = models.ForeignKey(
        "threads.Reply", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The whole message, kept only while it waits for a space admin.
    held_file = models.FileField(upload_to=held_message_path, max_length=300, blank=True)
    # The whole message a post came from, kept MAIL_KEEP_ORIGINAL_DAYS for "View original".
    original = models.FileField(upload_to=original_message_path, max_length=300, blank=True)
    decided_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["message_id", "recipient"],
                condition=~models.Q(message_id=""),
                name="inbound_once_per_recipient",
            )
        ]
        indexes = [models.Index(fields=["space", "result"], name="inbound_space_result")]

    def __str__(self) -> str:
        return f"{self.result}: {self.message_id or self.subject} for {self.recipient}"
