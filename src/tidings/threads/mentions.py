"""@mentions: `@handle`, where the handle is the local part of a person's email."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.container import container_plugin

from tidings.threads.access import mentionable_people

if TYPE_CHECKING:
    from tidings.accounts.models import User
    from tidings.threads.models import Space

# Not preceded by a word character, dot or @, so email addresses are not mentions.
MENTION_RE = re.compile(r"(?<![\w.@])@([A-Za-z0-9_+\-]+(?:\.[A-Za-z0-9_+\-]+)*)")


# Building the rule chains costs more than parsing a post, so each thread keeps one parser
# (not shared: the linkify matcher keeps state between its test and match calls).
_local = threading.local()


def _render_details(
    renderer: object, tokens: Sequence[Token], idx: int, options: object, env: object
) -> str:
    """`::: details Summary` … `:::` opens as a collapsed block (a forwarded message, folded
    quoted history); the summary is plain text."""
    token = tokens[idx]
    if token.nesting == 1:
        summary = token.info.strip()[len("details") :].strip()
        return f"<details><summary>{html.escape(summary)}</summary>\n"
    return "</details>\n"


def parser() -> MarkdownIt:
    """The Markdown dialect of Tidings: CommonMark, tables, strikethrough, autolinks and
    collapsed `::: details` blocks; no HTML."""
    if not hasattr(_local, "parser"):
        md = MarkdownIt("commonmark", {"html": False, "linkify": True}).enable(
            ["table", "strikethrough", "linkify"]
        )
        container_plugin(md, "details", render=_render_details)
        _local.parser = md
    return _local.parser


def mention_text_tokens(tokens: list[Token]) -> Iterator[Token]:
    """Plain text tokens where a mention counts: not inside links (code is its own token type)."""
    for block in tokens:
        if block.type != "inline" or not block.children:
            continue
        link_depth = 0
        for child in block.children:
            if child.type == "link_open":
                link_depth += 1
            elif child.type == "link_close":
                link_depth -= 1
            elif child.type == "text" and link_depth == 0 and "@" in child.content:
                yield child


# Where a mention may start: an @ not preceded by a word character, dot or @.
MENTION_START_RE = re.compile(r"(?<![\w.@])@")
FIRST_WORD_RE = re.compile(r"\w+")


class Mentionable:
    """The people who may be @mentioned in a space, found by what was typed after the @:
    a full name ("@Leo Park", the longest that fits), a handle ("@leo.park"), or a first name
    alone ("@Leo"). A name that two people share stays text."""

    def __init__(self, people: Iterable[User]) -> None:
        self.by_handle: dict[str, list[User]] = {}
        self.by_name: dict[str, list[User]] = {}
        self.by_first_name: dict[str, list[User]] = {}
        for person in people:
            self.by_handle.setdefault(person.handle.lower(), []).append(person)
            name = " ".join(person.name.split())
            if name:
                self.by_name.setdefault(name.casefold(), []).append(person)
                first = name.split(" ", 1)[0]
                self.by_first_name.setdefault(first.casefold(), []).append(person)
        # Lengths of the names as typed, longest first, so "@Leo Park" wins over "@Leo".
        self.name_lengths = sorted({len(name) for name in self.by_name}, reverse=True)

    def find(self, text: str) -> Iterator[tuple[int, int, list[User]]]:
        """(start, end, people) for each mention in the text, in order."""
        position = 0
        for at in MENTION_START_RE.finditer(text):
            start = at.start()
            if start < position:
                continue  # inside the name of the mention just found
            found = self._at(text, start + 1)
            if found is not None:
                end, people = found
                position = end
                yield start, end, people

    def _at(self, text: str, after: int) -> tuple[int, list[User]] | None:
        for length in self.name_lengths:
            end = after + length
            if end > len(text) or _word_goes_on(text, end):
                continue
            people = self.by_name.get(text[after:end].casefold())
            if people:
                return (end, people) if len(people) == 1 else None
        handle = MENTION_RE.match(text, after - 1)
        if handle and handle.group(1).lower() in self.by_handle:
            return handle.end(), self.by_handle[handle.group(1).lower()]
        first = FIRST_WORD_RE.match(text, after)
        if first:
            people = self.by_first_name.get(first.group().casefold(), [])
            if len(people) == 1:
                return first.end(), people
        return None


def _word_goes_on(text: str, index: int) -> bool:
    """Whether the word at text[index - 1] carries on at text[index] ("@Leo Parker")."""
    return index < len(text) and (text[index].isalnum() or text[index] == "_")


def mentionable(space: Space) -> Mentionable:
    return Mentionable(mentionable_people(space))


def find_mentions(text: str, space: Space) -> list[User]:
    """People who can see the space and are @mentioned in the text (code and links don't count)."""
    if "@" not in text:
        return []
    tokens = list(mention_text_tokens(parser().parse(text)))
    if not tokens:
        return []
    known = mentionable(space)
    people: dict[int, User] = {}
    for token in tokens:
        for _start, _end, found in known.find(token.content):
            people.update((person.pk, person) for person in found)
    return list(people.values())
