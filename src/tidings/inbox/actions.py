"""Every change to inboxes: fan-out of new activity, and a person triaging their items."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from tidings.inbox.models import InboxItem, Reason
from tidings.threads.models import SpaceLevel, SpaceSubscription, ThreadFollow
from tidings.workspaces.access import mentionable_people, visible_threads

if TYPE_CHECKING:
    from tidings.accounts.models import User
    from tidings.threads.models import Reply, Thread

# Strength of a reason: a stronger one replaces a weaker one while the item is unread.
REASON_RANK = {Reason.NEW_THREAD: 0, Reason.REPLY: 1, Reason.MENTION: 2}
SNOOZE_PRESETS = {
    "later": "Later today",
    "tomorrow": "Tomorrow morning",
    "monday": "Next Monday",
}
MAX_SNOOZE = dt.timedelta(days=366)


def _ids(people: Iterable[User | int] | None) -> set[int]:
    return {p if isinstance(p, int) else p.pk for p in (people or [])}


def _viewer_ids(thread: Thread) -> set[int]:
    """Who can see the thread right now (checked at delivery, not when the event happened)."""
    if thread.deleted_at is not None:
        return set()
    return set(mentionable_people(thread.space).values_list("pk", flat=True))


def fan_out_thread_posted(thread: Thread, mentioned: Iterable[User | int] | None) -> int:
    """Put a new thread in the inboxes of everyone who follows its space (no subscription row
    means follow) and of mentioned people, even if they muted the space. Never the author, never
    someone who cannot see the space. Safe to run twice. Returns how many items it touched."""
    viewers = _viewer_ids(thread) - {thread.author_id}
    quiet = set(
        SpaceSubscription.objects.filter(space_id=thread.space_id, person_id__in=viewers)
        .exclude(level=SpaceLevel.FOLLOW)
        .values_list("person_id", flat=True)
    )
    mentioned_ids = _ids(mentioned) & viewers
    touched = 0
    for person_id in sorted((viewers - quiet) | mentioned_ids):
        reason = Reason.MENTION if person_id in mentioned_ids else Reason.NEW_THREAD
        touched += _deliver(person_id, thread, reason, actor_id=thread.author_id, reply=None)
    return touched


def fan_out_reply_posted(reply: Reply, mentioned: Iterable[User | int] | None) -> int:
    """Bring a reply to everyone following its thread and to mentioned people, except the
    replier and anyone who can no longer see the thread. One item per person and thread:
    it is refreshed, reopened if done, and counts this reply once however often this runs."""
    thread = reply.thread
    if reply.deleted_at is not None:
        return 0
    viewers = _viewer_ids(thread) - {reply.author_id}
    followers = set(
        ThreadFollow.objects.filter(thread=thread, following=True).values_list(
            "person_id", flat=True
        )
    )
    mentioned_ids = _ids(mentioned) & viewers
    touched = 0
    for person_id in sorted((followers & viewers) | mentioned_ids):
        reason = Reason.MENTION if person_id in mentioned_ids else Reason.REPLY
        touched += _deliver(person_id, thread, reason, actor_id=reply.author_id, reply=reply)
    return touched


def fan_out_mentions_added(
    thread: Thread, reply: Reply | None, mentioned: Iterable[User | int], *, actor_id: int | None
) -> int:
    """An edit added @mentions: bring the thread (at the edited reply, when it is one) to the
    newly mentioned people as a mention, unread and back from done. Only people who can still
    see the thread, never the editor. A reply already counted is not counted again, and running
    twice changes nothing more. Returns how many items it touched."""
    if thread.deleted_at is not None or (reply is not None and reply.deleted_at is not None):
        return 0
    mentioned_ids = _ids(mentioned) & (_viewer_ids(thread) - {actor_id})
    return sum(
        _deliver_mention(person_id, thread, actor_id=actor_id, reply=reply)
        for person_id in sorted(mentioned_ids)
    )


def _deliver_mention(
    person_id: int, thread: Thread, *, actor_id: int | None, reply: Reply | None
) -> int:
    now = timezone.now()
    reply_id = reply.pk if reply else None
    with transaction.atomic():
        item = _locked_item_or_create(
            person_id, thread, reason=Reason.MENTION, actor_id=actor_id, reply=reply, now=now
        )
        if item is None:
            return 1
        already = (
            item.reason == Reason.MENTION
            and item.is_unread
            and item.done_at is None
            and item.latest_reply_id == reply_id
        )
        if already:  # This mention is waiting in the inbox already.
            return 0
        still_unread = item.is_unread and item.done_at is None
        counted = reply is None or (
            item.last_counted_reply_id is not None and item.last_counted_reply_id >= reply.pk
        )
        if not counted:
            item.last_counted_reply_id = reply.pk
            item.activity_count = item.activity_count + 1 if still_unread else 1
        elif not still_unread:
            item.activity_count = 1
        item.reason = Reason.MENTION
        item.latest_reply = reply
        item.actor_id = actor_id
        _reopen(item, now)
        return 1


def _deliver(
    person_id: int, thread: Thread, reason: str, *, actor_id: int | None, reply: Reply | None
) -> int:
    now = timezone.now()
    with transaction.atomic():
        item = _locked_item_or_create(
            person_id, thread, reason=reason, actor_id=actor_id, reply=reply, now=now
        )
        if item is None:
            return 1
        if reply is None:
            # The thread's own event arriving late (or twice): only a stronger reason counts.
            if item.is_unread and REASON_RANK[reason] > REASON_RANK[item.reason]:
                item.reason = reason
                item.save(update_fields=["reason"])
            return 0
        if item.last_counted_reply_id is not None and item.last_counted_reply_id >= reply.pk:
            return 0
        still_unread = item.is_unread and item.done_at is None
        if not still_unread or REASON_RANK[reason] > REASON_RANK[item.reason]:
            item.reason = reason
        item.latest_reply = reply
        item.last_counted_reply_id = reply.pk
        item.actor_id = actor_id
        item.activity_count = item.activity_count + 1 if still_unread else 1
        _reopen(item, now)
        return 1


def _locked_item_or_create(
    person_id: int,
    thread: Thread,
    *,
    reason: str,
    actor_id: int | None,
    reply: Reply | None,
    now: dt.datetime,
) -> InboxItem | None:
    """The person's item for the thread, locked until the transaction ends; None when there was
    none and a new one was created for this activity. Call inside a transaction."""
    item = InboxItem.objects.select_for_update().filter(person_id=person_id, thread=thread).first()
    if item is not None:
        return item
    try:
        with transaction.atomic():
            InboxItem.objects.create(
                person_id=person_id, thread=thread, reason=reason, actor_id=actor_id,
                latest_reply=reply, last_counted_reply_id=reply.pk if reply else None,
                created_at=now, updated_at=now,
            )  # fmt: skip
        return None
    except IntegrityError:
        # Another worker created it a moment ago: refresh that one instead.
        return InboxItem.objects.select_for_update().get(person_id=person_id, thread=thread)


def _reopen(item: InboxItem, now: dt.datetime) -> None:
    """New activity: the item is updated now, unread, not done, and back if its snooze is over."""
    item.updated_at = now
    item.done_at = None
    item.read_at = None
    if item.snoozed_until is not None and item.snoozed_until <= now:
        item.snoozed_until = None
    item.save()


def _own_item(person: User, item_id: int) -> InboxItem:
    """The person's own item on a thread they can still see; anything else does not exist."""
    item = (
        InboxItem.objects.select_for_update()
        .filter(pk=item_id, person=person, thread__in=visible_threads(person).values("pk"))
        .first()
    )
    if item is None:
        raise Http404("No such inbox item.")
    return item


