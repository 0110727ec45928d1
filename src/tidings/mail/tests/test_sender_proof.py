"""Incoming mail proves its sender before it is posted: a DKIM signature or an SPF pass for
the From domain (or the verdict of our own Postfix); otherwise it waits for a space admin.
Until a sender is proven, every address answers alike, and nobody may send without limit."""

from __future__ import annotations

import re
import smtplib

import pytest
from django.core.cache import cache
from django.urls import reverse

from conftest import ROLES, by_role
from tidings.mail import addresses, inbound
from tidings.mail.models import (
    InboundMessage,
    InboundResult,
    SenderProof,
    SpaceMailbox,
)
from tidings.mail.tests.conftest import STRANGERS_KEY, message, signed
from tidings.threads.models import Reply, SpaceMember, Thread, Visibility
from tidings.threads.tests.factories import thread_in

DOMAIN = "tidings.test"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _mail_domain(settings):
    settings.MAIL_DOMAIN = DOMAIN
    settings.DEFAULT_FROM_EMAIL = f"Tidings <tidings@{DOMAIN}>"


def receive(raw: bytes, to: str):
    return inbound.receive_message(raw, to, envelope_sender="bounces@mail.example")


def send(port: int, raw: bytes, to: str, mail_from: str = "olivia@acme.test") -> tuple:
    """One SMTP session: (RCPT answer, DATA answer)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.ehlo("mx.sender.test")
        smtp.mail(mail_from)
        rcpt = smtp.rcpt(to)
        data = smtp.data(raw)
    return rcpt, data


# --- Proof.


def test_a_member_s_signed_mail_is_posted_and_kept_with_our_verdict(world):
    to = addresses.space_address(world.private_space)
    outcome = receive(signed(message("Olivia <olivia@acme.test>", to, "Board pack.")), to)
    assert outcome.result == InboundResult.ACCEPTED
    assert Thread.objects.get(pk=outcome.thread_id).author == world.owner
    assert outcome.smtp_reply == "250 2.0.0 Thread started."
    with InboundMessage.objects.get(pk=outcome.log_id).original.open("rb") as kept:
        top = kept.readline()
    assert top.startswith(b"Authentication-Results: tidings.test; dkim=pass header.d=acme.test")


@pytest.mark.parametrize(
    ("case", "why"),
    [
        ("unsigned", "it has no DKIM signature of acme.test"),
        ("signed_by_another_domain", "it is signed by else.test, not by acme.test"),
        ("key_not_published", "its DKIM signature of acme.test does not verify"),
    ],
)
def test_a_forged_sender_is_held_for_a_space_admin_with_the_reason(world, case, why):
    to = addresses.space_address(world.private_space)
    msg = message("olivia@acme.test", to, "Wire the money.", subject="Urgent")
    raw = {
        "unsigned": msg.as_bytes(),
        "signed_by_another_domain": signed(msg, domain="else.test"),
        "key_not_published": signed(msg, key=STRANGERS_KEY[0]),
    }[case]
    outcome = receive(raw, to)
    assert outcome.result == InboundResult.HELD
    assert why in outcome.reason and outcome.reason.startswith("Held: Could not verify")
    assert not Thread.objects.exists()
    # The sender learns nothing: the answer every address gives.
    assert outcome.smtp_reply == "250 2.0.0 Received."
    [held] = inbound.held_messages(world.owner, world.private_space)
    assert held.subject == "Urgent" and why in held.reason
    page = world.client_for("owner").get("/w/acme/s/leadership/manage").content.decode()
    assert "Urgent" in page and why in page
    # Posting it is the admin's decision, under the admin's name.
    thread = inbound.accept_held(world.admin, world.private_space, outcome.log_id)
    assert thread.author == world.admin and "Sent by email from olivia@acme.test" in thread.body


def test_an_spf_pass_proves_the_sender_and_an_spf_fail_does_not(world, smtp_port, mail_dns):
    to = addresses.space_address(world.open_space)
    mail_dns.publish_spf("acme.test", "v=spf1 ip4:127.0.0.1 -all")
    rcpt, data = send(smtp_port, message("mia@acme.test", to, subject="By SPF").as_bytes(), to)
    assert data == (250, b"2.0.0 Thread started.")
    assert Thread.objects.get(title="By SPF").author == world.member
    mail_dns.publish_spf("acme.test", "v=spf1 ip4:192.0.2.1 -all")
    _, data = send(smtp_port, message("mia@acme.test", to, subject="Not by SPF").as_bytes(), to)
    assert data == (250, b"2.0.0 Received.")
    entry = InboundMessage.objects.get(subject="Not by SPF")
    assert entry.result == InboundResult.HELD and "SPF for acme.test gave fail" in entry.reason
    # A pass for another domain (the envelope's) proves nothing about From.
    mail_dns.publish_spf("else.test", "v=spf1 ip4:127.0.0.1 -all")
    raw = message("mia@acme.test", to, subject="Other envelope").as_bytes()
    send(smtp_port, raw, to, mail_from="bounce@else.test")
    entry = InboundMessage.objects.get(subject="Other envelope")
    assert entry.result == InboundResult.HELD and "SPF passes only for else.test" in entry.reason


def test_a_forwarded_notification_cannot_reply_as_its_reader(world, mailoutbox):
    thread = thread_in(world.open_space, world.owner, title="Budget")
    to = addresses.reply_address(world.member, thread)
    # Someone Mia forwarded the email to answers from their own (proven) address.
    outcome = receive(signed(message("sam@else.test", to, "Let me in.")), to)
    assert (
        outcome.result == InboundResult.REJECTED and "belongs to another person" in outcome.reason
    )
    # ... or writes Mia's address in From, from a server that cannot prove it.
    outcome = receive(message("mia@acme.test", to, "Approved!").as_bytes(), to)
    assert outcome.result == InboundResult.HELD and outcome.smtp_reply == "250 2.0.0 Received."
    assert not Reply.objects.exists()
    # Mia is told at her account's address, with the way to post it herself.
    [notice] = mailoutbox
    assert (
        notice.to == ["mia@acme.test"] and notice.subject == "Your reply to “Budget” was not posted"
    )
    assert (
        reverse("threads:thread", args=[thread.pk]) in notice.body
        and "it has no DKIM signature" in notice.body
    )
    assert notice.extra_headers["Auto-Submitted"] == "auto-generated"
    # A space admin may post it for her: as a reply in the thread, naming the sender.
    assert inbound.accept_held(world.owner, world.open_space, outcome.log_id) == thread
    reply = Reply.objects.get(thread=thread)
    assert reply.author == world.owner and "Sent by email from mia@acme.test" in reply.body
    assert "Approved!" in reply.body
    # Her signed reply is posted as hers at once.
    outcome = receive(signed(message("mia@acme.test", to, "Signed this time.")), to)
    assert Reply.objects.get(pk=outcome.reply_id).author == world.member


def test_our_postfix_verdict_is_trusted_and_no_other(world, settings):
    settings.MAIL_TRUSTED_AUTHSERV_ID = "mx.tidings.test"
    to = addresses.space_address(world.open_space)
    raw = message("mia@acme.test", to, subject="Behind Postfix").as_bytes()
    ours = b"Authentication-Results: mx.tidings.test; dkim=pass header.d=acme.test\r\n"
    forged = b"Authentication-Results: mx.tidings.test; dkim=pass header.d=acme.test\r\n"
    failed = b"Authentication-Results: mx.tidings.test; dkim=fail header.d=acme.test\r\n"
    theirs = b"Authentication-Results: mx.else.test; dkim=pass header.d=acme.test\r\n"
    received = b"Received: from mail.else.test by mx.tidings.test; Fri, 4 Dec 2026 10:00:00\r\n"
    outcome = receive(ours + received + theirs + raw, to)
    assert outcome.result == InboundResult.ACCEPTED
    with InboundMessage.objects.get(pk=outcome.log_id).original.open("rb") as kept:
        headers = kept.read().split(b"\n\n")[0]
    # Postfix's verdict is kept; the one the sender wrote is gone.
    assert headers.count(b"Authentication-Results") == 1 and headers.startswith(ours.strip())
    # A pass the sender wrote below our server's fail, or one by another host, proves nothing.
    for headers in (failed + received + forged, theirs):
        fake = message("mia@acme.test", to, subject="Forged verdict").as_bytes()
        assert receive(headers + fake, to).result == InboundResult.HELD


# --- Policy.


def test_a_space_or_its_workspace_may_accept_unproven_mail(world):
    to = addresses.space_address(world.open_space)

    def unsigned(subject: str):
        return receive(message("mia@acme.test", to, subject=subject).as_bytes(), to).result

    assert inbound.sender_proof_for(world.open_space) == SenderProof.REQUIRE
    assert unsigned("Held by default") == InboundResult.HELD
    inbound.set_workspace_sender_proof(world.admin, world.workspace, SenderProof.ACCEPT)
    assert unsigned("The workspace accepts") == InboundResult.ACCEPTED
    inbound.set_sender_proof(world.owner, world.open_space, SenderProof.REQUIRE)
    assert unsigned("The space requires proof") == InboundResult.HELD
    inbound.set_sender_proof(world.owner, world.open_space, "")
    assert unsigned("The space follows again") == InboundResult.ACCEPTED
    # Accepting unproven mail is for members: strangers still meet the unknown-sender rule.
    assert receive(message("sam@else.test", to).as_bytes(), to).result == InboundResult.REJECTED


def test_the_manage_page_sets_the_space_choice_and_admins_the_workspace_default(world):
    owner, member = world.client_for("owner"), world.client_for("member")
    page = owner.get("/w/acme/s/general/manage").content.decode()
    assert "does not prove its sender" in page
    assert "As the workspace decides (now: require proof" in page
    assert "Default for every space in Acme" in page
    answer = owner.post(
        "/w/acme/s/general/email", {"unknown_senders": "reject", "sender_proof": "accept"}
    )
    assert answer.status_code == 302
    assert SpaceMailbox.objects.get(space=world.open_space).sender_proof == SenderProof.ACCEPT
    answer = owner.post(
        "/w/acme/email", {"sender_proof": "accept", "next": "/w/acme/s/general/manage"}
    )
    assert answer.status_code == 302 and answer["Location"] == "/w/acme/s/general/manage"
    assert inbound._workspace_sender_proof(world.workspace.pk) == SenderProof.ACCEPT
    bad = owner.post("/w/acme/s/general/email", {"unknown_senders": "hold", "sender_proof": "x"})
    assert "Choose to require proof" in owner.get(bad["Location"]).content.decode()
    assert SpaceMailbox.objects.get(space=world.open_space).unknown_senders == "reject"
    # Off-site "next" is not followed.
    away = owner.post("/w/acme/email", {"sender_proof": "require", "next": "https://evil.test/"})
    assert away["Location"] == "/"
    assert member.post("/w/acme/email", {"sender_proof": "accept"}).status_code == 403


# roles × workspace default → status: workspace admins decide; members and guests may not;
# the outsider sees no such workspace; the anonymous are sent to sign in.
WORKSPACE_EMAIL = by_role(302, 302, 403, 403, 404, 302)


@pytest.mark.parametrize("role", ROLES)
def test_workspace_email_permission_matrix(world, role):
    answer = world.client_for(role).post(
        reverse("mail:workspace-email", kwargs={"workspace": "acme"}), {"sender_proof": "accept"}
    )
    assert answer.status_code == WORKSPACE_EMAIL[role]
    changed = inbound._workspace_sender_proof(world.workspace.pk) == SenderProof.ACCEPT
    assert changed == (role in ("owner", "admin"))


@pytest.mark.parametrize("role", ROLES)
def test_space_sender_proof_permission_matrix(world, role):
    """The space's choice goes with its other email settings (their matrix is in
    test_inbound): only the space's managers change it."""
    url = reverse("mail:space-email", kwargs={"workspace": "acme", "space": "leadership"})
    data = {"unknown_senders": "reject", "sender_proof": "accept"}
    answer = world.client_for(role).post(url, data)
    assert answer.status_code == by_role(302, 302, 404, 404, 404, 302)[role]
    changed = inbound.sender_proof_for(world.private_space) == SenderProof.ACCEPT
    assert changed == (role in ("owner", "admin"))


