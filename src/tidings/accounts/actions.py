"""State changes of people: profile, delivery settings, password, sessions, access tokens."""

from __future__ import annotations

import copy
import datetime as dt
import secrets
from collections.abc import Iterable
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from tidings.accounts.delivery import settings_for
from tidings.accounts.models import (
    WEEKDAY_NAMES,
    AccessToken,
    DeliverySettings,
    EmailCadence,
    SignedInSession,
    TokenScope,
    User,
    default_token_scopes,
    hash_token,
    parse_clock,
    validate_display_name,
    validate_time_zone,
    validate_working_hours,
)
from tidings.accounts.time_zones import canonical_zone

TOKEN_PREFIX = "tid_"
# Days a new token works (None: until revoked); 90 unless the person picks another.
TOKEN_LIFETIMES = (30, 90, 365, None)
DEFAULT_TOKEN_DAYS = 90
# Writing last_used_at on every API call would turn reads into writes; once a minute is enough.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


def update_profile(person: User, *, name: str, time_zone: str) -> User:
    """Save a person's display name and time zone. Raises ValidationError, saving nothing."""
    name = name.strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Enter your name."]
    elif len(name) > 120:
        errors["name"] = ["Keep your name under 120 characters."]
    else:
        try:
            validate_display_name(name)
        except ValidationError as error:
            errors["name"] = error.messages
    time_zone = canonical_zone(time_zone)
    try:
        validate_time_zone(time_zone)
    except ValidationError as error:
        errors["time_zone"] = error.messages
    if errors:
        raise ValidationError(errors)
    zone_changed = person.time_zone != time_zone
    person.name = name
    person.time_zone = time_zone
    person.save(update_fields=["name", "time_zone"])
    if zone_changed:
        # Scheduled digests follow the zone: mark the delivery settings as changed.
        DeliverySettings.objects.filter(user=person).update(updated_at=timezone.now())
    return person


# Longer absences are better handled by choosing "never"; it also bounds the clock maths.
MAX_AWAY = timedelta(days=366)
DELIVERY_FIELDS = frozenset(
    {
        "time_zone",
        "working_hours",
        "quiet_start",
        "quiet_end",
        "away_until",
        "cadence",
        "digest_time",
        "digest_weekday",
    }
)


def _clock(value: object) -> dt.time | None:
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    return parse_clock(value)


def _day(value: object) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def _working_hours(value: object) -> dict[str, list[str] | None]:
    """Accept times or "HH:MM" strings; store "HH:MM" strings (validated by the caller)."""
    if not isinstance(value, dict):
        return value  # type: ignore[return-value]
    out: dict[str, list[str] | None] = {}
    for day, hours in value.items():
        if isinstance(hours, list | tuple) and len(hours) == 2:
            clocks = [_clock(part) for part in hours]
            out[day] = [c.strftime("%H:%M") if c else hours[i] for i, c in enumerate(clocks)]
        else:
            out[day] = hours
    return out


