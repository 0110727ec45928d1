from django.conf import settings
from django.db import models
from django.utils import timezone

from tidings.threads.models import Reply, Space, Thread, ThreadKind
from tidings.workspaces.models import Workspace


class SearchDocument(models.Model):
    """One searchable text: a thread's title and opening post (reply and recording empty), one
    reply, or the transcript of a recording posted in the thread.

    The full-text index lives beside this table and is kept in step by the database: an FTS5
    table with triggers on SQLite, a generated tsvector column with a GIN index on PostgreSQL
    (both created in migrations). Only the index functions in search/index.py write here.
    """

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="+")
    reply = models.OneToOneField(
        Reply, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # The words spoken in a recording posted in the thread: its transcript (reply empty).
    # (A key with a partial unique index rather than a one-to-one field: SQLite adds it to the
    # table in place, keeping the full-text triggers on it.)
    recording = models.ForeignKey(
        "recordings.Recording", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # The thread's kind (discussion, decision, ...), copied onto its replies for filtering.
    kind = models.CharField(max_length=16, choices=ThreadKind.choices)
    created_at = models.DateTimeField(default=timezone.now)
    resolved = models.BooleanField(default=False)
    # Only the opening post carries the title, so a title word does not match every reply.
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["thread"],
                condition=models.Q(reply__isnull=True, recording__isnull=True),
                name="one_search_document_per_opening_post",
            ),
            models.UniqueConstraint(
                fields=["recording"],
                condition=models.Q(recording__isnull=False),
                name="one_search_document_per_recording",
            ),
        ]
        indexes = [models.Index(fields=["space", "created_at"], name="search_doc_space")]

    def __str__(self) -> str:
        return self.title or f"Reply {self.reply_id} in thread {self.thread_id}"
