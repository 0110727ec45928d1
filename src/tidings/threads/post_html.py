"""The posts of a thread page as HTML: the opening post, the replies, the live updates and a
post's own actions page. A long thread shows hundreds of posts, and the template loop over them
was most of the page's server time, so the loop is Python: each value escaped as the template
engine escapes it (`conditional_escape`), each post's markup kept short. Names, times, URLs and
flags come ready from the page (`pages.threads._shown`), and a post's players come rendered by
it (the player is a template of an app above this one).

What a person may do with "this post" (remind, react, ask, delete) is rendered once per page
(_post_tools.html, filled by js/post-tools.js); each post keeps a link to a page of its own
actions, which works without JavaScript."""

from __future__ import annotations

import html
from collections.abc import Iterable

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from tidings.threads.models import Attachment, Thread
from tidings.threads.queries import ReactionCount
from tidings.threads.templatetags.threads_tags import attachment_url, file_size, long_time

NEW_DIVIDER = (
    '<div class="new-divider" role="separator" id="new"><span>New since you last read</span></div>'
)
DELETED = (
    '<article class="post post-deleted" id="{}"><p class="muted">This reply was deleted.</p>'
    "</article>\n"
)
ORIGINAL = (
    '<a class="post-tool post-original" href="{}"'
    ' title="The email this was posted from, as it was received">View original</a>'
)


