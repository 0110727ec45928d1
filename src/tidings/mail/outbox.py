"""Email notifications: the durable outbox of one email per person and thread.

The inbox fan-out decides who hears about an event (exactly the people allowed to see it) and
publishes `inbox_delivered`, which reaches `schedule_emails`; this module decides when, per
each person's delivery settings, and sends. Sending re-checks everything at send time:
visibility, whether the person read the thread in the web UI meanwhile, quiet hours and their
current settings.

Exactly once: a row is claimed with a conditional UPDATE (atomic on SQLite and PostgreSQL, so
two workers never both win) that also fixes its Message-ID; only then is it sent, and marked
finished right after. The claim is a short lease (see leases.py) that the worker's heartbeat
renews while the email is built and sent; a worker that dies between claim and finish leaves a
claim that ends within that lease, so the next run (every minute) sends the email. The retry
uses the same Message-ID, so even a send that went out just before the crash is one message to
the mail client, never two.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Mapping
from email.utils import formataddr, parseaddr
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from tidings import leases
from tidings.accounts.delivery import is_quiet, next_email_time, settings_for
from tidings.accounts.models import DeliverySettings, EmailCadence, User, header_safe_name
from tidings.inbox.models import InboxItem
from tidings.mail.addresses import reply_address, unsubscribe_address
from tidings.mail.models import EmailEvent, OutboxEmail, Outcome
from tidings.mail.unsubscribe import unsubscribe_token
from tidings.recordings import queries as recording_queries
from tidings.threads.access import can_view_thread
from tidings.threads.models import ReadMark, Reply, SpaceLevel, SpaceSubscription

if TYPE_CHECKING:
    from django.core.mail.backends.base import BaseEmailBackend

    from tidings.accounts.models import DeliverySettings, User
    from tidings.mail.models import Digest
    from tidings.recordings.models import Recording
    from tidings.threads.models import Reply, Space, Thread

log = logging.getLogger(__name__)

# An email's claim: each counts a try; a finished row is never claimed or renewed. An expired
# claim is never cleared, only taken again (a row with no claim may have a newer open row of
# the same person and thread waiting beside it).
CLAIMS = leases.Claimable(OutboxEmail, open_work=Q(finished_at=None))
MAX_ATTEMPTS = 8
# Why a row was given up whose last tries were cut short (their worker stopped midway).
STOPPED_MIDWAY = (
    "Gave up after {attempts} tries: the last stopped midway, before the mail server answered."
)
BATCH = 500
# What addresses the person directly skips the hourly batch (still waits out quiet hours).
URGENT = {EmailEvent.MENTION, EmailEvent.REQUEST, EmailEvent.REMINDER}
# Personal events reach a person even in a space they muted.
PERSONAL = URGENT
# How much of what is said in a recording an email quotes.
SAID_WORDS = 40


# --- Scheduling.


def _email_allowed(level: str | None, event: str) -> bool:
    """Whether a space's level lets this event become an email."""
    return event in PERSONAL or level != SpaceLevel.MUTED


def schedule_emails(
    thread: Thread,
    events: Mapping[int, str],
    *,
    reply: Reply | None = None,
    actor_id: int | None = None,
    at: dt.datetime | None = None,
) -> int:
    """Queue an email about `thread` for each person id in `events` (id -> EmailEvent), as their
    settings say: a person with a pending email for the thread gets the event added to it,
    others get a new row due at their next email time. People on a digest cadence or on
    "never", and spaces they muted, get no row (digests read the inbox instead). The caller
    has checked who may see the thread. Returns how many people got the event queued."""
    if not events:
        return 0
    at = at or timezone.now()
    person_ids = list(events)
    levels = dict(
        SpaceSubscription.objects.filter(
            space_id=thread.space_id, person_id__in=person_ids
        ).values_list("person_id", "level")
    )
    found = {
        row.user_id: row
        for row in DeliverySettings.objects.filter(user_id__in=person_ids).select_related("user")
    }
    missing = [pk for pk in person_ids if pk not in found]
    for person in User.objects.filter(pk__in=missing):
        found[person.pk] = settings_for(person)
    with transaction.atomic():
        # Locked (on PostgreSQL) so that two events for the same person never overwrite each
        # other's additions; a sender claiming one of these rows waits, then re-reads it.
        pending = {
            row.person_id: row
            for row in OutboxEmail.objects.select_for_update().filter(
                thread=thread, person_id__in=person_ids, finished_at=None, claimed_until=None
            )
        }
        return _queue(thread, events, pending, found, levels, reply, actor_id, at)


