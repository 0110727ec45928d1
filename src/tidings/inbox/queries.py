"""Read side of the inbox."""

from django.db.models import Q, QuerySet
from django.utils import timezone

from tidings.inbox.models import InboxItem
from tidings.workspaces.access import visible_threads


def open_items(person) -> QuerySet[InboxItem]:
    """Items that need the person now: not done, not snoozed into the future, still visible."""
    now = timezone.now()
    return (
        InboxItem.objects.filter(person=person, done_at=None)
        .filter(Q(snoozed_until=None) | Q(snoozed_until__lte=now))
        .filter(thread__in=visible_threads(person).values("pk"))
    )


def open_inbox_count(person) -> int:
    return open_items(person).count()
