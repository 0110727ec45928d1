"""Notification emails end to end: posting fans out to inboxes, the outbox queues an email per
person and thread, and the sender hands it to a real SMTP server on loopback."""

from __future__ import annotations

import datetime as dt
from contextlib import suppress

import pytest
from django.core.mail import EmailMultiAlternatives
from django.db.models import QuerySet
from django.utils import timezone

from tidings import leases
from tidings.accounts.delivery import settings_for
from tidings.accounts.models import EmailCadence
from tidings.mail import outbox
from tidings.mail.addresses import reply_address
from tidings.mail.models import OutboxEmail, Outcome
from tidings.threads import actions
from tidings.threads.models import SpaceMember
from tidings.threads.tests.factories import reply_to, thread_in


def set_delivery(person, cadence=EmailCadence.IMMEDIATELY, quiet=None, **fields):
    delivery = settings_for(person)
    delivery.cadence = cadence
    delivery.quiet_start, delivery.quiet_end = quiet or (None, None)
    for name, value in fields.items():
        setattr(delivery, name, value)
    delivery.save()
    return delivery


def later(minutes: int = 1) -> dt.datetime:
    return timezone.now() + dt.timedelta(minutes=minutes)


@pytest.fixture
def conversation(committed, world):
    """Mia started a thread in General; she hears about replies at once, the others (unless a
    test says otherwise) get no email."""
    for person in (world.owner, world.admin, world.guest):
        set_delivery(person, EmailCadence.NEVER)
    set_delivery(world.member)
    return committed(
        thread_in, world.open_space, world.member, title="Launch checklist", body="What's left?"
    )