def _queue(
    thread: Thread,
    events: Mapping[int, str],
    pending: dict[int, OutboxEmail],
    found: dict[int, DeliverySettings],
    levels: dict[int, str],
    reply: Reply | None,
    actor_id: int | None,
    at: dt.datetime,
) -> int:
    """The writes of `schedule_emails`, inside its transaction."""
    new_rows, joined = [], []
    # People with the same clock settings get the same due time: work it out once each.
    due_times: dict[tuple, dt.datetime | None] = {}
    for person_id, event in events.items():
        delivery = found.get(person_id)
        if delivery is None or not _email_allowed(levels.get(person_id), event):
            continue
        entry = {
            "kind": str(event),
            "reply_id": reply.pk if reply else None,
            "actor_id": actor_id,
            "at": at.isoformat(),
        }
        signature = (
            delivery.cadence, delivery.zone, delivery.quiet_start, delivery.quiet_end,
            delivery.away_until, str(delivery.working_hours), event in URGENT,
        )  # fmt: skip
        if signature not in due_times:
            due_times[signature] = _due_at(delivery, at, event)
        due = due_times[signature]
        if due is None:
            continue
        row = pending.get(person_id)
        if row is not None:
            row.events = [*row.events, entry]
            row.due_at = min(row.due_at, due)  # a mention does not wait for the hourly batch
            joined.append(row)
        else:
            new_rows.append(
                OutboxEmail(person_id=person_id, thread=thread, events=[entry], due_at=due)
            )
    if joined:
        OutboxEmail.objects.bulk_update(joined, ["events", "due_at"])
    if new_rows:
        try:
            with transaction.atomic():  # a savepoint: the joined rows above stay
                OutboxEmail.objects.bulk_create(new_rows)
        except IntegrityError:
            # A worker queued one of these a moment ago: add to rows one by one instead.
            for row in new_rows:
                _join_or_create(row)
    return len(joined) + len(new_rows)


def _due_at(delivery: DeliverySettings, at: dt.datetime, event: str) -> dt.datetime | None:
    if delivery.cadence in {EmailCadence.DAILY, EmailCadence.WEEKLY, EmailCadence.NEVER}:
        return None
    return next_email_time(delivery, at, urgent=event in URGENT)


def _join_or_create(row: OutboxEmail) -> None:
    with transaction.atomic():
        found = (
            OutboxEmail.objects.select_for_update()
            .filter(person_id=row.person_id, thread_id=row.thread_id)
            .filter(finished_at=None, claimed_until=None)
            .first()
        )
        if found is None:
            row.save()
            return
        found.events = [*found.events, *row.events]
        found.due_at = min(found.due_at, row.due_at)
        found.save(update_fields=["events", "due_at"])


# --- Sending.


def send_due_emails(now: dt.datetime | None = None) -> int:
    """Send every email that is due (and retry expired claims). People on the hourly batch
    with several threads due get them in one short digest. Returns how many emails went out."""
    now = now or timezone.now()
    sent = 0
    connection = open_connection()
    try:
        while True:
            due = list(
                OutboxEmail.objects.filter(finished_at=None, due_at__lte=now)
                .filter(Q(claimed_until=None) | Q(claimed_until__lte=now))
                .select_related("person__delivery_settings", "thread__space__workspace")
                .order_by("person_id", "due_at", "pk")[:BATCH]
            )
            by_person: dict[int, list[OutboxEmail]] = {}
            for row in due:
                by_person.setdefault(row.person_id, []).append(row)
            for rows in by_person.values():
                if len(rows) > 1 and settings_for(rows[0].person).cadence == EmailCadence.HOURLY:
                    sent += deliver_batch(rows, now, connection=connection)
                else:
                    sent += sum(deliver(row, now, connection=connection) for row in rows)
            if len(due) < BATCH:
                return sent
    finally:
        connection.close()


def open_connection() -> BaseEmailBackend:
    """One SMTP connection for a whole run (a connection per message costs more than the
    message). If the server is down now, each send tries again and records its error."""
    connection = get_connection()
    try:
        connection.open()
    except OSError as error:
        log.warning("outgoing mail server unavailable: %s", error)
    return connection


def deliver(
    row: OutboxEmail, now: dt.datetime, *, connection: BaseEmailBackend | None = None
) -> int:
    """Check, claim, send and finish one outbox row. Returns 1 when an email went out."""
    if _ready(row, now) is None or not (claim := _claim(row, now)):
        return 0  # finished, moved past quiet hours, or another worker has it
    if give_up_if_stuck(row, now):
        return 0
    with claim.kept():
        events = _claimed_events(row, now)
        if not events:
            return 0
        try:
            message = build_notification(row, row.person, row.thread, events)
            message.connection = connection
            message.send()
        except Exception as error:  # noqa: BLE001 - any failure is logged on the row and retried
            record_failure(row, now, error)
            return 0
        return _finish(row, now, Outcome.SENT)


