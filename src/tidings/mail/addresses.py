"""The addresses people write to: a signed reply address per person and thread, and one
address per space.

Reply tokens are lowercase (base 36 ids and a hex HMAC) because mail servers may change the
case of a local part; they never expire, so answering an old email still works as long as
the person may still see the thread (checked when the reply arrives).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int, int_to_base36

from tidings.mail.models import SpaceMailbox

if TYPE_CHECKING:
    from tidings.accounts.models import User
    from tidings.mail.models import SpaceMailbox
    from tidings.threads.models import Space, Thread

REPLY_PREFIX = "reply+"
UNSUBSCRIBE_PREFIX = "unsubscribe+"
_SALT = "tidings.mail.reply-address"
_UNSUBSCRIBE_SALT = "tidings.mail.unsubscribe-address"
_MAC_LENGTH = 20  # 80 bits: forging one needs about 2**80 guesses against a live server.
_TOKEN = re.compile(r"^([0-9a-z]{1,13})-([0-9a-z]{1,13})-([0-9a-f]{20})$")


def mail_domain() -> str:
    return settings.MAIL_DOMAIN


def _mac(salt: str, first_id: int, second_id: int) -> str:
    message = f"{first_id}.{second_id}".encode()
    key = _key(salt, settings.SECRET_KEY)
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:_MAC_LENGTH]


@functools.lru_cache(maxsize=8)
def _key(salt: str, secret: str) -> bytes:
    """Django's `salted_hmac` key for the salt, derived once rather than for every address
    (a digest signs one per thread it lists); the MACs are the same."""
    return hashlib.sha256(salt.encode() + secret.encode()).digest()


def _token(salt: str, first_id: int, second_id: int) -> str:
    mac = _mac(salt, first_id, second_id)
    return f"{int_to_base36(first_id)}-{int_to_base36(second_id)}-{mac}"


def _read_token(salt: str, token: str) -> tuple[int, int] | None:
    found = _TOKEN.match((token or "").strip().lower())
    if not found:
        return None
    try:
        first_id, second_id = base36_to_int(found[1]), base36_to_int(found[2])
    except ValueError:
        return None
    if not constant_time_compare(found[3], _mac(salt, first_id, second_id)):
        return None
    return first_id, second_id


def reply_address(person: User, thread: Thread) -> str:
    """The address that posts a reply in `thread` as `person` (put it in Reply-To)."""
    return reply_address_for(person.pk, thread.pk)


def reply_address_for(person_id: int, thread_id: int) -> str:
    """`reply_address` from the two ids (digests list many threads for many people)."""
    return f"{REPLY_PREFIX}{_token(_SALT, person_id, thread_id)}@{mail_domain()}"


def read_reply_token(token: str) -> tuple[int, int] | None:
    """(person id, thread id) of a genuine token, or None for a forged or damaged one."""
    return _read_token(_SALT, token)


def unsubscribe_address(person: User, space: Space) -> str:
    """The address that stops email from `space` for `person` when mailed (the mailto form
    of List-Unsubscribe, for mail clients that offer only that)."""
    token = _token(_UNSUBSCRIBE_SALT, person.pk, space.pk)
    return f"{UNSUBSCRIBE_PREFIX}{token}@{mail_domain()}"


def read_unsubscribe_address(token: str) -> tuple[int, int] | None:
    """(person id, space id) of a genuine unsubscribe address token, or None."""
    return _read_token(_UNSUBSCRIBE_SALT, token)


_SECRET_SUFFIX = re.compile(r"\.[0-9a-f]{12}$")


def _local_part_for(space: Space) -> str:
    # Slugs hold only letters, digits, hyphens and underscores, so the dot keeps the pair
    # unambiguous and unique; it is stored, so renaming never changes a published address.
    readable = f"{space.slug}.{space.workspace.slug}".lower()
    if not space.is_private:
        return readable[:64]
    # A private space's address must not be guessable from its name: 48 random bits.
    return f"{readable[:51]}.{secrets.token_hex(6)}"


def is_unguessable(local_part: str) -> bool:
    """Whether the address ends in the random part a private space's address needs."""
    return bool(_SECRET_SUFFIX.search(local_part))


def mailbox_for(space: Space) -> SpaceMailbox:
    """The space's mailbox settings, created with its address on first use. A private space
    whose address could be guessed (it was open when the address was made) gets a new one."""
    found = SpaceMailbox.objects.filter(space=space).first()
    if found is not None and space.is_private and not is_unguessable(found.local_part):
        found.local_part = _local_part_for(space)
        found.save(update_fields=["local_part"])
    if found is not None:
        return found
    local_part = _local_part_for(space)
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return SpaceMailbox.objects.create(space=space, local_part=local_part)
        except IntegrityError:
            found = SpaceMailbox.objects.filter(space=space).first()
            if found is not None:  # Created by someone else at the same moment.
                return found
            local_part = f"{_local_part_for(space)[:50]}.{secrets.token_hex(4)}"
    raise RuntimeError(f"Could not choose an email address for space {space.pk}.")


def space_address(space: Space) -> str:
    """The address that starts a thread in `space` when a member writes to it."""
    return f"{mailbox_for(space).local_part}@{mail_domain()}"
