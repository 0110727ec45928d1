"""Limits keyed on the client's address see the person's address behind a trusted proxy, and
nobody escapes them by sending an X-Forwarded-For of their own."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory

from conftest import PASSWORD
from tidings.accounts.models import SignedInSession
from tidings.accounts.views import SIGN_IN_RATE_PER_ACCOUNT, SIGN_IN_RATE_PER_ADDRESS
from tidings.security import client_address

PROXY = "10.0.0.2"


def address_of(peer: str, forwarded: str | None = None) -> str:
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **extra))


@pytest.mark.parametrize(
    ("proxies", "peer", "forwarded", "client"),
    [
        ([], "198.51.100.7", "203.0.113.9", "198.51.100.7"),  # no proxy trusted: header ignored
        ([PROXY], "198.51.100.7", "203.0.113.9", "198.51.100.7"),  # peer is not the proxy
        ([PROXY], PROXY, "203.0.113.9", "203.0.113.9"),
        ([PROXY], PROXY, "1.2.3.4, 203.0.113.9", "203.0.113.9"),  # made-up left part ignored
        (["10.0.0.0/8"], PROXY, "203.0.113.9, 10.1.1.1", "203.0.113.9"),  # two proxies
        (["10.0.0.0/8"], PROXY, "10.5.5.5, 10.1.1.1", "10.5.5.5"),  # all trusted: the farthest
        ([PROXY], PROXY, "", PROXY),
        ([PROXY], PROXY, "not-an-address", PROXY),
        (["2001:db8::/32"], "2001:db8::1", "2001:db8::5, 2a00:1450::1", "2a00:1450::1"),
    ],
)
def test_client_address(settings, proxies, peer, forwarded, client):
    settings.TRUSTED_PROXIES = proxies
    assert address_of(peer, forwarded) == client


def test_a_bad_trusted_proxy_setting_says_what_is_wrong(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/33"]
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES: .*like 10.0.0.0/8"):
        address_of(PROXY, "203.0.113.9")


def _sign_in(forwarded: str, email: str, password: str = "wrong", peer: str = PROXY):
    client = Client(REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    return client.post("/sign-in", {"username": email, "password": password})


def test_sign_in_limit_per_address_follows_the_client_behind_the_proxy(
    world, settings, rate_limits
):
    settings.TRUSTED_PROXIES = [PROXY]
    allowed = int(SIGN_IN_RATE_PER_ADDRESS.split("/")[0])
    for n in range(allowed):
        assert _sign_in("203.0.113.9", f"nobody{n}@acme.test").status_code == 200
    assert _sign_in("203.0.113.9", world.member.email, PASSWORD).status_code == 429
    # Someone else behind the same proxy is not held back by it.
    assert _sign_in("203.0.113.10", world.member.email, PASSWORD).status_code == 302
    # The per-account limit is unchanged: it follows the account whatever the address.
    for n in range(int(SIGN_IN_RATE_PER_ACCOUNT.split("/")[0])):
        assert _sign_in(f"198.51.100.{n + 1}", world.admin.email).status_code == 200
    assert _sign_in("198.51.100.99", world.admin.email, PASSWORD).status_code == 429


def test_a_forged_header_does_not_escape_the_limit(world, settings, rate_limits):
    settings.TRUSTED_PROXIES = [PROXY]
    allowed = int(SIGN_IN_RATE_PER_ADDRESS.split("/")[0])
    for n in range(allowed):
        response = _sign_in(f"203.0.113.{n}", f"nobody{n}@acme.test", peer="198.51.100.7")
        assert response.status_code == 200
    response = _sign_in("203.0.113.200", world.member.email, PASSWORD, peer="198.51.100.7")
    assert response.status_code == 429


def test_sessions_list_shows_the_client_address(world, settings):
    settings.TRUSTED_PROXIES = [PROXY]
    client = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.9")
    client.force_login(world.member)
    client.get("/settings/")
    assert SignedInSession.objects.get(user=world.member).ip_address == "203.0.113.9"
