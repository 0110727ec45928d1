"""Every change to inboxes: fan-out of new activity, and a person triaging their items."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from tidings.accounts import delivery
from tidings.bounds import as_id, day_in_range
from tidings.events import publish
from tidings.inbox.models import (
    InboxItem,
    Reason,
    Reminder,
    Request,
    RequestRecipient,
)
from tidings.threads.access import (
    can_post_in_space,
    mentionable_people,
    visible_threads,
)
from tidings.threads.models import Reply, SpaceLevel, SpaceSubscription, ThreadFollow

if TYPE_CHECKING:
    from tidings.accounts.models import User
    from tidings.threads.models import Thread

# Strength of a reason: a stronger one replaces a weaker one while the item is unread.
REASON_RANK = {
    Reason.NEW_THREAD: 0,
    Reason.REPLY: 1,
    Reason.RESOLUTION: 2,
    Reason.REMINDER: 3,
    Reason.MENTION: 4,
    Reason.REQUEST: 5,
}
SNOOZE_PRESETS = {
    "later": "Later today",
    "tomorrow": "Tomorrow morning",
    "monday": "Next Monday",
}
MAX_SNOOZE = dt.timedelta(days=366)
LATER_GONE = "It is too late today for “Later today”: pick tomorrow morning or a time."


def _ids(people: Iterable[User | int] | None) -> set[int]:
    return {p if isinstance(p, int) else p.pk for p in (people or [])}


def viewer_ids(thread: Thread) -> set[int]:
    """Who can see the thread right now (checked at delivery, not when the event happened)."""
    if thread.deleted_at is not None:
        return set()
    return set(mentionable_people(thread.space).values_list("pk", flat=True))


def fan_out_thread_posted(
    thread: Thread, mentioned: Iterable[User | int] | None, *, only: Iterable[int] | None = None
) -> int:
    """Put a new thread in the inboxes of everyone who follows its space (level follow or all;
    no subscription row means follow) and of mentioned people, even if they muted the space.
    Never the author, never someone who cannot see the space. Safe to run twice. Returns how
    many items it touched."""
    viewers = viewer_ids(thread) - {thread.author_id}
    if only is not None:  # a held delivery reaching these people now (send later)
        viewers &= set(only)
    quiet = set(
        SpaceSubscription.objects.filter(space_id=thread.space_id, person_id__in=viewers)
        .exclude(level__in=[SpaceLevel.FOLLOW, SpaceLevel.ALL])
        .values_list("person_id", flat=True)
    )
    mentioned_ids = _ids(mentioned) & viewers
    reasons = {
        person_id: Reason.MENTION if person_id in mentioned_ids else Reason.NEW_THREAD
        for person_id in sorted((viewers - quiet) | mentioned_ids)
    }
    existing = set(
        InboxItem.objects.filter(thread=thread, person_id__in=list(reasons)).values_list(
            "person_id", flat=True
        )
    )
    # Most people have no item for a new thread yet: one insert for all of them (a space of
    # thousands), then the usual locked update for the few who have one (a second run).
    now = timezone.now()
    fresh = [
        InboxItem(
            person_id=person_id,
            thread=thread,
            reason=reason,
            actor_id=thread.author_id,
            created_at=now,
            updated_at=now,
        )
        for person_id, reason in reasons.items()
        if person_id not in existing
    ]
    InboxItem.objects.bulk_create(fresh, batch_size=1000, ignore_conflicts=True)
    emails = {item.person_id: item.reason for item in fresh}
    for person_id in sorted(existing):
        reason = reasons[person_id]
        if _deliver(person_id, thread, reason, actor_id=thread.author_id, reply=None):
            emails[person_id] = reason
    _schedule_emails(thread, emails, reply=None, actor_id=thread.author_id)
    return len(emails)


def fan_out_reply_posted(
    reply: Reply, mentioned: Iterable[User | int] | None, *, only: Iterable[int] | None = None
) -> int:
    """Bring a reply to everyone following its thread, everyone at "all activity" in its space
    (unless they unfollowed the thread) and mentioned people, except the replier and anyone
    who can no longer see the thread. One item per person and thread: it is refreshed,
    reopened if done, and counts this reply once however often this runs."""
    thread = reply.thread
    if reply.deleted_at is not None:
        return 0
    viewers = viewer_ids(thread) - {reply.author_id}
    if only is not None:  # a held delivery reaching these people now (send later)
        viewers &= set(only)
    followers = _thread_followers(thread)
    mentioned_ids = _ids(mentioned) & viewers
    emails: dict[int, str] = {}
    for person_id in sorted((followers & viewers) | mentioned_ids):
        reason = Reason.MENTION if person_id in mentioned_ids else Reason.REPLY
        if _deliver(person_id, thread, reason, actor_id=reply.author_id, reply=reply):
            emails[person_id] = reason
    _schedule_emails(thread, emails, reply=reply, actor_id=reply.author_id)
    return len(emails)


def _thread_followers(thread: Thread) -> set[int]:
    """Who hears about activity in the thread: its followers and everyone at "all activity"
    in its space, less those who unfollowed the thread."""
    follows = dict(ThreadFollow.objects.filter(thread=thread).values_list("person_id", "following"))
    everything = SpaceSubscription.objects.filter(space_id=thread.space_id, level=SpaceLevel.ALL)
    return {person_id for person_id, following in follows.items() if following} | {
        person_id
        for person_id in everything.values_list("person_id", flat=True)
        if follows.get(person_id, True)
    }


def fan_out_thread_resolved(thread: Thread, resolved_at: dt.datetime) -> int:
    """Tell the thread's followers (as for a reply) that it was resolved, with its outcome:
    their item comes back unread as "Resolved" unless a stronger reason is waiting. Never the
    person who resolved it, never someone who cannot see the thread. Nothing when the thread
    was reopened or resolved again since (that later change tells its own news); running
    twice tells nobody twice. Returns how many items it touched."""
    if thread.deleted_at is not None or thread.resolved_at != resolved_at:
        return 0
    actor_id = thread.resolved_by_id
    recipients = _thread_followers(thread) & (viewer_ids(thread) - {actor_id})
    emails = {
        person_id: Reason.RESOLUTION
        for person_id in sorted(recipients)
        if _deliver_resolution(person_id, thread, actor_id=actor_id, resolved_at=resolved_at)
    }
    _schedule_emails(thread, emails, reply=None, actor_id=actor_id)
    return len(emails)


def _deliver_resolution(
    person_id: int, thread: Thread, *, actor_id: int | None, resolved_at: dt.datetime
) -> int:
    now = timezone.now()
    with transaction.atomic():
        item = _locked_item_or_create(
            person_id, thread, reason=Reason.RESOLUTION, actor_id=actor_id, reply=None, now=now
        )
        if item is None:
            return 1
        if item.reason == Reason.RESOLUTION and item.updated_at >= resolved_at:
            return 0  # this resolution reached the item already
        still_unread = item.is_unread and item.done_at is None
        if not still_unread or REASON_RANK[Reason.RESOLUTION] > REASON_RANK[item.reason]:
            item.reason = Reason.RESOLUTION
        item.actor_id = actor_id
        item.activity_count = item.activity_count + 1 if still_unread else 1
        _reopen(item, now)
        return 1


def fan_out_mentions_added(
    thread: Thread, reply: Reply | None, mentioned: Iterable[User | int], *, actor_id: int | None
) -> int:
    """An edit added @mentions: bring the thread (at the edited reply, when it is one) to the
    newly mentioned people as a mention, unread and back from done. Only people who can still
    see the thread, never the editor. A reply already counted is not counted again, and running
    twice changes nothing more. Returns how many items it touched."""
    if thread.deleted_at is not None or (reply is not None and reply.deleted_at is not None):
        return 0
    mentioned_ids = _ids(mentioned) & (viewer_ids(thread) - {actor_id})
    emails = {
        person_id: Reason.MENTION
        for person_id in sorted(mentioned_ids)
        if _deliver_mention(person_id, thread, actor_id=actor_id, reply=reply)
    }
    _schedule_emails(thread, emails, reply=reply, actor_id=actor_id)
    return len(emails)


def _schedule_emails(
    thread: Thread, events: dict[int, str], *, reply: Reply | None, actor_id: int | None
) -> None:
    """Each inbox item just created or brought back also queues an email, per the person's
    delivery settings, so email reaches exactly the people the inbox does (the listeners of
    `inbox_delivered` run at once, in this transaction)."""
    if events:
        publish(
            "inbox_delivered",
            thread_id=thread.pk,
            reasons=dict(events),
            reply_id=reply.pk if reply is not None else None,
            actor_id=actor_id,
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


# How far "Later today" looks ahead, and the morning hour "tomorrow" and "Monday" mean.
LATER = dt.timedelta(hours=3)
MORNING = dt.time(9, 0)


def preset_time(preset: str, person: User, now: dt.datetime | None = None) -> dt.datetime | None:
    """When a snooze or reminder preset ends for the person (aware, UTC), or None when it is
    not offered now. 'hour' is an hour from now and 'later' three, counted in real time
    across clock changes; 'later' moves out of the person's quiet hours (to their end) and is
    not offered when that would be tomorrow. 'tomorrow' is 09:00 tomorrow and 'monday' 09:00
    next Monday (a week ahead on Mondays), on the person's wall clock."""
    now = (now or timezone.now()).astimezone(dt.UTC)
    zone = person.zone
    today = now.astimezone(zone).date()
    if preset == "hour":
        return now + dt.timedelta(hours=1)
    if preset == "later":
        at = delivery.first_open_instant(delivery.settings_for(person), now + LATER)
        return at if at.astimezone(zone).date() == today else None
    if preset == "tomorrow":
        return delivery.local_instant(zone, today + dt.timedelta(days=1), MORNING)
    if preset == "monday":
        days_ahead = 7 - today.weekday()  # Monday is 0, so this is 1..7
        return delivery.local_instant(zone, today + dt.timedelta(days=days_ahead), MORNING)
    return None


