"""Read side of spaces and threads: every query starts from threads.access."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from tidings.accounts.models import User
from tidings.threads import access
from tidings.threads.models import (
    REACTION_PALETTE,
    Attachment,
    Reaction,
    ReadMark,
    Reply,
    Space,
    SpaceLevel,
    SpaceSubscription,
    Thread,
    ThreadFollow,
    ThreadKind,
)
from tidings.workspaces.models import Workspace

if TYPE_CHECKING:
    from tidings.accounts.models import User


def space_for(person: User | None, workspace: Workspace, slug: str) -> Space:
    space = access.visible_spaces(person, workspace).filter(slug=slug).first()
    if space is None:
        raise Http404("No such space.")
    return space


def thread_for(person: User | None, thread_id: int) -> Thread:
    thread = _visible_thread(person).filter(pk=thread_id).first()
    if thread is None:
        raise Http404("No such thread.")
    return thread


def thread_for_reader(person: User, thread_id: int) -> Thread:
    """`thread_for`, with the reader's own state of the thread (`reader_state`) read in the
    same query: a thread page would otherwise ask twice more."""
    read_mark = ReadMark.objects.filter(thread=OuterRef("pk"), person=person)
    follow = ThreadFollow.objects.filter(thread=OuterRef("pk"), person=person, following=True)
    thread = (
        _visible_thread(person)
        .annotate(
            reader_read_at=Subquery(read_mark.values("read_at")[:1]),
            reader_follows=Exists(follow),
        )
        .filter(pk=thread_id)
        .first()
    )
    if thread is None:
        raise Http404("No such thread.")
    return thread


def _visible_thread(person: User | None) -> QuerySet[Thread]:
    return access.visible_threads(person).select_related(
        "space", "space__workspace", "author", "resolved_by"
    )


def reader_state(person: User, thread: Thread) -> tuple[datetime | None, bool]:
    """When the person last read the thread (None if never) and whether they follow it: from
    `thread_for_reader`'s query when the thread came from it."""
    if hasattr(thread, "reader_follows"):
        return thread.reader_read_at, thread.reader_follows
    return last_read_at(person, thread), is_following(person, thread)


def space_by_id(person: User | None, space_id: int) -> Space:
    """A space the person can see, by id; 404 for every other id."""
    space = access.visible_spaces(person).select_related("created_by").filter(pk=space_id).first()
    if space is None:
        raise Http404("No such space.")
    return space


def workspace_spaces(person: User | None, workspace: Workspace) -> QuerySet[Space]:
    """Every space of the workspace the person can see, archived ones included, by name."""
    return access.visible_spaces(person, workspace).select_related("created_by").order_by("name")


def private_space_members(person: User | None, space: Space) -> list[User]:
    """The people on a space's member list (everyone of a private space; the guests added to an
    open one), by name. 404 when the person cannot see the space: the list never leaks."""
    if not access.can_view_space(person, space):
        raise Http404("No such space.")
    return list(access.space_list_people(space))


def reply_by_id(person: User | None, reply_id: int) -> Reply:
    """A reply the person can see (not deleted, in a thread they can see), by id; 404 otherwise."""
    reply = (
        access.visible_replies(person)
        .select_related("author", "thread__space")
        .filter(pk=reply_id)
        .first()
    )
    if reply is None:
        raise Http404("No such reply.")
    return reply


def attachment_for(person: User | None, token: str, name: str) -> Attachment:
    """The file behind a download link, for people who can see where it was posted: the space
    must be visible, and the thread and reply not deleted. A file not posted yet is seen only by
    its uploader. Everything else is 404, so a link never shows that a file exists."""
    attachment = (
        Attachment.objects.select_related("space", "thread", "reply")
        .filter(token=token, name=name)
        .first()
    )
    if attachment is None or not access.can_view_space(person, attachment.space):
        raise Http404("No such file.")
    if attachment.thread is None:
        if attachment.uploader_id != person.pk:
            raise Http404("No such file.")
    elif attachment.thread.deleted_at or (attachment.reply and attachment.reply.deleted_at):
        raise Http404("No such file.")
    return attachment


def reply_for(person: User | None, thread: Thread, reply_id: int) -> Reply:
    reply = (
        access.visible_replies(person)
        .select_related("author", "thread")
        .filter(thread=thread, pk=reply_id)
        .first()
    )
    if reply is None:
        raise Http404("No such reply.")
    return reply


def _thread_list(threads: QuerySet[Thread]) -> QuerySet[Thread]:
    return threads.select_related("space", "author").order_by("-last_activity_at", "-pk")