def deliver_batch(
    rows: list[OutboxEmail], now: dt.datetime, *, connection: BaseEmailBackend | None = None
) -> int:
    """One person's due rows as one short digest (the hourly batch). Returns 1 when sent."""
    from tidings.mail.digests import build_batch  # digests build on this module's sending

    ready = [(row, events) for row in rows if (events := _ready(row, now)) is not None]
    if len(ready) < 2:
        return sum(deliver(row, now, connection=connection) for row, _events in ready)
    # A batch retried after a crash keeps the Message-ID it was claimed with.
    message_id = next((row.message_id for row, _ in ready if row.message_id), "")
    message_id = message_id or f"<batch-{ready[0][0].pk}@{mail_domain()}>"
    claim = CLAIMS.new_claim()  # the batch's rows, each taken into one claim
    taken = [
        row
        for row, _events in ready
        if _claim(row, now, message_id, into=claim) and not give_up_if_stuck(row, now)
    ]
    if not taken:
        return 0
    with claim.kept():
        claimed = [(row, events) for row in taken if (events := _claimed_events(row, now))]
        if not claimed:
            return 0
        try:
            message = build_batch(claimed[0][0].person, claimed, message_id)
            message.connection = connection
            message.send()
        except Exception as error:  # noqa: BLE001 - any failure is logged on the rows and retried
            for row, _events in claimed:
                record_failure(row, now, error)
            return 0
        for row, _events in claimed:
            _finish(row, now, Outcome.SENT)
        return 1


def _ready(row: OutboxEmail, now: dt.datetime) -> list[dict] | None:
    """The events to send now after the send-time checks; None when the row was finished
    (not visible, read, turned off) or moved to the end of the person's quiet hours."""
    person, thread = row.person, row.thread
    delivery = settings_for(person)
    events = _events_to_tell(row, person, thread)
    if events is None:
        _finish(row, now, Outcome.HIDDEN)
        return None
    if not events:
        _finish(row, now, Outcome.READ)
        return None
    if delivery.cadence in {EmailCadence.DAILY, EmailCadence.WEEKLY, EmailCadence.NEVER}:
        _finish(row, now, Outcome.OFF)  # changed since: the digest covers it, or nothing
        return None
    if not _space_allows(person, thread, events):
        _finish(row, now, Outcome.OFF)
        return None
    if is_quiet(delivery, now):
        later = next_email_time(delivery, now, urgent=True) or now + dt.timedelta(hours=1)
        later = max(later, now + dt.timedelta(minutes=1))  # never due again in this same run
        field = "due_at" if row.claimed_until is None else "claimed_until"
        OutboxEmail.objects.filter(pk=row.pk, finished_at=None).update(**{field: later})
        return None
    return events


def _claimed_events(row: OutboxEmail, now: dt.datetime) -> list[dict]:
    """The events as claimed: one queued just before the claim is in them too."""
    row.refresh_from_db(fields=["events"])
    events = _events_to_tell(row, row.person, row.thread)
    if not events:
        _finish(row, now, Outcome.READ if events is not None else Outcome.HIDDEN)
    return events or []


def record_failure(row: OutboxEmail | Digest, now: dt.datetime, error: Exception) -> bool:
    """A claimed outbox row or digest could not be sent: keep the claim as the retry time
    (doubling each attempt), and give up after MAX_ATTEMPTS. True when it gave up."""
    log.warning(
        "%s %s: sending failed (attempt %s): %s", row._meta.model_name, row.pk, row.attempts, error
    )
    failed = row.attempts >= MAX_ATTEMPTS
    type(row).objects.filter(pk=row.pk).update(
        last_error=str(error)[:2000],
        claimed_until=now + dt.timedelta(minutes=2**row.attempts),
        finished_at=now if failed else None,
        outcome=Outcome.FAILED if failed else "",
    )
    return failed


def give_up_if_stuck(row: OutboxEmail | Digest, now: dt.datetime) -> bool:
    """A row just claimed after MAX_ATTEMPTS tries that never got an answer (their worker
    stopped midway: killed, or out of memory) fails now rather than being tried for ever.
    True when it gave up."""
    if row.attempts <= MAX_ATTEMPTS:
        return False
    tries = row.attempts - 1
    log.error("%s %s: giving up after %s tries cut short", row._meta.model_name, row.pk, tries)
    type(row).objects.filter(pk=row.pk, finished_at=None).update(
        last_error=STOPPED_MIDWAY.format(attempts=tries),
        finished_at=now,
        outcome=Outcome.FAILED,
    )
    return True


