"""A transcript's words as stored, and their text joined as the model spelt them.

Each segment keeps its words as [start ms, end ms, text, probability, joins previous]. The
model marks a new word with a leading space; a piece without one is glued to the word
before it ("28" ".8" is "28.8", "self" "-substantial" is "self-substantial"). The flag keeps
that, since the text is stored without its leading space. Every text made from words (the
transcript's text that search reads, captions, the page, summaries) is joined by `spelt`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from tidings.transcripts.models import Transcript

JOINS_PREVIOUS = 4  # where the flag is in a stored word


class TranscriptWord(NamedTuple):
    start_ms: int
    end_ms: int
    text: str
    joins_previous: bool = False
    segment: int = 0  # where it is stored (segment index, word index), for corrections
    index: int = 0


def joins_previous(stored: Sequence) -> bool:
    """Whether a stored word is glued to the one before it (words stored without the flag
    are words of their own)."""
    return len(stored) > JOINS_PREVIOUS and bool(stored[JOINS_PREVIOUS])


class Spelling(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def joins_previous(self) -> bool: ...


def spelt(words: Iterable[Spelling]) -> str:
    """The words' text as the model spelt it: a space before each word but those glued to
    the one before."""
    parts: list[str] = []
    for word in words:
        if parts and not word.joins_previous:
            parts.append(" ")
        parts.append(word.text)
    return "".join(parts)


def transcript_words(transcript: Transcript) -> list[TranscriptWord]:
    """Every word of the transcript in order, as corrected; words corrected away are left
    out."""
    return [
        TranscriptWord(word[0], word[1], word[2], joins_previous(word), segment, index)
        for segment, stored in transcript.segments.order_by("index").values_list("index", "words")
        for index, word in enumerate(stored)
        if word[2]
    ]
