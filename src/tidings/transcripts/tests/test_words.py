"""Words are joined as the model spelt them: a piece with no space before it is glued to the
word before, in the transcript's text, its page, captions, search and summaries."""

from __future__ import annotations

import io

import pytest
import webvtt

from tidings.recordings.tests.factories import posted_recording
from tidings.search.queries import search
from tidings.threads.tests.factories import thread_in
from tidings.transcripts import actions, captions, summary
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


def test_the_page_captions_and_search_read_glued_pieces_as_one(world, spoken):
    recording, transcript = spoken
    client = world.client_for("guest")
    html = client.get(f"/recordings/{recording.token}/transcript").content.decode()
    # No space between a word's span and the piece glued to it; a space before a new word.
    assert '28</span><span class="w"' in html and 'rate</span> <span class="w"' in html
    for fmt in ("txt", "srt", "vtt"):
        text = client.get(f"/recordings/{recording.token}/transcript.{fmt}").content.decode()
        assert "28.8%." in text and "www.asterisk.org." in text and " .8" not in text
    # A correction keeps the spacing: the corrected piece stays glued.
    actions.correct_word(world.member, recording, segment_index=0, word_index=4, text=".9%.")
    transcript.refresh_from_db()
    assert transcript.text == "The rate is 28.9%. Visit www.asterisk.org."
    [hit] = search(world.guest, "rate").hits
    assert "28.9%. Visit www.asterisk.org" in str(hit.snippet)


def test_transcripts_stored_before_are_spelt_again(world):
    """Words stored without their spacing: a piece starting with punctuation is taken to be
    glued to the word before; the texts made from them, search and summaries follow."""
    import importlib

    from django.apps import apps

    from tidings.search.index import index_transcript
    from tidings.transcripts.models import ActionItem

    migration = importlib.import_module("tidings.transcripts.migrations.0004_words_spelt_as_said")
    thread = thread_in(world.open_space, world.member, title="Rates")
    recording = posted_recording(world.member, thread, title="Rates call")
    old_words = [
        [0, 300, "Olivia", 0.9], [300, 600, "will", 0.9], [600, 900, "check", 0.9],
        [900, 1200, "the", 0.9], [1200, 1500, "self", 0.9], [1500, 1800, "-service", 0.9],
        [1800, 2100, "rate", 0.9], [2100, 2400, "of", 0.9], [2400, 2700, "28", 0.9],
        [2700, 3000, ".8%", 0.9], [3000, 3300, "by", 0.9], [3300, 3600, "Friday.", 0.9],
    ]  # fmt: skip
    spaced = " ".join(w[2] for w in old_words)
    transcript = Transcript.objects.create(
        recording=recording, state="ready", text=spaced, duration_ms=60_000,
        summary=[[0, spaced]],
    )  # fmt: skip
    Segment.objects.create(
        transcript=transcript, index=0, start_ms=0, end_ms=3600, text=spaced, words=old_words
    )
    ActionItem.objects.create(transcript=transcript, start_ms=0, text=spaced)
    index_transcript(transcript)
    short = Transcript.objects.create(
        recording=posted_recording(world.member, thread, duration_ms=12_000), state="ready",
        text="Hello all.", duration_ms=12_000, summary=[[0, "Hello all."]],
    )  # fmt: skip

    migration.spell_again(apps, None)

    expected = "Olivia will check the self-service rate of 28.8% by Friday."
    transcript.refresh_from_db()
    assert transcript.text == expected and transcript.summary == [[0, expected]]
    assert transcript.segments.get().text == expected
    assert [w[4] for w in transcript.segments.get().words][4:6] == [False, True]
    assert transcript.action_items.get().text == expected
    [hit] = search(world.member, "service rate").hits
    assert "self-" in str(hit.snippet) and " .8" not in str(hit.snippet)
    short.refresh_from_db()
    assert short.summary == []
