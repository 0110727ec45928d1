"""Every change to transcripts: asking for one when a recording's audio is ready, and the
job that transcribes it a piece at a time."""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import time
import uuid
from contextlib import suppress
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from tidings import leases
from tidings.events import publish
from tidings.recordings import access
from tidings.recordings.models import Recording
from tidings.transcripts import engine, summary
from tidings.transcripts.models import (
    ActionItem,
    Segment,
    SuggestionState,
    Transcript,
    TranscriptState,
)
from tidings.transcripts.words import TranscriptWord, joins_previous, spelt, transcript_words

if TYPE_CHECKING:
    from tidings.accounts.models import User

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# A piece shorter than this is the audio's last crumbs: nothing to hear, nothing to transcribe.
SHORTEST_PIECE_SAMPLES = engine.SAMPLE_RATE // 20
NO_SOUND = "This recording has no sound to transcribe."
NO_SPEECH = "No speech was found in this recording."
UNREADABLE = "The audio of this recording could not be read."
FAILED_REPEATEDLY = (
    f"Transcription stopped after {MAX_ATTEMPTS} tries that got no further. The recording "
    "itself is fine; its author can try again."
)
MODEL_MISSING = (
    "Waiting for the speech model: it is not available on the server (an administrator can "
    "check TRANSCRIPTION_MODEL with `tidings check`)."
)
OPEN_WORK = Q(state__in=[TranscriptState.QUEUED, TranscriptState.TRANSCRIBING])
# A transcript waiting this long with no job of it seen is taken to be lost from the queue.
LOST_AFTER = dt.timedelta(minutes=15)
# One job at a time holds a transcript; each claim counts an attempt.
CLAIMS = leases.Claimable(Transcript, touched="updated_at", open_work=OPEN_WORK)


class Step(Enum):
    """What a run of the job leaves to do."""

    DONE = "done"  # finished, failed, or nothing for this run to do
    MORE = "more"  # a piece is done and more audio is waiting: queue the job again
    BUSY = "busy"  # as many transcriptions as allowed are running: try again shortly
    RETRY = "retry"  # the run failed: try again shortly (it counted as an attempt)
    LATER = "later"  # something the operator must fix (the model): try again much later


def request_transcript(recording: Recording) -> Transcript | None:
    """Queue the transcript of a processed recording (once: asking again for the same media
    while it is queued, running or done changes nothing). Recordings made with transcription
    turned off get none; one without sound gets a transcript that says so."""
    if not recording.for_transcription:
        return None
    transcript, created = Transcript.objects.get_or_create(
        recording=recording, defaults={"duration_ms": recording.duration_ms or 0}
    )
    if not created:
        return transcript
    if not recording.audio_track:
        _settle(transcript, TranscriptState.NO_SPEECH, NO_SOUND)
        return transcript
    transaction.on_commit(lambda: _queue(transcript.pk))
    return transcript


def _queue(transcript_id: int) -> None:
    """Start a new chain of jobs for the transcript: its ticket replaces the one before, so a
    job of an older chain still waiting in the queue (a sweep, a restart) finds it stale and
    stops, and a transcript never has two chains spinning side by side."""
    ticket = uuid.uuid4().hex
    if Transcript.objects.filter(OPEN_WORK, pk=transcript_id).update(queued_as=ticket):
        _queue_chain(transcript_id, ticket)


def _queue_chain(transcript_id: int, ticket: str) -> None:
    from tidings.transcripts import jobs  # The worker's module imports these actions.

    jobs.transcribe_recording(transcript_id, ticket)


