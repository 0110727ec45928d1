"""Read side of people: their sessions and tokens, described for the settings page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from tidings.accounts.models import AccessToken, SignedInSession, User

# (substring in the User-Agent, name shown), most specific first: Edge and Opera also say Chrome.
_BROWSERS = [
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
]
_SYSTEMS = [
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
]


def describe_user_agent(user_agent: str) -> str:
    """A short 'Firefox on Linux' summary of a User-Agent header."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown browser"


@dataclass
class SessionRow:
    id: int
    is_current: bool
    device: str
    ip_address: str | None
    created_at: datetime
    last_seen_at: datetime


def signed_in_sessions(person: User, current_session_key: str | None) -> list[SessionRow]:
    """The places a person is signed in, this browser first."""
    rows = [
        SessionRow(
            id=row.pk,
            is_current=row.session_key == current_session_key,
            device=describe_user_agent(row.user_agent),
            ip_address=row.ip_address,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
        )
        for row in SignedInSession.objects.filter(user=person)
    ]
    rows.sort(key=lambda row: not row.is_current)
    return rows


def active_access_tokens(person: User) -> QuerySet[AccessToken]:
    return AccessToken.objects.filter(user=person, revoked_at=None)