def build_delivery_settings(person: User, **fields: object) -> DeliverySettings:
    """Person's delivery settings with `fields` applied, checked but not saved.

    Raises ValidationError with a sentence per field. The returned row reads its zone from a
    copy of the person, so a preview never changes the person that was passed in.
    """
    unknown = set(fields) - DELIVERY_FIELDS
    if unknown:
        raise ValidationError({name: ["This is not a delivery setting."] for name in unknown})
    current = settings_for(person)
    row = copy.copy(current)
    owner = copy.copy(person)
    errors: dict[str, list[str]] = {}
    if "time_zone" in fields and not isinstance(fields["time_zone"], str):
        errors["time_zone"] = ["Pick your time zone, like Europe/Berlin."]
    elif "time_zone" in fields:
        try:
            time_zone = canonical_zone(fields["time_zone"])
            validate_time_zone(time_zone)
            owner.time_zone = time_zone
        except ValidationError as error:
            errors["time_zone"] = error.messages
    row.user = owner
    if "working_hours" in fields:
        hours = _working_hours(fields["working_hours"])
        try:
            validate_working_hours(hours)
            row.working_hours = hours
        except ValidationError as error:
            errors["working_hours"] = error.messages
    for name in ("quiet_start", "quiet_end", "digest_time"):
        if name not in fields:
            continue
        value = fields[name]
        clock = _clock(value)
        if clock is None and not (name != "digest_time" and value in (None, "")):
            errors[name] = ["Write the time as HH:MM, like 08:30."]
        else:
            setattr(row, name, clock)
    quiet_ok = not errors.keys() & {"quiet_start", "quiet_end"}
    if quiet_ok and (row.quiet_start is None) != (row.quiet_end is None):
        missing = "quiet_end" if row.quiet_end is None else "quiet_start"
        errors[missing] = ["Give both a start and an end, or leave both empty for none."]
    elif quiet_ok and row.quiet_start is not None and row.quiet_start == row.quiet_end:
        errors["quiet_end"] = ["The end is the same as the start: leave both empty for none."]
    if "away_until" in fields:
        value = fields["away_until"]
        day = None if value in (None, "") else _day(value)
        today = timezone.now().astimezone(owner.zone).date()
        if value not in (None, "") and day is None:
            errors["away_until"] = ["Write the date as YYYY-MM-DD, like 2026-08-31."]
        elif day is not None and day < today:
            errors["away_until"] = [
                "That date has passed. Pick today or a later day, or leave it empty."
            ]
        elif day is not None and day > today + MAX_AWAY:
            errors["away_until"] = ["Pick a date within a year from today, or leave it empty."]
        else:
            row.away_until = day
    if "cadence" in fields:
        if fields["cadence"] not in EmailCadence.values:
            errors["cadence"] = ["Choose immediately, hourly, daily, weekly or never."]
        else:
            row.cadence = fields["cadence"]
    if "digest_weekday" in fields:
        try:
            weekday = int(fields["digest_weekday"])  # type: ignore[arg-type]
        except (TypeError, ValueError):
            weekday = -1
        if not 0 <= weekday < len(WEEKDAY_NAMES):
            errors["digest_weekday"] = ["Pick a day of the week (0 is Monday, 6 is Sunday)."]
        else:
            row.digest_weekday = weekday
    if errors:
        raise ValidationError(errors)
    return row


@transaction.atomic
def update_delivery_settings(person: User, **fields: object) -> DeliverySettings:
    """Change when Tidings may email the person; fields left out keep their value.

    Takes the names of DeliverySettings plus time_zone (kept on the person). Times may be
    "HH:MM" strings, dates "YYYY-MM-DD". Raises ValidationError, saving nothing.
    """
    row = build_delivery_settings(person, **fields)
    if "time_zone" in fields and row.user.time_zone != person.time_zone:
        person.time_zone = row.user.time_zone
        person.save(update_fields=["time_zone"])
    row.user = person
    row.save()
    return row


def _end_django_sessions(session_keys: list[str]) -> None:
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for key in session_keys:
        store(session_key=key).delete()


@transaction.atomic
def change_password(person: User, *, new_password: str, keep_session_key: str | None) -> None:
    """Set a new password and sign the person out of every other browser.

    Raises ValidationError (password rules) without changing anything.
    """
    validate_password(new_password, person)
    person.set_password(new_password)
    person.save(update_fields=["password"])
    sign_out_other_sessions(person, keep_session_key)


def follow_session_key(old_key: str | None, new_key: str | None) -> None:
    """Keep a browser's signed-in row (and its history) when Django renews its session key."""
    if old_key and new_key and old_key != new_key:
        SignedInSession.objects.filter(session_key=old_key).update(session_key=new_key)


def forget_session(session_key: str | None) -> None:
    """Drop the signed-in row of a session that is ending (sign-out)."""
    if session_key:
        SignedInSession.objects.filter(session_key=session_key).delete()


@transaction.atomic
def sign_out_session(person: User, session_id: int) -> SignedInSession:
    """End one of the person's own sessions: the browser is signed out and the row is gone.

    Raises Http404 for a session that is not theirs.
    """
    row = SignedInSession.objects.filter(pk=session_id, user=person).first()
    if row is None:
        raise Http404("No such session.")
    _end_django_sessions([row.session_key])
    row.delete()
    return row