@transaction.atomic
def retry_transcript(person: User, recording: Recording) -> Transcript:
    """Try again a transcript that failed, as the recording's author or an admin: it goes on
    from the last piece saved (audio that could not be read is read again from the start)."""
    if not access.can_correct_transcript(person, recording):
        raise PermissionDenied("Only the recording's author or an admin can try again.")
    transcript = (
        Transcript.objects.select_for_update()
        .filter(recording=recording, state=TranscriptState.FAILED)
        .first()
    )
    if transcript is None:
        raise ValidationError("Only a transcript that failed can be tried again.")
    if transcript.failure_reason == UNREADABLE:
        transcript.segments.all().delete()
        transcript.done_ms = 0
    transcript.state = TranscriptState.QUEUED
    transcript.failure_reason = ""
    transcript.attempts = 0
    transcript.progress = _percent(transcript.done_ms, recording.duration_ms or 0)
    transcript.finished_at = None
    transcript.claimed_by = ""
    transcript.claimed_until = None
    transcript.updated_at = timezone.now()
    transcript.save()
    transaction.on_commit(lambda: _queue(transcript.pk))
    return transcript


def transcribe_next_piece(
    transcript_id: int, ticket: str = "", *, now: dt.datetime | None = None
) -> Step:
    """Transcribe the next piece of the recording's audio (TRANSCRIPTION_PIECE_SECONDS long,
    ending at a pause) and save its segments and the point reached in one transaction, so a
    worker that dies mid-piece loses only that piece's work and nothing is saved twice. One
    job at a time holds a transcript (a claim with a lease its worker renews); at most
    TRANSCRIPTION_CONCURRENCY transcripts are worked on at once. Long files go a piece per
    run, so short recordings queued meanwhile are not held up behind them.

    Always ends: the transcript is done where its decoded audio ends (not where the container
    says it does), a piece that gets no further ends it, and a run that fails or is killed
    counts as an attempt that only progress forgives; after MAX_ATTEMPTS the transcript
    fails, saying why, and its author can try again. A job whose `ticket` is no longer the
    transcript's (another chain was started) does nothing."""
    now = now or timezone.now()
    claim = _claim(transcript_id, ticket, now)
    if claim is None:
        return Step.BUSY if _waiting_for_a_slot(transcript_id, ticket, now) else Step.DONE
    transcript = Transcript.objects.select_related("recording").get(pk=transcript_id)
    if transcript.attempts > MAX_ATTEMPTS:
        _settle(transcript, TranscriptState.FAILED, FAILED_REPEATEDLY)
        return Step.DONE
    try:
        with claim.kept():
            return _next_piece(transcript, claim)
    except engine.AudioUnreadable as error:
        log.warning("transcript %s: audio unreadable: %s", transcript_id, error)
        _settle(transcript, TranscriptState.FAILED, UNREADABLE)
        return Step.DONE
    except engine.ModelUnavailable as error:
        # The operator's to fix: the recording waits, saying why, and is tried again later.
        log.error("transcript %s: the speech model is not available: %s", transcript_id, error)
        with suppress(leases.ClaimLost):
            claim.release(
                touch=False, attempts=0, state=TranscriptState.QUEUED, failure_reason=MODEL_MISSING
            )
        return Step.LATER
    except leases.ClaimLost:
        log.warning("transcript %s: another job took over; this one stops", transcript_id)
        return Step.DONE
    except Exception:
        log.exception("transcript %s: attempt %s failed", transcript_id, transcript.attempts)
        with suppress(leases.ClaimLost):
            claim.release(touch=False)
        return Step.RETRY


def _claimable(transcript_id: int, ticket: str, now: dt.datetime) -> QuerySet[Transcript]:
    """The transcript while it is open work, free, and this chain's (jobs queued before
    chains had tickets carry none: they may still run)."""
    chain = Q(queued_as=ticket) if ticket else Q()
    return Transcript.objects.filter(OPEN_WORK, CLAIMS.free(now), chain, pk=transcript_id)


