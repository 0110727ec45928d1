"""The clock maths of delivery: quiet hours, away, cadences, DST and half-hour zones."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tidings.accounts import delivery
from tidings.accounts.models import DeliverySettings, EmailCadence, User

UTC = dt.UTC


def make(zone: str = "Europe/Berlin", **fields) -> DeliverySettings:
    """Settings of an unsaved person: the clock maths needs no database."""
    return DeliverySettings(user=User(email="p@example.com", time_zone=zone), **fields)


def at(zone: str, *args: int, fold: int = 0) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC)


def wall(value: dt.datetime | None, zone: str) -> str:
    assert value is not None
    assert value.tzinfo is not None
    return value.astimezone(ZoneInfo(zone)).strftime("%a %Y-%m-%d %H:%M %Z")


def test_defaults():
    s = make()
    assert s.cadence == EmailCadence.HOURLY
    assert (s.quiet_start, s.quiet_end) == (dt.time(20), dt.time(8))
    assert s.digest_time == dt.time(8, 30)
    assert s.working_window(0) == (dt.time(9), dt.time(17))
    assert s.working_window(5) is None and s.working_window(6) is None
    assert s.away_until is None


@pytest.mark.django_db
def test_settings_for_creates_once(world):
    first = delivery.settings_for(world.member)
    again = delivery.settings_for(User.objects.get(pk=world.member.pk))
    assert first.pk == again.pk
    assert DeliverySettings.objects.filter(user=world.member).count() == 1


@pytest.mark.parametrize(
    ("local", "quiet"),
    [
        ((19, 59), False),
        ((20, 0), True),
        ((23, 30), True),
        ((0, 0), True),
        ((7, 59), True),
        ((8, 0), False),
        ((12, 0), False),
    ],
)
def test_quiet_hours_span_midnight(local, quiet):
    s = make()
    assert delivery.is_quiet(s, at("Europe/Berlin", 2026, 6, 10, *local)) is quiet


def test_daytime_quiet_window_and_none():
    s = make(quiet_start=dt.time(12), quiet_end=dt.time(13))
    assert delivery.is_quiet(s, at("Europe/Berlin", 2026, 6, 10, 12, 30))
    assert not delivery.is_quiet(s, at("Europe/Berlin", 2026, 6, 10, 13, 0))
    s = make(quiet_start=None, quiet_end=None)
    assert not delivery.is_quiet(s, at("Europe/Berlin", 2026, 6, 10, 3, 0))


def test_away_is_inclusive_in_the_persons_zone():
    s = make("America/New_York", away_until=dt.date(2026, 6, 12), quiet_start=None, quiet_end=None)
    assert delivery.is_quiet(s, at("America/New_York", 2026, 6, 12, 23, 59))
    # 02:00 UTC on the 13th is still the 12th in New York.
    assert delivery.is_quiet(s, dt.datetime(2026, 6, 13, 2, 0, tzinfo=UTC))
    assert not delivery.is_quiet(s, at("America/New_York", 2026, 6, 13, 0, 0))


def test_immediately_waits_out_quiet_hours_and_away():
    s = make(cadence=EmailCadence.IMMEDIATELY)
    noon = at("Europe/Berlin", 2026, 6, 10, 12, 7)
    assert delivery.next_email_time(s, noon) == noon
    late = at("Europe/Berlin", 2026, 6, 10, 21, 0)
    assert wall(delivery.next_email_time(s, late), "Europe/Berlin") == "Thu 2026-06-11 08:00 CEST"
    early = at("Europe/Berlin", 2026, 6, 11, 6, 0)
    assert wall(delivery.next_email_time(s, early), "Europe/Berlin") == "Thu 2026-06-11 08:00 CEST"
    s.away_until = dt.date(2026, 6, 14)
    # After the holiday: the end of the quiet window on the first day back.
    assert wall(delivery.next_email_time(s, noon), "Europe/Berlin") == "Mon 2026-06-15 08:00 CEST"


def test_hourly_goes_at_the_next_full_local_hour_outside_quiet_hours():
    s = make()
    assert (
        wall(delivery.next_email_time(s, at("Europe/Berlin", 2026, 6, 10, 10, 20)), "Europe/Berlin")
        == "Wed 2026-06-10 11:00 CEST"
    )
    on_the_hour = at("Europe/Berlin", 2026, 6, 10, 10, 0)
    assert delivery.next_email_time(s, on_the_hour) == on_the_hour
    assert (
        wall(delivery.next_email_time(s, at("Europe/Berlin", 2026, 6, 10, 19, 30)), "Europe/Berlin")
        == "Thu 2026-06-11 08:00 CEST"
    )
    # A quiet window ending on the half hour: the first full hour after it.
    s.quiet_end = dt.time(7, 30)
    assert (
        wall(delivery.next_email_time(s, at("Europe/Berlin", 2026, 6, 10, 23, 0)), "Europe/Berlin")
        == "Thu 2026-06-11 08:00 CEST"
    )


def test_hourly_in_half_hour_zones_uses_local_full_hours():
    for zone in ("Asia/Kolkata", "Australia/Adelaide", "America/St_Johns"):
        s = make(zone)
        sent = delivery.next_email_time(s, at(zone, 2026, 6, 10, 10, 20))
        assert wall(sent, zone).endswith(" 11:00 " + wall(sent, zone).split()[-1])
        assert sent.minute in (0, 30)


def test_urgent_skips_the_hourly_batch_but_not_quiet_hours():
    s = make()
    moment = at("Europe/Berlin", 2026, 6, 10, 10, 20)
    assert delivery.next_email_time(s, moment, urgent=True) == moment
    night = at("Europe/Berlin", 2026, 6, 10, 21, 0)
    assert (
        wall(delivery.next_email_time(s, night, urgent=True), "Europe/Berlin")
        == "Thu 2026-06-11 08:00 CEST"
    )


def test_never_and_digest_cadences():
    moment = at("Europe/Berlin", 2026, 6, 10, 21, 0)
    assert delivery.next_email_time(make(cadence=EmailCadence.NEVER), moment) is None
    assert delivery.next_email_time(make(cadence=EmailCadence.NEVER), moment, urgent=True) is None
    assert delivery.next_digest_time(make(), moment) is None
    daily = make(cadence=EmailCadence.DAILY, digest_time=dt.time(7, 0))
    # The digest goes at the chosen time even inside quiet hours.
    assert wall(delivery.next_email_time(daily, moment), "Europe/Berlin") == (
        "Thu 2026-06-11 07:00 CEST"
    )
    weekly = make(cadence=EmailCadence.WEEKLY, digest_weekday=4, digest_time=dt.time(16, 0))
    assert wall(delivery.next_email_time(weekly, moment), "Europe/Berlin") == (
        "Fri 2026-06-12 16:00 CEST"
    )
    friday_later = at("Europe/Berlin", 2026, 6, 12, 16, 0)
    assert wall(delivery.next_digest_time(weekly, friday_later), "Europe/Berlin") == (
        "Fri 2026-06-19 16:00 CEST"
    )


def test_digests_come_at_their_time_even_while_away():
    s = make(cadence=EmailCadence.DAILY, away_until=dt.date(2026, 6, 12))
    sent = delivery.next_digest_time(s, at("Europe/Berlin", 2026, 6, 10, 9, 0))
    assert wall(sent, "Europe/Berlin") == "Thu 2026-06-11 08:30 CEST"


def test_next_working_start():
    s = make("America/New_York")
    friday_evening = at("America/New_York", 2026, 6, 12, 18, 0)
    assert wall(delivery.next_working_start(s, friday_evening), "America/New_York") == (
        "Mon 2026-06-15 09:00 EDT"
    )
    during = at("America/New_York", 2026, 6, 15, 11, 0)
    assert delivery.next_working_start(s, during) == during
    early = at("America/New_York", 2026, 6, 16, 7, 0)
    assert wall(delivery.next_working_start(s, early), "America/New_York") == (
        "Tue 2026-06-16 09:00 EDT"
    )
    s.away_until = dt.date(2026, 6, 17)
    assert wall(delivery.next_working_start(s, during), "America/New_York") == (
        "Thu 2026-06-18 09:00 EDT"
    )
    s.working_hours = {day: None for day in s.working_hours}
    s.away_until = None
    assert wall(delivery.next_working_start(s, early), "America/New_York") == (
        "Tue 2026-06-16 08:00 EDT"
    )


def test_local_instant_in_gaps_and_folds():
    berlin = ZoneInfo("Europe/Berlin")
    # 02:30 does not exist on 2026-03-29 in Berlin: the clock jumps from 02:00 to 03:00.
    moved = delivery.local_instant(berlin, dt.date(2026, 3, 29), dt.time(2, 30))
    assert moved == dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert wall(moved, "Europe/Berlin") == "Sun 2026-03-29 03:00 CEST"
    # 02:30 happens twice on 2026-10-25: the first one counts.
    first = delivery.local_instant(berlin, dt.date(2026, 10, 25), dt.time(2, 30))
    assert first == dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    new_york = ZoneInfo("America/New_York")
    assert delivery.local_instant(new_york, dt.date(2026, 3, 8), dt.time(2, 15)) == dt.datetime(
        2026, 3, 8, 7, 0, tzinfo=UTC
    )
    assert delivery.local_instant(new_york, dt.date(2026, 11, 1), dt.time(1, 30)) == dt.datetime(
        2026, 11, 1, 5, 30, tzinfo=UTC
    )


# Transitions in 2026: Berlin 29 Mar / 25 Oct, New York 8 Mar / 1 Nov, Adelaide (half-hour
# offset, southern hemisphere) 5 Apr / 4 Oct, St John's (half-hour) 8 Mar / 1 Nov.
TRANSITIONS = [
    ("Europe/Berlin", dt.date(2026, 3, 29)),
    ("Europe/Berlin", dt.date(2026, 10, 25)),
    ("America/New_York", dt.date(2026, 3, 8)),
    ("America/New_York", dt.date(2026, 11, 1)),
    ("Australia/Adelaide", dt.date(2026, 4, 5)),
    ("Australia/Adelaide", dt.date(2026, 10, 4)),
    ("America/St_Johns", dt.date(2026, 3, 8)),
    ("America/St_Johns", dt.date(2026, 11, 1)),
    ("Asia/Kolkata", dt.date(2026, 3, 29)),
]
# Ordinary hours, and the hours that are skipped or repeated on transition nights.
DIGEST_TIMES = [
    dt.time(8, 30),
    dt.time(0, 0),
    dt.time(1, 30),
    dt.time(2, 0),
    dt.time(2, 30),
    dt.time(3, 0),
    dt.time(23, 59),
]


@pytest.mark.parametrize(("zone", "change"), TRANSITIONS)
@pytest.mark.parametrize("digest_time", DIGEST_TIMES)
def test_daily_digest_exactly_once_per_local_day_across_dst(zone, change, digest_time):
    s = make(zone, cadence=EmailCadence.DAILY, digest_time=digest_time)
    tz = ZoneInfo(zone)
    midnight = dt.datetime.combine(change - dt.timedelta(days=5), dt.time(0), tz)
    start = midnight.astimezone(UTC) - dt.timedelta(seconds=1)
    sent: list[dt.datetime] = []
    moment = start
    while len(sent) < 10:
        moment = delivery.next_digest_time(s, moment)
        assert moment is not None and moment > (sent[-1] if sent else start)
        sent.append(moment)
    days = [value.astimezone(tz).date() for value in sent]
    assert days == [change - dt.timedelta(days=5 - n) for n in range(10)]
    for value in sent:
        local = value.astimezone(tz)
        if local.utcoffset() == (local - dt.timedelta(days=1)).utcoffset() or (
            local.time() == digest_time
        ):
            continue
        # Only a skipped wall time may move, and then to the end of the gap, within an hour.
        assert dt.datetime.combine(local.date(), digest_time) < local.replace(tzinfo=None)
        assert local.replace(tzinfo=None) - dt.datetime.combine(local.date(), digest_time) <= (
            dt.timedelta(hours=1)
        )
    exact = [v for v in sent if v.astimezone(tz).time() == digest_time]
    assert len(exact) >= 9


@pytest.mark.parametrize(("zone", "change"), TRANSITIONS)
def test_weekly_digest_once_a_week_across_dst(zone, change):
    s = make(zone, cadence=EmailCadence.WEEKLY, digest_weekday=6, digest_time=dt.time(2, 30))
    tz = ZoneInfo(zone)
    moment = dt.datetime.combine(change - dt.timedelta(days=15), dt.time(0), tz).astimezone(UTC)
    sent = []
    for _ in range(5):
        moment = delivery.next_digest_time(s, moment)
        sent.append(moment.astimezone(tz))
    assert [value.weekday() for value in sent] == [6] * 5
    assert len({value.date() for value in sent}) == 5
    assert all(
        b.date() - a.date() == dt.timedelta(days=7) for a, b in zip(sent, sent[1:], strict=False)
    )


@pytest.mark.parametrize(("zone", "change"), TRANSITIONS)
def test_hourly_batches_keep_to_full_hours_across_dst(zone, change):
    s = make(zone, cadence=EmailCadence.HOURLY, quiet_start=None, quiet_end=None)
    tz = ZoneInfo(zone)
    moment = dt.datetime.combine(change - dt.timedelta(days=1), dt.time(0, 10), tz).astimezone(UTC)
    previous = None
    for _ in range(72):
        sent = delivery.next_email_time(s, moment)
        assert sent >= moment and sent.astimezone(tz).minute == 0 and sent.second == 0
        assert sent - moment <= dt.timedelta(hours=1)
        if previous is not None:
            assert sent > previous
        previous = sent
        moment = sent + dt.timedelta(minutes=1)


def test_quiet_window_ending_in_the_repeated_hour_never_goes_back_in_time():
    # Quiet until 01:30 in New York; on 1 Nov 2026 01:00–02:00 happens twice.
    s = make("America/New_York", quiet_start=dt.time(20), quiet_end=dt.time(1, 30))
    second_one = at("America/New_York", 2026, 11, 1, 1, 10, fold=1)  # 06:10 UTC, EST
    sent = delivery.next_email_time(s, second_one, urgent=True)
    assert sent >= second_one
    assert sent == dt.datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    hourly = delivery.next_email_time(s, second_one)
    assert hourly is not None and hourly >= second_one and hourly.minute == 0


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "America/St_Johns"])
@pytest.mark.parametrize("cadence", [EmailCadence.IMMEDIATELY, EmailCadence.HOURLY])
def test_emails_never_go_before_the_event_nor_in_quiet_hours(zone, cadence):
    """Every 10 minutes over the autumn and spring transition weeks."""
    s = make(zone, cadence=cadence, quiet_start=dt.time(1, 30), quiet_end=dt.time(2, 30))
    for change in (dt.date(2026, 3, 8), dt.date(2026, 3, 29), dt.date(2026, 11, 1)):
        moment = dt.datetime.combine(change - dt.timedelta(days=1), dt.time(0), ZoneInfo(zone))
        moment = moment.astimezone(UTC)
        for _ in range(6 * 72):
            sent = delivery.next_email_time(s, moment)
            assert sent is not None and sent >= moment
            assert not delivery.is_quiet(s, sent)
            assert sent - moment <= dt.timedelta(hours=3)
            moment += dt.timedelta(minutes=10)
