"""State changes of people: profile, password, signed-in sessions, personal access tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from tidings.accounts.models import (
    AccessToken,
    SignedInSession,
    User,
    hash_token,
    validate_time_zone,
)

TOKEN_PREFIX = "tid_"
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
    try:
        validate_time_zone(time_zone)
    except ValidationError as error:
        errors["time_zone"] = error.messages
    if errors:
        raise ValidationError(errors)
    person.name = name
    person.time_zone = time_zone
    person.save(update_fields=["name", "time_zone"])
    return person


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


def create_access_token(person: User, name: str) -> tuple[AccessToken, str]:
    """Make a personal access token. Only its hash is kept: the raw value is returned once."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Give the token a name, like “Laptop scripts”."]})
    if len(name) > 100:
        raise ValidationError({"name": ["Keep the name under 100 characters."]})
    if not person.is_active:
        raise ValidationError("This account is deactivated.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = AccessToken.objects.create(
        user=person, name=name, token_hash=hash_token(raw), prefix=raw[:8]
    )
    return token, raw


def revoke_access_token(person: User, token_id: int) -> AccessToken:
    """Revoke one of the person's tokens; it stops working at once. Http404 if not theirs."""
    token = AccessToken.objects.filter(pk=token_id, user=person, revoked_at=None).first()
    if token is None:
        raise Http404("No such token.")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    return token


def person_for_token(raw: str) -> User | None:
    """The active person a raw API token belongs to, or None (unknown, revoked, deactivated).

    Records when the token was last used, at most once a minute.
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
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_TOUCH_INTERVAL:
        AccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def forget_expired_sessions() -> int:
    """Delete expired Django sessions and the signed-in rows of sessions that no longer exist.

    Returns how many signed-in rows were removed.
    """
    from django.contrib.sessions.models import Session

    Session.objects.filter(expire_date__lt=timezone.now()).delete()
    live_keys = Session.objects.values("session_key")
    removed, _ = SignedInSession.objects.exclude(session_key__in=live_keys).delete()
    return removed
