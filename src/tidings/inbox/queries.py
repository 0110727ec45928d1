"""Read side of the inbox: every list starts from threads the person can still see."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.text import Truncator

from tidings.inbox.models import (
    InboxItem,
    Reason,
    Reminder,
    Request,
    RequestRecipient,
    ScheduledPost,
    ScheduleState,
)
from tidings.recordings import queries as recording_queries
from tidings.search.index import OUTCOME_SEPARATOR, plain_text
from tidings.search.models import SearchDocument
from tidings.threads.access import visible_spaces, visible_threads

if TYPE_CHECKING:
    from tidings.accounts.models import User
    from tidings.threads.models import Thread

TABS = ("open", "snoozed", "done")
EXCERPT_CHARS = 180
# Enough plain text for an excerpt once runs of spaces are folded.
EXCERPT_SOURCE_CHARS = 1000


def _items(person: User | None, space_ids: list[int] | None = None) -> QuerySet[InboxItem]:
    """The person's items in the spaces they can see (`space_ids` when the caller has them)."""
    if person is None or not person.is_authenticated:
        return InboxItem.objects.none()
    # The visible spaces are a short list: resolving them first keeps this a join on the
    # thread's primary key instead of a subquery listing every visible thread (same rule as
    # access.visible_threads: a visible space, not deleted).
    if space_ids is None:
        space_ids = list(visible_spaces(person).values_list("pk", flat=True))
    return InboxItem.objects.filter(
        person=person, thread__space_id__in=space_ids, thread__deleted_at=None
    )


def open_items(person: User | None) -> QuerySet[InboxItem]:
    """Items that need the person now: not done, not snoozed into the future, still visible.
    A snooze that has run out counts as open, so snoozed items come back without a job."""
    now = timezone.now()
    return (
        _items(person)
        .filter(done_at=None)
        .filter(Q(snoozed_until=None) | Q(snoozed_until__lte=now))
        .order_by("-updated_at", "-pk")
    )


def open_inbox_count(person: User | None, space_ids: list[int] | None = None) -> int:
    """The top bar's count: the open tab's, counted where the tabs are counted (`space_ids`:
    the spaces the person can see, when the caller has them)."""
    return tab_counts(person, space_ids)["open"]


def snoozed_items(person: User | None) -> QuerySet[InboxItem]:
    """Items hidden until a time still ahead, soonest first."""
    return (
        _items(person)
        .filter(done_at=None, snoozed_until__gt=timezone.now())
        .order_by("snoozed_until", "-pk")
    )


def done_items(person: User | None) -> QuerySet[InboxItem]:
    """Items the person marked done, most recent first."""
    return _items(person).exclude(done_at=None).order_by("-done_at", "-pk")


def _ready(person: User | None, items: QuerySet[InboxItem]) -> list[InboxItem]:
    """Load what a row shows; each item gets `excerpt`, the latest words as plain text, and
    `recording`, the recording of the post it is about (see `_with_recordings`)."""
    # The search index already holds each post as plain text: reading its start is much
    # cheaper than parsing every item's Markdown again on each inbox page.
    indexed = SearchDocument.objects.values(start=Substr("body", 1, EXCERPT_SOURCE_CHARS))
    rows = list(
        items.select_related("thread__space__workspace", "latest_reply", "actor").annotate(
            reply_text=Subquery(indexed.filter(reply_id=OuterRef("latest_reply_id"))[:1]),
            opening_text=Subquery(
                indexed.filter(thread_id=OuterRef("thread_id"), reply_id=None, recording_id=None)[
                    :1
                ]
            ),
        )
    )
    for item in rows:
        reply = item.latest_reply
        if item.reason == Reason.RESOLUTION and item.thread.resolved_at is not None:
            text = plain_text(item.thread.outcome)  # the badge says "Resolved"
        elif reply is not None and reply.deleted_at is None:
            text = item.reply_text if item.reply_text is not None else plain_text(reply.body)
        elif item.opening_text is not None:
            text = item.opening_text.split(OUTCOME_SEPARATOR)[0]  # the post, not its outcome
        else:
            text = plain_text(item.thread.body)
        item.excerpt = Truncator(" ".join(text.split())).chars(EXCERPT_CHARS)
    _with_recordings(person, rows)
    return rows


def _with_recordings(person: User | None, rows: list[InboxItem]) -> None:
    """Give each item `recording`: the recording of the post it is about (its latest reply,
    or the opening post of a new thread), or None, with `recording_card` for its thumbnail.
    A reply that is only a recording has no words of its own: its excerpt becomes the start
    of what is said in it. One query for the whole page, through the recordings the person
    may see."""
    if not rows:
        return
    about = {item.pk: _post_of(item) for item in rows}
    posts = [post for post in about.values() if post is not None]
    found = recording_queries.recordings_of_posts(
        recording_queries.visible_in_threads(person, {item.thread_id for item in rows}),
        reply_ids={reply_id for _, reply_id in posts if reply_id},
        opening_thread_ids={thread_id for thread_id, reply_id in posts if not reply_id},
    )
    for item in rows:
        post = about[item.pk]
        recording = found.of(*post) if post else None
        item.recording = recording
        if recording is None:
            continue
        item.recording_card = recording_queries.thumbnail(person, recording)
        item.recording_label = recording_queries.label(recording)
        if not item.excerpt and recording.said:
            said = Truncator(" ".join(recording.said.split())).chars(EXCERPT_CHARS - 2)
            item.excerpt = f"“{said}”"


