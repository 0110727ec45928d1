"""Words are joined as the model spelt them: a piece with no space before it is glued to the
word before, in the transcript's text, its page, captions, search and summaries."""

from __future__ import annotations

import io

import pytest
import webvtt

from tidings.recordings.tests.factories import posted_recording
from tidings.threads.tests.factories import thread_in
from tidings.transcripts import captions, summary
from tidings.transcripts.models import Segment, Transcript
from tidings.transcripts.words import TranscriptWord, spelt


def as_spelt(*pieces: str, start_ms: int = 0) -> list[TranscriptWord]:
    """Words as faster-whisper gives them: a new word starts with a space."""
    return [
        TranscriptWord(
            start_ms + i * 300, start_ms + i * 300 + 250, piece.strip(), not piece.startswith(" ")
        )
        for i, piece in enumerate(pieces)
    ]


# Pieces as the model spelt them (heard in real voices), and the text they make.
SPELLINGS = [
    ((" The", " rate", " is", " 28", ".8%."), "The rate is 28.8%."),
    ((" Visit", " www", ".asterisk", ".org", " today."), "Visit www.asterisk.org today."),
    ((" It", " is", " self", "-substantial."), "It is self-substantial."),
    ((" Every", " non", "-administrator", " can", " read", " it."),
     "Every non-administrator can read it."),
    ((" We", " grew", " 40", "%", " this", " year."), "We grew 40% this year."),
    ((" It", " costs", " 1", ",000", " dollars."), "It costs 1,000 dollars."),
    ((" Hello", " all."), "Hello all."),
    (("-first", " word"), "-first word"),  # nothing before the first word to glue it to
    ((), ""),
]  # fmt: skip


@pytest.mark.parametrize(("pieces", "text"), SPELLINGS, ids=[s[1] or "none" for s in SPELLINGS])
def test_words_are_joined_as_spelt(pieces, text):
    assert spelt(as_spelt(*pieces)) == text


def test_captions_keep_glued_pieces_together():
    words = as_spelt(" The", " rate", " is", " 28", ".8%.", " Visit", " www", ".asterisk", ".org")
    made = captions.cues(words)
    assert [cue.text for cue in made] == ["The rate is 28.8%. Visit www.asterisk.org"]
    assert webvtt.from_string(captions.webvtt(made)).captions[0].text == made[0].text
    srt = webvtt.from_buffer(io.StringIO(captions.srt(made)), format="srt")
    assert srt.captions[0].text == made[0].text
    assert captions.plain_text(words) == "[0:00] The rate is 28.8%. Visit www.asterisk.org\n"


def test_a_glued_piece_never_starts_a_cue_or_a_paragraph():
    # A cue full to its last character, then a piece glued to its last word.
    long = as_spelt(*[f" word{i:02d}" for i in range(13)], " self")
    glued = TranscriptWord(long[-1].end_ms + 2_500, long[-1].end_ms + 2_800, "-made", True)
    made = captions.cues([*long, glued])
    assert all(not cue.text.startswith("-") for cue in made)
    assert made[-1].text.endswith("self-made")
    [paragraph] = captions.paragraphs([*long, glued])
    assert spelt(paragraph.words).endswith("self-made")


def test_sentences_of_a_summary_are_spelt_as_said():
    words = as_spelt(" The", " rate", " is", " 28", ".8%.", " Every", " non", "-administrator")
    said = summary.sentences([*words, *as_spelt(" can", " read", " it.", start_ms=3_000)])
    assert [s.text for s in said] == ["The rate is 28.8%.", "Every non-administrator can read it."]


@pytest.fixture
def spoken(world):
    return spoken_figures(world)


def spoken_figures(world):
    """A posted recording whose transcript's words were stored by the job, with their
    spacing."""
    thread = thread_in(world.open_space, world.member, title="Figures")
    recording = posted_recording(world.member, thread, title="Figures call")
    transcript = Transcript.objects.create(recording=recording, state="ready")
    words = as_spelt(" The", " rate", " is", " 28", ".8%.", " Visit", " www", ".asterisk", ".org.")
    Segment.objects.create(
        transcript=transcript,
        index=0,
        start_ms=0,
        end_ms=words[-1].end_ms,
        text=spelt(words),
        words=[[w.start_ms, w.end_ms, w.text, 0.9, w.joins_previous] for w in words],
    )
    transcript.text = spelt(words)
    transcript.save()
    return recording, transcript
