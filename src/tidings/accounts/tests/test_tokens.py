from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from tidings.accounts.actions import create_access_token, person_for_token, revoke_access_token
from tidings.accounts.models import AccessToken, hash_token


def test_create_stores_only_the_hash(world):
    token, raw = create_access_token(world.member, "  CI  ")
    assert raw.startswith("tid_") and len(raw) > 40
    assert token.name == "CI"
    assert token.prefix == raw[:8]
    assert token.token_hash == hash_token(raw)
    assert not AccessToken.objects.filter(token_hash=raw).exists()
    assert raw not in str(AccessToken.objects.values_list(flat=True))


def test_name_is_required(world):
    with pytest.raises(ValidationError):
        create_access_token(world.member, "   ")


def test_person_for_token(world):
    token, raw = create_access_token(world.member, "CI")
    assert person_for_token(raw) == world.member
    assert person_for_token(raw + "x") is None
    assert person_for_token("") is None
    assert person_for_token("Bearer " + raw) is None


def test_last_used_is_written_at_most_once_a_minute(world):
    token, raw = create_access_token(world.member, "CI")
    person_for_token(raw)
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    person_for_token(raw)
    token.refresh_from_db()
    assert token.last_used_at == first
    AccessToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
    person_for_token(raw)
    token.refresh_from_db()
    assert token.last_used_at > first - timedelta(minutes=1)
    assert token.last_used_at <= timezone.now()


def test_revoked_token_and_inactive_person_give_none(world):
    token, raw = create_access_token(world.member, "CI")
    with pytest.raises(Http404):
        revoke_access_token(world.admin, token.pk)
    assert person_for_token(raw) == world.member
    revoke_access_token(world.member, token.pk)
    assert person_for_token(raw) is None
    with pytest.raises(Http404):
        revoke_access_token(world.member, token.pk)

    other, other_raw = create_access_token(world.member, "Second")
    world.member.is_active = False
    world.member.save()
    assert person_for_token(other_raw) is None
