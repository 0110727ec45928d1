"""@mentions: `@handle`, where the handle is the local part of a person's email."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.container import container_plugin

from tidings.workspaces.access import mentionable_people

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


def people_by_handle(space: Space) -> dict[str, list[User]]:
    found: dict[str, list[User]] = {}
    for person in mentionable_people(space):
        found.setdefault(person.handle.lower(), []).append(person)
    return found


def find_mentions(text: str, space: Space) -> list[User]:
    """People who can see the space and are @mentioned in the text (code and links don't count)."""
    if "@" not in text:
        return []
    handles: list[str] = []
    for token in mention_text_tokens(parser().parse(text)):
        handles.extend(match.group(1).lower() for match in MENTION_RE.finditer(token.content))
    if not handles:
        return []
    known = people_by_handle(space)
    people: dict[int, User] = {}
    for handle in handles:
        for person in known.get(handle, []):
            people[person.pk] = person
    return list(people.values())
