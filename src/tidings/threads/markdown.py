"""Markdown to safe HTML: markdown-it-py renders, nh3 sanitizes with an explicit allow list."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import unquote, urlsplit

import nh3
from django.urls import Resolver404, resolve
from markdown_it.token import Token

from tidings.threads.mentions import Mentionable, mention_text_tokens, mentionable, parser

if TYPE_CHECKING:
    from tidings.accounts.models import User
    from tidings.threads.models import Space

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "del",
    "s",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "a",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "span",
    "details",
    "summary",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
}
ALLOWED_CLASSES = {
    "span": {"mention"},
    "code": {
        f"language-{lang}"
        for lang in (
            "python",
            "js",
            "javascript",
            "ts",
            "typescript",
            "html",
            "css",
            "sql",
            "bash",
            "sh",
            "json",
            "yaml",
            "go",
            "rust",
            "java",
            "c",
            "cpp",
            "diff",
            "text",
        )
    },
}
URL_SCHEMES = {"http", "https", "mailto"}
BLOCK_END_RE = re.compile(r"<br\s*/?>|<hr\s*/?>|</(?:p|li|h\d|td|th|tr|pre|blockquote)>")
TAG_RE = re.compile(r"<[^>]+>")


# The only addresses a picture in a post may load: an attachment (checked against the reader's
# access when served), or a recording's poster. Fetching either changes nothing, whereas any
# other address, even of this server, would be fetched with the reader's cookies.
PICTURE_ROUTES = {"threads:file", "recordings:media"}
POSTER_FILE = re.compile(r"poster\.[a-z0-9]{1,5}")


def is_own_picture(src: str) -> bool:
    """Whether `src` is exactly the path of an attachment or a recording's poster: no other
    host, no query, no dot segments (encoded or not), no backslashes or control characters."""
    if not src.startswith("/") or src.startswith("//") or "\\" in src:
        return False
    parts = urlsplit(src)
    if parts.scheme or parts.netloc or parts.query or parts.fragment or "#" in src:
        return False
    # Browsers read %2e as a dot and some servers %2f and %5c as slashes: a segment's decoded
    # form must be an ordinary name.
    segments = [unquote(segment) for segment in parts.path.split("/")[1:]]
    for segment in segments:
        if segment in {"", ".", ".."} or re.search(r"[/\\\x00-\x1f\x7f]", segment):
            return False
    try:
        match = resolve("/" + "/".join(segments))
    except Resolver404:
        return False
    if match.view_name == "recordings:media":
        return bool(POSTER_FILE.fullmatch(match.kwargs.get("filename", "")))
    return match.view_name in PICTURE_ROUTES


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    # The last word on pictures, whatever the renderer let through.
    if tag == "img" and attribute == "src":
        return value if is_own_picture(value) else None
    return value


def _pictures_as_links(tokens: list[Token]) -> None:
    """A picture from anywhere else becomes a link to it, its alt text (or address) the
    link's text: the reader sees what was meant and decides whether to open it."""
    for block in tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        for child in block.children:
            src = child.attrGet("src") if child.type == "image" else None
            if child.type != "image" or is_own_picture(str(src or "")):
                children.append(child)
                continue
            link_open = Token("link_open", "a", 1, attrs={"href": str(src or "")})
            if child.attrGet("title"):
                link_open.attrSet("title", str(child.attrGet("title")))
            label = child.children or [Token("text", "", 0, content=str(src or ""))]
            children.extend([link_open, *label, Token("link_close", "a", -1)])
        block.children = children


def _mention_tokens(token: Token, known: Mentionable, mentioned: dict[int, User]) -> list[Token]:
    """Split one text token into text and mention pieces, noting who was mentioned."""
    pieces: list[Token] = []
    position = 0
    for start, end, people in known.find(token.content):
        mentioned.update((person.pk, person) for person in people)
        if start > position:
            pieces.append(Token("text", "", 0, content=token.content[position:start]))
        span = Token("html_inline", "", 0)
        span.content = f'<span class="mention">@{html.escape(people[0].name)}</span>'
        pieces.append(span)
        position = end
    if not pieces:
        return [token]
    if position < len(token.content):
        pieces.append(Token("text", "", 0, content=token.content[position:]))
    return pieces


def plain_text(rendered: str) -> str:
    """The text a reader sees in rendered HTML, whitespace collapsed."""
    text = BLOCK_END_RE.sub(" ", rendered or "")
    return " ".join(html.unescape(TAG_RE.sub("", text)).split())


class RenderedPost(NamedTuple):
    html: str
    mentioned: list[User]  # people who can see the space and are @mentioned


def render_markdown(text: str, *, space: Space) -> str:
    """Safe HTML for Markdown written in a space; @mentions of people who can see it highlighted."""
    return render_post(text, space=space).html


def render_post(text: str, *, space: Space) -> RenderedPost:
    """Render a post once: its safe HTML and the people it @mentions (code and links don't
    count), so posting does not parse the text and look up people twice."""
    md = parser()
    tokens = md.parse(text or "")
    _pictures_as_links(tokens)
    mentioned: dict[int, User] = {}
    if "@" in (text or ""):
        known = mentionable(space)
        targets = set(map(id, mention_text_tokens(tokens)))
        for block in tokens:
            if block.type == "inline" and block.children:
                children: list[Token] = []
                for child in block.children:
                    if id(child) in targets:
                        children.extend(_mention_tokens(child, known, mentioned))
                    else:
                        children.append(child)
                block.children = children
    rendered = md.renderer.render(tokens, md.options, {})
    return RenderedPost(_sanitize(rendered), list(mentioned.values()))


def _sanitize(rendered: str) -> str:
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_filter_attribute,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener",
        clean_content_tags={"script", "style"},
        strip_comments=True,
        # Code blocks and tables scroll sideways on narrow screens: keyboards must reach them.
        set_tag_attribute_values={"pre": {"tabindex": "0"}, "table": {"tabindex": "0"}},
    )
