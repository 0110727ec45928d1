"""Summaries and action items of transcripts, on written examples."""

from __future__ import annotations

import datetime as dt

import pytest

from tidings.transcripts import summary
from tidings.transcripts.summary import Sentence
from tidings.transcripts.words import TranscriptWord as W

SAID_ON = dt.datetime(2026, 12, 1, 10, 0)  # a Tuesday morning, the speaker's local time
SPEAKER = "(speaker)"

# sentence, then the expected (owner, due date), or None where no action item may be found.
EXAMPLES: list[tuple[str, tuple[str, dt.date | None] | None]] = [
    ("Alice will send the budget by Friday.", ("Alice", dt.date(2026, 12, 4))),
    ("Ben will update the roadmap.", ("Ben", None)),
    ("Carmen is going to call the supplier tomorrow.", ("Carmen", dt.date(2026, 12, 2))),
    ("So David will draft the contract by next Monday.", ("David", dt.date(2026, 12, 7))),
    ("Elena to review the hiring plan by Thursday.", ("Elena", dt.date(2026, 12, 3))),
    ("Farid, please check the test results by the end of the week.",
     ("Farid", dt.date(2026, 12, 4))),
    ("Grace, could you book the room for the workshop?", None),
    ("Grace, could you book the room for the workshop.", ("Grace", None)),
    ("Please review the launch plan before the meeting on Monday.",
     ("", dt.date(2026, 12, 7))),
    ("Please send me the slides.", ("", None)),
    ("We need to finish the security audit by December 15.", ("", dt.date(2026, 12, 15))),
    ("We have to sign the contract by the end of the month.", ("", dt.date(2026, 12, 31))),
    ("We should move the release to next week.", ("", dt.date(2026, 12, 8))),
    ("Let's decide on the new logo today.", ("", dt.date(2026, 12, 1))),
    ("Let us ship the release on Thursday.", ("", dt.date(2026, 12, 3))),
    ("I will write the release notes by Wednesday.", (SPEAKER, dt.date(2026, 12, 2))),
    ("I'll send the invite tomorrow.", (SPEAKER, dt.date(2026, 12, 2))),
    ("I am going to prepare the demo for the 10th.", (SPEAKER, dt.date(2026, 12, 10))),
    ("Action item: update the onboarding guide.", ("", None)),
    ("Hugo can take the customer survey by January 5.", ("Hugo", dt.date(2027, 1, 5))),
    ("And Alice Brown will collect the feedback.", ("Alice Brown", None)),
    ("Okay Ben will own the sales report.", ("Ben", None)),
    # Not action items: questions, refusals, what is done, plain statements.
    ("Will Alice send the budget by Friday?", None),
    ("Can you send the report?", None),
    ("Alice won't send the budget this week.", None),
    ("Ben will not be at the meeting.", None),
    ("We don't need to review the contract again.", None),
    ("There is no need to book a room.", None),
    ("Carmen already sent the slides yesterday.", None),
    ("The numbers went up by twelve percent since last month.", None),
    ("Thank you all for joining the call.", None),
    ("We will be late on Friday.", None),
    ("It will rain tomorrow.", None),
    ("David sent the contract last week.", None),
    ("We needed to finish that last month.", None),
    ("I will never do that again.", None),
    ("Welcome to the planning call.", None),
    ("Time to wrap up the meeting.", None),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), EXAMPLES, ids=[e[0][:40] for e in EXAMPLES])
def test_action_items_with_owner_and_due_date(text, expected):
    found = summary.action_items([Sentence(1000, text)], said_on=SAID_ON)
    if expected is None:
        assert found == []
        return
    [item] = found
    owner = SPEAKER if item.is_speaker else item.owner
    assert (owner, item.due_on) == expected
    assert item.start_ms == 1000 and item.text == text


def test_enough_examples_of_both_kinds():
    assert len(EXAMPLES) >= 30
    assert sum(1 for _, expected in EXAMPLES if expected is None) >= 10


def test_words_become_sentences_with_their_times():
    words = [W(0, 300, "Hello"), W(300, 600, "all."), W(900, 1200, "Alice"), W(1200, 1500, "will")]
    assert summary.sentences(words) == [Sentence(0, "Hello all."), Sentence(900, "Alice will")]


def test_the_summary_keeps_the_sentences_that_others_echo_in_the_order_said():
    said = [
        "Welcome everyone to the weekly call about the harbour project.",
        "The harbour project budget is twelve percent over the plan.",
        "I had coffee this morning.",
        "The budget overrun comes from the harbour crane repairs.",
        "Crane repairs will finish in March, and the budget recovers in April.",
        "See you next week.",
        "My cat is sleeping.",
    ]
    picked = summary.summary([Sentence(i * 1000, text) for i, text in enumerate(said)])
    assert [s.start_ms for s in picked] == sorted(s.start_ms for s in picked)
    texts = " ".join(s.text for s in picked)
    assert "budget" in texts and "coffee" not in texts and "cat" not in texts
    assert len(picked) == 3


def test_a_short_transcript_is_its_own_summary():
    few = [Sentence(0, "Alice will send the budget by Friday."), Sentence(900, "Thanks.")]
    assert summary.summary(few) == [few[0]]


def test_the_same_words_said_again_are_suggested_once():
    said = [Sentence(0, "Alice will send the budget by Friday."), Sentence(9000, "Thanks.")]
    said.append(Sentence(20_000, "Alice will send the budget by Friday."))
    assert len(summary.action_items(said, said_on=SAID_ON)) == 1
    assert len(summary.summary(said)) == 1


def test_nearly_the_same_sentence_said_again_counts_once():
    said = [
        Sentence(0, "Alice will send the budget by Friday."),
        Sentence(4_000, "The harbour crane repairs are over the plan this quarter."),
        Sentence(9_000, "So Alice will send the budget on Friday."),
        Sentence(14_000, "The harbour crane repairs are over plan this quarter."),
        Sentence(20_000, "Ben will book the room for the workshop."),
    ]
    items = summary.action_items(said, said_on=SAID_ON)
    assert [item.start_ms for item in items] == [0, 20_000]
    picked = summary.summary(said)
    texts = [s.text for s in picked]
    assert len(texts) == 3 and len({t.split()[-1] for t in texts}) == 3, texts
    assert sum("crane" in t for t in texts) == 1 and sum("Alice" in t for t in texts) == 1


def test_the_summary_leaves_out_what_the_action_items_say():
    said = [
        Sentence(0, "The harbour budget is twelve percent over the plan."),
        Sentence(4_000, "Olivia will send the revised harbour budget by Friday."),
        Sentence(9_000, "The crane repairs explain most of the harbour budget overrun."),
    ]
    items = [item.text for item in summary.action_items(said, said_on=SAID_ON)]
    picked = summary.summary(said, apart_from=items)
    assert [s.start_ms for s in picked] == [0, 9_000]
