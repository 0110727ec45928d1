"""The message a post came from, kept as received for a number of days: "View original" for
the post's author and workspace admins, gone from storage when its days are over."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from conftest import ROLES, by_role
from tidings.mail import addresses, inbound, jobs
from tidings.mail.models import InboundMessage, UnknownSenders
from tidings.mail.tests.conftest import signed
from tidings.threads.tests.factories import thread_in

DOMAIN = "tidings.test"


@pytest.fixture(autouse=True)
def _mail_domain(settings):
    settings.MAIL_DOMAIN = DOMAIN
    settings.DEFAULT_FROM_EMAIL = f"Tidings <tidings@{DOMAIN}>"
    settings.MAIL_KEEP_ORIGINAL_DAYS = 30


def mail(person, to: str, body: str = "Posted by email.", subject: str = "By email") -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = person.email, to, subject
    msg["Message-ID"] = make_msgid(domain="mail.example")
    msg.set_content(body)
    return signed(msg)


def receive(person, to: str, **kwargs) -> InboundMessage:
    outcome = inbound.receive_message(mail(person, to, **kwargs), to)
    return InboundMessage.objects.get(pk=outcome.log_id)


def original_url(entry: InboundMessage) -> str:
    return reverse("mail:original", args=[entry.pk])


# Who may open the original: the post's author and workspace admins who see the space; others
# who see the post get 403, the rest 404, and anonymous people are sent to sign in.
OPEN_BY_MEMBER = by_role(200, 200, 200, 403, 404, 302)
PRIVATE_BY_ADMIN = by_role(200, 200, 404, 404, 404, 302)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("post", "statuses"),
    [
        ("thread_in_open", OPEN_BY_MEMBER),
        ("reply_in_open", OPEN_BY_MEMBER),
        ("thread_in_private", PRIVATE_BY_ADMIN),
    ],
)
def test_view_original_permission_matrix(world, role, post, statuses):
    if post == "thread_in_open":
        entry = receive(world.member, addresses.space_address(world.open_space))
    elif post == "reply_in_open":
        thread = thread_in(world.open_space, world.owner)
        entry = receive(world.member, addresses.reply_address(world.member, thread))
    else:
        entry = receive(world.admin, addresses.space_address(world.private_space))
    answer = world.client_for(role).get(original_url(entry))
    assert answer.status_code == statuses[role]
    if answer.status_code == 200:
        assert b"".join(answer.streaming_content) == mail_bytes(entry)
        assert answer["Content-Type"] == "message/rfc822"
        assert answer["Content-Disposition"].startswith("attachment")
        assert answer["Content-Security-Policy"] == "default-src 'none'; sandbox"
    elif role == "anonymous":
        assert "next=" in answer["Location"]


def mail_bytes(entry: InboundMessage) -> bytes:
    with entry.original.open("rb") as kept:
        return kept.read()


def test_the_thread_page_offers_view_original_to_who_may_open_it(world):
    thread = thread_in(world.open_space, world.owner)
    entry = receive(world.member, addresses.reply_address(world.member, thread))
    page = reverse("threads:thread", args=[thread.pk])
    link = f'href="{original_url(entry)}"'
    for role, shown in [("member", True), ("admin", True), ("owner", True), ("guest", False)]:
        html = world.client_for(role).get(page, follow=True).content.decode()
        assert (link in html) == shown, role
        assert ("View original" in html) == shown, role


def test_originals_are_forgotten_after_the_kept_days(world, settings):
    fresh = receive(world.member, addresses.space_address(world.open_space), subject="Fresh")
    old = receive(world.member, addresses.space_address(world.open_space), subject="Old")
    InboundMessage.objects.filter(pk=old.pk).update(
        received_at=timezone.now() - dt.timedelta(days=31)
    )
    old_name = old.original.name
    assert inbound.forget_old_originals() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.original.name == "" and not default_storage.exists(old_name)
    assert default_storage.exists(fresh.original.name)
    assert old.thread.body == "Posted by email."  # the post stays
    member = world.client_for("member")
    assert member.get(original_url(old)).status_code == 404
    assert member.get(original_url(fresh)).status_code == 200
    # The daily job runs the same action; with 0 days nothing is kept at all.
    settings.MAIL_KEEP_ORIGINAL_DAYS = 0
    jobs.forget_old_originals()
    fresh.refresh_from_db()
    assert fresh.original.name == ""
    later = receive(world.member, addresses.space_address(world.open_space), subject="Later")
    assert later.original.name == ""


def test_an_accepted_held_message_keeps_its_original(world):
    inbound.set_unknown_senders(world.owner, world.open_space, UnknownSenders.HOLD)
    outsider_mail = mail(world.outsider, addresses.space_address(world.open_space))
    outcome = inbound.receive_message(outsider_mail, addresses.space_address(world.open_space))
    inbound.accept_held(world.owner, world.open_space, outcome.log_id)
    entry = InboundMessage.objects.get(pk=outcome.log_id)
    # Kept as it came, under this server's verdict on its sender.
    kept = mail_bytes(entry)
    assert entry.held_file.name == "" and kept.endswith(outsider_mail)
    assert kept.startswith(b"Authentication-Results: tidings.test; dkim=pass header.d=other.test")
    # The admin who posted it may open it; the member who sees the thread may not.
    assert world.client_for("owner").get(original_url(entry)).status_code == 200
    assert world.client_for("member").get(original_url(entry)).status_code == 403
