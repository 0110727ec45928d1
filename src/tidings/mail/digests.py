"""Digests: one email per person per day or week, at the local time they chose, grouped by
space, listing what reached their inbox since the last digest and is still unread.

Each digest is a row keyed by person and period ("daily:2030-03-31" in the person's zone),
unique in the database, so a period gets one digest however clocks shift (DST) and however
many workers run. A row is created ahead of time with its due time; the periodic task sends
the rows that are due, claiming each like the outbox does, and then schedules the next one.
Visibility is checked when the digest is built: a thread the person can no longer see is
left out.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from email.utils import formataddr
from typing import TYPE_CHECKING

from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from tidings.accounts.delivery import next_digest_time
from tidings.accounts.models import DeliverySettings, EmailCadence, User
from tidings.mail.models import Digest, DigestKind, EmailEvent, Outcome
from tidings.mail.outbox import (
    CLAIM_LEASE,
    MAX_ATTEMPTS,
    absolute,
    mail_domain,
    open_connection,
    sender,
)
from tidings.workspaces.access import visible_threads

if TYPE_CHECKING:
    from django.core.mail.backends.base import BaseEmailBackend

    from tidings.mail.models import OutboxEmail

log = logging.getLogger(__name__)

KIND_OF_CADENCE = {EmailCadence.DAILY: DigestKind.DAILY, EmailCadence.WEEKLY: DigestKind.WEEKLY}
PERIOD = {DigestKind.DAILY: dt.timedelta(days=1), DigestKind.WEEKLY: dt.timedelta(days=7)}
BATCH = 500
EXCERPT_WORDS = 40
MAX_THREADS = 25  # a digest is a summary: past this, it points to the inbox for the rest


def period_key(kind: str, due_at: dt.datetime, zone: dt.tzinfo) -> str:
    """The period a digest due at `due_at` belongs to, in the person's own calendar."""
    day = due_at.astimezone(zone).date()
    if kind == DigestKind.WEEKLY:
        year, week, _ = day.isocalendar()
        return f"weekly:{year}-W{week:02d}"
    return f"daily:{day.isoformat()}"


# --- Scheduling.


def schedule_digests(now: dt.datetime | None = None) -> int:
    """Give every person on a digest cadence a pending digest, and move pending ones whose
    person changed their settings since. Returns how many rows it created or moved."""
    now = now or timezone.now()
    changed = 0
    stale = Digest.objects.filter(
        finished_at=None, person__delivery_settings__updated_at__gt=F("scheduled_at")
    ).select_related("person__delivery_settings")
    for row in stale:
        changed += _move(row, row.person.delivery_settings, now)
    pending = Digest.objects.filter(finished_at=None).values("person_id")
    waiting = (
        DeliverySettings.objects.filter(cadence__in=list(KIND_OF_CADENCE), user__is_active=True)
        .exclude(user_id__in=pending)
        .select_related("user")
    )
    for delivery in waiting:
        changed += _schedule_next(delivery, now) is not None
    return changed


def _move(row: Digest, delivery: DeliverySettings, now: dt.datetime) -> bool:
    """Move a pending digest to the person's new digest time (the same period when it still
    lies ahead), or drop it when they no longer take digests."""
    kind = KIND_OF_CADENCE.get(delivery.cadence)
    due: dt.datetime | None = now
    for _attempt in range(4):
        due = next_digest_time(delivery, due) if kind else None
        if due is None:
            Digest.objects.filter(pk=row.pk, finished_at=None).update(
                finished_at=now, outcome=Outcome.OFF
            )
            return False
        try:
            with transaction.atomic():
                Digest.objects.filter(pk=row.pk, finished_at=None).update(
                    kind=kind,
                    due_at=due,
                    period_key=period_key(kind, due, delivery.zone),
                    scheduled_at=timezone.now(),  # compared with the settings' real save time
                )
            return True
        except IntegrityError:
            continue  # that period already had its digest: the next one, then
    return False


def _schedule_next(
    delivery: DeliverySettings, after: dt.datetime, *, period_start: dt.datetime | None = None
) -> Digest | None:
    """The person's next digest after `after`, skipping periods that already had theirs."""
    kind = KIND_OF_CADENCE.get(delivery.cadence)
    if kind is None:
        return None
    if period_start is None:
        last = (
            Digest.objects.filter(
                person_id=delivery.user_id, outcome__in=[Outcome.SENT, Outcome.EMPTY]
            )
            .order_by("-due_at")
            .values_list("due_at", flat=True)
            .first()
        )
        period_start = last
    due = after
    for _attempt in range(4):
        due = next_digest_time(delivery, due)
        if due is None:
            return None
        try:
            with transaction.atomic():
                return Digest.objects.create(
                    person_id=delivery.user_id,
                    kind=kind,
                    period_key=period_key(kind, due, delivery.zone),
                    period_start=period_start or due - PERIOD[kind],
                    due_at=due,
                )
        except IntegrityError:
            continue  # this period already had its digest: the next one, then
    return None


