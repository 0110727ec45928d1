"""Each person's clock: when Tidings may email them, given their zone, hours and cadence.

Pure functions over a DeliverySettings row and aware datetimes; they read nothing else.
All results are aware UTC datetimes. Local wall times are resolved with zoneinfo:
- a wall time that does not exist (spring forward) moves to the first valid instant after it;
- a wall time that happens twice (fall back) is used once, at its first occurrence (fold=0).

The rules:
- quiet: inside the quiet hours, or on a day up to and including "away until" (local dates);
- immediately: at once, or at the end of the quiet window (after away: the first moment
  after the away day that is outside quiet hours, by default 08:00 the next morning);
- hourly: at the next full local hour that is not quiet;
- daily: every day at the chosen local time, even inside quiet hours (the person chose it),
  but not on away days: the first digest after the holiday covers it all;
- weekly: on the chosen weekday at the chosen local time, likewise;
- never: no email.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from tidings.accounts.models import DeliverySettings, EmailCadence, User

UTC = dt.UTC
# Far enough for any away period plus a week: a guard against looping forever on bad data.
MAX_DAYS_AHEAD = 400
STEP = dt.timedelta(minutes=15)  # every zone in use today sits on a quarter-hour offset


def settings_for(person: User) -> DeliverySettings:
    """The person's delivery settings, created with the defaults on first use."""
    try:
        return person.delivery_settings
    except DeliverySettings.DoesNotExist:
        pass
    row, _ = DeliverySettings.objects.get_or_create(user=person)
    row.user = person  # share the loaded person (and its zone) instead of reading it again
    return row


def local_instant(zone: zoneinfo.ZoneInfo, day: dt.date, clock: dt.time) -> dt.datetime:
    """The UTC instant when the wall clock in `zone` shows `day` `clock`.

    A skipped wall time becomes the first instant after the gap; a repeated one its first
    occurrence.
    """
    naive = dt.datetime.combine(day, clock.replace(tzinfo=None, fold=0))
    first = naive.replace(tzinfo=zone).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == naive:
        return first
    # In a gap. fold=1 reads the wall time with the later offset, an instant before the gap;
    # fold=0 an instant after it. Find the first instant whose wall time reaches `naive`.
    low = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low, high = sorted((low, first))
    seconds = int((high - low).total_seconds())
    # Binary search over whole seconds: the wall clock only moves forward inside a gap.
    lo, hi = 0, seconds
    while lo < hi:
        middle = (lo + hi) // 2
        wall = (low + dt.timedelta(seconds=middle)).astimezone(zone).replace(tzinfo=None)
        if wall >= naive:
            hi = middle
        else:
            lo = middle + 1
    return low + dt.timedelta(seconds=lo)


def _local(settings: DeliverySettings, at: dt.datetime) -> dt.datetime:
    return at.astimezone(settings.zone)


def is_away(settings: DeliverySettings, at: dt.datetime) -> bool:
    """Whether `at` falls on or before the person's "away until" date, in their zone."""
    return settings.away_until is not None and _local(settings, at).date() <= settings.away_until


def in_quiet_hours(settings: DeliverySettings, at: dt.datetime) -> bool:
    start, end = settings.quiet_start, settings.quiet_end
    if start is None or end is None or start == end:
        return False
    clock = _local(settings, at).time().replace(tzinfo=None)
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end  # the window spans midnight


def is_quiet(settings: DeliverySettings, at: dt.datetime) -> bool:
    """Whether no email other than a digest may reach the person at `at`: quiet hours or away."""
    return is_away(settings, at) or in_quiet_hours(settings, at)