def esc(value: object) -> str:
    """Django's `conditional_escape` without its checks for lazy strings, which cost more than
    the escaping itself thousands of times a page (none of these values is lazy)."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def posts_html(
    csrf_input: str,
    thread: Thread,
    posts: list[dict],
    *,
    react_url: str,
    actions_page: bool = False,
) -> SafeString:
    """The posts in order (`pages.threads._shown`'s rows), with the new-messages divider where a
    post carries it. On a post's own actions page its time links back to the thread and shows
    the full time, and there is no "Actions" link."""
    csrf_input = esc(csrf_input)
    back = esc(reverse("threads:thread", kwargs={"thread_id": thread.pk})) if actions_page else ""
    html: list[str] = []
    for post in posts:
        if post["new_divider"]:
            html.append(NEW_DIVIDER)
        html.append("\n")
        anchor = esc(post["anchor"])
        if post["deleted"]:
            html.append(DELETED.format(anchor))
            continue
        opening = "" if post["reply"] else " post-opening"
        own = " data-own" if post["own"] else ""
        html.append(
            f'<article class="post{opening}" id="{anchor}"{own}>'
            f'<header data-i="{esc(post["initial"])}"><strong>{esc(post["author_name"])}</strong> '
            f'<a href="{back}#{anchor}"><time datetime="{esc(post["time_iso"])}"'
        )
        if actions_page:
            html.append(f' title="{esc(long_time(post["local_time"]))}"')
        html.append(f">{esc(post['time_text'])}</time></a>")
        if post["edited_url"]:
            html.append(
                f' <a class="edited" href="{esc(post["edited_url"])}"'
                f' title="Edited {esc(post["edited_title"])}. See earlier versions.">edited</a>'
            )
        if post["original_url"]:
            html.append(ORIGINAL.format(esc(post["original_url"])))
        if not actions_page:
            html.append(f'<a class="post-more" href="{esc(post["actions_url"])}">Actions</a>')
        html.append("</header>")
        if post["quote_author"]:
            html.append(
                f'<blockquote class="post-quote"><a href="{esc(post["quote_href"])}">'
                f"{esc(post['quote_author'])} wrote:</a>"
                f"<p>{esc(post['quote_text'])}</p></blockquote>"
            )
        if moment := post["moment"]:
            html.append(_moment_link(moment))
        html.append(f'<div class="post-body">{post["body_html"]}</div>')  # sanitized Markdown
        html.extend(_asked(asked, csrf_input) for asked in post.get("asks", ()))
        html.append(post["players_html"])
        if post["attachments"]:
            html.append(_attachments(post["attachments"]))
        if post["reactions"]:
            html.append(
                reactions_html(
                    post["key"], post["reactions"], csrf_input=csrf_input, react_url=react_url
                )
            )
        html.append("</article>")
    html.append("\n")
    return mark_safe("".join(html))


def reactions_html(
    key: str, reactions: Iterable[ReactionCount], *, csrf_input: str, react_url: str
) -> SafeString:
    """A post's reactions (`key`: "post" for the opening post, else the reply's id); the "add a
    reaction" picker is rendered once per page (_post_tools.html) and on the post's own actions
    page. Its forms swap the whole row, as they inherit from it."""
    on_reply, key, csrf_input, react_url = key != "post", esc(key), esc(csrf_input), esc(react_url)
    reply = f'<input type="hidden" name="reply_id" value="{key}">' if on_reply else ""
    forms = []
    for r in reactions:
        emoji, count, names = esc(r.emoji), esc(r.count), ", ".join(esc(n) for n in r.names)
        forms.append(
            f'<form method="post" action="{react_url}" hx-post="{react_url}">{csrf_input}{reply}'
            f'<button class="reaction{" is-mine" if r.mine else ""}" name="emoji" value="{emoji}"'
            f' title="{names}" aria-pressed="{"true" if r.mine else "false"}"'
            f' aria-label="{emoji} {count}, reacted by {names}">{emoji} <span>{count}</span>'
            "</button></form>"
        )
    return mark_safe(
        f'<div class="reactions" id="reactions-{key}" hx-target="this" hx-swap="outerHTML">'
        f"{''.join(forms)}</div>\n"
    )


def _moment_link(moment: dict) -> str:
    """A reply made at a moment of a recording: "▶ 0:42", which seeks the player there."""
    token, time = esc(moment["token"]), esc(moment["time"])
    label = f"Play {esc(moment['title'])} from {time}"
    return (
        f'<a class="moment-link" href="#rec-{token}" data-seek="{token}"'
        f' data-ms="{esc(moment["ms"])}" aria-label="{label}" title="{label}">'
        f'<span aria-hidden="true">▶</span> {time}</a>'
    )


def _asked(asked: dict, csrf_input: str) -> str:
    """Who was asked to respond to the post, who answered, and "Withdraw" for the asker."""
    people = ", ".join(
        f'<span class="ask-status is-answered">{esc(p["name"])}'
        ' <span aria-hidden="true">✓</span> answered</span>'
        if p["answered"]
        else f'<span class="ask-status">{esc(p["name"])} — waiting</span>'
        for p in asked["people"]
    )
    withdraw = (
        f'<form class="ask-withdraw" method="post" action="{esc(asked["cancel_url"])}">'
        f'{csrf_input}<button class="post-tool">Withdraw</button></form>'
        if asked["cancel_url"]
        else ""
    )
    overdue = " is-overdue" if asked["overdue"] else ""
    return (
        f'<div class="post-asks{overdue}"><span class="post-asks-label">{esc(asked["asker"])}'
        f" asked:</span>\n    {people}\n"
        f'    <span class="ask-due">· {esc(asked["due"])}</span>\n'
        f"    {withdraw}\n  </div>"
    )


def _attachments(attachments: list[Attachment]) -> str:
    links = []
    for a in attachments:
        url, name = esc(attachment_url(a)), esc(a.name)
        if a.is_image:
            links.append(
                f'<a class="attachment-image" href="{url}">'
                f'<img src="{url}" alt="{name}" loading="lazy"></a>'
            )
        else:
            links.append(
                f'<a class="file-chip" href="{url}" download>'
                '<span class="file-chip-icon" aria-hidden="true">📎</span>'
                f'<span class="file-chip-name">{name}</span>'
                f"<small>{esc(file_size(a.size))}</small></a>"
            )
    # The whitespace the page has always had here, kept so that its HTML is unchanged.
    items = "".join(f"\n        \n          {link}\n        \n      " for link in links)
    return f'\n    <div class="attachments">\n      {items}\n    </div>\n'