def preset_menu(
    presets: dict[str, str], person: User, now: dt.datetime | None = None
) -> list[tuple[str, str, str]]:
    """The presets offered now, with the local time each ends at ("Tue 09:00")."""
    zone = person.zone
    menu = []
    for key, label in presets.items():
        at = preset_time(key, person, now)
        if at is not None:
            menu.append((key, label, f"{at.astimezone(zone):%a %H:%M}"))
    return menu


def _offered_time(
    preset: str, presets: dict[str, str], unknown: str, person: User, now: dt.datetime | None
) -> dt.datetime:
    """When one of `presets` ends (see preset_time); one not in the menu is refused with
    `unknown`, one no longer offered now with LATER_GONE."""
    if preset not in presets:
        raise ValidationError(unknown)
    at = preset_time(preset, person, now)
    if at is None:
        raise ValidationError(LATER_GONE)
    return at


def snooze_time(preset: str, person: User, now: dt.datetime | None = None) -> dt.datetime:
    """When a snooze preset ends (see preset_time); a preset not offered now is refused."""
    return _offered_time(
        preset, SNOOZE_PRESETS, "Pick when the item should come back.", person, now
    )


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


def mark_thread_read(person: User | None, thread: Thread) -> int:
    """The person has seen the thread: their item for it (if any) is read. Returns 0 or 1."""
    if person is None or not person.is_authenticated:
        return 0
    return read_thread(person.pk, thread.pk)