def recent_threads(person: User | None, workspace: Workspace) -> QuerySet[Thread]:
    """Threads across the spaces of the workspace the person can see, latest activity first."""
    return _thread_list(access.visible_threads(person).filter(space__workspace=workspace))


def space_threads(
    person: User | None, space: Space, *, kind: str = "", state: str = ""
) -> QuerySet[Thread]:
    threads = access.visible_threads(person).filter(space=space)
    if kind in ThreadKind.values:
        threads = threads.filter(kind=kind)
    if state == "open":
        threads = threads.filter(resolved_at=None)
    elif state == "resolved":
        threads = threads.exclude(resolved_at=None)
    return _thread_list(threads)


def decisions(
    person: User | None, workspace: Workspace, space: Space | None = None
) -> QuerySet[Thread]:
    """Resolved threads with their outcomes, newest decision first."""
    threads = (
        access.visible_threads(person).filter(space__workspace=workspace).exclude(resolved_at=None)
    )
    if space is not None:
        threads = threads.filter(space=space)
    return threads.select_related("space", "author", "resolved_by").order_by("-resolved_at")


def space_level(person: User, space: Space) -> str:
    row = SpaceSubscription.objects.filter(space=space, person=person).first()
    return row.level if row else SpaceLevel.FOLLOW


def is_following(person: User, thread: Thread) -> bool:
    return ThreadFollow.objects.filter(thread=thread, person=person, following=True).exists()


def last_read_at(person: User, thread: Thread):
    mark = ReadMark.objects.filter(thread=thread, person=person).first()
    return mark.read_at if mark else None


def workspace_people(workspace: Workspace) -> QuerySet:
    """Active people of the workspace (who could be put on a private space's list), by name."""
    return User.objects.filter(
        is_active=True, memberships__workspace=workspace, memberships__deactivated_at=None
    ).order_by("name")


def mention_candidates(space: Space, text: str, limit: int = 8) -> list[User]:
    """People who can see the space whose name or handle starts with the typed text."""
    text = text.strip().lstrip("@")[:60]
    people = access.mentionable_people(space)
    if text:
        people = people.filter(
            Q(name__istartswith=text) | Q(email__istartswith=text) | Q(name__icontains=f" {text}")
        )
    return list(people[:limit])


@dataclass
class ReactionCount:
    emoji: str
    count: int
    mine: bool
    names: list[str] = field(default_factory=list)


@dataclass
class Post:
    """One post of a thread page: the opening post (reply None) or a reply."""

    reply: Reply | ReplyRow | None
    reactions: list[ReactionCount]
    attachments: list[Attachment]
    new_divider: bool = False

    @property
    def anchor(self) -> str:
        return f"reply-{self.reply.pk}" if self.reply else "post"

    @property
    def key(self) -> str:
        return str(self.reply.pk) if self.reply else "post"


# A reaction as a row of plain values (a long thread has hundreds: no model instances).
_REACTION_COLUMNS = ("created_at", "pk", "reply_id", "emoji", "person_id", "person__name")


def reactions_for(person: User, thread: Thread, reply: Reply | None) -> list[ReactionCount]:
    rows = Reaction.objects.filter(thread=thread, reply=reply).values_list(*_REACTION_COLUMNS)
    return _summarize(list(rows), person)


def _summarize(rows: list[tuple], person: User) -> list[ReactionCount]:
    """Reactions (`_REACTION_COLUMNS` rows) counted by emoji in the palette's order, each with
    who reacted, earliest first."""
    if not rows:  # most posts have no reactions: skip the work for them
        return []

    by_emoji: dict[str, ReactionCount] = {}
    for _created_at, _pk, _reply_id, emoji, person_id, name in sorted(rows):
        entry = by_emoji.setdefault(emoji, ReactionCount(emoji, 0, False))
        entry.count += 1
        entry.mine = entry.mine or person_id == person.pk
        entry.names.append(name)
    order = {emoji: n for n, emoji in enumerate(REACTION_PALETTE)}
    return sorted(by_emoji.values(), key=lambda r: order.get(r.emoji, 99))


class ReplyRow:
    """The columns of a reply that a thread page shows, read as plain values: building 200
    model instances (and their authors and quoted replies) costs more than the page's SQL."""

    __slots__ = (
        "pk",
        "author_id",
        "author_name",
        "body_html",
        "quote_text",
        "quoted_reply_id",
        "quoted_author_name",
        "created_at",
        "edited_at",
        "deleted_at",
    )

    def __init__(self, values: tuple) -> None:
        (
            self.pk,
            self.author_id,
            self.author_name,
            self.body_html,
            self.quote_text,
            self.quoted_reply_id,
            self.quoted_author_name,
            self.created_at,
            self.edited_at,
            self.deleted_at,
        ) = values


