"""Snooze and reminder presets land where their labels say, on the person's own clock: across
daylight-saving changes, in half-hour and quarter-hour zones, and never in quiet hours."""

import datetime as dt
import re
import zoneinfo

import pytest
from django.core.exceptions import ValidationError

from conftest import make_person
from tidings.accounts.delivery import settings_for
from tidings.inbox import actions

from .factories import make_thread


def person_in(zone: str, *, quiet: bool = True):
    person = make_person(f"p{abs(hash((zone, quiet))) % 10**8}@acme.test", "Pat Zone", zone)
    row = settings_for(person)
    if not quiet:
        row.quiet_start = row.quiet_end = None
        row.save()
    return person


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# zone, now (with its local offset), preset, expected (with its local offset); quiet hours off
# unless the row says "quiet" (the default 20:00 to 08:00).
CASES = [
    # New York springs forward at 02:00 on Sunday 8 March 2026: three real hours, not wall hours.
    ("America/New_York", "2026-03-08T00:30-05:00", "later", "2026-03-08T04:30-04:00", ""),
    ("America/New_York", "2026-03-08T01:30-05:00", "hour", "2026-03-08T03:30-04:00", ""),
    ("America/New_York", "2026-03-07T12:00-05:00", "tomorrow", "2026-03-08T09:00-04:00", ""),
    ("America/New_York", "2026-03-07T12:00-05:00", "monday", "2026-03-09T09:00-04:00", ""),
    # ...and falls back at 02:00 on Sunday 1 November 2026.
    ("America/New_York", "2026-11-01T00:30-04:00", "later", "2026-11-01T02:30-05:00", ""),
    ("America/New_York", "2026-11-01T01:30-04:00", "hour", "2026-11-01T01:30-05:00", ""),
    ("America/New_York", "2026-10-31T18:00-04:00", "tomorrow", "2026-11-01T09:00-05:00", ""),
    ("America/New_York", "2026-10-31T18:00-04:00", "monday", "2026-11-02T09:00-05:00", ""),
    # London: 29 March and 25 October 2026.
    ("Europe/London", "2026-03-29T00:30+00:00", "later", "2026-03-29T04:30+01:00", ""),
    ("Europe/London", "2026-03-29T00:30+00:00", "hour", "2026-03-29T02:30+01:00", ""),
    ("Europe/London", "2026-03-28T10:00+00:00", "tomorrow", "2026-03-29T09:00+01:00", ""),
    ("Europe/London", "2026-10-25T00:30+01:00", "later", "2026-10-25T02:30+00:00", ""),
    ("Europe/London", "2026-10-24T10:00+01:00", "monday", "2026-10-26T09:00+00:00", ""),
    # Half-hour and quarter-hour zones, without and with daylight saving.
    ("Asia/Kolkata", "2026-03-13T15:30+05:30", "later", "2026-03-13T18:30+05:30", "quiet"),
    ("Asia/Kolkata", "2026-03-13T15:30+05:30", "hour", "2026-03-13T16:30+05:30", "quiet"),
    ("Asia/Kolkata", "2026-03-13T23:00+05:30", "tomorrow", "2026-03-14T09:00+05:30", "quiet"),
    ("Asia/Kathmandu", "2026-06-01T12:00+05:45", "later", "2026-06-01T15:00+05:45", "quiet"),
    ("Asia/Kathmandu", "2026-06-01T12:00+05:45", "hour", "2026-06-01T13:00+05:45", "quiet"),
    ("Asia/Kathmandu", "2026-06-01T12:00+05:45", "monday", "2026-06-08T09:00+05:45", "quiet"),
    # Adelaide falls back from +10:30 to +09:30 at 03:00 on 5 April 2026 and springs forward
    # at 02:00 on 4 October 2026.
    ("Australia/Adelaide", "2026-04-05T01:30+10:30", "later", "2026-04-05T03:30+09:30", ""),
    ("Australia/Adelaide", "2026-04-04T12:00+10:30", "tomorrow", "2026-04-05T09:00+09:30", ""),
    ("Australia/Adelaide", "2026-10-04T00:30+09:30", "later", "2026-10-04T04:30+10:30", ""),
    ("Australia/Adelaide", "2026-10-03T20:00+09:30", "monday", "2026-10-05T09:00+10:30", "quiet"),
    # Quiet hours (20:00 to 08:00): "later" early in the morning waits for them to end.
    ("America/New_York", "2026-03-08T01:30-05:00", "later", "2026-03-08T08:00-04:00", "quiet"),
    ("Asia/Kolkata", "2026-03-13T04:00+05:30", "later", "2026-03-13T08:00+05:30", "quiet"),
    ("Europe/London", "2026-06-01T16:30+01:00", "later", "2026-06-01T19:30+01:00", "quiet"),
    # On a Monday, "next Monday" is a week ahead.
    ("Europe/London", "2026-06-01T10:00+01:00", "monday", "2026-06-08T09:00+01:00", "quiet"),
]  # fmt: skip


@pytest.mark.parametrize(("zone", "now", "preset", "expected", "quiet"), CASES)
def test_presets_land_on_the_persons_clock(db, zone, now, preset, expected, quiet):
    person = person_in(zone, quiet=bool(quiet))
    result = actions.preset_time(preset, person, at(now))
    assert result == at(expected)
    # The label shows the very time it fires, on the person's clock.
    menu = dict((key, when) for key, _label, when in actions.preset_menu(
        {**actions.SNOOZE_PRESETS, **actions.REMIND_PRESETS}, person, at(now)
    ))  # fmt: skip
    assert menu[preset] == f"{at(expected).astimezone(zoneinfo.ZoneInfo(zone)):%a %H:%M}"


@pytest.mark.parametrize(
    ("zone", "now", "quiet"),
    [
        ("America/New_York", "2026-06-01T19:00-04:00", True),  # 22:00 is quiet; next day
        ("America/New_York", "2026-06-01T21:30-04:00", False),  # 00:30 is tomorrow
        ("Asia/Kathmandu", "2026-06-01T17:15+05:45", True),
        ("Australia/Adelaide", "2026-10-03T22:00+09:30", False),
        ("Europe/London", "2026-10-24T22:30+01:00", False),  # 01:30 GMT, the next day
    ],
)
def test_later_today_is_not_offered_when_it_would_be_quiet_or_tomorrow(db, zone, now, quiet):
    person = person_in(zone, quiet=quiet)
    assert actions.preset_time("later", person, at(now)) is None
    keys = [key for key, _, _ in actions.preset_menu(actions.SNOOZE_PRESETS, person, at(now))]
    assert keys == ["tomorrow", "monday"]
    with pytest.raises(ValidationError, match="too late today"):
        actions.snooze_time("later", person, at(now))


def test_the_remind_menu_shows_the_real_time_of_in_1_hour(world):
    """The pages show what the presets will do, in the person's zone (Mia is in Kolkata)."""
    thread = make_thread(world.open_space, world.owner, "Launch checklist", "Ship it")
    client = world.client_for("member")
    hour = actions.preset_time("hour", world.member).astimezone(world.member.zone)
    page = client.get(f"/t/{thread.pk}/").content.decode()
    # A minute may turn between this line and the page: accept this minute or the next.
    shown = re.search(r"In 1 hour</span><small>(\w{3} \d\d:\d\d)</small>", page)
    assert shown, "the In 1 hour preset shows its time"
    assert shown.group(1) in {f"{hour:%a %H:%M}", f"{hour + dt.timedelta(minutes=1):%a %H:%M}"}