def read_thread(person_id: int, thread_id: int) -> int:
    """As `mark_thread_read`, for a signed-in person known by id."""
    return InboxItem.objects.filter(person_id=person_id, thread_id=thread_id, read_at=None).update(
        read_at=timezone.now()
    )


# --- Reminders and requests: they bring a thread back through the same inbox items.

REMIND_PRESETS = {
    "hour": "In 1 hour",
    "tomorrow": "Tomorrow morning",
    "monday": "Next Monday",
}
MAX_AHEAD = dt.timedelta(days=366)
MAX_ASKED = 50
# An unanswered request comes back to the person's inbox this often, due or overdue.
NUDGE_EVERY = dt.timedelta(days=1)


def _bring_back(
    person_id: int,
    thread: Thread,
    reason: str,
    *,
    reply: Reply | None,
    actor_id: int | None,
    now: dt.datetime,
) -> None:
    """Put the thread at the top of the person's inbox for `reason`, at `reply`: unread, not
    done, not snoozed. Creates the item when there is none."""
    _schedule_emails(thread, {person_id: reason}, reply=reply, actor_id=actor_id)
    with transaction.atomic():
        item = _locked_item_or_create(
            person_id, thread, reason=reason, actor_id=actor_id, reply=reply, now=now
        )
        if item is None:
            return
        if not (item.is_unread and item.done_at is None):
            item.activity_count = 1
        item.reason = reason
        item.latest_reply = reply
        item.actor_id = actor_id
        item.snoozed_until = None
        _reopen(item, now)


