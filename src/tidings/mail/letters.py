"""A received message made into a post: the new words, its history folded or left out,
forwarded messages as collapsed blocks with their .eml files, notes naming what could not be
read, and the whole within the limits of a post."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage

from django.conf import settings
from django.template.defaultfilters import filesizeformat

from tidings.mail import quotes, reading
from tidings.threads import actions as thread_actions

FULL_TEXT_NAME = "message.txt"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>~|])")  # what starts Markdown inside a line


def _escaped(text: str) -> str:
    """Text shown as itself in Markdown (file names, addresses)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _details(summary: str, text: str) -> str:
    """A collapsed block: its fence is longer than any colon run inside, so nested blocks and
    the text's own colons never close it early."""
    runs = [len(run) for run in re.findall(r"^\s*(:{3,})", text, re.MULTILINE)]
    fence = ":" * max(3, max(runs, default=0) + 1)
    summary = " ".join(summary.split())
    return f"{fence} details {summary}\n{text.strip()}\n{fence}"


def _forwarded_summary(sender: str, subject: str, date: str) -> str:
    parts = [f"Forwarded message from {sender or 'an unknown sender'}"]
    if subject:
        parts.append(f"“{subject}”")
    if date:
        parts.append(date)
    return ", ".join(parts)


def _forwarded_block(forwarded: reading.Forwarded) -> str:
    inner = forwarded.reading
    pieces = [inner.text]
    pieces += [_forwarded_block(nested) for nested in inner.forwarded]
    if inner.files:
        names = ", ".join(_escaped(f.name) for f in inner.files)
        pieces.append(f"*Attached to it: {names}*")
    pieces += _unreadable_notes(inner.unreadable)
    text = "\n\n".join(piece for piece in pieces if piece) or "*(no text)*"
    return _details(_forwarded_summary(forwarded.sender, forwarded.subject, forwarded.date), text)


def _inline_forward_block(forward: quotes.InlineForward) -> str:
    headers = forward.headers
    sender = next((v for k, v in headers.items() if quotes.FROM_KEYS.match(k)), "")
    subject = next((v for k, v in headers.items() if quotes.SUBJECT_KEYS.match(k)), "")
    date = next((v for k, v in headers.items() if quotes.DATE_KEYS.match(k)), "")
    summary = _forwarded_summary(sender, subject, date)
    return _details(summary, forward.text or "*(no text)*")


def _unreadable_notes(unreadable: list[reading.Unreadable]) -> list[str]:
    """One sentence for the message text, one for the files that could not be read."""
    notes = []
    text_problems = sorted({u.why for u in unreadable if not u.name})
    if text_problems:
        notes.append(f"*Part of the message text could not be read ({', '.join(text_problems)}).*")
    files = [u for u in unreadable if u.name]
    if files:
        count = "1 attachment" if len(files) == 1 else f"{len(files)} attachments"
        names = ", ".join(f"{_escaped(u.name)} ({u.why})" for u in files)
        notes.append(f"*{count} could not be read: {names}*")
    return notes


@dataclass
class Letter:
    """A message ready to post: its Markdown text, its files, what could not be read."""

    pieces: list[str]  # the new text, then collapsed blocks
    files: list[reading.MailFile]
    unreadable: list[reading.Unreadable]
    body: str = ""


def letter_for(message: EmailMessage, *, keep_history: bool) -> Letter:
    """The post a message makes. Quoted history is dropped from a reply by email (it quotes
    our own notification) and folded into a collapsed block in a new thread (where it may be
    what the sender means to share), as is anything only likely to be history; forwarded
    messages are kept whole, with their .eml."""
    found = reading.read(message)
    split = quotes.split(found.text, subject=reading.header(message, "Subject"))
    pieces = [split.new]
    history = "\n\n".join([split.quoted, split.folded] if keep_history else [split.folded])
    if history.strip():
        pieces.append(_details("Earlier messages", history))
    pieces += [_inline_forward_block(forward) for forward in split.forwarded]
    pieces += [_forwarded_block(forwarded) for forwarded in found.forwarded]
    files = found.files + [f.eml for f in found.forwarded if f.eml is not None]
    return Letter([p for p in pieces if p], files, list(found.unreadable))


def within_limits(letter: Letter) -> Letter:
    """Files over the size limit are named instead of kept; a text over the length limit is
    cut at a paragraph, with a note, and kept whole as message.txt."""
    limit = settings.MAX_ATTACHMENT_BYTES
    too_large = f"over the {filesizeformat(limit)} limit".replace("\xa0", " ")
    files = []
    for item in letter.files:
        if len(item.data) > limit:
            letter.unreadable.append(reading.Unreadable(item.name, too_large))
        else:
            files.append(item)
    letter.files = files
    notes = _unreadable_notes(letter.unreadable)
    body = "\n\n".join([*letter.pieces, *notes])
    if len(body) <= thread_actions.BODY_MAX:
        letter.body = body
        return letter
    full_text = "\n\n".join(letter.pieces).encode()
    if len(full_text) <= limit:
        letter.files.append(reading.MailFile(FULL_TEXT_NAME, "text/plain", full_text))
        whole = f"the whole text is attached as {FULL_TEXT_NAME}"
    else:
        whole = f"its whole text, {too_large} for files, is in the original"
    notes.insert(0, f"*The message was too long to show in full: {whole}.*")
    room = max(0, thread_actions.BODY_MAX - sum(len(note) + 2 for note in notes))
    shown: list[str] = []
    for piece in letter.pieces:
        if len(piece) + 2 <= room:
            shown.append(piece)
            room -= len(piece) + 2
            continue
        if not piece.startswith(":::"):  # Text, not a block: cut it at a paragraph.
            head = piece[:room]
            paragraph = head.rfind("\n\n")
            shown.append((head[:paragraph] if paragraph > room // 2 else head).rstrip())
        break  # A forwarded message left out is still whole in its .eml and in the text file.
    letter.body = "\n\n".join([*shown, *notes])
    return letter
