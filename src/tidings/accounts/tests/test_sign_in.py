import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD, ROLES, by_role
from tidings.accounts.models import SignedInSession
from tidings.accounts.views import SIGN_IN_RATE_PER_ACCOUNT

SIGN_IN = "/sign-in"


def sign_in(client: Client, email: str, password: str = PASSWORD, **extra):
    return client.post(SIGN_IN, {"username": email, "password": password, **extra})


# Signed-in people are sent on from the sign-in page; everyone else gets the form.
SIGN_IN_PAGE = by_role(302, 302, 302, 302, 302, 200)


@pytest.mark.parametrize("role", ROLES)
def test_sign_in_page_matrix(world, role):
    response = world.client_for(role).get(SIGN_IN)
    assert response.status_code == SIGN_IN_PAGE[role]
    assert b"Leadership" not in response.content
    if role == "anonymous":
        assert b"Sign in to Tidings" in response.content


def test_sign_in_with_email_any_case_then_lands_home(world):
    client = Client()
    response = sign_in(client, "  Mia@ACME.test ")
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.session["_auth_user_id"] == str(world.member.pk)


def test_wrong_password_says_what_to_do(world):
    response = sign_in(Client(), world.member.email, "not the password")
    assert response.status_code == 200
    assert b"do not match an account" in response.content
    assert b"reset your password" in response.content


def test_deactivated_account_cannot_sign_in(world):
    world.member.is_active = False
    world.member.save()
    response = sign_in(Client(), world.member.email)
    assert response.status_code == 200
    assert "_auth_user_id" not in Client().session


def test_sign_in_follows_safe_next_only(world):
    response = sign_in(Client(), world.member.email, next="/settings/")
    assert response.url == "/settings/"
    response = sign_in(Client(), world.member.email, next="https://evil.test/")
    assert response.url == reverse("home")


def test_csrf_is_enforced_on_sign_in(world):
    client = Client(enforce_csrf_checks=True)
    response = sign_in(client, world.member.email)
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
    # With the token from the form, the same post works.
    page = client.get(SIGN_IN)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1)
    response = sign_in(client, world.member.email, csrfmiddlewaretoken=token.decode())
    assert response.status_code == 302


def test_sign_out_is_post_only_and_forgets_the_session(world):
    client = Client()
    sign_in(client, world.member.email)
    client.get("/settings/")  # the middleware records the session on the next request
    assert SignedInSession.objects.filter(user=world.member).count() == 1
    assert client.get("/sign-out").status_code == 405
    response = client.post("/sign-out")
    assert response.status_code == 302
    assert response.url == reverse("accounts:sign-in")
    assert not SignedInSession.objects.filter(user=world.member).exists()
    assert client.get("/settings/").status_code == 302


def test_sign_in_is_rate_limited_per_account(world, rate_limits):
    allowed = int(SIGN_IN_RATE_PER_ACCOUNT.split("/")[0])
    for n in range(allowed):
        # From different addresses: the limit follows the account, not the address.
        response = sign_in(Client(REMOTE_ADDR=f"10.0.0.{n + 1}"), world.member.email, "wrong")
        assert response.status_code == 200
    response = sign_in(Client(REMOTE_ADDR="10.0.1.1"), world.member.email.upper())
    assert response.status_code == 429
    assert b"Too many attempts, try again in a few minutes" in response.content
    assert response["Retry-After"]
    # Another account is not affected.
    assert sign_in(Client(REMOTE_ADDR="10.0.1.2"), world.admin.email).status_code == 302


def test_sign_in_is_rate_limited_per_address(world, rate_limits):
    client = Client(REMOTE_ADDR="10.9.9.9")
    for n in range(30):
        assert sign_in(client, f"nobody{n}@acme.test", "wrong").status_code == 200
    response = sign_in(client, world.member.email)
    assert response.status_code == 429
    assert b"Too many attempts" in response.content
    assert sign_in(Client(REMOTE_ADDR="10.9.9.8"), world.member.email).status_code == 302


def test_password_reset_is_rate_limited(world, rate_limits):
    client = Client()
    for _ in range(3):
        response = client.post("/password-reset", {"email": world.member.email})
        assert response.status_code == 302
    response = client.post("/password-reset", {"email": world.member.email})
    assert response.status_code == 429
    assert b"Too many attempts, try again in a few minutes" in response.content
    assert len(mail.outbox) == 3


def test_password_reset_flow(world):
    elsewhere = Client()  # signed in before the reset: it is signed out by it
    sign_in(elsewhere, world.member.email)
    elsewhere.get("/settings/")
    client = Client()
    assert client.get("/password-reset").status_code == 200
    response = client.post("/password-reset", {"email": "MIA@acme.test"})
    assert response.status_code == 302
    assert response.url == reverse("accounts:password-reset-sent")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["mia@acme.test"]
    assert "Reset your Tidings password" in message.subject
    assert "Hello Mia Member" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    link = re.search(r"http://[^\s]+/password-reset/[^\s]+/", message.body).group(0)
    assert link.startswith("http://")
    assert link in html
    path = link.split("//", 1)[1].split("/", 1)[1]
    response = client.get("/" + path)
    assert response.status_code == 302  # Django hides the token from the address bar
    response = client.get(response.url)
    assert b"Choose a new password" in response.content
    new = "a whole new passphrase 42"
    response = client.post(
        response.request["PATH_INFO"],
        {
            "new_password1": new,
            "new_password2": new,
        },
    )
    assert response.status_code == 302
    assert response.url == reverse("accounts:password-reset-complete")
    assert sign_in(Client(), world.member.email, new).status_code == 302
    assert elsewhere.get("/settings/").status_code == 302
    assert not SignedInSession.objects.filter(user=world.member).exists()
    # The link works once.
    response = Client().get("/" + path, follow=True)
    assert b"This reset link no longer works" in response.content


def test_password_reset_for_unknown_email_sends_nothing_and_says_the_same(world):
    response = Client().post("/password-reset", {"email": "nobody@acme.test"}, follow=True)
    assert b"Check your email" in response.content
    assert mail.outbox == []