def visible_post(person: User, thread_id: int, reply_id: int | None) -> tuple[Thread, Reply | None]:
    """The thread and (optionally) one of its replies, if the person can see them."""
    thread = visible_threads(person).select_related("space").filter(pk=thread_id).first()
    if thread is None:
        raise Http404("No such thread.")
    if reply_id is None:
        return thread, None
    reply = thread.replies.filter(pk=reply_id, deleted_at=None).first()
    if reply is None:
        raise Http404("No such reply.")
    return thread, reply


def remind_time(preset: str, person: User, now: dt.datetime | None = None) -> dt.datetime:
    """When a reminder preset fires (see preset_time); a preset not offered now is refused."""
    return _offered_time(
        preset, REMIND_PRESETS, "Pick when the reminder should bring this back.", person, now
    )


def future_time(person: User, at: dt.datetime, now: dt.datetime, what: str) -> dt.datetime:
    """`at` as an aware time (a naive one is in the person's zone), checked to be ahead."""
    if timezone.is_naive(at):
        at = timezone.make_aware(at, person.zone)
    if at <= now:
        raise ValidationError(f"Pick a time in the future for the {what}.")
    if at - now > MAX_AHEAD:
        raise ValidationError(f"Pick a time at most a year ahead for the {what}.")
    return at


@transaction.atomic
def create_reminder(
    person: User,
    thread_id: int,
    *,
    reply_id: int | None = None,
    at: dt.datetime | None = None,
    preset: str = "",
    now: dt.datetime | None = None,
) -> Reminder:
    """Remind the person of a thread (at one of its replies) at a time or a preset; a naive
    time is in their zone. Only for threads they can see; at most a year ahead."""
    now = now or timezone.now()
    thread, reply = visible_post(person, thread_id, reply_id)
    when = at if at is not None else remind_time(preset, person, now)
    when = future_time(person, when, now, "reminder")
    return Reminder.objects.create(
        person=person, thread=thread, reply=reply, remind_at=when, created_at=now
    )


@transaction.atomic
def cancel_reminder(person: User, reminder_id: int, *, now: dt.datetime | None = None) -> Reminder:
    """Cancel one of the person's reminders that has not fired yet."""
    reminder = (
        Reminder.objects.select_for_update()
        .filter(pk=reminder_id, person=person, fired_at=None, cancelled_at=None)
        .first()
    )
    if reminder is None:
        raise Http404("No such reminder.")
    reminder.cancelled_at = now or timezone.now()
    reminder.save(update_fields=["cancelled_at"])
    return reminder


def fire_due_reminders(now: dt.datetime | None = None) -> int:
    """Bring back every reminder whose time has come, once: each row is claimed by a
    conditional update, so a second run (or a second worker) fires nothing twice. Access is
    checked now: a reminder on a thread the person can no longer see is spent silently.
    Returns how many reminders reached an inbox."""
    now = now or timezone.now()
    due = Reminder.objects.filter(fired_at=None, cancelled_at=None, remind_at__lte=now)
    fired = 0
    for reminder in due.select_related("person", "thread__space", "reply").iterator():
        with transaction.atomic():
            claimed = Reminder.objects.filter(
                pk=reminder.pk, fired_at=None, cancelled_at=None
            ).update(fired_at=now)
            if not claimed:
                continue
            reply = reminder.reply
            if reply is not None and reply.deleted_at is not None:
                reply = None
            visible = visible_threads(reminder.person).filter(pk=reminder.thread_id).exists()
            if visible:
                _bring_back(
                    reminder.person_id, reminder.thread, Reason.REMINDER,
                    reply=reply, actor_id=None, now=now,
                )  # fmt: skip
                fired += 1
    return fired


def _due_at(due_on: dt.date, zone: dt.tzinfo) -> dt.datetime:
    """The end of the due date in the asker's zone (midnight after it)."""
    return dt.datetime.combine(due_on + dt.timedelta(days=1), dt.time(0, 0), tzinfo=zone)