def first_open_instant(settings: DeliverySettings, after: dt.datetime) -> dt.datetime:
    """The earliest instant at or after `after` that is neither quiet nor away."""
    at = after.astimezone(UTC)
    zone = settings.zone
    for _ in range(8):
        if is_away(settings, at):
            day_after = settings.away_until + dt.timedelta(days=1)
            at = local_instant(zone, day_after, dt.time(0, 0))
            continue
        if in_quiet_hours(settings, at):
            local = _local(settings, at)
            end = settings.quiet_end
            # The window ends today if its end is still ahead on the clock, else tomorrow.
            day = local.date()
            if local.time().replace(tzinfo=None) >= end:
                day += dt.timedelta(days=1)
            ending = local_instant(zone, day, end)
            if ending <= at:
                # `at` is in the repeated hour after a fall-back and the first `end` has
                # passed: the quiet window ends at the repeated `end`, or tomorrow.
                naive = dt.datetime.combine(day, end)
                ending = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
                if ending <= at:
                    ending = local_instant(zone, day + dt.timedelta(days=1), end)
            at = ending
            continue
        return at
    return at


def _next_full_hour(settings: DeliverySettings, after: dt.datetime) -> dt.datetime:
    """The first instant at or after `after` when the local clock shows a full hour."""
    at = after.astimezone(UTC)
    stepped = at.replace(minute=(at.minute // 15) * 15, second=0, microsecond=0)
    if stepped < at:
        stepped += STEP
    for _ in range(8):
        if _local(settings, stepped).minute == 0:
            return stepped
        stepped += STEP
    return stepped


def next_working_start(settings: DeliverySettings, after: dt.datetime) -> dt.datetime:
    """When the person's next working window starts, as an aware UTC datetime.

    If `after` already falls inside a working window (and the person is not away), that is
    now: `after` itself is returned. Away days are skipped. With no working days at all, the
    first moment outside quiet hours stands in.
    """
    at = after.astimezone(UTC)
    zone = settings.zone
    day = _local(settings, at).date()
    if settings.away_until is not None and day <= settings.away_until:
        day = settings.away_until + dt.timedelta(days=1)
    for offset in range(8):
        current = day + dt.timedelta(days=offset)
        window = settings.working_window(current.weekday())
        if window is None:
            continue
        start, end = (local_instant(zone, current, clock) for clock in window)
        if end <= at:
            continue
        return max(start, at)
    return first_open_instant(settings, at)


def next_digest_time(settings: DeliverySettings, after: dt.datetime) -> dt.datetime | None:
    """When the next digest after `after` (strictly) goes out; None without a digest cadence.

    Iterating it gives exactly one digest per local day (daily) or week (weekly), at the
    chosen local time, across DST changes. Digests come at that time even in quiet hours and
    while away: the person chose the moment, and a digest is what catches them up.
    """
    if settings.cadence not in {EmailCadence.DAILY, EmailCadence.WEEKLY}:
        return None
    at = after.astimezone(UTC)
    zone = settings.zone
    day = _local(settings, at).date() - dt.timedelta(days=1)
    for offset in range(MAX_DAYS_AHEAD):
        current = day + dt.timedelta(days=offset)
        if settings.cadence == EmailCadence.WEEKLY and current.weekday() != settings.digest_weekday:
            continue
        candidate = local_instant(zone, current, settings.digest_time)
        if candidate > at:
            return candidate
    return None


def next_email_time(
    settings: DeliverySettings, after: dt.datetime, *, urgent: bool = False
) -> dt.datetime | None:
    """When an email about something that happened at `after` may go out; None for never.

    `urgent` is for what addresses the person directly (a mention, a request, a reminder):
    it skips the hourly batch, yet still waits out quiet hours and away. Digest people get it
    in their digest, as they chose.
    """
    cadence = settings.cadence
    if cadence == EmailCadence.NEVER:
        return None
    if cadence in {EmailCadence.DAILY, EmailCadence.WEEKLY}:
        return next_digest_time(settings, after)
    at = first_open_instant(settings, after)
    if cadence == EmailCadence.IMMEDIATELY or urgent:
        return at
    for _ in range(8):
        hour = _next_full_hour(settings, at)
        opened = first_open_instant(settings, hour)
        if opened == hour:
            return hour
        at = opened
    return at