@transaction.atomic
def sign_out_other_sessions(person: User, keep_session_key: str | None) -> int:
    """End every session of the person except the one with keep_session_key. Returns how many."""
    rows = SignedInSession.objects.filter(user=person)
    if keep_session_key:
        rows = rows.exclude(session_key=keep_session_key)
    keys = list(rows.values_list("session_key", flat=True))
    _end_django_sessions(keys)
    rows.delete()
    return len(keys)


def create_access_token(
    person: User,
    name: str,
    *,
    scopes: Iterable[str] | None = None,
    expires_in_days: int | None = DEFAULT_TOKEN_DAYS,
    made_with: AccessToken | None = None,
) -> tuple[AccessToken, str]:
    """Make a personal access token. Only its hash is kept: the raw value is returned once.

    Scopes default to read and write; `expires_in_days` is one of TOKEN_LIFETIMES (None:
    never). A token made through the API with another token (`made_with`) gets no scope that
    token lacks and does not outlive it. Raises ValidationError with a sentence per field.
    """
    name = name.strip()
    wanted = default_token_scopes() if scopes is None else list(dict.fromkeys(scopes))
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Give the token a name, like “Laptop scripts”."]
    elif len(name) > 100:
        errors["name"] = ["Keep the name under 100 characters."]
    if not wanted or set(wanted) - set(TokenScope.values):
        errors["scopes"] = ["Pick one or more of read, write, admin and tokens."]
    elif made_with is not None and set(wanted) - set(made_with.scopes):
        missing = ", ".join(sorted(set(wanted) - set(made_with.scopes)))
        errors["scopes"] = [f"This token cannot give scopes it does not have itself: {missing}."]
    if expires_in_days not in TOKEN_LIFETIMES:
        errors["expires_in_days"] = ["Pick 30, 90 or 365 days, or never."]
    if errors:
        raise ValidationError(errors)
    if not person.is_active:
        raise ValidationError("This account is deactivated.")
    now = timezone.now()
    expires_at = now + timedelta(days=expires_in_days) if expires_in_days else None
    if made_with is not None and made_with.expires_at is not None:
        expires_at = min(expires_at or made_with.expires_at, made_with.expires_at)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = AccessToken.objects.create(
        user=person,
        name=name,
        token_hash=hash_token(raw),
        prefix=raw[:8],
        scopes=[scope for scope in TokenScope.values if scope in wanted],
        created_at=now,
        expires_at=expires_at,
    )
    return token, raw


def revoke_all_access_tokens(person: User) -> int:
    """Revoke every token of the person at once (their password may be known to someone).
    Returns how many were still working."""
    return AccessToken.objects.filter(user=person, revoked_at=None).update(
        revoked_at=timezone.now()
    )


def revoke_access_token(person: User, token_id: int) -> AccessToken:
    """Revoke one of the person's tokens; it stops working at once. Http404 if not theirs."""
    token = AccessToken.objects.filter(pk=token_id, user=person, revoked_at=None).first()
    if token is None:
        raise Http404("No such token.")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    return token


def token_for(raw: str) -> AccessToken | None:
    """The token a raw value stands for, with its person, when it is not revoked and its person
    is active; expired ones too, so that the caller can say so. None otherwise.

    Records when a live token was last used, at most once a minute.
    """
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        AccessToken.objects.select_related("user")
        .filter(token_hash=hash_token(raw), revoked_at=None)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if not token.is_expired and (
        token.last_used_at is None or now - token.last_used_at >= TOKEN_TOUCH_INTERVAL
    ):
        AccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def person_for_token(raw: str) -> User | None:
    """The active person a raw API token belongs to, or None (unknown, revoked, expired,
    deactivated)."""
    token = token_for(raw)
    return token.user if token is not None and not token.is_expired else None


def forget_expired_sessions() -> int:
    """Delete expired Django sessions and the signed-in rows of sessions that no longer exist.

    Returns how many signed-in rows were removed.
    """
    from django.contrib.sessions.models import Session

    Session.objects.filter(expire_date__lt=timezone.now()).delete()
    live_keys = Session.objects.values("session_key")
    removed, _ = SignedInSession.objects.exclude(session_key__in=live_keys).delete()
    return removed
