"""Digests: one email per person per day or week, at the local time they chose, grouped by
space, listing what reached their inbox since the last digest and is still unread.

Each digest is a row keyed by person and period ("daily:2030-03-31" in the person's zone),
unique in the database, so a period gets one digest however clocks shift (DST) and however
many workers run. A row is created ahead of time with its due time; the periodic task sends
the rows that are due, claiming each like the outbox does (a short lease that the worker's
heartbeat renews while the batch is built and sent, under a token that names the worker), and
then schedules the next one. Visibility is checked when the digest is built: a thread the
person can no longer see is left out.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import CharField, Count, F, Max, Q, QuerySet, Value, Window
from django.db.models.functions import Cast, Coalesce, Concat, NullIf, RowNumber
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.text import Truncator

from tidings import leases
from tidings.accounts.delivery import next_digest_time, settings_for
from tidings.accounts.models import DeliverySettings, EmailCadence, User
from tidings.inbox.models import InboxItem, Reason
from tidings.mail.addresses import reply_address_for
from tidings.mail.models import Digest, DigestKind, EmailEvent, Outcome
from tidings.mail.outbox import (
    absolute,
    give_up_if_stuck,
    mail_domain,
    mailbox,
    open_connection,
    record_failure,
    recording_in_email,
    sender,
)
from tidings.recordings import queries as recording_queries
from tidings.threads.access import seen_by_their_person
from tidings.threads.models import Reply

if TYPE_CHECKING:
    from django.core.mail.backends.base import BaseEmailBackend

    from tidings.mail.models import OutboxEmail

log = logging.getLogger(__name__)

# A digest's claim: each counts a try; a finished digest is never claimed or renewed.
CLAIMS = leases.Claimable(Digest, open_work=Q(finished_at=None))

KIND_OF_CADENCE = {EmailCadence.DAILY: DigestKind.DAILY, EmailCadence.WEEKLY: DigestKind.WEEKLY}
PERIOD = {DigestKind.DAILY: dt.timedelta(days=1), DigestKind.WEEKLY: dt.timedelta(days=7)}
BATCH = 500
MARK_EVERY = 20
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
    if KIND_OF_CADENCE.get(delivery.cadence) is None:
        return None
    if period_start is None:
        period_start = (
            Digest.objects.filter(
                person_id=delivery.user_id, outcome__in=[Outcome.SENT, Outcome.EMPTY]
            )
            .order_by("-due_at")
            .values_list("due_at", flat=True)
            .first()
        )
    for _attempt in range(4):
        row = _next_row(delivery, after, period_start)
        if row is None:
            return None
        try:
            with transaction.atomic():
                row.save()
            return row
        except IntegrityError:
            after = row.due_at  # this period already had its digest: the next one, then
    return None


def _next_row(
    delivery: DeliverySettings, after: dt.datetime, period_start: dt.datetime | None
) -> Digest | None:
    """The person's digest for the first period due after `after` (not saved), covering the
    time since `period_start` (or one period); None when they take no digests."""
    kind = KIND_OF_CADENCE.get(delivery.cadence)
    due = next_digest_time(delivery, after) if kind else None
    if due is None:
        return None
    return Digest(
        person_id=delivery.user_id,
        kind=kind,
        period_key=period_key(kind, due, delivery.zone),
        period_start=period_start or due - PERIOD[kind],
        due_at=due,
    )


# --- Sending.


def send_due_digests(now: dt.datetime | None = None) -> int:
    """Send every digest that is due; schedule what is missing first. Returns how many went.
    Rows are claimed a batch at a time (several workers can share a run) and their contents
    read in a few queries per batch."""
    now = now or timezone.now()
    schedule_digests(now)
    sent = 0
    run = DigestRun()
    due = Digest.objects.filter(due_at__lte=now).order_by("due_at", "pk")
    connection = open_connection()
    try:
        while claim := _claim(due, now):
            sent += _send_claimed(claim, now, connection=connection, run=run)
    finally:
        connection.close()
    return sent


def deliver_digest(
    row: Digest,
    now: dt.datetime,
    *,
    connection: BaseEmailBackend | None = None,
    run: DigestRun | None = None,
) -> int:
    """Claim, build, send and finish one digest, then schedule the person's next one."""
    claim = _claim(Digest.objects.filter(pk=row.pk), now)
    if claim is None:
        return 0
    return _send_claimed(claim, now, connection=connection, run=run or DigestRun())