# --- What the SMTP dialogue gives away.


def test_unknown_private_and_real_addresses_answer_alike(world, smtp_port):
    private = addresses.space_address(world.private_space)
    guessed = f"leadership.acme@{DOMAIN}"
    unknown = f"nobody.acme@{DOMAIN}"
    real = addresses.space_address(world.open_space)
    answers = {}
    for to in (private, guessed, unknown, real):
        # The owner's address, unproven: a forger's best try.
        raw = message("olivia@acme.test", to, "Hi").as_bytes()
        answers[to] = send(smtp_port, raw, to)
    assert len(set(answers.values())) == 1, answers
    assert answers[real] == ((250, b"OK"), (250, b"2.0.0 Received."))
    # A proven stranger is told no more than anyone else.
    stranger = {
        to: send(smtp_port, signed(message("otto@other.test", to, "Hi")), to, "otto@other.test")
        for to in (private, unknown, real)
    }
    assert len(set(stranger.values())) == 1, stranger
    assert not Thread.objects.exists()


def test_a_proven_member_learns_of_a_wrong_address_as_of_a_space_they_may_not_see(world, smtp_port):
    """A typo bounces for someone proven (mail is not dropped unseen), and a private space
    they may not see answers exactly as a wrong address does."""
    wrong = f"genral.acme@{DOMAIN}"
    private = addresses.space_address(world.private_space)  # Mia is not in it
    answers = {
        to: send(smtp_port, signed(message("mia@acme.test", to, "Hi")), to, "mia@acme.test")
        for to in (wrong, private)
    }
    assert answers[wrong] == answers[private], answers
    assert answers[wrong][1] == (550, b"5.7.1 There is no such address here.")
    # Unproven, the same two addresses say nothing at all.
    unproven = {to: send(smtp_port, message("mia@acme.test", to, "Hi").as_bytes(), to)
                for to in (wrong, private)}  # fmt: skip
    assert set(unproven.values()) == {((250, b"OK"), (250, b"2.0.0 Received."))}
    assert not Thread.objects.exists()


