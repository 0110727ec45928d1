"""Tokens do only what they were made for, for as long as they were made for; a password
reset and "sign out everywhere" revoke them unless the person unticks the box."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD
from tidings.accounts.actions import create_access_token, person_for_token
from tidings.accounts.models import AccessToken, TokenScope, default_token_scopes
from tidings.apikit.testing import ApiClient

ALL = TokenScope.values

# name, method, path, body, the scopes the call needs (beside nothing else), status when allowed
CALLS = [
    ("me", "get", "/me", None, {"read"}, 200),
    ("update me", "patch", "/me", {"name": "Olivia O.", "time_zone": "UTC"}, {"write"}, 200),
    ("list tokens", "get", "/tokens", None, {"read", "tokens"}, 200),
    (
        "create token",
        "post",
        "/tokens",
        {"name": "Made", "scopes": ["write"]},
        {"write", "tokens"},
        201,
    ),
    ("list invites", "get", "/workspaces/{ws}/invites", None, {"read", "admin"}, 200),
    (
        "invite",
        "post",
        "/workspaces/{ws}/invites",
        {"email": "new@acme.test", "role": "member"},
        {"write", "admin"},
        201,
    ),
    ("members", "get", "/workspaces/{ws}/members", None, {"read"}, 200),
]
SCOPE_SETS = [
    ["read"],
    ["read", "write"],
    ["read", "write", "admin"],
    ["read", "write", "tokens"],
    ["write", "admin", "tokens"],
    ALL,
]


@pytest.mark.parametrize("scopes", SCOPE_SETS, ids="+".join)
@pytest.mark.parametrize(("name", "method", "path", "body", "needed", "ok"), CALLS)
def test_each_call_needs_its_scopes(world, scopes, name, method, path, body, needed, ok):
    _, raw = create_access_token(world.owner, "Scoped", scopes=scopes)
    response = ApiClient(raw).call(method, path.format(ws=world.workspace.pk), body)
    if needed <= set(scopes):
        assert response.status_code == ok, response.content[:300]
    else:
        assert response.status_code == 403
        missing = sorted(needed - set(scopes), key=ALL.index)
        assert f"does not have the {' and '.join(missing)} scope" in response.json()["detail"]


def test_scopes_do_not_open_what_the_role_does_not(world):
    """The admin scope opens admin calls only to people who are admins of the workspace."""
    _, raw = create_access_token(world.member, "Everything", scopes=ALL)
    response = ApiClient(raw).get(f"/workspaces/{world.workspace.pk}/invites")
    assert response.status_code == 403


def test_expired_token_is_refused_with_a_sentence(world):
    token, raw = create_access_token(world.member, "Short", expires_in_days=30)
    assert ApiClient(raw).get("/me").status_code == 200
    AccessToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    response = ApiClient(raw).get("/me")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"].startswith("This token expired on ")
    assert person_for_token(raw) is None


def test_lifetimes(world):
    never, _ = create_access_token(world.member, "Never", expires_in_days=None)
    year, _ = create_access_token(world.member, "Year", expires_in_days=365)
    assert never.expires_at is None
    assert timedelta(days=364) < year.expires_at - timezone.now() <= timedelta(days=365)
    with pytest.raises(ValidationError) as raised:
        create_access_token(world.member, "Odd", expires_in_days=7)
    assert "expires_in_days" in raised.value.message_dict
    with pytest.raises(ValidationError) as raised:
        create_access_token(world.member, "None", scopes=[])
    assert "scopes" in raised.value.message_dict
    with pytest.raises(ValidationError):
        create_access_token(world.member, "Root", scopes=["root"])


def test_a_token_never_makes_a_stronger_one(world):
    _, raw = create_access_token(
        world.member, "Minter", scopes=["read", "write", "tokens"], expires_in_days=30
    )
    client = ApiClient(raw)
    refused = client.post("/tokens", {"name": "Admin", "scopes": ["read", "admin"]})
    assert refused.status_code == 422
    assert "cannot give scopes it does not have itself: admin" in refused.json()["detail"]
    made = client.post("/tokens", {"name": "Reader", "scopes": ["read"], "expires_in_days": None})
    assert made.status_code == 201
    body = made.json()
    assert body["scopes"] == ["read"]
    # It does not outlive the token that made it.
    minter = AccessToken.objects.get(name="Minter")
    assert body["expires_at"] is not None
    assert AccessToken.objects.get(pk=body["id"]).expires_at == minter.expires_at


def test_tokens_made_before_scopes_read_and_write(world):
    """Tokens that existed before scopes got read and write (the migration's default): they
    keep working as they did, but cannot make tokens or manage people."""
    assert default_token_scopes() == ["read", "write"]
    token = AccessToken.objects.create(
        user=world.owner, name="Old", token_hash="0" * 64, prefix="tid_old"
    )
    assert token.scopes == ["read", "write"] and token.expires_at is None


def test_tokens_page_shows_scopes_and_expiry(world):
    client = world.client_for("member")
    response = client.post(
        "/settings/tokens",
        {"name": "Reports", "scopes": ["read"], "expires_in_days": "30"},
    )
    assert response.status_code == 201
    token = AccessToken.objects.get(name="Reports")
    assert token.scopes == ["read"]
    page = client.get("/settings/").content.decode()
    assert '<span class="badge badge-scope">read</span>' in page
    assert f"expires {token.expires_at:%b} {token.expires_at.day}, {token.expires_at:%Y}" in page
    response = client.post("/settings/tokens", {"name": "Forever", "scopes": ["read"]})
    assert "never expires" in client.get("/settings/").content.decode()
    response = client.post("/settings/tokens", {"name": "Nothing", "expires_in_days": "30"})
    assert response.status_code == 400
    assert "Pick at least one thing the token may do." in response.content.decode()


def _signed_in_twice(world) -> Client:
    laptop, phone = Client(), Client()
    for browser in (laptop, phone):
        browser.post("/sign-in", {"username": world.member.email, "password": PASSWORD})
        browser.get("/settings/")
    return laptop


@pytest.mark.parametrize(("ticked", "revoked"), [(True, True), (False, False)])
def test_sign_out_everywhere_revokes_tokens_when_ticked(world, ticked, revoked):
    _, raw = create_access_token(world.member, "Scripts")
    laptop = _signed_in_twice(world)
    page = laptop.get("/settings/").content.decode()
    assert re.search(r'<input type="checkbox" name="revoke_tokens"[^>]* checked', page)
    data = {"revoke_tokens": "on"} if ticked else {}
    response = laptop.post("/settings/sessions/sign-out-others", data, follow=True)
    assert b"Signed out of 1 other session." in response.content
    assert (b"1 access token revoked." in response.content) is revoked
    assert (person_for_token(raw) is None) is revoked


@pytest.mark.parametrize(("ticked", "revoked"), [(True, True), (False, False)])
def test_password_reset_revokes_tokens_when_ticked(world, ticked, revoked):
    _, raw = create_access_token(world.member, "Scripts")
    client = Client()
    client.post("/password-reset", {"email": world.member.email})
    link = re.search(r"http://\S+/password-reset/\S+/", mail.outbox[0].body).group(0)
    response = client.get("/" + link.split("//", 1)[1].split("/", 1)[1])
    form_path = response.url
    page = client.get(form_path).content.decode()
    assert "Also revoke my access tokens" in page
    assert re.search(r'<input type="checkbox" name="revoke_tokens"[^>]* checked', page)
    new = "a whole new passphrase 42"
    data = {"new_password1": new, "new_password2": new}
    if ticked:
        data["revoke_tokens"] = "on"
    assert client.post(form_path, data).status_code == 302
    assert (person_for_token(raw) is None) is revoked