def _claim(rows: QuerySet[Digest], now: dt.datetime) -> leases.Claim | None:
    """Claim up to BATCH unfinished, unclaimed rows of `rows` in one UPDATE (atomic on both
    databases, so two workers never win the same row) and fix their Message-IDs; the rows
    this call won are all under one token that names this worker. Counts the try (attempts
    never go back: a digest that never gets through ends failed)."""
    return CLAIMS.claim_batch(
        rows,
        BATCH,
        now=now,
        # A retry after a crash keeps its Message-ID: the mail client shows one message.
        message_id=Coalesce(
            NullIf("message_id", Value("")),
            Concat(Value("<digest-"), Cast("pk", CharField()), Value(f"@{mail_domain()}>")),
        ),
    )


def _send_claimed(
    claim: leases.Claim,
    now: dt.datetime,
    *,
    connection: BaseEmailBackend | None,
    run: DigestRun,
) -> int:
    """Build, send and finish claimed rows, then schedule each person's next digest. The
    heartbeat keeps the claims while this runs (their unfinished rows, never over a retry
    time that a failure set further away than a lease)."""
    rows = list(
        claim.rows()
        .filter(finished_at=None)
        .select_related("person__delivery_settings")
        .order_by("due_at", "pk")
    )
    if not rows:
        return 0
    with claim.kept():
        return _send_held(rows, now, connection=connection, run=run)


def _send_held(
    rows: list[Digest],
    now: dt.datetime,
    *,
    connection: BaseEmailBackend | None,
    run: DigestRun,
) -> int:
    finished = _Finished(now)
    following: list[tuple[Digest, dt.datetime]] = []
    wanted = []
    for row in rows:
        if give_up_if_stuck(row, now):
            following.append((row, row.period_start))
        elif (
            row.person.is_active
            and KIND_OF_CADENCE.get(settings_for(row.person).cadence) == row.kind
        ):
            wanted.append(row)
        else:
            finished.add(row, Outcome.OFF)
    contents = digest_contents(wanted, now=now, run=run)
    sent = 0
    for row in wanted:
        spaces, more = contents[row.pk]
        if not spaces:
            finished.add(row, Outcome.EMPTY)
            following.append((row, row.due_at))
            continue
        try:
            message = build_digest(row, row.person, spaces, more=more)
            message.connection = connection
            message.send()
        except Exception as error:  # noqa: BLE001 - any failure is logged on the row and retried
            if record_failure(row, now, error):
                following.append((row, row.period_start))
            continue
        finished.add(row, Outcome.SENT, thread_count=sum(len(s.threads) for s in spaces))
        following.append((row, row.due_at))
        sent += 1
    finished.write()
    _schedule_following(following, now)
    return sent