def _post_of(item: InboxItem) -> tuple[int, int | None] | None:
    """(thread id, reply id or None for the opening post) of the post an item is about; None
    for a resolution, which is about the outcome."""
    if item.reason == Reason.RESOLUTION and item.thread.resolved_at is not None:
        return None
    reply = item.latest_reply
    if reply is not None:
        return None if reply.deleted_at is not None else (item.thread_id, reply.pk)
    return item.thread_id, None


def _tab(person: User | None, tab: str) -> QuerySet[InboxItem]:
    """The items of one tab; an unknown tab name means the open list."""
    lists = {"open": open_items, "snoozed": snoozed_items, "done": done_items}
    return lists.get(tab, open_items)(person)


def tab_items(person: User | None, tab: str, limit: int = 100, offset: int = 0) -> list[InboxItem]:
    """One page of a tab of the inbox (open, snoozed or done), ready to show."""
    offset = max(offset, 0)
    return _ready(person, _tab(person, tab)[offset : offset + max(limit, 0)])


def tab_count(person: User | None, tab: str) -> int:
    """How many items one tab holds."""
    return _tab(person, tab).count()


def tab_counts(person: User | None, space_ids: list[int] | None = None) -> dict[str, int]:
    """How many items the open and snoozed tabs hold, in one query (same rules as
    open_items and snoozed_items: a snooze that has run out counts as open)."""
    now = timezone.now()
    counts = (
        _items(person, space_ids)
        .filter(done_at=None)
        .aggregate(
            open=Count("pk", filter=Q(snoozed_until=None) | Q(snoozed_until__lte=now)),
            snoozed=Count("pk", filter=Q(snoozed_until__gt=now)),
        )
    )
    return {"open": counts["open"] or 0, "snoozed": counts["snoozed"] or 0}


def item_row(person: User | None, item_id: int) -> InboxItem | None:
    """One of the person's own items, ready to show, or None."""
    rows = _ready(person, _items(person).filter(pk=item_id))
    return rows[0] if rows else None


# --- Reminders and requests.


def pending_reminders(person: User | None) -> QuerySet[Reminder]:
    """The person's reminders still to fire, on threads they can see, soonest first."""
    if person is None or not person.is_authenticated:
        return Reminder.objects.none()
    return (
        Reminder.objects.filter(
            person=person,
            fired_at=None,
            cancelled_at=None,
            thread__in=visible_threads(person).values("pk"),
        )
        .select_related("thread__space", "reply")
        .order_by("remind_at", "pk")
    )


def waiting_requests(person: User | None) -> QuerySet[RequestRecipient]:
    """Requests made to the person, not answered yet, on threads they can see, due first.
    These are pinned above the inbox list."""
    if person is None or not person.is_authenticated:
        return RequestRecipient.objects.none()
    return (
        RequestRecipient.objects.filter(
            person=person,
            answered_at=None,
            request__thread__in=visible_threads(person).values("pk"),
        )
        .select_related("request__thread__space", "request__asker")
        .order_by("request__due_at", "pk")
    )


def requests_asked(person: User | None) -> QuerySet[Request]:
    """Requests the person asked, on threads they can still see, newest first."""
    if person is None or not person.is_authenticated:
        return Request.objects.none()
    return (
        Request.objects.filter(asker=person, thread__in=visible_threads(person).values("pk"))
        .select_related("thread__space")
        .prefetch_related("recipients__person")
        .order_by("-created_at", "-pk")
    )


def thread_requests(thread: Thread) -> list[Request]:
    """Every request on a thread the caller found visible, with who was asked."""
    return list(
        Request.objects.filter(thread=thread)
        .select_related("asker")
        .prefetch_related("recipients__person")
        .order_by("created_at", "pk")
    )


def scheduled_posts(person: User | None) -> QuerySet[ScheduledPost]:
    """The person's posts waiting to be sent, in spaces they can still see, soonest first."""
    if person is None or not person.is_authenticated:
        return ScheduledPost.objects.none()
    return (
        ScheduledPost.objects.filter(
            author=person,
            state=ScheduleState.SCHEDULED,
            space__in=visible_spaces(person).values("pk"),
        )
        .select_related("space", "thread")
        .order_by("send_at", "pk")
    )


def unsent_posts(person: User | None) -> QuerySet[ScheduledPost]:
    """The person's scheduled posts of the last week that could not be sent, newest first, to
    say why."""
    if person is None or not person.is_authenticated:
        return ScheduledPost.objects.none()
    since = timezone.now() - timedelta(days=7)
    return ScheduledPost.objects.filter(
        author=person, state=ScheduleState.FAILED, send_at__gte=since
    ).order_by("-send_at", "-pk")