def test_a_private_space_s_address_cannot_be_guessed(world, settings):
    private = addresses.space_address(world.private_space)
    assert re.fullmatch(rf"leadership\.acme\.[0-9a-f]{{12}}@{DOMAIN}", private)
    guessed = f"leadership.acme@{DOMAIN}"
    outcome = receive(signed(message("olivia@acme.test", guessed)), guessed)
    assert outcome.result == InboundResult.REJECTED and "no such address" in outcome.reason
    # A space made private later gets a new address; the old one stops working.
    old = addresses.space_address(world.open_space)
    world.open_space.visibility = Visibility.PRIVATE
    world.open_space.save()
    SpaceMember.objects.create(space=world.open_space, person=world.owner)
    new = addresses.space_address(world.open_space)
    assert new != old and new.startswith("general.acme.")
    outcome = receive(signed(message("olivia@acme.test", old)), old)
    assert outcome.result == InboundResult.REJECTED
    outcome = receive(signed(message("olivia@acme.test", new)), new)
    assert outcome.result == InboundResult.ACCEPTED


# --- Rate limits.


@pytest.fixture
def limits(settings):
    settings.RATELIMIT_ENABLE = True
    settings.MAIL_RATE_LIMITS = ["3/m", "5/h"]
    cache.clear()
    yield
    cache.clear()


