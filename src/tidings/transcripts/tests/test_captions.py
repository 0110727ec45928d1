"""Captions stay well-formed whatever times the words come with."""

from __future__ import annotations

import io

import webvtt

from tidings.transcripts import captions
from tidings.transcripts.words import TranscriptWord as W

WORDS = [
    W(0, 400, "We"),
    W(400, 400, "ship"),  # no length at all, as the model sometimes gives
    W(400, 900, "on"),
    W(900, 900, "Friday"),
    W(3_000, 3_400, "<b>Budget</b>"),
    W(3_400, 3_800, "&"),
    W(3_800, 4_000, "plans"),
    *[W(4_000 + i * 300, 4_200 + i * 300, f"word{i}") for i in range(40)],
]


def test_cues_are_in_order_never_overlap_and_always_last():
    made = captions.cues(WORDS)
    assert len(made) >= 3
    for cue, following in zip(made, made[1:], strict=False):
        assert cue.start_ms < cue.end_ms <= following.start_ms
    assert made[-1].start_ms < made[-1].end_ms
    assert made[0].text == "We ship on Friday"  # a pause of two seconds starts a new cue
    assert all(len(cue.text) <= captions.MAX_CUE_CHARS for cue in made)


def test_the_same_instant_for_every_word_still_gives_valid_captions():
    made = captions.cues([W(1000, 1000, "a"), W(1000, 1000, "b")] * 50)
    for cue, following in zip(made, made[1:], strict=False):
        assert cue.start_ms < cue.end_ms <= following.start_ms


def test_webvtt_reads_back_with_its_text_escaped():
    text = captions.webvtt(captions.cues(WORDS))
    assert text.startswith("WEBVTT\n\n00:00:00.000 --> ")
    parsed = webvtt.from_string(text, strict=True)
    assert parsed.captions[0].text == "We ship on Friday"
    assert "&lt;b&gt;Budget&lt;/b&gt; &amp; plans" in text
    assert len(parsed.captions) == len(captions.cues(WORDS))


def test_srt_reads_back():
    made = captions.cues([word for word in WORDS if "<" not in word[2]])
    parsed = webvtt.from_buffer(io.StringIO(captions.srt(made)), format="srt")
    assert [c.text for c in parsed.captions] == [c.text for c in made]
    assert parsed.captions[0].start == "00:00:00.000"


def test_plain_text_has_paragraphs_with_their_times():
    text = captions.plain_text([W(0, 500, "Hello"), W(600, 900, "all."), W(65_000, 65_500, "Next")])
    assert text == "[0:00] Hello all.\n\n[1:05] Next\n"
