"""Read side of the inbox: every list starts from threads the person can still see."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import Truncator

from tidings.inbox.models import InboxItem
from tidings.search.index import plain_text
from tidings.workspaces.access import visible_threads

if TYPE_CHECKING:
    from tidings.accounts.models import User

TABS = ("open", "snoozed", "done")
EXCERPT_CHARS = 180


def _items(person: User | None) -> QuerySet[InboxItem]:
    if person is None or not person.is_authenticated:
        return InboxItem.objects.none()
    return InboxItem.objects.filter(person=person, thread__in=visible_threads(person).values("pk"))


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


def open_inbox_count(person: User | None) -> int:
    return open_items(person).count()


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


def _ready(items: QuerySet[InboxItem]) -> list[InboxItem]:
    """Load what a row shows; each item gets `excerpt`, the latest words as plain text."""
    rows = list(items.select_related("thread__space__workspace", "latest_reply", "actor"))
    for item in rows:
        reply = item.latest_reply
        source = reply.body if reply is not None and reply.deleted_at is None else item.thread.body
        item.excerpt = Truncator(" ".join(plain_text(source).split())).chars(EXCERPT_CHARS)
    return rows


def tab_items(person: User | None, tab: str, limit: int = 100) -> list[InboxItem]:
    """One tab of the inbox (open, snoozed or done), ready to show."""
    lists = {"open": open_items, "snoozed": snoozed_items, "done": done_items}
    return _ready(lists.get(tab, open_items)(person)[:limit])


def tab_counts(person: User | None) -> dict[str, int]:
    return {"open": open_items(person).count(), "snoozed": snoozed_items(person).count()}


def item_row(person: User | None, item_id: int) -> InboxItem | None:
    """One of the person's own items, ready to show, or None."""
    rows = _ready(_items(person).filter(pk=item_id))
    return rows[0] if rows else None
