"""One-click unsubscribe (RFC 8058): a POST from the mail client, without a session or CSRF
token, stops a space's email; opening the link only asks."""

from __future__ import annotations

import pytest
from django.test import Client

from tidings.accounts.models import EmailCadence
from tidings.mail import inbound, outbox, unsubscribe
from tidings.mail.addresses import unsubscribe_address
from tidings.mail.models import InboundResult, OutboxEmail
from tidings.mail.tests.test_inbound import message
from tidings.mail.tests.test_outbox import later, set_delivery
from tidings.threads.models import SpaceLevel, SpaceSubscription
from tidings.threads.tests.factories import reply_to, thread_in


def level(person, space) -> str:
    found = SpaceSubscription.objects.filter(person=person, space=space).first()
    return found.level if found else SpaceLevel.FOLLOW


@pytest.fixture
def notification(world, sent_mail, committed, settings):
    """A real notification Mia received about General."""
    settings.MAIL_DOMAIN = "tidings.test"
    for person in (world.owner, world.admin, world.guest):
        set_delivery(person, EmailCadence.NEVER)
    set_delivery(world.member)
    thread = committed(thread_in, world.open_space, world.member, title="Launch")
    committed(reply_to, thread, world.owner, body="Ready")
    outbox.send_due_emails(later())
    [message] = sent_mail(world.member.email)
    return message


@pytest.fixture
def link(notification) -> str:
    """Its List-Unsubscribe URL."""
    return list_unsubscribe(notification)[0]


def list_unsubscribe(message) -> list[str]:
    """The URIs of a List-Unsubscribe header (RFC 2369), in order."""
    return [part.strip()[1:-1] for part in str(message["List-Unsubscribe"]).split(",")]


def test_opening_the_link_asks_and_changes_nothing(world, link, client):
    page = client.get(link)
    assert page.status_code == 200
    assert b"Stop email from General?" in page.content
    assert world.member.email.encode() in page.content
    assert level(world.member, world.open_space) == SpaceLevel.FOLLOW


def test_one_click_post_without_csrf_or_sign_in_unsubscribes(world, link, sent_mail, committed):
    mail_client = Client(enforce_csrf_checks=True)
    answer = mail_client.post(
        link, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert answer.status_code == 200
    assert b"no more email from General" in answer.content
    assert level(world.member, world.open_space) == SpaceLevel.MUTED
    assert mail_client.post(link).status_code == 200  # a second click is harmless

    thread = committed(thread_in, world.open_space, world.owner, title="Another launch")
    committed(reply_to, thread, world.admin, body="Also ready")
    assert not OutboxEmail.objects.filter(person=world.member, thread=thread).exists()
    # Mentions still reach a person who muted the space.
    committed(reply_to, thread, world.admin, body="@mia please confirm")
    outbox.send_due_emails(later())
    assert "please confirm" in sent_mail(world.member.email)[-1].get_body(("plain",)).get_content()


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_forged_or_damaged_token_does_nothing(world, link, client, method):
    forged = link[: link.rindex(":") + 1] + "A" * 43
    for url in (forged, link + "x", "/email/unsubscribe/nonsense"):
        answer = getattr(client, method)(url)
        assert answer.status_code == 404
        assert b"does not work" in answer.content
    assert level(world.member, world.open_space) == SpaceLevel.FOLLOW


def test_a_token_is_void_once_the_person_cannot_see_the_space(world, client):
    token = unsubscribe.unsubscribe_token(world.member, world.private_space)
    assert client.post(f"/email/unsubscribe/{token}").status_code == 404
    assert not SpaceSubscription.objects.filter(person=world.member).exists()


def test_other_methods_are_refused(link, client):
    assert client.put(link).status_code == 405


def test_mailing_the_unsubscribe_address_stops_the_space(world, notification):
    """The mailto form of List-Unsubscribe, for mail clients that offer only that."""

    https, mailto = list_unsubscribe(notification)
    assert https.startswith("http") and mailto.startswith("mailto:unsubscribe+")
    address = mailto.removeprefix("mailto:").split("?")[0]
    assert address.endswith("@tidings.test")

    assert inbound.check_recipient(address) == ""
    outcome = inbound.receive_message(
        message(world.member.email, address, "", subject="unsubscribe").as_bytes(), address
    )
    assert outcome.result == InboundResult.ACCEPTED
    assert "Unsubscribed from General" in outcome.reason
    assert level(world.member, world.open_space) == SpaceLevel.MUTED


def test_a_forged_unsubscribe_address_is_refused(world, settings):
    settings.MAIL_DOMAIN = "tidings.test"
    genuine = unsubscribe_address(world.member, world.open_space)
    forged = genuine.replace(genuine.split("@")[0][-4:], "0000")
    assert inbound.check_recipient(forged).startswith("This unsubscribe address is not valid")
    outcome = inbound.receive_message(message("x@example.com", forged).as_bytes(), forged)
    assert outcome.result == InboundResult.REJECTED and outcome.smtp_code == 550
    assert level(world.member, world.open_space) == SpaceLevel.FOLLOW
