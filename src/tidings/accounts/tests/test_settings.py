import pytest
from django.test import Client

from conftest import PASSWORD, ROLES, by_role
from tidings.accounts import actions
from tidings.accounts.models import AccessToken, SignedInSession

SETTINGS = "/settings/"
# Every signed-in person has their own settings; anonymous people are sent to sign in.
SETTINGS_PAGE = by_role(200, 200, 200, 200, 200, 302)
POSTS = [
    ("/settings/profile", {"name": "New Name", "time_zone": "Europe/Paris"}, 302),
    (
        "/settings/password",
        {"old_password": PASSWORD, "new_password": "another fine passphrase"},
        302,
    ),
    ("/settings/tokens", {"name": "Scripts", "scopes": ["read"], "expires_in_days": "30"}, 201),
    ("/settings/sessions/sign-out-others", {"revoke_tokens": "on"}, 302),
    ("/settings/sessions/sign-out-others", {}, 302),
]


@pytest.mark.parametrize("role", ROLES)
def test_settings_page_matrix(world, role):
    response = world.client_for(role).get(SETTINGS)
    assert response.status_code == SETTINGS_PAGE[role]
    assert b"Leadership" not in response.content
    if role == "anonymous":
        assert response.url.startswith("/sign-in?next=")
    else:
        assert world.person(role).email.encode() in response.content
        # Nobody sees another person's data.
        others = {world.person(r).email for r in ROLES if r not in {role, "anonymous"}}
        assert not any(email.encode() in response.content for email in others)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("url", "data", "status"), POSTS)
def test_settings_posts_matrix(world, role, url, data, status):
    response = world.client_for(role).post(url, data)
    if role == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith("/sign-in")
    else:
        assert response.status_code == status


def test_profile_update_and_invalid_zone(world):
    client = world.client_for("member")
    response = client.post("/settings/profile", {"name": " Mia M. ", "time_zone": "Asia/Tokyo"})
    assert response.status_code == 302
    world.member.refresh_from_db()
    assert (world.member.name, world.member.time_zone) == ("Mia M.", "Asia/Tokyo")
    response = client.post("/settings/profile", {"name": "Mia", "time_zone": "Mars/Olympus"})
    assert response.status_code == 400
    assert "“Mars/Olympus” is not a known time zone" in response.content.decode()
    response = client.post("/settings/profile", {"name": "  ", "time_zone": "UTC"})
    assert response.status_code == 400
    assert b"This field is required" in response.content or b"Enter your name" in response.content
    world.member.refresh_from_db()
    assert (world.member.name, world.member.time_zone) == ("Mia M.", "Asia/Tokyo")


def test_change_password_needs_current_and_signs_out_elsewhere(world):
    here, there = Client(), Client()
    for client in (here, there):
        client.post("/sign-in", {"username": world.member.email, "password": PASSWORD})
        client.get(SETTINGS)
    response = here.post(
        "/settings/password", {"old_password": "wrong", "new_password": "a new long passphrase"}
    )
    assert response.status_code == 400
    assert b"That is not your current password" in response.content
    response = here.post("/settings/password", {"old_password": PASSWORD, "new_password": "short"})
    assert response.status_code == 400
    assert b"too short" in response.content
    response = here.post(
        "/settings/password", {"old_password": PASSWORD, "new_password": "a new long passphrase"}
    )
    assert response.status_code == 302
    assert here.get(SETTINGS).status_code == 200
    assert there.get(SETTINGS).status_code == 302
    assert SignedInSession.objects.filter(user=world.member).count() == 1


def _signed_in(world, role, agent):
    client = Client(HTTP_USER_AGENT=agent)
    client.post("/sign-in", {"username": world.person(role).email, "password": PASSWORD})
    client.get(SETTINGS)
    return client


FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def test_session_list_and_sign_out_one(world):
    laptop = _signed_in(world, "member", FIREFOX)
    phone = _signed_in(world, "member", SAFARI)
    _signed_in(world, "admin", FIREFOX)
    page = laptop.get(SETTINGS).content.decode()
    assert "Firefox on Linux" in page
    assert "Safari on iPhone" in page
    assert "This browser" in page
    assert "127.0.0.1" in page
    assert page.count('action="/settings/sessions/') == 2 + 1  # two rows + "everywhere else"
    phone_row = SignedInSession.objects.get(user=world.member, user_agent=SAFARI)
    # Someone else's session is not found.
    admin_row = SignedInSession.objects.get(user=world.admin)
    assert laptop.post(f"/settings/sessions/{admin_row.pk}/sign-out").status_code == 404
    response = laptop.post(f"/settings/sessions/{phone_row.pk}/sign-out")
    assert response.status_code == 302
    assert phone.get(SETTINGS).status_code == 302
    assert laptop.get(SETTINGS).status_code == 200
    assert not SignedInSession.objects.filter(pk=phone_row.pk).exists()


def test_sign_out_everywhere_else(world):
    laptop = _signed_in(world, "member", FIREFOX)
    phones = [_signed_in(world, "member", SAFARI) for _ in range(2)]
    response = laptop.post("/settings/sessions/sign-out-others", follow=True)
    assert b"Signed out of 2 other sessions" in response.content
    assert all(phone.get(SETTINGS).status_code == 302 for phone in phones)
    assert laptop.get(SETTINGS).status_code == 200
    assert SignedInSession.objects.filter(user=world.member).count() == 1


def test_signing_out_this_browser_from_the_list(world):
    laptop = _signed_in(world, "member", FIREFOX)
    row = SignedInSession.objects.get(user=world.member)
    response = laptop.post(f"/settings/sessions/{row.pk}/sign-out")
    assert response.url == "/sign-in"
    assert laptop.get(SETTINGS).status_code == 302


def test_token_created_shown_once_then_listed_and_revoked(world):
    client = world.client_for("member")
    response = client.post(
        "/settings/tokens", {"name": "Laptop scripts", "scopes": ["read", "write"]}
    )
    assert response.status_code == 201
    token = AccessToken.objects.get(user=world.member)
    page = response.content.decode()
    raw = page.split('id="new-token" type="text" readonly value="', 1)[1].split('"', 1)[0]
    assert raw.startswith("tid_") and raw[:8] == token.prefix
    assert raw not in client.get(SETTINGS).content.decode()
    assert "<strong>Laptop scripts</strong>" in client.get(SETTINGS).content.decode()
    assert client.post("/settings/tokens", {"name": ""}).status_code == 400
    # Another person cannot revoke it.
    assert world.client_for("admin").post(f"/settings/tokens/{token.pk}/revoke").status_code == 404
    assert client.post(f"/settings/tokens/{token.pk}/revoke").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "<strong>Laptop scripts</strong>" not in client.get(SETTINGS).content.decode()


def test_changing_the_password_revokes_tokens_unless_unticked(world):
    client = world.client_for("member")
    actions.create_access_token(world.member, "laptop script")
    page = client.get(SETTINGS).content.decode()
    assert 'name="revoke_tokens"' in page and "Also revoke my access tokens" in page
    kept = client.post(
        "/settings/password",
        {"old_password": PASSWORD, "new_password": "a new long passphrase"},
    )
    assert kept.status_code == 302
    assert AccessToken.objects.filter(user=world.member, revoked_at=None).count() == 1
    revoked = client.post(
        "/settings/password",
        {
            "old_password": "a new long passphrase",
            "new_password": "another long passphrase",
            "revoke_tokens": "on",
        },
    )
    assert revoked.status_code == 302
    assert not AccessToken.objects.filter(user=world.member, revoked_at=None).exists()
