"""Recordings made in the browser or uploaded: their chunks, processed files, viewers,
comments at a moment and collections."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from tidings.threads.models import Reply, Space, Thread
from tidings.workspaces.models import Workspace


class Source(models.TextChoices):
    CAMERA = "camera", "Camera"
    SCREEN = "screen", "Screen"
    SCREEN_CAMERA = "screen_camera", "Screen + camera"
    AUDIO = "audio", "Audio only"
    UPLOAD = "upload", "Uploaded file"


class State(models.TextChoices):
    RECORDING = "recording", "Recording"  # chunks arriving; not posted yet
    QUEUED = "queued", "Waiting to be processed"  # posted; the finalize job is queued
    PROCESSING = "processing", "Processing"
    READY = "ready", "Ready"
    FAILED = "failed", "Could not process"


class RenditionState(models.TextChoices):
    PENDING = "pending", "Waiting"
    PROCESSING = "processing", "Converting"
    READY = "ready", "Ready"
    NOT_NEEDED = "not_needed", "Not needed"
    FAILED = "failed", "Failed"


def recording_path(instance: "Recording", filename: str) -> str:
    return f"recordings/{instance.token}/{filename}"


def chunk_path(instance: "RecordingChunk", filename: str) -> str:
    return f"recordings/{instance.recording.token}/chunks/{instance.index:06d}"


class Recording(models.Model):
    """One recording. Born when recording starts (chunks arrive while the person records),
    posted with a thread or reply, then processed by a background job into a seekable file,
    a poster, a 16 kHz mono audio track and an MP4 rendition. The original bytes are kept."""

    token = models.CharField(max_length=32, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="recordings"
    )
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="recordings")
    # The thread a reply composer records into (known at start), or the thread it opens.
    thread = models.ForeignKey(
        Thread, on_delete=models.CASCADE, null=True, blank=True, related_name="recordings"
    )
    reply = models.ForeignKey(
        Reply, on_delete=models.CASCADE, null=True, blank=True, related_name="recordings"
    )
    posted_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    title = models.CharField(max_length=200, blank=True)
    mime_type = models.CharField(max_length=120, blank=True)
    original_name = models.CharField(max_length=200, blank=True)
    for_transcription = models.BooleanField(default=True)
    # Kept for a post scheduled for later: not listed as unfinished while it waits.
    held_for_later = models.BooleanField(default=False)

    state = models.CharField(max_length=12, choices=State.choices, default=State.RECORDING)
    failure_reason = models.TextField(blank=True)
    stage = models.CharField(max_length=40, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    # Chunks 0..chunk_count-1 make the posted recording; set when it is posted.
    chunk_count = models.PositiveIntegerField(null=True, blank=True)
    bytes_received = models.PositiveBigIntegerField(default=0)
    gap_note = models.TextField(blank=True)

    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    has_video = models.BooleanField(default=False)
    has_audio = models.BooleanField(default=False)

    original = models.FileField(upload_to=recording_path, max_length=300, blank=True)
    playable = models.FileField(upload_to=recording_path, max_length=300, blank=True)
    playable_type = models.CharField(max_length=60, blank=True)
    rendition = models.FileField(upload_to=recording_path, max_length=300, blank=True)
    rendition_state = models.CharField(
        max_length=12, choices=RenditionState.choices, default=RenditionState.PENDING
    )
    poster = models.FileField(upload_to=recording_path, max_length=300, blank=True)
    audio_track = models.FileField(upload_to=recording_path, max_length=300, blank=True)
    waveform = models.JSONField(default=list, blank=True)

    # A job holds the recording until this time, renewed by its worker's heartbeat; past it,
    # a sweeper queues the job again (a worker killed mid-job loses no recording). The claim
    # token names the worker, so one that restarts on the same host takes its work back at once.
    job_lease_until = models.DateTimeField(null=True, blank=True)
    job_claimed_by = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="recording_owner_created"),
            models.Index(fields=["space", "-created_at"], name="recording_space_created"),
            models.Index(fields=["state", "job_lease_until"], name="recording_state_lease"),
        ]

    def __str__(self) -> str:
        return self.title or f"Recording {self.token}"

    @property
    def is_posted(self) -> bool:
        return self.posted_at is not None

    @property
    def post_url(self) -> str:
        """The page of the post it belongs to (its reply, or the thread's opening post); empty
        until it is posted."""
        if not self.is_posted or self.thread_id is None:
            return ""
        url = reverse("threads:thread", kwargs={"thread_id": self.thread_id})
        return f"{url}#reply-{self.reply_id}" if self.reply_id else f"{url}#post"


class RecordingChunk(models.Model):
    """One piece of a recording as the browser produced it (a MediaRecorder timeslice).
    Only chunk 0 holds the WebM header: chunks are joined strictly in index order."""

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to=chunk_path, max_length=300)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["index"]
        constraints = [
            models.UniqueConstraint(fields=["recording", "index"], name="one_chunk_per_index")
        ]

    def __str__(self) -> str:
        return f"Chunk {self.index} of {self.recording_id}"


class RecordingView(models.Model):
    """How much of a recording one person watched: merged [start_ms, end_ms] intervals."""

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="views")
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recording_views"
    )
    watched = models.JSONField(default=list, blank=True)
    watched_ms = models.PositiveIntegerField(default=0)
    percent = models.PositiveSmallIntegerField(default=0)
    first_viewed_at = models.DateTimeField(default=timezone.now)
    last_viewed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_viewed_at"]
        constraints = [
            models.UniqueConstraint(fields=["recording", "viewer"], name="one_view_per_viewer")
        ]

    def __str__(self) -> str:
        return f"{self.viewer_id} watched {self.percent}% of {self.recording_id}"


class Moment(models.Model):
    """A reply made at a moment of a recording: a marker on its timeline."""

    reply = models.OneToOneField(Reply, on_delete=models.CASCADE, related_name="moment")
    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="moments")
    position_ms = models.PositiveIntegerField()

    class Meta:
        ordering = ["position_ms"]

    def __str__(self) -> str:
        return f"Reply {self.reply_id} at {self.position_ms} ms of {self.recording_id}"


class Collection(models.Model):
    """A hand-ordered list of recordings (e.g. "Onboarding"), optionally shared to a space.
    Sharing shows the list to the space's readers; each recording still shows only to
    those who may see it."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="collections")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collections"
    )
    title = models.CharField(max_length=120)
    description = models.CharField(max_length=500, blank=True)
    shared_space = models.ForeignKey(
        Space, on_delete=models.SET_NULL, null=True, blank=True, related_name="collections"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class CollectionItem(models.Model):
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="items")
    recording = models.ForeignKey(
        Recording, on_delete=models.CASCADE, related_name="collection_items"
    )
    position = models.PositiveIntegerField(default=0)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "recording"], name="one_item_per_recording"
            )
        ]

    def __str__(self) -> str:
        return f"{self.recording_id} at {self.position} in {self.collection_id}"