def _finish(row: OutboxEmail, now: dt.datetime, outcome: str) -> int:
    OutboxEmail.objects.filter(pk=row.pk, finished_at=None).update(
        finished_at=now, outcome=outcome, last_error=""
    )
    return 1 if outcome == Outcome.SENT else 0


def _claim(
    row: OutboxEmail, now: dt.datetime, message_id: str = "", *, into: leases.Claim | None = None
) -> leases.Claim | None:
    """Take the row for this worker until the lease ends (into the claim `into`, when given),
    fixing its Message-ID first; counts the try (attempts never go back: a row that never
    gets through ends failed). The claim's renewal touches the row only while it is
    unfinished and not claimed again since, and never brings a retry time that a failure set
    further away than a lease nearer."""
    message_id = row.message_id or message_id or message_id_for(row)
    claim = into or CLAIMS.new_claim()
    if not claim.take(row.pk, now=now, message_id=message_id):
        return None
    row.message_id = message_id
    row.attempts += 1
    row.claimed_by = claim.token
    return claim


def _events_to_tell(row: OutboxEmail, person: User, thread: Thread) -> list[dict] | None:
    """The row's events the person has not seen yet, with replies still there; None when the
    person can no longer see the thread at all."""
    if not person.is_active or not can_view_thread(person, thread):
        return None
    read_times = [
        *ReadMark.objects.filter(person=person, thread=thread).values_list("read_at", flat=True),
        *InboxItem.objects.filter(person=person, thread=thread, read_at__isnull=False)
        .values_list("read_at", flat=True),
    ]  # fmt: skip
    read_at = max(read_times, default=None)
    reply_ids = {e["reply_id"] for e in row.events if e.get("reply_id")}
    alive = set(
        Reply.objects.filter(pk__in=reply_ids, deleted_at=None).values_list("pk", flat=True)
    )
    return [
        event
        for event in row.events
        if (read_at is None or dt.datetime.fromisoformat(event["at"]) > read_at)
        and (not event.get("reply_id") or event["reply_id"] in alive)
        and (event["kind"] != EmailEvent.RESOLUTION or thread.resolved_at is not None)
    ]


def _space_allows(person: User, thread: Thread, events: Iterable[dict]) -> bool:
    level = (
        SpaceSubscription.objects.filter(person=person, space_id=thread.space_id)
        .values_list("level", flat=True)
        .first()
    )
    return any(_email_allowed(level, event["kind"]) for event in events)


# --- The message.


def mail_domain() -> str:
    return settings.MAIL_DOMAIN


def thread_message_id(thread: Thread | int) -> str:
    """The root every email about a thread refers to, so clients group them as one."""
    thread_id = thread if isinstance(thread, int) else thread.pk
    return f"<thread-{thread_id}@{mail_domain()}>"


def message_id_for(row: OutboxEmail) -> str:
    return f"<thread-{row.thread_id}-{row.pk}@{mail_domain()}>"


def absolute(url: str) -> str:
    return f"{settings.SITE_URL}{url}" if url.startswith("/") else url


_RELATIVE = re.compile(r'(\s(?:href|src)=")/(?!/)')


def absolute_links(html: str) -> str:
    """Sanitized post HTML with site-relative links made absolute, for use outside the site."""
    return _RELATIVE.sub(lambda found: f"{found[1]}{settings.SITE_URL}/", html)


def mailbox(name: str | None, address: str) -> str:
    """`Name <address>` for a header from any stored name: one cleaned of line breaks and
    control characters (older names may hold them), quoted or encoded by the email package."""
    shown = header_safe_name(name or "")
    return formataddr((shown, address)) if shown else address


def sender(name: str | None = None) -> str:
    """The From address, showing who wrote the post ("Mia Member via Tidings")."""
    default_name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    author = header_safe_name(name or "")
    return mailbox(f"{author} via {default_name or 'Tidings'}" if author else default_name, address)


def list_headers(person: User, space: Space) -> dict[str, str]:
    """List-Id and one-click List-Unsubscribe (RFC 2919, RFC 2369, RFC 8058) for a space."""
    return {
        "List-Id": f"{space.name} <{space.slug}.{space.workspace.slug}.{mail_domain()}>",
        "List-Unsubscribe": (
            f"<{unsubscribe_url(person, space)}>, "
            f"<mailto:{unsubscribe_address(person, space)}?subject=unsubscribe>"
        ),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Auto-Submitted": "auto-generated",
    }


