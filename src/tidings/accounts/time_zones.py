"""The time zones people pick from: the canonical IANA names every country uses, plus UTC.
Old names (Asia/Calcutta, US/Eastern) are links in the tz database; they are read as the
zone they point to, so a person is stored and shown with the name the world uses today."""

from __future__ import annotations

import zoneinfo
from functools import cache

import pytz

# Zones with no offset and no clock changes, ever: the one name people are shown is UTC.
UTC_NAMES = {"Etc/UTC", "Etc/GMT", "UTC", "GMT"}


@cache
def canonical_time_zones() -> tuple[str, ...]:
    """Every zone a country uses (the tz database's zone.tab, as pytz lists it) and UTC, sorted,
    limited to those this system's zoneinfo knows."""
    used = {zone for zones in pytz.country_timezones.values() for zone in zones} | {"UTC"}
    return tuple(sorted(used & zoneinfo.available_timezones()))


@cache
def _links() -> dict[str, str]:
    """Old name (folded) -> the zone it links to, from the tz database's own link lines ("L target
    alias") in the copy pytz ships."""
    with pytz.open_resource("tzdata.zi") as source:
        lines = source.read().decode().splitlines()
    links = (line.split() for line in lines)
    return {parts[2].casefold(): parts[1] for parts in links if parts[:1] == ["L"]}


@cache
def _by_folded_name() -> dict[str, str]:
    return {zone.casefold(): zone for zone in canonical_time_zones()}


def canonical_zone(name: str) -> str:
    """The canonical name for what a person typed or had stored: "asia/calcutta", "Asia/
    Calcutta" and "Asia/Kolkata" are all "Asia/Kolkata"; spaces stand for underscores
    ("America/New York"). A name that is no zone is returned as typed, for the caller to
    refuse."""
    typed = "_".join((name or "").strip().split(" "))
    found = _by_folded_name().get(typed.casefold())
    if found:
        return found
    target = _links().get(typed.casefold(), typed)
    if target in canonical_time_zones():
        return target
    if target in UTC_NAMES:
        return "UTC"
    return typed
