"""Digests: at the chosen local hour, once per day or week across DST, grouped by space,
only what the person can see and has not read."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from tidings import leases
from tidings.accounts.models import EmailCadence
from tidings.inbox.models import InboxItem, Reason
from tidings.mail import digests, inbound, outbox
from tidings.mail.addresses import reply_address
from tidings.mail.models import Digest, InboundResult, Outcome
from tidings.mail.tests.conftest import signed
from tidings.mail.tests.test_inbound import message
from tidings.mail.tests.test_outbox import (
    FAULTS,
    Killed,
    gave_up_because,
    runs_until_finished,
    set_delivery,
)
from tidings.recordings.tests.factories import gone_worker_token
from tidings.threads import actions
from tidings.threads.models import SpaceMember
from tidings.threads.tests.factories import reply_to, thread_in

UTC = dt.UTC
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def item_at(person, thread, at: dt.datetime) -> InboxItem:
    """An unread inbox item for the thread, as if the activity happened at `at`."""
    return InboxItem.objects.create(
        person=person, thread=thread, reason=Reason.NEW_THREAD, created_at=at, updated_at=at
    )


def test_a_daily_digest_comes_at_the_local_hour_grouped_by_space(
    world, sent_mail, committed, settings
):
    settings.SITE_URL = "https://tidings.example"
    for person in (world.owner, world.admin, world.guest):
        set_delivery(person, EmailCadence.NEVER)
    set_delivery(world.member, EmailCadence.DAILY, digest_time=dt.time(9, 0))
    roadmap = committed(thread_in, world.open_space, world.owner, title="Roadmap", body="Draft")
    committed(reply_to, roadmap, world.admin, body="Looks **good** to me, ship it")
    design = world.open_space.__class__.objects.create(
        workspace=world.workspace, name="Design", slug="design", created_by=world.owner
    )
    committed(thread_in, design, world.admin, title="New logo", body="Three options attached")
    seen = committed(thread_in, world.open_space, world.owner, title="Already read", body="x")
    actions.mark_thread_read(world.member, seen)
    committed(thread_in, world.private_space, world.owner, title="Quiet acquisition")

    assert digests.send_due_digests() == 0  # not 09:00 yet: scheduled only
    row = Digest.objects.get(person=world.member, finished_at=None)
    assert row.due_at.astimezone(world.member.zone).time() == dt.time(9, 0)
    assert row.due_at.minute == 30  # Kolkata is UTC+05:30
    assert digests.send_due_digests(row.due_at) == 1

    [message] = sent_mail(world.member.email)
    assert message["Subject"].startswith("Your Tidings digest for ")
    text = message.get_body(("plain",)).get_content()
    assert text.index("== Design ==") < text.index("== General ==")
    assert "Roadmap" in text and "Adam Admin" in text and "1 new reply" in text
    assert "Looks **good** to me" in text
    assert "New logo" in text and "Three options attached" in text
    assert "Already read" not in text and "Quiet acquisition" not in text
    html = message.get_body(("html",)).get_content()
    assert f"https://tidings.example/t/{roadmap.pk}/" in html
    # Once per day: the next one is tomorrow, and it is empty, so nothing is sent then.
    assert digests.send_due_digests(row.due_at + dt.timedelta(minutes=5)) == 0
    following = Digest.objects.get(person=world.member, finished_at=None)
    assert following.due_at == row.due_at + dt.timedelta(days=1)
    assert digests.send_due_digests(following.due_at) == 0
    assert Digest.objects.get(pk=following.pk).outcome == Outcome.EMPTY
    assert len(sent_mail(world.member.email)) == 1


def test_a_thread_the_person_can_no_longer_see_is_left_out(world, sent_mail, committed):
    set_delivery(world.admin, EmailCadence.DAILY, digest_time=dt.time(9, 0))
    for person in (world.owner, world.member, world.guest):
        set_delivery(person, EmailCadence.NEVER)
    committed(thread_in, world.private_space, world.owner, title="Quiet acquisition")
    committed(thread_in, world.open_space, world.owner, title="Picnic")
    digests.schedule_digests()
    SpaceMember.objects.filter(space=world.private_space, person=world.admin).delete()

    row = Digest.objects.get(person=world.admin)
    assert digests.send_due_digests(row.due_at) == 1
    text = sent_mail(world.admin.email)[0].get_body(("plain",)).get_content()
    assert "Picnic" in text and "Quiet acquisition" not in text


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # Spring forward on Sunday 31 March 2030: 02:30 does not exist, so 03:00 CEST.
        (
            dt.datetime(2030, 3, 29, 12, 0, tzinfo=UTC),
            ["2030-03-30 01:30", "2030-03-31 01:00", "2030-04-01 00:30", "2030-04-02 00:30"],
        ),
        # Fall back on Sunday 27 October 2030: 02:30 happens twice, the digest comes once.
        (
            dt.datetime(2030, 10, 25, 12, 0, tzinfo=UTC),
            ["2030-10-26 00:30", "2030-10-27 00:30", "2030-10-28 01:30", "2030-10-29 01:30"],
        ),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_one_digest_per_local_day_across_dst(world, sent_mail, start, expected):
    world.owner.time_zone = "Europe/Berlin"
    world.owner.save()
    set_delivery(world.owner, EmailCadence.DAILY, digest_time=dt.time(2, 30))
    # Something new before each digest, so each one is sent.
    for day in range(5):
        thread = world.open_space.threads.create(author=world.admin, title=f"Day {day}")
        item_at(world.owner, thread, start + dt.timedelta(days=day))

    now = start
    while now < start + dt.timedelta(days=4):
        digests.send_due_digests(now)
        now += dt.timedelta(minutes=15)

    sent = Digest.objects.filter(person=world.owner, outcome=Outcome.SENT).order_by("due_at")
    assert [f"{d.due_at.astimezone(UTC):%Y-%m-%d %H:%M}" for d in sent] == expected
    keys = [d.period_key for d in sent]
    assert len(set(keys)) == len(keys)
    assert all(d.due_at.astimezone(BERLIN).hour in (2, 3) for d in sent)
    assert len(sent_mail(world.owner.email)) == len(expected)


def test_a_weekly_digest_comes_once_a_week_on_the_chosen_day(world, sent_mail):
    set_delivery(world.owner, EmailCadence.WEEKLY, digest_time=dt.time(8, 0), digest_weekday=4)
    start = dt.datetime(2030, 6, 3, 12, 0, tzinfo=UTC)  # a Monday
    for day in range(0, 15, 2):
        thread = world.open_space.threads.create(author=world.admin, title=f"Day {day}")
        item_at(world.owner, thread, start + dt.timedelta(days=day))
    now = start
    while now < start + dt.timedelta(days=15):
        digests.send_due_digests(now)
        now += dt.timedelta(hours=1)
    sent = list(Digest.objects.filter(person=world.owner, outcome=Outcome.SENT))
    assert [d.due_at.astimezone(world.owner.zone).strftime("%a %H:%M") for d in sent] == [
        "Fri 08:00",
        "Fri 08:00",
    ]
    assert len(sent_mail(world.owner.email)) == 2


def test_changing_the_digest_time_moves_the_pending_digest_within_the_day(world):
    berlin_8am = dt.datetime(2030, 6, 3, 6, 0, tzinfo=UTC)  # 08:00 in Berlin (CEST)
    set_delivery(world.owner, EmailCadence.DAILY, digest_time=dt.time(9, 0))
    digests.schedule_digests(berlin_8am)
    first = Digest.objects.get(person=world.owner, finished_at=None)
    assert first.period_key == "daily:2030-06-03"
    set_delivery(world.owner, EmailCadence.DAILY, digest_time=dt.time(17, 15))
    digests.schedule_digests(berlin_8am)
    moved = Digest.objects.get(person=world.owner, finished_at=None)
    assert moved.pk == first.pk and moved.period_key == "daily:2030-06-03"
    assert moved.due_at == dt.datetime(2030, 6, 3, 15, 15, tzinfo=UTC)
    set_delivery(world.owner, EmailCadence.IMMEDIATELY)
    digests.schedule_digests(berlin_8am)
    assert not Digest.objects.filter(person=world.owner, finished_at=None).exists()


def test_two_workers_never_send_a_period_twice(world, sent_mail):
    set_delivery(world.owner, EmailCadence.DAILY, digest_time=dt.time(9, 0))
    thread = world.open_space.threads.create(author=world.admin, title="Busy day")
    item_at(world.owner, thread, timezone.now())
    digests.schedule_digests()
    row = Digest.objects.get(person=world.owner)
    stale_copy = Digest.objects.get(pk=row.pk)  # what a second worker read at the same moment
    assert digests.deliver_digest(row, row.due_at) == 1
    assert digests.deliver_digest(stale_copy, row.due_at) == 0
    assert len(sent_mail(world.owner.email)) == 1


def test_a_resolution_shows_its_outcome_in_the_digest(world, sent_mail, committed):
    for person in (world.owner, world.admin, world.guest):
        set_delivery(person, EmailCadence.NEVER)
    set_delivery(world.member, EmailCadence.DAILY, digest_time=dt.time(9, 0))
    thread = committed(thread_in, world.open_space, world.member, title="Venue", body="Where?")
    digests.send_due_digests()
    row = Digest.objects.get(person=world.member, finished_at=None)
    committed(actions.resolve_thread, world.owner, thread, "The **old** library hall.")

    assert digests.send_due_digests(row.due_at) == 1
    [message] = sent_mail(world.member.email)
    text = message.get_body(("plain",)).get_content()
    assert "Venue" in text and "Resolved" in text and "The **old** library hall." in text


def test_each_digest_entry_can_be_answered_by_email(world, sent_mail, committed, settings):
    settings.MAIL_DOMAIN = "tidings.test"
    for person in (world.owner, world.admin, world.guest):
        set_delivery(person, EmailCadence.NEVER)
    set_delivery(world.member, EmailCadence.DAILY, digest_time=dt.time(9, 0))
    first = committed(thread_in, world.open_space, world.owner, title="Venue & date")
    second = committed(thread_in, world.open_space, world.admin, title="Catering")
    digests.send_due_digests()
    row = Digest.objects.get(person=world.member, finished_at=None)
    assert digests.send_due_digests(row.due_at) == 1

    [sent] = sent_mail(world.member.email)
    address = reply_address(world.member, first)
    text = sent.get_body(("plain",)).get_content()
    html = sent.get_body(("html",)).get_content()
    assert f"Reply by email: {address}" in text
    assert f"Reply by email: {reply_address(world.member, second)}" in text
    assert f'href="mailto:{address}?subject=Re%3A%20Venue%20%26%20date"' in html
    result = inbound.receive_message(
        signed(message(world.member.email, address, "The town hall, on the 4th.")),
        address,
        envelope_sender=world.member.email,
    )
    assert result.result == InboundResult.ACCEPTED
    assert first.replies.get().body == "The town hall, on the 4th."


# --- Claims: the heartbeat, dead workers, and digests that never get through.


def daily_digest_for(person, world) -> Digest:
    """The person's pending daily digest, with one unread thread to tell."""
    set_delivery(person, EmailCadence.DAILY, digest_time=dt.time(9, 0))
    thread = world.open_space.threads.create(author=world.guest, title=f"News for {person.name}")
    item_at(person, thread, timezone.now())
    digests.schedule_digests()
    return Digest.objects.get(person=person)