def _claim(transcript_id: int, ticket: str, now: dt.datetime) -> leases.Claim | None:
    """Take the transcript for this job in one UPDATE (two workers never both win), while
    fewer than TRANSCRIPTION_CONCURRENCY others are being worked on. Counts an attempt."""
    running = Transcript.objects.filter(claimed_until__gt=now).exclude(pk=transcript_id)
    if running.count() >= settings.TRANSCRIPTION_CONCURRENCY:
        return None
    chain = Q(queued_as=ticket) if ticket else Q()
    return CLAIMS.claim(
        transcript_id,
        where=chain,
        now=now,
        failure_reason="",
        state=TranscriptState.TRANSCRIBING,
    )


def _waiting_for_a_slot(transcript_id: int, ticket: str, now: dt.datetime) -> bool:
    """Whether this chain's transcript is free and waits only for a transcription slot (and
    then marks it seen, so the sweep does not take it for lost)."""
    return bool(_claimable(transcript_id, ticket, now).update(updated_at=now))


def _next_piece(transcript: Transcript, claim: leases.Claim) -> Step:
    recording = transcript.recording
    stated_ms = recording.duration_ms or transcript.duration_ms
    piece_ms = settings.TRANSCRIPTION_PIECE_SECONDS * 1000
    with tempfile.TemporaryDirectory(prefix="tidings-transcript-") as folder:
        audio = _fetch(recording, Path(folder))
        piece = next(engine.pieces(audio, transcript.done_ms, piece_ms), None)
        if piece is None:  # the audio ended exactly where the last piece did
            return _finish(transcript, claim, end_ms=transcript.done_ms)
        renewed = time.monotonic()

        def progress(done_in_piece: int) -> None:
            nonlocal renewed
            if time.monotonic() - renewed < 2:
                return
            renewed = time.monotonic()
            done = piece.offset_ms + done_in_piece
            claim.write(progress=_percent(done, stated_ms))

        segments = (
            engine.transcribe(piece.samples, piece.offset_ms, on_progress=progress)
            if len(piece.samples) >= SHORTEST_PIECE_SAMPLES
            else []
        )
    reached = max(piece.end_ms, transcript.done_ms)
    with transaction.atomic():
        claim.write(
            done_ms=reached,
            progress=_percent(reached, stated_ms),
            model_name=engine.model_name(),
            language="en",
        )
        first = transcript.segments.count()
        Segment.objects.bulk_create(
            Segment(
                transcript=transcript,
                index=first + number,
                start_ms=segment.start_ms,
                end_ms=segment.end_ms,
                text=segment.text,
                words=[
                    [w.start_ms, w.end_ms, w.text, w.probability, w.joins_previous]
                    for w in segment.words
                ],
            )
            for number, segment in enumerate(segments)
        )
    # Less than a millisecond further is the end too: the audio's last crumbs.
    if piece.last or reached <= transcript.done_ms:
        return _finish(transcript, claim, end_ms=reached)
    transcript.done_ms = reached
    # Let go between pieces (other recordings waiting get their turn); progress was made,
    # so the attempts so far are forgiven.
    with suppress(leases.ClaimLost):
        claim.release(touch=False, attempts=0)
    return Step.MORE


def _finish(transcript: Transcript, claim: leases.Claim, *, end_ms: int) -> Step:
    text = spelt(transcript_words(transcript))
    state = TranscriptState.READY if text else TranscriptState.NO_SPEECH
    claim.release(
        state=state,
        failure_reason="" if text else NO_SPEECH,
        progress=100,
        done_ms=end_ms,
        duration_ms=end_ms,
        text=text,
        finished_at=timezone.now(),
        attempts=0,
    )
    transcript.text = text
    publish("transcript_changed", transcript_id=transcript.pk)
    if text:
        summarise(transcript)
    log.info("transcript %s: %s", transcript.pk, state)
    return Step.DONE