def test_a_reply_is_emailed_at_once_with_threading_and_list_headers(
    committed, world, conversation, sent_mail, settings
):
    settings.SITE_URL = "https://tidings.example"
    settings.MAIL_DOMAIN = "tidings.example"
    reply = committed(
        reply_to, conversation, world.owner, body="Only the **press kit**, see [the plan](/w/acme/)"
    )

    assert outbox.send_due_emails(later()) == 1
    [message] = sent_mail(world.member.email)
    assert message["Subject"] == "[General] Launch checklist"
    assert message["From"].addresses[0].display_name == "Olivia Owner via Tidings"
    assert message["Message-ID"].startswith(f"<thread-{conversation.pk}-")
    assert message["Message-ID"].endswith("@tidings.example>")
    assert message["In-Reply-To"] == f"<thread-{conversation.pk}@tidings.example>"
    assert message["References"] == f"<thread-{conversation.pk}@tidings.example>"
    assert message["List-Id"] == "General <general.acme.tidings.example>"
    assert (
        message["List-Unsubscribe"]
        .strip()
        .startswith("<https://tidings.example/email/unsubscribe/")
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Reply-To"] == reply_address(world.member, conversation)
    assert message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Olivia Owner" in text and "**press kit**" in text
    local = reply.created_at.astimezone(world.member.zone)  # Kolkata, UTC+05:30
    assert f"{local:%H:%M}" in text and "Asia/Kolkata" in text
    assert "<strong>press kit</strong>" in html
    assert 'href="https://tidings.example/w/acme/"' in html
    assert f"https://tidings.example/t/{conversation.pk}/" in html
    row = OutboxEmail.objects.get(person=world.member)
    assert row.outcome == Outcome.SENT and row.message_id == message["Message-ID"]
    assert outbox.send_due_emails(later(5)) == 0  # never twice
    assert sent_mail(world.owner.email) == []  # the replier hears nothing of their own words


def test_replies_before_the_email_goes_out_make_one_email(
    committed, world, conversation, sent_mail
):
    committed(reply_to, conversation, world.owner, body="First thought")
    committed(reply_to, conversation, world.admin, body="Second thought")

    assert OutboxEmail.objects.filter(person=world.member).count() == 1
    assert outbox.send_due_emails(later()) == 1
    [message] = sent_mail(world.member.email)
    text = message.get_body(("plain",)).get_content()
    assert "First thought" in text and "Second thought" in text
    # Activity after the email starts the next one, in the same conversation.
    committed(reply_to, conversation, world.owner, body="Third thought")
    assert outbox.send_due_emails(later()) == 1
    first, second = sent_mail(world.member.email)
    assert first["Message-ID"] != second["Message-ID"]
    assert first["References"] == second["References"]
    assert "Third thought" in second.get_body(("plain",)).get_content()


def test_quiet_hours_hold_the_email_until_they_end(committed, world, conversation, sent_mail):
    local_now = timezone.now().astimezone(world.member.zone)
    start = (local_now - dt.timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (local_now + dt.timedelta(hours=2)).time().replace(second=0, microsecond=0)
    set_delivery(world.member, quiet=(start, end))
    committed(reply_to, conversation, world.owner, body="Sent at night")

    assert outbox.send_due_emails(later(30)) == 0
    assert sent_mail(world.member.email) == []
    assert outbox.send_due_emails(later(180)) == 1
    assert len(sent_mail(world.member.email)) == 1


def test_quiet_hours_that_began_after_scheduling_reschedule_the_email(
    committed, world, conversation, sent_mail
):
    committed(reply_to, conversation, world.owner, body="Due now")
    set_delivery(world.member, away_until=timezone.now().date() + dt.timedelta(days=1))

    assert outbox.send_due_emails(later()) == 0
    row = OutboxEmail.objects.get(person=world.member)
    assert row.finished_at is None and row.due_at > later(60)
    assert outbox.send_due_emails(row.due_at) == 1


def test_no_email_for_what_was_read_in_the_web_ui(committed, world, conversation, sent_mail):
    committed(reply_to, conversation, world.owner, body="Read it online")
    actions.mark_thread_read(world.member, conversation)

    assert outbox.send_due_emails(later()) == 0
    assert sent_mail(world.member.email) == []
    assert OutboxEmail.objects.get(person=world.member).outcome == Outcome.READ


def test_hourly_people_wait_for_the_full_hour_and_digest_people_get_no_email(
    committed, world, conversation, sent_mail
):
    set_delivery(world.member, EmailCadence.HOURLY)
    set_delivery(world.admin, EmailCadence.DAILY)
    actions.follow_thread(world.admin, conversation, True)
    committed(reply_to, conversation, world.owner, body="Batched")

    row = OutboxEmail.objects.get(person=world.member)
    assert row.due_at.astimezone(world.member.zone).minute == 0
    assert not OutboxEmail.objects.filter(person=world.admin).exists()
    assert outbox.send_due_emails(row.due_at) == 1


def test_a_mention_is_not_held_for_the_hourly_batch(committed, world, conversation, sent_mail):
    set_delivery(world.admin, EmailCadence.HOURLY)
    committed(reply_to, conversation, world.owner, body="@adam can you check?")

    row = OutboxEmail.objects.get(person=world.admin)
    assert row.due_at <= timezone.now()
    outbox.send_due_emails(later())
    assert "mentioned" in sent_mail(world.admin.email)[0].get_body(("plain",)).get_content()


def test_a_private_thread_is_never_emailed_to_someone_who_cannot_see_it(
    committed, world, sent_mail
):
    for person in (world.owner, world.admin, world.member, world.guest, world.outsider):
        set_delivery(person)
    secret = committed(thread_in, world.private_space, world.owner, title="Quiet acquisition")
    committed(reply_to, secret, world.admin, body="@mia @gus numbers attached")

    outbox.send_due_emails(later())
    emailed = {message["To"].addresses[0].addr_spec for message in sent_mail()}
    assert emailed == {world.owner.email, world.admin.email}
    assert not OutboxEmail.objects.filter(person__in=[world.member, world.guest]).exists()


def test_someone_removed_from_the_space_before_sending_gets_nothing(committed, world, sent_mail):
    set_delivery(world.admin)
    set_delivery(world.owner, EmailCadence.NEVER)
    secret = committed(thread_in, world.private_space, world.admin, title="Quiet acquisition")
    committed(reply_to, secret, world.owner, body="Numbers attached")
    assert OutboxEmail.objects.filter(person=world.admin, finished_at=None).exists()

    SpaceMember.objects.filter(space=world.private_space, person=world.admin).delete()
    assert outbox.send_due_emails(later()) == 0
    assert sent_mail(world.admin.email) == []
    assert OutboxEmail.objects.get(person=world.admin).outcome == Outcome.HIDDEN


def test_a_deleted_reply_is_not_emailed(committed, world, conversation, sent_mail):
    reply = committed(reply_to, conversation, world.owner, body="Oops, wrong thread")
    committed(actions.delete_reply, world.owner, reply)

    assert outbox.send_due_emails(later()) == 0
    assert sent_mail(world.member.email) == []


def test_the_email_in_flight_when_a_worker_died_goes_out_once_within_a_minute(
    committed, world, conversation, sent_mail
):
    committed(reply_to, conversation, world.owner, body="Survives a crash")
    row = OutboxEmail.objects.get(person=world.member)
    now = later()
    assert outbox._claim(row, now)  # the worker claimed the row, then died before sending

    assert outbox.send_due_emails(now + dt.timedelta(seconds=1)) == 0  # the claim still holds
    assert sent_mail(world.member.email) == []
    # Runs come every minute: the first one after the short lease sends it.
    retry_at = now + leases.lease() + dt.timedelta(seconds=1)
    assert retry_at < now + dt.timedelta(minutes=1)
    assert outbox.send_due_emails(retry_at) == 1
    assert outbox.send_due_emails(retry_at + dt.timedelta(hours=1)) == 0
    [message] = sent_mail(world.member.email)
    assert message["Message-ID"] == row.message_id  # fixed at the claim, before sending
    row.refresh_from_db()
    assert row.attempts == 2 and row.outcome == Outcome.SENT


def test_an_smtp_failure_is_recorded_and_retried(
    committed, world, conversation, sent_mail, settings
):
    committed(reply_to, conversation, world.owner, body="Try again")
    working_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = 1  # nothing listens there: connection refused

    assert outbox.send_due_emails(later()) == 0
    row = OutboxEmail.objects.get(person=world.member)
    assert row.last_error and row.finished_at is None and row.attempts == 1

    settings.EMAIL_PORT = working_port
    assert outbox.send_due_emails(later(1)) == 0  # waits for its retry time
    assert outbox.send_due_emails(later(10)) == 1
    assert len(sent_mail(world.member.email)) == 1


def test_never_means_no_email(committed, world, conversation, sent_mail):
    set_delivery(world.member, EmailCadence.NEVER)
    committed(reply_to, conversation, world.owner, body="Into the void")
    assert not OutboxEmail.objects.exists()
    assert outbox.send_due_emails(later()) == 0


def test_the_hourly_batch_brings_several_threads_in_one_short_digest(
    committed, world, conversation, sent_mail
):
    set_delivery(world.member, EmailCadence.HOURLY)
    committed(reply_to, conversation, world.owner, body="Checklist done")
    committed(thread_in, world.open_space, world.admin, title="Offsite dates", body="June?")

    rows = OutboxEmail.objects.filter(person=world.member)
    assert rows.count() == 2 and len({row.due_at for row in rows}) == 1
    assert outbox.send_due_emails(rows[0].due_at) == 1
    [message] = sent_mail(world.member.email)
    assert message["Subject"] == "2 threads with news for you in Tidings"
    text = message.get_body(("plain",)).get_content()
    assert "Launch checklist" in text and "Checklist done" in text
    assert "Offsite dates" in text and "Adam Admin" in text
    assert {row.outcome for row in OutboxEmail.objects.filter(person=world.member)} == {
        Outcome.SENT
    }
    assert outbox.send_due_emails(later(120)) == 0


def test_a_resolution_is_emailed_with_its_outcome(committed, world, conversation, sent_mail):
    committed(actions.resolve_thread, world.owner, conversation, "Ship on **Friday**.")

    assert outbox.send_due_emails(later(61)) == 1  # Mia takes email at once
    [message] = sent_mail(world.member.email)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "The thread was resolved." in text
    assert "Resolved by Olivia Owner" in text and "Ship on **Friday**." in text
    assert "<strong>Friday</strong>" in html
    assert "What's left?" not in text  # the outcome is the news, not the opening post


def test_a_resolution_undone_before_sending_is_not_emailed(
    committed, world, conversation, sent_mail
):
    committed(actions.resolve_thread, world.owner, conversation, "Ship on Friday.")
    actions.reopen_thread(world.owner, conversation)

    assert outbox.send_due_emails(later(61)) == 0
    assert sent_mail(world.member.email) == []


# --- Claims: the heartbeat, dead workers, and mail that never gets through.


class Killed(BaseException):
    """A worker killed mid-send: no handler runs and the claim stays taken."""


FAULTS = {"fails": RuntimeError("451 try again later"), "is killed": Killed()}


def runs_until_finished(send, rows: QuerySet) -> int:
    """Run `send(now)` (a sender of outbox rows or digests) as the every-minute runs would
    find the rows, each once their claim or retry time has passed, until none of them is
    left unfinished. Returns how many runs it took; fails the test if they never end."""
    for run in range(1, outbox.MAX_ATTEMPTS + 2):
        waits = [max(row.due_at, row.claimed_until or row.due_at) for row in rows.all()]
        with suppress(Killed):
            send(max(waits) + dt.timedelta(minutes=1))
        if not rows.filter(finished_at=None).exists():
            return run
    pytest.fail("the mail is tried again for ever")


def gave_up_because(fault: BaseException) -> str:
    if isinstance(fault, Killed):
        return outbox.STOPPED_MIDWAY.format(attempts=outbox.MAX_ATTEMPTS)
    return str(fault)


def test_the_heartbeat_keeps_an_email_claimed_while_it_is_sent(
    committed, world, conversation, sent_mail, monkeypatch
):
    committed(reply_to, conversation, world.owner, body="A slow mail server")
    real_send = EmailMultiAlternatives.send
    seen = {}

    def slow_send(message, *args, **kwargs):
        beat = timezone.now() + dt.timedelta(minutes=5)
        leases.renew_held(beat)  # a beat long after the claim was taken
        seen["claimed_until"] = OutboxEmail.objects.get(person=world.member).claimed_until
        seen["renewed_to"] = leases.lease_until(beat)
        return real_send(message, *args, **kwargs)

    monkeypatch.setattr(EmailMultiAlternatives, "send", slow_send)
    assert outbox.send_due_emails(later()) == 1
    assert seen["claimed_until"] == seen["renewed_to"]
    assert leases.renew_held() == 0  # nothing is held once it is sent


def test_a_beat_never_brings_a_failed_email_back_sooner(
    committed, world, conversation, sent_mail, settings, monkeypatch
):
    committed(reply_to, conversation, world.owner, body="The server is down")
    real_record = outbox.record_failure

    def record_then_beat(row, now, error):
        gave_up = real_record(row, now, error)
        assert leases.renew_held() == 1  # the claim is still listed when the beat comes
        return gave_up

    monkeypatch.setattr(outbox, "record_failure", record_then_beat)
    settings.EMAIL_PORT = 1  # nothing listens there: connection refused
    now = later()
    assert outbox.send_due_emails(now) == 0
    row = OutboxEmail.objects.get(person=world.member)
    assert row.claimed_until == now + dt.timedelta(minutes=2) and row.attempts == 1


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
@pytest.mark.parametrize("hourly", [False, True], ids=["email", "hourly-batch"])
def test_an_email_that_never_gets_through_fails_in_a_bounded_number_of_runs(
    committed, world, conversation, monkeypatch, fault, hourly
):
    if hourly:
        set_delivery(world.member, EmailCadence.HOURLY)
        committed(thread_in, world.open_space, world.admin, title="Offsite dates", body="June?")
    committed(reply_to, conversation, world.owner, body="Checklist done")
    rows = OutboxEmail.objects.filter(person=world.member)
    assert rows.count() == (2 if hourly else 1)
    sends = []

    def broken(message, *args, **kwargs):
        sends.append(message.extra_headers["Message-ID"])
        raise fault

    monkeypatch.setattr(EmailMultiAlternatives, "send", broken)
    runs = runs_until_finished(outbox.send_due_emails, rows)

    # Every try sent the same message; a kill leaves no answer, so one more run gives up.
    assert len(sends) == outbox.MAX_ATTEMPTS and len(set(sends)) == 1
    assert runs == outbox.MAX_ATTEMPTS + isinstance(fault, Killed)
    assert {(row.outcome, row.last_error) for row in rows} == {
        (Outcome.FAILED, gave_up_because(fault))
    }
    assert outbox.send_due_emails(later(60 * 24)) == 0
    assert len(sends) == outbox.MAX_ATTEMPTS