def due_a_minute_ago() -> dt.datetime:
    """Every pending digest due a minute ago, with news from an hour ago; returns now."""
    now = timezone.now()
    InboxItem.objects.update(updated_at=now - dt.timedelta(hours=1))
    Digest.objects.update(
        due_at=now - dt.timedelta(minutes=1), period_start=now - dt.timedelta(days=1)
    )
    return now


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_a_digest_that_never_gets_through_fails_in_a_bounded_number_of_runs(
    world, monkeypatch, fault
):
    row = daily_digest_for(world.owner, world)
    sends = []

    def broken(message, *args, **kwargs):
        sends.append(message.extra_headers["Message-ID"])
        raise fault

    monkeypatch.setattr(EmailMultiAlternatives, "send", broken)
    runs = runs_until_finished(digests.send_due_digests, Digest.objects.filter(pk=row.pk))

    row.refresh_from_db()
    assert len(sends) == outbox.MAX_ATTEMPTS and set(sends) == {row.message_id}
    assert runs == outbox.MAX_ATTEMPTS + isinstance(fault, Killed)
    assert (row.outcome, row.last_error) == (Outcome.FAILED, gave_up_because(fault))
    # The next digest is scheduled, covering the period this one could not tell.
    following = Digest.objects.get(person=world.owner, finished_at=None)
    assert following.period_start == row.period_start and following.due_at > row.due_at


