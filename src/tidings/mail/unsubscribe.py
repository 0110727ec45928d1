"""Unsubscribing from a space's email: the signed link in every email (RFC 8058 one-click)
and the unsubscribe address. Either mutes the space for the person, through the threads
app's space levels, so it lives above posting."""

from __future__ import annotations

from django.core import signing

from tidings.accounts.models import User
from tidings.mail.addresses import read_unsubscribe_address
from tidings.threads.access import can_view_space
from tidings.threads.actions import set_space_level
from tidings.threads.models import Space, SpaceLevel

_UNSUBSCRIBE_SALT = "tidings.mail.unsubscribe"


def unsubscribe_token(person: User, space: Space) -> str:
    return signing.dumps([person.pk, space.pk], salt=_UNSUBSCRIBE_SALT, compress=True)


def read_unsubscribe_token(token: str) -> tuple[int, int] | None:
    """(person id, space id) of a genuine token, or None."""
    try:
        person_id, space_id = signing.loads(token, salt=_UNSUBSCRIBE_SALT)
        return int(person_id), int(space_id)
    except (signing.BadSignature, TypeError, ValueError):
        return None


def unsubscribe_target(token: str) -> tuple[User, Space] | None:
    """Who and which space a genuine token unsubscribes, while that person can see it."""
    return _target(read_unsubscribe_token(token))


def _target(found: tuple[int, int] | None) -> tuple[User, Space] | None:
    if found is None:
        return None
    person = User.objects.filter(pk=found[0], is_active=True).first()
    space = Space.objects.select_related("workspace").filter(pk=found[1]).first()
    if person is None or space is None or not can_view_space(person, space):
        return None
    return person, space


def unsubscribe(token: str) -> Space | None:
    """Stop email from a space for the person in a genuine token (RFC 8058 one-click: no
    sign-in, no CSRF token; the signature is the proof). The space is muted for them: only
    mentions of them, their requests and their reminders still come. Returns the space, or
    None for a forged token or a space they can no longer see. Safe to repeat."""
    return _mute(unsubscribe_target(token))


def unsubscribe_by_email(address_token: str) -> Space | None:
    """The same for mail sent to an unsubscribe address (`addresses.unsubscribe_address`)."""
    return _mute(_target(read_unsubscribe_address(address_token)))


def _mute(target: tuple[User, Space] | None) -> Space | None:
    if target is None:
        return None
    person, space = target
    set_space_level(person, space, SpaceLevel.MUTED)
    return space