@transaction.atomic
def ask_to_respond(
    asker: User,
    thread_id: int,
    people: Iterable[int | str],
    due_on: dt.date,
    *,
    reply_id: int | None = None,
    now: dt.datetime | None = None,
) -> Request:
    """Ask people to respond to a post by a date (in the asker's zone). Only people who can
    see the thread may be asked, never the asker; each gets the thread at the top of their
    inbox as a request, nudged daily until they answer."""
    now = now or timezone.now()
    thread, reply = visible_post(asker, thread_id, reply_id)
    if not can_post_in_space(asker, thread.space):
        raise PermissionDenied("This space is archived; nothing new can be asked in it.")
    wanted = {as_id(p) for p in people if str(p).strip()}
    if None in wanted:
        raise ValidationError("Pick the people to ask from the list.")
    wanted.discard(asker.pk)
    if not wanted:
        raise ValidationError("Pick at least one person to ask.")
    if len(wanted) > MAX_ASKED:
        raise ValidationError(f"Ask at most {MAX_ASKED} people at once.")
    can_see = mentionable_people(thread.space).filter(pk__in=wanted)
    allowed = set(can_see.values_list("pk", flat=True))
    if allowed != wanted:
        raise ValidationError("Ask only people who can see this thread.")
    # A day near the calendar's ends (year 1 or 9999) cannot become a time in every zone.
    due_at = _due_at(due_on, asker.zone) if day_in_range(due_on) else None
    past = due_on < now.date() if due_at is None else due_at <= now
    if past:
        raise ValidationError("Pick a due date from today on.")
    if due_at is None or due_at - now > MAX_AHEAD:
        raise ValidationError("Pick a due date at most a year ahead.")
    request = Request.objects.create(
        thread=thread, reply=reply, asker=asker, due_on=due_on, due_at=due_at, created_at=now
    )
    RequestRecipient.objects.bulk_create(
        RequestRecipient(request=request, person_id=pk, nudged_at=now) for pk in sorted(allowed)
    )
    for pk in sorted(allowed):
        _bring_back(pk, thread, Reason.REQUEST, reply=reply, actor_id=asker.pk, now=now)
    return request


@transaction.atomic
def cancel_request(asker: User, request_id: int) -> None:
    """Withdraw a request the person asked (on a thread they can still see)."""
    found = Request.objects.filter(
        pk=request_id, asker=asker, thread__in=visible_threads(asker).values("pk")
    ).first()
    if found is None:
        raise Http404("No such request.")
    found.delete()


@transaction.atomic
def mark_answered(
    person: User, recipient_id: int, *, now: dt.datetime | None = None
) -> RequestRecipient:
    """The person says they answered a request made to them (without replying here)."""
    row = (
        RequestRecipient.objects.select_for_update()
        .filter(
            pk=recipient_id,
            person=person,
            request__thread__in=visible_threads(person).values("pk"),
        )
        .first()
    )
    if row is None:
        raise Http404("No such request.")
    if row.answered_at is None:
        row.answered_at = now or timezone.now()
        row.save(update_fields=["answered_at"])
    return row


def answer_requests(reply_id: int, thread_id: int, author_id: int, posted_at: dt.datetime) -> int:
    """A reply just posted answers every open request made to its author in its thread before
    it (known by its values: no read). Running twice changes nothing more. Returns how many
    requests it answered."""
    return RequestRecipient.objects.filter(
        person_id=author_id,
        answered_at=None,
        request__thread_id=thread_id,
        request__created_at__lte=posted_at,
    ).update(answered_at=posted_at, answer_id=reply_id)


def nudge_waiting_requests(now: dt.datetime | None = None) -> int:
    """Bring each unanswered request back to its person's inbox once a day (before and after
    the due date). Rows are claimed by a conditional update, so overlapping runs nudge once.
    Someone who can no longer see the thread is not nudged. Returns how many were nudged."""
    now = now or timezone.now()
    waiting = RequestRecipient.objects.filter(answered_at=None, nudged_at__lte=now - NUDGE_EVERY)
    nudged = 0
    for row in waiting.select_related("person", "request__thread__space", "request__reply"):
        with transaction.atomic():
            claimed = RequestRecipient.objects.filter(
                pk=row.pk, answered_at=None, nudged_at=row.nudged_at
            ).update(nudged_at=now)
            request = row.request
            if not claimed or not visible_threads(row.person).filter(pk=request.thread_id).exists():
                continue
            reply = request.reply if request.reply and request.reply.deleted_at is None else None
            _bring_back(
                row.person_id, request.thread, Reason.REQUEST,
                reply=reply, actor_id=request.asker_id, now=now,
            )  # fmt: skip
            nudged += 1
    return nudged