def test_the_heartbeat_keeps_digests_claimed_and_a_failed_one_keeps_its_retry_time(
    world, sent_mail, monkeypatch
):
    for person in (world.owner, world.admin):
        daily_digest_for(person, world)
    due_a_minute_ago()
    real_send, real_record = EmailMultiAlternatives.send, digests.record_failure
    seen = {}

    def first_sends_then_fails(message, *args, **kwargs):
        if seen:
            raise RuntimeError("451 try again later")
        beat = timezone.now() + dt.timedelta(minutes=5)
        leases.renew_held(beat)  # a beat long after the claim was taken
        seen["claimed_until"] = set(Digest.objects.values_list("claimed_until", flat=True))
        seen["renewed_to"] = leases.lease_until(beat)
        return real_send(message, *args, **kwargs)

    def record_then_beat(row, now, error):
        gave_up = real_record(row, now, error)
        leases.renew_held()  # the claim is still listed when the beat comes
        return gave_up

    monkeypatch.setattr(EmailMultiAlternatives, "send", first_sends_then_fails)
    monkeypatch.setattr(digests, "record_failure", record_then_beat)
    now = timezone.now()
    assert digests.send_due_digests(now) == 1
    assert seen["claimed_until"] == {seen["renewed_to"]}  # both rows of the claim
    failed = Digest.objects.get(finished_at=None, last_error__startswith="451")
    assert failed.claimed_until == now + dt.timedelta(minutes=2)


def test_a_starting_worker_lets_go_of_the_digests_a_gone_worker_held(world, sent_mail):
    orphaned, failed, held_here = (
        daily_digest_for(person, world) for person in (world.owner, world.admin, world.member)
    )
    now = due_a_minute_ago()
    for row, token, until in [
        (orphaned, gone_worker_token(), leases.lease_until(now)),
        (failed, gone_worker_token(), now + dt.timedelta(minutes=2)),  # its retry time
        (held_here, leases.new_token(), leases.lease_until(now)),  # a worker that still runs
    ]:
        Digest.objects.filter(pk=row.pk).update(claimed_by=token, claimed_until=until, attempts=1)

    assert digests.release_claims_of_gone_workers() == 1
    assert digests.release_claims_of_gone_workers() == 0
    assert digests.send_due_digests() == 1  # the next run, within a minute of the start
    assert [message["To"] for message in sent_mail()] == [
        f"{world.owner.name} <{world.owner.email}>"
    ]
    assert Digest.objects.get(pk=orphaned.pk).outcome == Outcome.SENT
    assert Digest.objects.filter(pk__in=[failed.pk, held_here.pk], finished_at=None).count() == 2
