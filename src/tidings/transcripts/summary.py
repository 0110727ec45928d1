"""What a transcript boils down to: its most representative sentences (an extractive
summary, ranked by TextRank) and the action items said aloud, with who and by when.

TextRank (Mihalcea and Tarau, "TextRank: Bringing Order into Texts", 2004): sentences are
the nodes of a graph whose edges weigh how many words two sentences share, normalised by
their lengths; PageRank over that graph ranks the sentences that most others echo.

Action items are sentences that commit someone to something ("Alice will send the budget by
Friday", "please review the plan", "we need to book the room"), not questions, not what was
already done and not what was said not to happen. Dates are read relative to when the
recording was made, in the speaker's time zone, with dateparser.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

import numpy as np

from tidings.transcripts.words import TranscriptWord, spelt

SUMMARY_SENTENCES = 3
SHORTEST_SUMMARISED_MS = 30_000  # a shorter recording is quicker to hear than a summary
NEARLY_THE_SAME = 0.8  # how alike (difflib's ratio of their words) two sentences may be
_SENTENCE_END = re.compile(r"[.?!]$")
_WORD = re.compile(r"[a-z0-9']+")
# Words too common to tie sentences together.
_STOP = set(
    "a an and are as at be but by for from has have i in is it its of on or so that the their "
    "them then there these they this to was we were will with you your our us it's i'm we're "
    "let's just also very really can could would should do does did not no yes okay ok".split()
)


@dataclass(frozen=True)
class Sentence:
    start_ms: int
    text: str


def sentences(words: Iterable[TranscriptWord]) -> list[Sentence]:
    """The transcript's words, in order, as sentences spelt as the words are, each with the
    time its first word is said."""
    found: list[Sentence] = []
    current: list[TranscriptWord] = []
    for word in words:
        current.append(word)
        if _SENTENCE_END.search(word.text):
            found.append(Sentence(current[0].start_ms, spelt(current)))
            current = []
    if current:
        found.append(Sentence(current[0].start_ms, spelt(current)))
    return found


def _content_words(text: str) -> set[str]:
    return {word for word in _WORD.findall(text.lower()) if word not in _STOP}


def _said_alike(first: str, second: str) -> bool:
    """Whether two sentences say the same thing in nearly the same words ("Alice will send
    the budget by Friday" and "So Alice will send the budget on Friday")."""
    matcher = SequenceMatcher(None, _WORD.findall(first.lower()), _WORD.findall(second.lower()))
    return (
        matcher.real_quick_ratio() >= NEARLY_THE_SAME  # cheap upper bounds first
        and matcher.quick_ratio() >= NEARLY_THE_SAME
        and matcher.ratio() >= NEARLY_THE_SAME
    )


def summary(
    found: list[Sentence], count: int = SUMMARY_SENTENCES, *, apart_from: Iterable[str] = ()
) -> list[Sentence]:
    """The `count` most representative sentences, in the order they were said: each says
    something of its own (of sentences said in nearly the same words, only the best ranked
    is taken) and none repeats those in `apart_from` (the action items shown beside it)."""
    seen: set[str] = set()
    candidates = []
    for sentence in found:  # a sentence said again (the same words) counts once
        key = " ".join(_WORD.findall(sentence.text.lower()))
        if len(_content_words(sentence.text)) >= 3 and key not in seen:
            seen.add(key)
            candidates.append(sentence)
    taken: list[int] = []
    said = list(apart_from)
    for index in _ranked(candidates):
        if len(taken) == count:
            break
        if not any(_said_alike(candidates[index].text, before) for before in said):
            taken.append(index)
            said.append(candidates[index].text)
    return [candidates[i] for i in sorted(taken)]


def _ranked(candidates: list[Sentence]) -> list[int]:
    """The sentences' places, most representative first (TextRank)."""
    bags = [_content_words(s.text) for s in candidates]
    size = len(bags)
    if size == 0:
        return []
    weights = np.zeros((size, size))
    for i in range(size):
        for j in range(i + 1, size):
            shared = len(bags[i] & bags[j])
            if shared:
                weight = shared / (np.log(len(bags[i]) + 1) + np.log(len(bags[j]) + 1))
                weights[i, j] = weights[j, i] = weight
    totals = weights.sum(axis=1)
    totals[totals == 0] = 1
    transition = weights / totals[:, None]
    rank = np.full(size, 1 / size)
    for _ in range(100):  # PageRank, damping 0.85, until it settles
        following = 0.15 / size + 0.85 * transition.T @ rank
        if np.abs(following - rank).sum() < 1e-9:
            break
        rank = following
    return [int(i) for i in np.argsort(-rank, kind="stable")]


# --- Action items.


@dataclass(frozen=True)
class ActionItem:
    start_ms: int
    text: str
    owner: str  # a name as said, "" when nobody in particular ("we need to ...")
    due_on: dt.date | None
    is_speaker: bool = False  # "I will ...": the person who made the recording


_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_DUE = re.compile(
    rf"\b(?:by|on|before|until|due|for)\s+(?:the\s+)?"
    rf"(?P<when>(?:next|this)\s+(?:{_DAYS}|week|month)|{_DAYS}|tomorrow|tonight|today"
    rf"|end\s+of\s+(?:the\s+)?(?:day|week|month)"
    rf"|(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?|\d{{1,2}}(?:st|nd|rd|th)?(?:\s+of)?\s+(?:{_MONTHS})"
    rf"|\d{{1,2}}(?:st|nd|rd|th))\b"
    rf"|\b(?P<bare>today|tonight|tomorrow|next\s+week|next\s+(?:{_DAYS}))\b",
    re.IGNORECASE,
)
_NAME = r"(?P<name>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)"
_LEAD = r"(?:(?:[Ss]o|[Aa]nd|[Oo]kay|OK|Ok|[Tt]hen),?\s+)?"  # "So Alice will ...", "And then"
# A verb follows: not a word that starts a noun ("Welcome to the call").
_VERB = (
    r"(?!(?:be|have|not|never|the|a|an|my|our|your|his|her|their|this|that|these|those|all"
    r"|everyone|you|us|me|it)\b)[a-z]+"
)
# (pattern, who it names: "name", "speaker" or "" for nobody in particular)
_COMMITMENTS = [
    (re.compile(rf"^{_LEAD}{_NAME}\s+(?:will|is\s+going\s+to|can)\s+{_VERB}"), "name"),
    (re.compile(rf"^{_LEAD}{_NAME}\s+to\s+{_VERB}"), "name"),
    (re.compile(rf"^{_LEAD}I(?:\s+will|'ll|\s+am\s+going\s+to|\s+can)\s+{_VERB}"), "speaker"),
    (re.compile(rf"^{_NAME},?\s+(?:please|could\s+you|can\s+you)\s+{_VERB}"), "name"),
    (re.compile(rf"^{_LEAD}(?:[Pp]lease|[Cc]ould\s+you|[Cc]an\s+you)\s+{_VERB}"), ""),
    (re.compile(rf"^{_LEAD}(?:[Ww]e|[Yy]ou)\s+(?:need\s+to|have\s+to|must|should)\s+{_VERB}"), ""),
    (re.compile(rf"^{_LEAD}[Ll]et(?:'s|\s+us)\s+{_VERB}"), ""),
    (re.compile(r"^action\s+item:?\s+", re.I), ""),
]  # fmt: skip
_NOT_A_COMMITMENT = re.compile(
    r"\b(?:won't|will\s+not|wouldn't|shouldn't|don't\s+need|no\s+need|not\s+going\s+to"
    r"|never|already|last\s+(?:week|month)|yesterday)\b",
    re.IGNORECASE,
)
_NOT_NAMES = {
    "We", "You", "They", "It", "This", "That", "There", "Please", "Let", "So", "And", "Welcome",
    "Thanks", "Hello", "Time", "Nice", "Good", "Glad", "Happy", "Back", "Next", "Today",
}  # fmt: skip


def action_items(found: list[Sentence], *, said_on: dt.datetime) -> list[ActionItem]:
    """The sentences that commit someone to do something, with the owner's name as said and
    the due date when one is said (relative to `said_on`, a local time of the speaker)."""
    items: list[ActionItem] = []
    for sentence in found:
        text = sentence.text.strip()
        if text.endswith("?") or _NOT_A_COMMITMENT.search(text):
            continue  # a question, a refusal or something done
        if any(_said_alike(text, item.text) for item in items):
            continue  # the same thing said again
        for pattern, who in _COMMITMENTS:
            matched = pattern.search(text)
            if matched is None:
                continue
            owner = matched.groupdict().get("name") or ""
            if owner in _NOT_NAMES:
                break
            items.append(
                ActionItem(
                    sentence.start_ms,
                    text,
                    owner if who == "name" else "",
                    due_date(text, said_on),
                    is_speaker=who == "speaker",
                )
            )
            break
    return items


def due_date(text: str, said_on: dt.datetime) -> dt.date | None:
    """The date a sentence says something is due ("by Friday", "tomorrow", "by the end of the
    month"), read from `said_on` (local time): the next such day, never the past."""
    import dateparser

    found = _DUE.search(text)
    if found is None:
        return None
    phrase = " ".join((found["when"] or found["bare"]).lower().split())
    today = said_on.date()
    if phrase in ("today", "tonight", "end of day", "end of the day"):
        return today
    if phrase in ("end of week", "end of the week"):
        return today + dt.timedelta(days=(4 - today.weekday()) % 7)  # this week's Friday
    if phrase in ("end of month", "end of the month"):
        return today.replace(day=calendar.monthrange(today.year, today.month)[1])
    if phrase == "this week":
        return today + dt.timedelta(days=(4 - today.weekday()) % 7)
    if phrase in ("next month", "this month"):
        month = today.month % 12 + 1 if phrase == "next month" else today.month
        year = today.year + (1 if phrase == "next month" and today.month == 12 else 0)
        return dt.date(year, month, calendar.monthrange(year, month)[1])
    if ordinal := re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)", phrase):
        day, month, year = int(ordinal[1]), today.month, today.year
        if day < today.day:  # "the 10th" said on the 20th: next month's
            month, year = (1, year + 1) if month == 12 else (month + 1, year)
        return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))
    if phrase.startswith("this "):
        phrase = phrase.removeprefix("this ")
    parsed = dateparser.parse(
        phrase,
        languages=["en"],
        settings={"RELATIVE_BASE": said_on.replace(tzinfo=None), "PREFER_DATES_FROM": "future"},
    )
    return parsed.date() if parsed is not None else None
