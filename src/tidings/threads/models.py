from django.conf import settings
from django.db import models
from django.utils import timezone

from tidings.workspaces.models import Workspace


class Visibility(models.TextChoices):
    OPEN = "open", "Open to all members"
    PRIVATE = "private", "Private (invited people only)"


class Space(models.Model):
    """A board for a team, project or client. Private spaces are seen only by their members."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="spaces")
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80)
    description = models.CharField(max_length=500, blank=True)
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "slug"], name="space_slug_per_workspace")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_private(self) -> bool:
        return self.visibility == Visibility.PRIVATE


class SpaceMember(models.Model):
    """Explicit membership of a private space (open spaces need none)."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="space_memberships"
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["space", "person"], name="one_space_member_row")
        ]

    def __str__(self) -> str:
        return f"{self.person} in {self.space}"


class SpaceLevel(models.TextChoices):
    ALL = "all", "All activity: every new thread and reply"
    FOLLOW = "follow", "New threads: every new thread; replies in threads I follow"
    NORMAL = "normal", "Threads I'm in and mentions"
    MUTED = "muted", "Muted: nothing but mentions of me"


class SpaceSubscription(models.Model):
    """How much of a space reaches a person's inbox."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="subscriptions")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="space_subscriptions"
    )
    level = models.CharField(max_length=10, choices=SpaceLevel.choices, default=SpaceLevel.FOLLOW)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["space", "person"], name="one_subscription_per_space")
        ]

    def __str__(self) -> str:
        return f"{self.person}: {self.level} in {self.space}"


class ThreadKind(models.TextChoices):
    DISCUSSION = "discussion", "Discussion"
    STATUS = "status", "Status update"
    DECISION = "decision", "Decision"
    QUESTION = "question", "Question"
    ANNOUNCEMENT = "announcement", "Announcement"
    WALKTHROUGH = "walkthrough", "Walkthrough"


class Thread(models.Model):
    """A titled post in a space. Its body is the opening post; replies follow."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="threads")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="threads"
    )
    kind = models.CharField(
        max_length=16, choices=ThreadKind.choices, default=ThreadKind.DISCUSSION
    )
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(default=timezone.now)
    reply_count = models.PositiveIntegerField(default=0)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    outcome = models.TextField(blank=True)
    outcome_html = models.TextField(blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_activity_at"]
        indexes = [
            models.Index(fields=["space", "-last_activity_at"], name="thread_space_activity"),
            models.Index(fields=["resolved_at"], name="thread_resolved"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None


class Reply(models.Model):
    """A Markdown reply in a thread. May quote a passage of the opening post or another reply."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="replies"
    )
    body = models.TextField()
    body_html = models.TextField(blank=True)
    quoted_reply = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="quoted_by"
    )
    quote_text = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["thread", "created_at"], name="reply_thread_created")]

    def __str__(self) -> str:
        return f"Reply {self.pk} in thread {self.thread_id}"


class Revision(models.Model):
    """An earlier version of an edited thread body or reply, kept as history."""

    thread = models.ForeignKey(
        Thread, on_delete=models.CASCADE, null=True, blank=True, related_name="revisions"
    )
    reply = models.ForeignKey(
        Reply, on_delete=models.CASCADE, null=True, blank=True, related_name="revisions"
    )
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    replaced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-replaced_at"]

    def __str__(self) -> str:
        return f"Revision {self.pk}"


# The emoji people can react with, in the order they are shown.
REACTION_PALETTE = ("👍", "❤️", "🎉", "😄", "🤔", "👀", "🙏", "✅")


class Reaction(models.Model):
    """An emoji reaction by a person to a thread's opening post (no reply) or to a reply."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="reactions")
    reply = models.ForeignKey(
        Reply, on_delete=models.CASCADE, null=True, blank=True, related_name="reactions"
    )
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    emoji = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["reply", "person", "emoji"],
                condition=models.Q(reply__isnull=False),
                name="one_reply_reaction_per_emoji",
            ),
            models.UniqueConstraint(
                fields=["thread", "person", "emoji"],
                condition=models.Q(reply__isnull=True),
                name="one_thread_reaction_per_emoji",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.emoji} by {self.person_id}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    return f"attachments/{timezone.now():%Y/%m}/{instance.token}/{filename}"


class Attachment(models.Model):
    """A file attached to a thread or reply; uploaded first, then linked when the post is made."""

    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="attachments")
    thread = models.ForeignKey(
        Thread, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    reply = models.ForeignKey(
        Reply, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    token = models.CharField(max_length=32, unique=True)
    file = models.FileField(upload_to=attachment_path, max_length=300)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    is_image = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    # Kept for a post scheduled for later: not cleaned up as abandoned while it waits.
    held_for_later = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.name


class ThreadFollow(models.Model):
    """Whether a person follows a thread (authors and repliers do automatically)."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="follows")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    following = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["thread", "person"], name="one_follow_row")]

    def __str__(self) -> str:
        return f"{self.person_id} follows {self.thread_id}: {self.following}"


class ReadMark(models.Model):
    """When a person last read a thread, for the 'new since you last read' marker."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="read_marks")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["thread", "person"], name="one_read_mark")]

    def __str__(self) -> str:
        return f"{self.person_id} read {self.thread_id} at {self.read_at}"