_REPLY_ROW_COLUMNS = (
    "pk",
    "author_id",
    "author__name",
    "body_html",
    "quote_text",
    "quoted_reply_id",
    "quoted_reply__author__name",
    "created_at",
    "edited_at",
    "deleted_at",
)


def thread_page_posts(
    person: User,
    thread: Thread,
    *,
    after_id: int = 0,
    read_at=None,
    include_opening: bool = True,
) -> tuple[Post | None, list[Post]]:
    """As `thread_posts`, with each reply a `ReplyRow` (only what a thread page shows)."""
    rows = (
        thread.replies.filter(pk__gt=after_id)
        .order_by("created_at", "pk")
        .values_list(*_REPLY_ROW_COLUMNS)
    )
    replies = [ReplyRow(values) for values in rows]
    return _posts(person, thread, replies, read_at=read_at, include_opening=include_opening)


def page_post(person: User, thread: Thread, reply: Reply | None) -> Post:
    """One post as a thread page shows it: a reply already found visible, or the opening post
    when `reply` is None."""
    if reply is None:
        opening, _replies = _posts(person, thread, [], read_at=None, include_opening=True)
        return opening
    rows = thread.replies.filter(pk=reply.pk).values_list(*_REPLY_ROW_COLUMNS)
    _opening, posts = _posts(
        person, thread, [ReplyRow(values) for values in rows], read_at=None, include_opening=False
    )
    return posts[0]


def thread_posts(
    person: User,
    thread: Thread,
    *,
    after_id: int = 0,
    read_at=None,
    include_opening: bool = True,
) -> tuple[Post | None, list[Post]]:
    """The opening post (None when only newer replies are asked for) and the replies after
    `after_id`, deleted ones included as placeholders, with reactions and attachments."""
    replies = list(
        thread.replies.filter(pk__gt=after_id)
        .select_related("author", "quoted_reply", "quoted_reply__author")
        .order_by("created_at", "pk")
    )
    return _posts(person, thread, replies, read_at=read_at, include_opening=include_opening)


def reply_post(person: User, reply: Reply) -> Post:
    """One reply (already found visible) as a post, with its reactions and attachments."""
    _opening, posts = _posts(person, reply.thread, [reply], read_at=None, include_opening=False)
    return posts[0]


def _posts(
    person: User,
    thread: Thread,
    replies: list,
    *,
    read_at,
    include_opening: bool,
) -> tuple[Post | None, list[Post]]:
    """Posts for replies already read (models or `ReplyRow`s), with reactions and files."""
    reply_ids = [r.pk for r in replies]
    reactions: dict[int | None, list[tuple]] = defaultdict(list)
    reaction_rows = Reaction.objects.filter(thread=thread).filter(
        Q(reply_id__in=reply_ids) | (Q(reply=None) if include_opening else Q(pk__in=[]))
    )
    for row in reaction_rows.values_list(*_REACTION_COLUMNS):
        reactions[row[2]].append(row)
    attachments: dict[int | None, list[Attachment]] = defaultdict(list)
    for attachment in Attachment.objects.filter(thread=thread).order_by("pk"):
        attachments[attachment.reply_id].append(attachment)
    opening = None
    if include_opening:
        opening = Post(None, _summarize(reactions[None], person), attachments[None])
    posts = []
    divider_placed = False
    for reply in replies:
        deleted = reply.deleted_at is not None
        post = Post(
            reply,
            [] if deleted else _summarize(reactions[reply.pk], person),
            [] if deleted else attachments[reply.pk],
        )
        is_new = read_at is not None and reply.created_at > read_at
        if is_new and not divider_placed and reply.author_id != person.pk:
            post.new_divider = divider_placed = True
        posts.append(post)
    return opening, posts


def space_levels(person: User) -> list[dict[str, object]]:
    """Each space the person sees and is not archived, with how much of it reaches them."""
    levels = dict(SpaceSubscription.objects.filter(person=person).values_list("space_id", "level"))
    spaces = (
        access.visible_spaces(person)
        .filter(archived_at=None)
        .select_related("workspace")
        .order_by("workspace__name", "name")
    )
    return [{"space": space, "level": levels.get(space.pk, SpaceLevel.FOLLOW)} for space in spaces]