def _settle(transcript: Transcript, state: str, reason: str) -> None:
    Transcript.objects.filter(pk=transcript.pk).update(
        state=state,
        failure_reason=reason,
        progress=0 if state == TranscriptState.FAILED else 100,
        claimed_by="",
        claimed_until=None,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


def _percent(done_ms: int, duration_ms: int) -> int:
    return min(99, done_ms * 100 // duration_ms) if duration_ms else 0


def _fetch(recording: Recording, folder: Path) -> Path:
    """The audio track as a local file: itself on local storage, else a copy (S3)."""
    try:
        return Path(recording.audio_track.path)
    except NotImplementedError:
        pass
    target = folder / "audio.flac"
    try:
        with recording.audio_track.open("rb") as source, target.open("wb") as out:
            for chunk in source.chunks():
                out.write(chunk)
    except (OSError, ValueError) as error:
        raise engine.AudioUnreadable(str(error)) from error
    return target


def requeue_stalled(now: dt.datetime | None = None, *, at_startup: bool = False) -> int:
    """Queue again the transcripts whose job is gone: a worker died holding it (the lease ran
    out, or, when a worker starts, the holder was a process of this host that is gone), or
    the queue lost it (waiting unclaimed, no job of it seen for LOST_AFTER; when a worker
    starts, every unclaimed one, as the queue may have lost what it held). Each gets a new
    chain, so older jobs still queued for it stop when they run: restarts never pile jobs
    up. Returns how many were queued."""
    now = now or timezone.now()
    open_work = Transcript.objects.filter(OPEN_WORK)
    unclaimed = open_work.filter(claimed_until=None)
    # At start-up every unclaimed one too: the queue may have lost what it held.
    also = Q(claimed_until=None) if at_startup else None
    renewed = []
    for pk in CLAIMS.sweep(open_work, now=now, at_startup=at_startup, also=also):
        log.info("transcript %s: queued again (its worker stopped or restarted)", pk)
        _queue(pk)
        renewed.append(pk)
    # Perhaps only waiting behind much other work: another job of the same chain, so the one
    # still queued keeps its place and whichever comes first does the work.
    lost = unclaimed.filter(updated_at__lte=now - LOST_AFTER).exclude(pk__in=renewed)
    lost = list(lost.values_list("pk", "queued_as"))
    for pk, ticket in lost:
        Transcript.objects.filter(pk=pk).update(updated_at=now)
        log.warning("transcript %s: no job seen for %s; queued again", pk, LOST_AFTER)
        _queue_chain(pk, ticket)
    return len(renewed) + len(lost)


WORD_MAX = 100


@transaction.atomic
def correct_word(
    person: User, recording: Recording, *, segment_index: int, word_index: int, text: str
) -> str:
    """Replace one word of a transcript (or several words said as one, or nothing: the word
    goes) keeping its times, for the recording's author or an admin of its workspace. The
    transcript's text, its captions and search read the corrected words at once, its summary
    and suggested action items soon after. Returns the word."""
    if not access.can_correct_transcript(person, recording):
        raise PermissionDenied("Only the recording's author or an admin can correct it.")
    text = " ".join((text or "").split())
    if len(text) > WORD_MAX:
        raise ValidationError({"text": [f"Keep a correction under {WORD_MAX} characters."]})
    transcript = Transcript.objects.select_for_update().filter(recording=recording).first()
    segment = (
        Segment.objects.select_for_update()
        .filter(transcript=transcript, index=segment_index)
        .first()
        if transcript is not None and transcript.state == TranscriptState.READY
        else None
    )
    if segment is None or not 0 <= word_index < len(segment.words):
        raise Http404("No such word in this transcript.")
    # An empty word is left out of text and captions; the word keeps its place and spacing.
    segment.words[word_index][2] = text
    segment.text = spelt(
        TranscriptWord(w[0], w[1], w[2], joins_previous(w)) for w in segment.words if w[2]
    )
    segment.save(update_fields=["words", "text"])
    transcript.text = spelt(transcript_words(transcript))
    transcript.edited_at = timezone.now()
    transcript.save(update_fields=["text", "edited_at"])
    transcript.recording = recording
    publish("transcript_changed", transcript_id=transcript.pk)
    # The summary and suggestions follow the corrected words, worked out in the background.
    transaction.on_commit(lambda: _queue_summary(transcript.pk))
    return text


def _queue_summary(transcript_id: int) -> None:
    from tidings.transcripts import jobs  # The worker's module imports these actions.

    jobs.summarise_transcript(transcript_id)


def summarise(transcript: Transcript) -> None:
    """Keep the transcript's summary and suggest the action items said in it: owners are
    matched to people who can see the recording by the name said ("I" is its author), due
    dates read from when it was recorded in the author's time zone. The summary repeats
    neither itself nor the action items beside it, and a recording under half a minute gets
    none. Suggestions already accepted or dismissed stay as they are; running again changes
    nothing else."""
    recording = transcript.recording
    said = summary.sentences(transcript_words(transcript))
    author = recording.owner
    said_on = recording.created_at.astimezone(author.zone if author else dt.UTC)
    found = summary.action_items(said, said_on=said_on)
    already = transcript.action_items.exclude(state=SuggestionState.SUGGESTED)
    decided = {
        (start_ms, text): state
        for start_ms, text, state in already.values_list("start_ms", "text", "state")
    }
    # What the action items beside the summary will say: accepted and suggested ones.
    shown = [text for (_, text), state in decided.items() if state == SuggestionState.ACCEPTED]
    shown += [i.text for i in found if (i.start_ms, i.text) not in decided]
    length_ms = transcript.duration_ms or recording.duration_ms or 0
    summarised = (
        summary.summary(said, apart_from=shown)
        if length_ms >= summary.SHORTEST_SUMMARISED_MS
        else []
    )
    transcript.summary = [[s.start_ms, s.text] for s in summarised]
    Transcript.objects.filter(pk=transcript.pk).update(summary=transcript.summary)
    people = _people_by_name(recording)
    transcript.action_items.filter(state=SuggestionState.SUGGESTED).delete()
    ActionItem.objects.bulk_create(
        ActionItem(
            transcript=transcript,
            start_ms=item.start_ms,
            text=item.text,
            owner=author if item.is_speaker else people.get(item.owner.lower()),
            owner_name=(author.name if author else "") if item.is_speaker else item.owner,
            due_on=item.due_on,
        )
        for item in found
        if (item.start_ms, item.text) not in decided
    )


def _people_by_name(recording: Recording) -> dict[str, User]:
    """Who a name said in the recording means: people who can see it, by full name and by
    first name where only one of them has it."""
    people = list(access.mentionable_people(recording.space))
    found = {person.name.lower(): person for person in people if person.name}
    firsts: dict[str, list[User]] = {}
    for person in people:
        if person.name:
            firsts.setdefault(person.name.split()[0].lower(), []).append(person)
    for first, named in firsts.items():
        if len(named) == 1:
            found.setdefault(first, named[0])
    return found


@transaction.atomic
def decide_action_item(
    person: User, recording: Recording, item_id: int, *, accept: bool
) -> ActionItem:
    """Accept a suggested action item of the recording's transcript (kept for tasks) or
    dismiss it, as the recording's author or an admin; deciding again changes the decision."""
    item = (
        ActionItem.objects.select_for_update(of=("self",))
        .filter(pk=item_id, transcript__recording=recording)
        .first()
    )
    if item is None or not access.can_view_recording(person, recording):
        raise Http404("No such action item.")
    if not access.can_correct_transcript(person, recording):
        raise PermissionDenied("Only the recording's author or an admin can decide this.")
    item.state = SuggestionState.ACCEPTED if accept else SuggestionState.DISMISSED
    item.decided_by = person
    item.decided_at = timezone.now()
    item.save(update_fields=["state", "decided_by", "decided_at"])
    return item