def test_mail_over_a_rate_limit_is_deferred(world, smtp_port, limits):
    space = addresses.space_address(world.open_space)
    threads = [thread_in(world.open_space, world.owner, title=f"T{n}") for n in range(4)]

    def code(sender, to) -> int:
        return receive(signed(message(sender, to)), to).smtp_code

    # Per sender: Mia's fourth reply in a minute, each to another thread.
    replies = [addresses.reply_address(world.member, t) for t in threads]
    assert [code("mia@acme.test", to) for to in replies] == [250, 250, 250, 451]
    # Per address: a fourth sender to the same address.
    cache.clear()
    senders = ["mia@acme.test", "olivia@acme.test", "adam@acme.test", "gus@client.test"]
    assert [code(sender, space) for sender in senders] == [250, 250, 250, 451]
    assert receive(signed(message("x@else.test", space)), space).reason.startswith("Too many")
    # Per sending server: a burst of new senders and addresses from one connection's host.
    cache.clear()
    answers = [
        send(smtp_port, signed(message(f"p{n}@else.test", f"s{n}@{DOMAIN}")), f"s{n}@{DOMAIN}")
        for n in range(4)
    ]
    assert [data[0] for _rcpt, data in answers] == [250, 250, 250, 451]
    assert answers[3][1][0] == 451
    assert answers[3][1][1].startswith(b"4.7.1 Too many messages from this sender or server")
    # Nothing of a deferred message was kept: the sending server tries again later.
    assert InboundMessage.objects.filter(sender="p3@else.test").count() == 0