# --- Sending.


def send_due_digests(now: dt.datetime | None = None) -> int:
    """Send every digest that is due; schedule what is missing first. Returns how many went."""
    now = now or timezone.now()
    schedule_digests(now)
    sent = 0
    run = DigestRun()
    connection = open_connection()
    try:
        while True:
            due = list(
                Digest.objects.filter(finished_at=None, due_at__lte=now)
                .filter(Q(claimed_until=None) | Q(claimed_until__lte=now))
                .select_related("person__delivery_settings")
                .order_by("due_at", "pk")[:BATCH]
            )
            for row in due:
                sent += deliver_digest(row, now, connection=connection, run=run)
            if len(due) < BATCH:
                return sent
    finally:
        connection.close()


def deliver_digest(
    row: Digest,
    now: dt.datetime,
    *,
    connection: BaseEmailBackend | None = None,
    run: DigestRun | None = None,
) -> int:
    """Claim, build, send and finish one digest, then schedule the person's next one."""
    from tidings.accounts.delivery import settings_for

    person = row.person
    delivery = settings_for(person)
    if not person.is_active or KIND_OF_CADENCE.get(delivery.cadence) != row.kind:
        _finish(row, now, Outcome.OFF)
        return 0
    message_id = row.message_id or f"<digest-{row.pk}@{mail_domain()}>"
    won = (
        Digest.objects.filter(pk=row.pk, finished_at=None)
        .filter(Q(claimed_until=None) | Q(claimed_until__lte=now))
        .update(claimed_until=now + CLAIM_LEASE, attempts=F("attempts") + 1, message_id=message_id)
    )
    if not won:
        return 0
    row.message_id = message_id
    spaces, more = digest_content(person, row.period_start, row.due_at, now=now, run=run)
    if not spaces:
        _finish(row, now, Outcome.EMPTY)
        _schedule_next(delivery, max(now, row.due_at), period_start=row.due_at)
        return 0
    try:
        message = build_digest(row, person, spaces, more=more)
        message.connection = connection
        message.send()
    except Exception as error:  # noqa: BLE001 - any failure is logged on the row and retried
        log.warning("digest %s: sending failed (attempt %s): %s", row.pk, row.attempts + 1, error)
        failed = row.attempts + 1 >= MAX_ATTEMPTS
        Digest.objects.filter(pk=row.pk).update(
            last_error=str(error)[:2000],
            claimed_until=now + dt.timedelta(minutes=2 ** (row.attempts + 1)),
            finished_at=now if failed else None,
            outcome=Outcome.FAILED if failed else "",
        )
        if failed:
            _schedule_next(delivery, max(now, row.due_at), period_start=row.period_start)
        return 0
    _finish(row, now, Outcome.SENT, thread_count=sum(len(s.threads) for s in spaces))
    _schedule_next(delivery, max(now, row.due_at), period_start=row.due_at)
    return 1


def _finish(row: Digest, now: dt.datetime, outcome: str, thread_count: int = 0) -> None:
    Digest.objects.filter(pk=row.pk, finished_at=None).update(
        finished_at=now, outcome=outcome, thread_count=thread_count, last_error=""
    )


# --- Content.


@dataclass
class DigestThread:
    title: str
    url: str
    reason: str
    authors: str
    excerpt: str
    replies: int
    recordings: int
    html: str = ""
    text: str = ""


@dataclass
class DigestSpace:
    name: str
    threads: list[DigestThread] = field(default_factory=list)


@dataclass(frozen=True)
class ThreadNews:
    """What happened in one thread in one period: the same for every reader, so a run of
    digests works it out once per thread and period (`DigestRun`)."""

    replies: int
    recordings: int
    authors: tuple[str, ...]
    newest_reply_id: int | None
    newest_excerpt: str


@dataclass
class DigestRun:
    """What one run of digests shares between people: each thread's news for a period, and
    its rendered lines (most people of a team read about the same threads)."""

    news: dict[tuple[int, dt.datetime, dt.datetime], ThreadNews] = field(default_factory=dict)
    lines: dict[tuple[int, dt.datetime, dt.datetime, str], DigestThread] = field(
        default_factory=dict
    )


