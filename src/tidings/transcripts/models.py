"""A recording's transcript: its segments of words with their times, made on this server."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from tidings.recordings.models import Recording


class TranscriptState(models.TextChoices):
    QUEUED = "queued", "Waiting to be transcribed"
    TRANSCRIBING = "transcribing", "Transcribing"
    READY = "ready", "Ready"
    NO_SPEECH = "no_speech", "No speech found"
    FAILED = "failed", "Could not be transcribed"


class Transcript(models.Model):
    """One per recording. The job transcribes the 16 kHz audio track a piece at a time, each
    piece's segments saved with `done_ms` in one transaction, so a worker that dies resumes
    after the last saved piece and nothing is transcribed or stored twice."""

    recording = models.OneToOneField(Recording, on_delete=models.CASCADE, related_name="transcript")
    state = models.CharField(
        max_length=14, choices=TranscriptState.choices, default=TranscriptState.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0)  # percent of the audio done
    done_ms = models.PositiveIntegerField(default=0)  # the audio before this is transcribed
    duration_ms = models.PositiveIntegerField(default=0)
    model_name = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=12, blank=True)
    text = models.TextField(blank=True)  # every word, as corrected: what search reads
    # The most representative sentences: [[start ms, sentence], ...] in the order said.
    summary = models.JSONField(default=list, blank=True)
    failure_reason = models.CharField(max_length=300, blank=True)
    claimed_by = models.CharField(max_length=32, blank=True)  # the job's claim token
    # The ticket of the chain of jobs allowed to work on it (a newer chain retires the older).
    queued_as = models.CharField(max_length=32, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "claimed_until"], name="transcript_work")]

    def __str__(self) -> str:
        return f"transcript of recording {self.recording_id} ({self.state})"


class Segment(models.Model):
    """A stretch of speech: its words as [[start ms, end ms, word, probability, joins
    previous], ...], in order, with the word text as corrected (times and spacing are kept
    when a word is corrected); `text` is the words spelt together (see words.py)."""

    transcript = models.ForeignKey(Transcript, on_delete=models.CASCADE, related_name="segments")
    index = models.PositiveIntegerField()
    start_ms = models.PositiveIntegerField()
    end_ms = models.PositiveIntegerField()
    text = models.TextField()
    words = models.JSONField(default=list)

    class Meta:
        ordering = ["index"]
        constraints = [
            models.UniqueConstraint(fields=["transcript", "index"], name="one_segment_per_index")
        ]

    def __str__(self) -> str:
        return f"segment {self.index} of transcript {self.transcript_id}"


class SuggestionState(models.TextChoices):
    SUGGESTED = "suggested", "Suggested"
    ACCEPTED = "accepted", "Accepted"
    DISMISSED = "dismissed", "Dismissed"


class ActionItem(models.Model):
    """Something said aloud that someone will do ("Alice will send the budget by Friday"),
    found in a transcript and suggested under it; accepted ones are kept for tasks."""

    transcript = models.ForeignKey(
        Transcript, on_delete=models.CASCADE, related_name="action_items"
    )
    start_ms = models.PositiveIntegerField()
    text = models.TextField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    owner_name = models.CharField(max_length=120, blank=True)  # as said
    due_on = models.DateField(null=True, blank=True)
    state = models.CharField(
        max_length=10, choices=SuggestionState.choices, default=SuggestionState.SUGGESTED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["start_ms", "pk"]

    def __str__(self) -> str:
        return f"action item at {self.start_ms} ms of transcript {self.transcript_id}"

    @property
    def seconds(self) -> int:
        return self.start_ms // 1000