class _Finished:
    """Finished rows, marked a few at a time: one UPDATE per outcome and thread count rather
    than one per digest (on PostgreSQL a round trip each cost as much as a digest). A worker
    that dies mid-run sends at most the last MARK_EVERY again, under the same Message-IDs
    (they come from the rows' ids), which mail clients show once."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.waiting: dict[tuple[str, int], list[int]] = defaultdict(list)
        self.count = 0

    def add(self, row: Digest, outcome: str, *, thread_count: int = 0) -> None:
        self.waiting[(outcome, thread_count)].append(row.pk)
        self.count += 1
        if self.count >= MARK_EVERY:
            self.write()

    def write(self) -> None:
        for (outcome, thread_count), pks in self.waiting.items():
            Digest.objects.filter(pk__in=pks, finished_at=None).update(
                finished_at=self.now, outcome=outcome, thread_count=thread_count, last_error=""
            )
        self.waiting.clear()
        self.count = 0


def _schedule_following(done: list[tuple[Digest, dt.datetime]], now: dt.datetime) -> None:
    """The next digest of each person whose digest just finished, covering the time since
    `period start` (paired with each row): one insert for all, one by one where a period
    already had its digest."""
    fresh = [
        upcoming
        for row, period_start in done
        if (upcoming := _next_row(settings_for(row.person), max(now, row.due_at), period_start))
    ]
    Digest.objects.bulk_create(fresh, ignore_conflicts=True)
    waiting = {row.person_id: (row, start) for row, start in done}
    for person_id in Digest.objects.filter(
        person_id__in=list(waiting), finished_at=None
    ).values_list("person_id", flat=True):
        waiting.pop(person_id, None)
    for row, period_start in waiting.values():
        _schedule_next(settings_for(row.person), max(now, row.due_at), period_start=period_start)


def release_claims_of_gone_workers(now: dt.datetime | None = None) -> int:
    """When a worker starts: digests held by a worker of this host that is gone are let go of
    at once, so the next run (every minute) sends them. Retry times that a failure set, further
    away than a lease, stay. Returns how many were let go of."""
    now = now or timezone.now()
    held = Digest.objects.filter(
        finished_at=None, claimed_until__gt=now, claimed_until__lte=leases.lease_until(now)
    )
    released = CLAIMS.release_gone(held)
    if released:
        log.warning("released %s digests held by a worker that is gone", released)
    return released


# --- Content.


@dataclass
class DigestThread:
    thread_id: int
    title: str
    url: str
    reason: str
    authors: str
    excerpt: str
    replies: int
    recordings: int
    # The recording of the post the excerpt is from ("Recording, 2:14"), or "".
    recording: str = ""
    # Rendered once per run around the slot where each reader's reply address goes.
    html: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


@dataclass
class DigestSpace:
    name: str
    threads: list[DigestThread] = field(default_factory=list)

    def lines_for(self, person: User) -> tuple[str, str]:
        """This space's entries as HTML and as text, with the person's reply addresses."""
        html, text = [], []
        for entry in self.threads:
            address = reply_address_for(person.pk, entry.thread_id)
            html.append(escape(address).join(entry.html))
            text.append(address.join(entry.text))
        return "".join(html), "".join(text)


@dataclass(frozen=True)
class ThreadNews:
    """What happened in one thread in one period: the same for every reader, so a run of
    digests works it out once per thread and period (`DigestRun`)."""

    replies: int
    recordings: int
    authors: tuple[str, ...]
    newest_reply_id: int | None
    newest_excerpt: str
    # The recordings of the newest reply and of the opening post, as emails name them.
    newest_recording: dict[str, str] | None = None
    opening_recording: dict[str, str] | None = None


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
    """News for each thread in (start, end], from the cache or five grouped queries."""
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
        posted = recording_queries.posted_recordings()
        recordings = dict(
            posted.filter(thread_id__in=missing, posted_at__gt=start, posted_at__lte=end)
            .values("thread_id")
            .annotate(n=Count("pk"))
            .values_list("thread_id", "n")
        )
        shown = recording_queries.recordings_of_posts(
            posted, reply_ids=newest_ids.values(), opening_thread_ids=missing
        )
        for pk in missing:
            newest = newest_ids.get(pk)
            cache[(pk, start, end)] = ThreadNews(
                replies=counts.get(pk, 0),
                recordings=recordings.get(pk, 0),
                authors=tuple(sorted(authors.get(pk, ()))),
                newest_reply_id=newest,
                newest_excerpt=_excerpt(bodies.get(newest, "")),
                newest_recording=recording_in_email(shown.by_reply.get(newest)),
                opening_recording=recording_in_email(shown.by_opening.get(pk)),
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


_SLOT = "\x00"  # stands for the reply address while an entry is rendered for everyone


def _rendered(entry: DigestThread) -> DigestThread:
    """The entry with its HTML and text lines rendered (once per run, see `DigestRun`)."""
    context = {"entry": entry, "reply_to": _SLOT}
    entry.html = render_to_string("mail/_digest_entry.html", context).split(_SLOT)
    entry.text = render_to_string("mail/_digest_entry.txt", context).split(_SLOT)
    return entry


def _excerpt(text: str) -> str:
    return Truncator(text or "").words(EXCERPT_WORDS)


def _words(excerpt: str, recording: dict[str, str] | None) -> dict[str, str]:
    """An entry's excerpt and recording: a post that is only a recording is quoted from what
    is said in it (or named by its length alone, "Recording, 2:14", before a transcript)."""
    if recording is None:
        return {"excerpt": excerpt, "recording": ""}
    return {"excerpt": excerpt or recording["said"], "recording": recording["label"]}


def _names(names: tuple[str, ...] | list[str]) -> str:
    """ "Ann, Bo, Cy and 4 others": who took part, short enough for one line."""
    if len(names) <= 3:
        return ", ".join(names)
    return f"{', '.join(names[:3])} and {len(names) - 3} others"


def digest_contents(
    rows: list[Digest], *, now: dt.datetime | None = None, run: DigestRun | None = None
) -> dict[int, tuple[list[DigestSpace], bool]]:
    """For each digest row (by id): what its person's inbox gained in (period start, due]
    and is still unread, not done and not snoozed, in threads they can see now; grouped by
    space, newest first, at most MAX_THREADS of them, with a flag saying whether more are
    waiting in the inbox. One query per distinct period reads the items of all the people."""
    now = now or timezone.now()
    run = run or DigestRun()
    periods: dict[tuple[dt.datetime, dt.datetime], list[Digest]] = defaultdict(list)
    for row in rows:
        periods[(row.period_start, row.due_at)].append(row)
    found: dict[tuple[int, dt.datetime, dt.datetime], list[tuple]] = defaultdict(list)
    for (start, end), group in periods.items():
        listed: set[int] = set()
        newest_first = Window(
            RowNumber(), partition_by=F("person_id"), order_by=[F("updated_at").desc(), F("pk")]
        )
        # Plain rows, not model instances: a run reads a million of them.
        for person_id, *item in (
            InboxItem.objects.filter(
                seen_by_their_person("person", "thread__space"),
                person_id__in=[row.person_id for row in group],
                read_at=None,
                done_at=None,
                updated_at__gt=start,
                updated_at__lte=end,
                thread__deleted_at=None,
            )
            .exclude(snoozed_until__gt=now)
            .annotate(place=newest_first)
            .filter(place__lte=MAX_THREADS + 1)
            .order_by("person_id", "place")
            .values_list(
                "person_id",
                "thread_id",
                "reason",
                "thread__title",
                "thread__body",
                "thread__author__name",
                "thread__space_id",
                "thread__space__name",
                "thread__outcome",
            )
        ):
            found[(person_id, start, end)].append(item)
            listed.add(item[0])
        thread_news(sorted(listed), start, end, run)  # every thread's news: a few queries
    reasons = dict(Reason.choices)
    contents = {}
    for row in rows:
        start, end = row.period_start, row.due_at
        items = found.get((row.person_id, start, end), [])
        more = len(items) > MAX_THREADS
        items = items[:MAX_THREADS]
        spaces: dict[int, DigestSpace] = {}
        for thread_id, reason, title, body, starter, space_id, space_name, outcome in items:
            key = (thread_id, start, end, reason)
            entry = run.lines.get(key)
            if entry is None:
                told = run.news[(thread_id, start, end)]
                url = thread_url(thread_id)
                if reason == Reason.RESOLUTION:
                    excerpt, recording = _excerpt(outcome), None
                elif told.newest_reply_id:  # about the newest reply, never the opening post
                    excerpt, recording = told.newest_excerpt, told.newest_recording
                else:
                    excerpt, recording = _excerpt(body), told.opening_recording
                entry = run.lines[key] = _rendered(
                    DigestThread(
                        thread_id=thread_id,
                        title=title,
                        url=f"{url}#reply-{told.newest_reply_id}" if told.newest_reply_id else url,
                        reason=reasons.get(reason, ""),
                        authors=_names(told.authors or (starter or "Someone",)),
                        **_words(excerpt, recording),
                        replies=told.replies,
                        recordings=told.recordings,
                    )
                )
            spaces.setdefault(space_id, DigestSpace(space_name)).threads.append(entry)
        contents[row.pk] = (sorted(spaces.values(), key=lambda group: group.name.lower()), more)
    return contents


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
    # Joined here rather than looped over in the templates: a digest run renders a lot.
    groups = [(group.name, *group.lines_for(person)) for group in spaces]
    context = {
        "more": more,
        "person": person,
        "title": title,
        "groups": groups,
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
        to=[mailbox(person.name, person.email)],
        headers={"Message-ID": message_id, "Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html, "text/html")
    return message


def build_batch(
    person: User, rows: list[tuple[OutboxEmail, list[dict]]], message_id: str
) -> EmailMultiAlternatives:
    """The hourly batch: a short digest of the threads in a person's due outbox rows."""
    reply_ids = [e["reply_id"] for _row, events in rows for e in events if e.get("reply_id")]
    actor_ids = {e["actor_id"] for _row, events in rows for e in events if e.get("actor_id")}
    replies = {r.pk: r for r in Reply.objects.filter(pk__in=reply_ids, deleted_at=None)}
    names = dict(User.objects.filter(pk__in=actor_ids).values_list("pk", "name"))
    posted = recording_queries.posted_recordings()
    recordings = dict(
        posted.filter(reply_id__in=reply_ids)
        .values("reply_id")
        .annotate(n=Count("pk"))
        .values_list("reply_id", "n")
    )
    shown = recording_queries.recordings_of_posts(
        posted, reply_ids=reply_ids, opening_thread_ids=[row.thread_id for row, _events in rows]
    )
    spaces: dict[int, DigestSpace] = {}
    for row, events in rows:
        thread = row.thread
        own = [replies[e["reply_id"]] for e in events if e.get("reply_id") in replies]
        newest = max(own, key=lambda reply: reply.pk, default=None)
        resolved = thread.resolved_at is not None and any(
            e["kind"] == EmailEvent.RESOLUTION for e in events
        )
        if resolved:
            words = {"excerpt": _excerpt(thread.outcome), "recording": ""}
        else:
            recording = shown.of(thread.pk, newest.pk if newest else None)
            text = newest.body if newest else thread.body
            words = _words(_excerpt(text), recording_in_email(recording))
        url = thread_url(thread.pk)
        entry = DigestThread(
            thread_id=thread.pk,
            title=thread.title,
            url=f"{url}#reply-{newest.pk}" if newest else url,
            reason=_strongest(events),
            authors=_names(
                sorted({names[e["actor_id"]] for e in events if e.get("actor_id") in names})
            ),
            **words,
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