def thread_news(
    thread_ids: list[int], start: dt.datetime, end: dt.datetime, run: DigestRun
) -> dict[int, ThreadNews]:
    """News for each thread in (start, end], from the cache or four grouped queries."""
    from tidings.recordings.models import Recording
    from tidings.threads.models import Reply

    cache = run.news
    missing = [pk for pk in thread_ids if (pk, start, end) not in cache]
    if missing:
        new_replies = Reply.objects.filter(
            thread_id__in=missing, deleted_at=None, created_at__gt=start, created_at__lte=end
        )
        counts: dict[int, int] = {}
        newest_ids: dict[int, int] = {}
        for thread_id, count, newest_id in (
            new_replies.values("thread_id")
            .annotate(n=Count("pk"), newest=Max("pk"))
            .values_list("thread_id", "n", "newest")
        ):
            counts[thread_id], newest_ids[thread_id] = count, newest_id
        bodies = dict(Reply.objects.filter(pk__in=newest_ids.values()).values_list("pk", "body"))
        authors: dict[int, set[str]] = defaultdict(set)
        for thread_id, name in new_replies.values_list("thread_id", "author__name").distinct():
            authors[thread_id].add(name)
        recordings = dict(
            Recording.objects.filter(
                thread_id__in=missing, deleted_at=None, posted_at__gt=start, posted_at__lte=end
            )
            .filter(Q(reply=None) | Q(reply__deleted_at=None))
            .values("thread_id")
            .annotate(n=Count("pk"))
            .values_list("thread_id", "n")
        )
        for pk in missing:
            newest = newest_ids.get(pk)
            cache[(pk, start, end)] = ThreadNews(
                replies=counts.get(pk, 0),
                recordings=recordings.get(pk, 0),
                authors=tuple(sorted(authors.get(pk, ()))),
                newest_reply_id=newest,
                newest_excerpt=_excerpt(bodies.get(newest, "")),
            )
    return {pk: cache[(pk, start, end)] for pk in thread_ids}


@functools.cache
def _path(name: str) -> str:
    return reverse(name)


@functools.cache
def _thread_path_prefix() -> str:
    return reverse("threads:thread", args=[0]).removesuffix("0/")


def thread_url(thread_id: int) -> str:
    """The thread page's absolute URL without a URL resolver call per line of a digest."""
    return absolute(f"{_thread_path_prefix()}{thread_id}/")


def _rendered(entry: DigestThread) -> DigestThread:
    """The entry with its HTML and text lines rendered (once per run, see `DigestRun`)."""
    entry.html = render_to_string("mail/_digest_entry.html", {"entry": entry})
    entry.text = render_to_string("mail/_digest_entry.txt", {"entry": entry})
    return entry


def _excerpt(text: str) -> str:
    return Truncator(text or "").words(EXCERPT_WORDS)


def _names(names: tuple[str, ...] | list[str]) -> str:
    """ "Ann, Bo, Cy and 4 others": who took part, short enough for one line."""
    if len(names) <= 3:
        return ", ".join(names)
    return f"{', '.join(names[:3])} and {len(names) - 3} others"


def digest_content(
    person: User,
    start: dt.datetime,
    end: dt.datetime,
    *,
    now: dt.datetime | None = None,
    run: DigestRun | None = None,
) -> tuple[list[DigestSpace], bool]:
    """What the person's inbox gained in (start, end] and is still unread, not done and not
    snoozed, in threads they can see now; grouped by space, newest first, at most
    MAX_THREADS of them. The flag says whether more are waiting in the inbox."""
    from tidings.inbox.models import InboxItem, Reason

    now = now or timezone.now()
    # Plain rows, not model instances: a digest run reads a million of them.
    items = list(
        InboxItem.objects.filter(
            person=person,
            read_at=None,
            done_at=None,
            updated_at__gt=start,
            updated_at__lte=end,
            thread__in=visible_threads(person).values("pk"),
        )
        .exclude(snoozed_until__gt=now)
        .order_by("-updated_at")
        .values_list(
            "thread_id",
            "reason",
            "thread__title",
            "thread__body",
            "thread__author__name",
            "thread__space_id",
            "thread__space__name",
            "thread__outcome",
        )[: MAX_THREADS + 1]
    )
    more = len(items) > MAX_THREADS
    items = items[:MAX_THREADS]
    run = run or DigestRun()
    news = thread_news([item[0] for item in items], start, end, run)
    reasons = dict(Reason.choices)
    spaces: dict[int, DigestSpace] = {}
    for thread_id, reason, title, body, starter, space_id, space_name, outcome in items:
        key = (thread_id, start, end, reason)
        entry = run.lines.get(key)
        if entry is None:
            found = news[thread_id]
            url = thread_url(thread_id)
            entry = run.lines[key] = _rendered(
                DigestThread(
                    title=title,
                    url=f"{url}#reply-{found.newest_reply_id}" if found.newest_reply_id else url,
                    reason=reasons.get(reason, ""),
                    authors=_names(found.authors or (starter or "Someone",)),
                    excerpt=_excerpt(
                        outcome if reason == Reason.RESOLUTION else found.newest_excerpt or body
                    ),
                    replies=found.replies,
                    recordings=found.recordings,
                )
            )
        spaces.setdefault(space_id, DigestSpace(space_name)).threads.append(entry)
    return sorted(spaces.values(), key=lambda group: group.name.lower()), more