def unsubscribe_url(person: User, space: Space) -> str:
    return absolute(reverse("mail:unsubscribe", args=[unsubscribe_token(person, space)]))


def build_notification(
    row: OutboxEmail, person: User, thread: Thread, events: list[dict]
) -> EmailMultiAlternatives:
    """One email telling the person what happened in the thread: the new replies in full."""
    space = thread.space
    zone = person.zone
    reply_ids = [e["reply_id"] for e in events if e.get("reply_id")]
    replies = list(
        Reply.objects.filter(pk__in=reply_ids, deleted_at=None)
        .select_related("author")
        .order_by("created_at", "pk")
    )
    # The reader may see the thread (checked before sending), so every posted recording in it.
    recordings = recording_queries.recordings_of_posts(
        recording_queries.posted_recordings().filter(thread=thread),
        reply_ids=reply_ids,
        opening_thread_ids=[thread.pk],
    )
    kinds = {e["kind"] for e in events}
    actor_ids = [e["actor_id"] for e in events if e.get("actor_id")]
    actors = {p.pk: p for p in User.objects.filter(pk__in=actor_ids)}
    latest_actor = actors.get(actor_ids[-1]) if actor_ids else None
    thread_url = absolute(reverse("threads:thread", args=[thread.pk]))
    resolved = EmailEvent.RESOLUTION in kinds and thread.resolved_at is not None
    shows_thread = EmailEvent.NEW_THREAD in kinds or not (replies or resolved)
    context = {
        "person": person,
        "thread": thread,
        "space": space,
        "thread_url": thread_url,
        "thread_html": absolute_links(thread.body_html) if shows_thread else "",
        "thread_recording": (
            recording_in_email(recordings.of(thread.pk, None)) if shows_thread else None
        ),
        "thread_time": thread.created_at,
        "replies": [
            {
                "author": reply.author,
                "time": reply.created_at,
                "html": absolute_links(reply.body_html),
                "text": reply.body,
                "url": f"{thread_url}#reply-{reply.pk}",
                "recording": recording_in_email(recordings.of(thread.pk, reply.pk)),
            }
            for reply in replies
        ],
        "outcome": (
            {
                "by": thread.resolved_by,
                "time": thread.resolved_at,
                "html": absolute_links(thread.outcome_html),
                "text": thread.outcome,
            }
            if resolved
            else None
        ),
        "why": _why(kinds, thread),
        "zone_name": person.time_zone,
        "settings_url": absolute(reverse("accounts:delivery")),
        "unsubscribe_url": unsubscribe_url(person, space),
    }
    subject = f"[{space.name}] {thread.title}"
    with timezone.override(zone):  # times in the email read in the person's own zone
        text = render_to_string("mail/notification.txt", context)
        html = render_to_string("mail/notification.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=sender(latest_actor.name if latest_actor else None),
        to=[mailbox(person.name, person.email)],
        headers={
            "Message-ID": row.message_id or message_id_for(row),
            "In-Reply-To": thread_message_id(thread),
            "References": thread_message_id(thread),
            **list_headers(person, space),
        },
    )
    reply_to = reply_address(person, thread)
    if reply_to:
        message.reply_to = [reply_to]
    message.attach_alternative(html, "text/html")
    return message


def _why(kinds: set[str], thread: Thread) -> str:
    """One line on why this email came, strongest reason first."""
    for kind, line in [
        (EmailEvent.MENTION, "You were mentioned."),
        (EmailEvent.REQUEST, "You were asked to respond."),
        (EmailEvent.REMINDER, "You asked to be reminded of this thread."),
        (EmailEvent.RESOLUTION, "The thread was resolved."),
        (EmailEvent.NEW_THREAD, "A new thread was posted in a space you follow."),
    ]:
        if kind in kinds:
            return line
    return "New replies in a thread you follow."


def recording_in_email(recording: Recording | None) -> dict[str, str] | None:
    """How an email names a recording: "Recording, 2:14" and the start of what is said in it
    (its transcript, once there is one). Never its poster: an image in an email is fetched by
    whoever holds the message (a forward, a mail provider's image proxy that keeps a copy) with
    no way to tell who looks, so the email links to the post, where the poster is shown only
    to people signed in who may see it."""
    if recording is None:
        return None
    said = Truncator(" ".join(recording.said.split())).words(SAID_WORDS)
    return {"label": recording_queries.label(recording), "said": f"“{said}”" if said else ""}
