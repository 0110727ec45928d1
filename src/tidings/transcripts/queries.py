"""Read side of transcripts: a recording's transcript for someone who may see the recording,
and what its player and transcript panel show."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from tidings.recordings.models import Recording
from tidings.transcripts import captions
from tidings.transcripts.models import (
    ActionItem,
    Segment,
    SuggestionState,
    Transcript,
    TranscriptState,
)
from tidings.transcripts.words import TranscriptWord, transcript_words

_WORD_EDGES = re.compile(r"^[\W_]+|[\W_]+$")
CAPTION_FORMATS = {"vtt": "text/vtt", "srt": "application/x-subrip", "txt": "text/plain"}


def transcript_of(recording: Recording) -> Transcript | None:
    """The recording's transcript (loaded with it when the query selected it), or None."""
    try:
        return recording.transcript
    except ObjectDoesNotExist:
        return None


def ahead_in_line(transcript: Transcript) -> int:
    """How many transcripts asked for before this one are still waiting or being made: the
    number its panel shows while it waits (a count only, never which)."""
    waiting = Transcript.objects.filter(
        state__in=[TranscriptState.QUEUED, TranscriptState.TRANSCRIBING]
    )
    return waiting.filter(created_at__lt=transcript.created_at).count()


def player_parts(recording: Recording) -> dict:
    """The transcript's parts of a recording's player: its panel, and the captions track
    once the words are there."""
    transcript = transcript_of(recording)
    if transcript is None:
        return {"transcript_url": "", "captions_url": ""}
    token = recording.token
    ready = transcript.state == TranscriptState.READY
    return {
        "transcript_url": reverse("transcripts:panel", kwargs={"token": token}),
        "captions_url": (
            reverse("transcripts:captions", kwargs={"token": token, "fmt": "vtt"}) if ready else ""
        ),
    }


@dataclass(frozen=True)
class ShownParagraph:
    start_ms: int
    time: str
    html: SafeString

    @property
    def seconds(self) -> int:
        return self.start_ms // 1000


def shown_paragraphs(all_words: list[TranscriptWord]) -> list[ShownParagraph]:
    """Paragraphs with a span per word carrying its times (and where it is stored, for
    corrections), for the interactive transcript, spaced as the words are spelt. Built as
    one string each: a two-hour transcript has some twenty thousand words."""
    shown = []
    for paragraph in captions.paragraphs(all_words):
        spans = "".join(
            f"{'' if word.joins_previous or number == 0 else ' '}"
            f'<span class="w" data-ms="{word.start_ms}" data-end="{word.end_ms}" '
            f'data-at="{word.segment}.{word.index}">{escape(word.text)}</span>'
            for number, word in enumerate(paragraph.words)
        )
        shown.append(
            ShownParagraph(paragraph.start_ms, captions.clock(paragraph.start_ms), mark_safe(spans))  # noqa: S308 - every word is escaped
        )
    return shown


def caption_file(transcript: Transcript, fmt: str) -> str:
    """The transcript as captions (.vtt, .srt) or plain text (.txt)."""
    all_words = transcript_words(transcript)
    if fmt == "txt":
        return captions.plain_text(all_words)
    made = captions.cues(all_words)
    return captions.webvtt(made) if fmt == "vtt" else captions.srt(made)


def first_mentions(recording_ids: list[int], terms: list[str]) -> dict[int, int]:
    """For each recording, when the first of the words asked for is said (ms): a word that
    begins like one of them, less a plural or verb ending ("meetings" finds "meeting",
    "budget" finds "budget's"). Only segments holding such a word are read. Recordings
    whose words do not show one start at 0."""
    found: dict[int, int] = dict.fromkeys(recording_ids, 0)
    stems = [_stem(term) for term in terms if term]
    if not recording_ids or not stems:
        return found
    holding = Q()
    for stem in stems:
        holding |= Q(text__icontains=stem)
    rows = (
        Segment.objects.filter(holding, transcript__recording_id__in=recording_ids)
        .order_by("transcript__recording_id", "index")
        .values_list("transcript__recording_id", "words")
    )
    done: set[int] = set()
    for recording_id, segment_words in rows:
        if recording_id in done:
            continue
        for start, _end, text, *_probability in segment_words:
            word = _WORD_EDGES.sub("", text.lower())
            if any(word.startswith(stem) for stem in stems):
                found[recording_id] = start
                done.add(recording_id)
                break
    return found


def _stem(term: str) -> str:
    return term if len(term) <= 4 else term[: len(term) - 2]


def timed(item: ActionItem) -> ActionItem:
    """The item with `time`, as its row shows it."""
    item.time = captions.clock(item.start_ms)
    return item


@dataclass(frozen=True)
class ShownSentence:
    start_ms: int
    time: str
    text: str

    @property
    def seconds(self) -> int:
        return self.start_ms // 1000


def summary_of(transcript: Transcript) -> list[ShownSentence]:
    return [ShownSentence(start, captions.clock(start), text) for start, text in transcript.summary]


def action_items_of(transcript: Transcript) -> list[ActionItem]:
    """The action items found in it, but those dismissed, each with `time`."""
    shown = transcript.action_items.exclude(state=SuggestionState.DISMISSED)
    return [timed(item) for item in shown.select_related("owner")]
