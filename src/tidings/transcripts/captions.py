"""Captions and plain text from a transcript's words: WebVTT for the player's <track>, and
.srt, .vtt and .txt downloads. Cues are made from the words (as corrected), at most two
short lines and a few seconds each, and always well-formed: in order, never overlapping,
each ending after it starts (the model gives some words no length at all)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tidings.recordings.queries import clock
from tidings.transcripts.words import TranscriptWord, spelt

MAX_CUE_CHARS = 84  # two lines of 42, the usual limit for readable captions
MAX_CUE_MS = 6_000
PAUSE_MS = 1_000  # a pause this long starts a new cue
MIN_CUE_MS = 300
PARAGRAPH_PAUSE_MS = 2_000
PARAGRAPH_MAX_MS = 60_000


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    text: str


def cues(words: Iterable[TranscriptWord]) -> list[Cue]:
    """The words, in order, grouped into caption cues; a word glued to the one before
    ("28" ".8") stays in its cue."""
    groups: list[list[TranscriptWord]] = []
    for word in words:
        current = groups[-1] if groups else None
        if current is not None and (word.joins_previous or _fits(current, word)):
            current.append(word)
        else:
            groups.append([word])
    made: list[Cue] = []
    for index, group in enumerate(groups):
        start = max(group[0].start_ms, made[-1].end_ms if made else 0)
        end = max(max(w.end_ms for w in group), start + MIN_CUE_MS)
        if index + 1 < len(groups):
            end = min(end, max(groups[index + 1][0].start_ms, start + 1))
        made.append(Cue(start, max(end, start + 1), spelt(group)))
    return made


def _fits(cue: list[TranscriptWord], word: TranscriptWord) -> bool:
    return (
        len(spelt([*cue, word])) <= MAX_CUE_CHARS
        and word.end_ms - cue[0].start_ms <= MAX_CUE_MS
        and word.start_ms - cue[-1].end_ms < PAUSE_MS
    )


def _clock(ms: int, separator: str) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


def _escaped(text: str) -> str:
    # Cue text is markup in WebVTT: a "<" or "&" spoken as such must not start a tag.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webvtt(made: list[Cue]) -> str:
    lines = ["WEBVTT", ""]
    for cue in made:
        lines += [
            f"{_clock(cue.start_ms, '.')} --> {_clock(cue.end_ms, '.')}",
            _escaped(cue.text),
            "",
        ]
    return "\n".join(lines)


def srt(made: list[Cue]) -> str:
    lines = []
    for number, cue in enumerate(made, start=1):
        lines += [
            str(number),
            f"{_clock(cue.start_ms, ',')} --> {_clock(cue.end_ms, ',')}",
            cue.text,
            "",
        ]
    return "\n".join(lines)


@dataclass(frozen=True)
class Paragraph:
    start_ms: int
    words: list[TranscriptWord]


def paragraphs(words: Iterable[TranscriptWord]) -> list[Paragraph]:
    """The words in paragraphs: a new one after a long pause or a minute of speech (never
    between a word and the piece glued to it)."""
    found: list[Paragraph] = []
    for word in words:
        current = found[-1] if found else None
        if current is not None and (
            word.joins_previous
            or (
                word.start_ms - current.words[-1].end_ms < PARAGRAPH_PAUSE_MS
                and word.start_ms - current.start_ms < PARAGRAPH_MAX_MS
            )
        ):
            current.words.append(word)
        else:
            found.append(Paragraph(word.start_ms, [word]))
    return found


def plain_text(words: Iterable[TranscriptWord]) -> str:
    """The .txt download: one paragraph a block, each starting with its time."""
    return "\n\n".join(f"[{clock(p.start_ms)}] {spelt(p.words)}" for p in paragraphs(words)) + "\n"