def build_digest(
    row: Digest, person: User, spaces: list[DigestSpace], *, more: bool = False
) -> EmailMultiAlternatives:
    local_due = row.due_at.astimezone(person.zone)
    title = (
        f"Your Tidings digest for {local_due:%A %-d %B}"
        if row.kind == DigestKind.DAILY
        else f"Your weekly Tidings digest, week of {local_due:%-d %B}"
    )
    return _message(
        person, title, spaces, since=row.period_start, message_id=row.message_id, more=more
    )


def _message(
    person: User,
    title: str,
    spaces: list[DigestSpace],
    *,
    since: dt.datetime,
    message_id: str,
    more: bool = False,
) -> EmailMultiAlternatives:
    context = {
        "more": more,
        "person": person,
        "title": title,
        "spaces": spaces,
        "thread_count": sum(len(s.threads) for s in spaces),
        "inbox_url": absolute(_path("inbox:inbox")),
        "settings_url": absolute(_path("accounts:delivery")),
        "since": since,
        "zone_name": person.time_zone,
    }
    with timezone.override(person.zone):  # times in the email read in the person's own zone
        text = render_to_string("mail/digest.txt", context)
        html = render_to_string("mail/digest.html", context)
    message = EmailMultiAlternatives(
        subject=title,
        body=text,
        from_email=sender(),
        to=[formataddr((person.name, person.email))],
        headers={"Message-ID": message_id, "Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html, "text/html")
    return message


def build_batch(
    person: User, rows: list[tuple[OutboxEmail, list[dict]]], message_id: str
) -> EmailMultiAlternatives:
    """The hourly batch: a short digest of the threads in a person's due outbox rows."""
    from tidings.recordings.models import Recording
    from tidings.threads.models import Reply

    reply_ids = [e["reply_id"] for _row, events in rows for e in events if e.get("reply_id")]
    actor_ids = {e["actor_id"] for _row, events in rows for e in events if e.get("actor_id")}
    replies = {r.pk: r for r in Reply.objects.filter(pk__in=reply_ids, deleted_at=None)}
    names = dict(User.objects.filter(pk__in=actor_ids).values_list("pk", "name"))
    recordings = dict(
        Recording.objects.filter(reply_id__in=reply_ids, posted_at__isnull=False, deleted_at=None)
        .values("reply_id")
        .annotate(n=Count("pk"))
        .values_list("reply_id", "n")
    )
    spaces: dict[int, DigestSpace] = {}
    for row, events in rows:
        thread = row.thread
        own = [replies[e["reply_id"]] for e in events if e.get("reply_id") in replies]
        newest = max(own, key=lambda reply: reply.pk, default=None)
        resolved = thread.resolved_at is not None and any(
            e["kind"] == EmailEvent.RESOLUTION for e in events
        )
        opening = thread.outcome if resolved else newest.body if newest else thread.body
        url = thread_url(thread.pk)
        entry = DigestThread(
            title=thread.title,
            url=f"{url}#reply-{newest.pk}" if newest else url,
            reason=_strongest(events),
            authors=_names(
                sorted({names[e["actor_id"]] for e in events if e.get("actor_id") in names})
            ),
            excerpt=_excerpt(opening),
            replies=len(own),
            recordings=sum(recordings.get(reply.pk, 0) for reply in own),
        )
        spaces.setdefault(thread.space_id, DigestSpace(thread.space.name)).threads.append(
            _rendered(entry)
        )
    grouped = sorted(spaces.values(), key=lambda group: group.name.lower())
    count = len(rows)
    since = min(dt.datetime.fromisoformat(e["at"]) for _row, events in rows for e in events)
    return _message(
        person,
        f"{count} threads with news for you in Tidings",
        grouped,
        since=since,
        message_id=message_id,
    )


def _strongest(events: list[dict]) -> str:
    for kind in (
        EmailEvent.REQUEST,
        EmailEvent.MENTION,
        EmailEvent.REMINDER,
        EmailEvent.RESOLUTION,
    ):
        if any(e["kind"] == kind for e in events):
            return kind.label
    return EmailEvent(events[-1]["kind"]).label