def _save_fields(item: InboxItem, **fields: object) -> InboxItem:
    """Set the given fields on the item and save only those."""
    for name, value in fields.items():
        setattr(item, name, value)
    item.save(update_fields=list(fields))
    return item


@transaction.atomic
def mark_done(person: User, item_id: int) -> InboxItem:
    """Take the item off the person's list (it comes back with new activity). Marks it read."""
    item = _own_item(person, item_id)
    now = timezone.now()
    return _save_fields(item, done_at=now, read_at=item.read_at or now)


@transaction.atomic
def mark_undone(person: User, item_id: int) -> InboxItem:
    """Put a done item back on the open list."""
    return _save_fields(_own_item(person, item_id), done_at=None)


def snooze_time(preset: str, zone: dt.tzinfo, now: dt.datetime | None = None) -> dt.datetime:
    """When a snooze preset ends, in the person's time zone: 'later' is three hours from now,
    'tomorrow' is 09:00 tomorrow, 'monday' is 09:00 on the next Monday (a week ahead on Mondays).
    """
    now = (now or timezone.now()).astimezone(zone)
    nine = dt.time(9, 0)
    if preset == "later":
        return now + dt.timedelta(hours=3)
    if preset == "tomorrow":
        return dt.datetime.combine(now.date() + dt.timedelta(days=1), nine, tzinfo=zone)
    if preset == "monday":
        days_ahead = 7 - now.weekday()  # Monday is 0, so this is 1..7
        return dt.datetime.combine(now.date() + dt.timedelta(days=days_ahead), nine, tzinfo=zone)
    raise ValidationError("Pick when the item should come back.")


@transaction.atomic
def snooze(person: User, item_id: int, until: dt.datetime) -> InboxItem:
    """Hide the item until the given time; then it is open again by itself (no job needed).
    A naive time is read in the person's own time zone. The time must be in the future."""
    item = _own_item(person, item_id)
    if timezone.is_naive(until):
        until = timezone.make_aware(until, person.zone)
    now = timezone.now()
    if until <= now:
        raise ValidationError("Pick a time in the future to snooze until.")
    if until - now > MAX_SNOOZE:
        raise ValidationError("Snooze for at most a year.")
    return _save_fields(item, snoozed_until=until, done_at=None)


@transaction.atomic
def unsnooze(person: User, item_id: int) -> InboxItem:
    """Bring a snoozed item back to the open list now."""
    return _save_fields(_own_item(person, item_id), snoozed_until=None)


@transaction.atomic
def mark_read(person: User, item_id: int) -> InboxItem:
    """Mark one item read (it stays on the list until done)."""
    item = _own_item(person, item_id)
    if item.read_at is None:
        _save_fields(item, read_at=timezone.now())
    return item


def mark_thread_read(person: User, thread: Thread) -> int:
    """The person has seen the thread: their item for it (if any) is read. Returns 0 or 1."""
    if person is None or not person.is_authenticated:
        return 0
    return InboxItem.objects.filter(person=person, thread=thread, read_at=None).update(
        read_at=timezone.now()
    )
