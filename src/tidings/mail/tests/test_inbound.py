"""Routing incoming mail: replies by email, space addresses, what is ignored, held or refused."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.urls import reverse

from conftest import ROLES, by_role
from tidings.mail import addresses, inbound
from tidings.mail.models import InboundMessage, InboundResult, UnknownSenders
from tidings.mail.tests.conftest import SENDERS_KEY, signed
from tidings.recordings.models import Recording, State
from tidings.recordings.tests.factories import webm_bytes
from tidings.threads.models import ReadMark, Reply, SpaceMember, Thread
from tidings.threads.tests.factories import png_bytes, thread_in

DOMAIN = "tidings.test"

QUOTED_REPLY = """Sounds good, let's ship it on Friday.

--
Mia Member
Product, Acme

On Tue, Nov 24, 2026 at 9:00 AM Tidings <tidings@tidings.test> wrote:
> Olivia posted in Quarterly plan:
> Shall we ship?
"""


@pytest.fixture(autouse=True)
def _mail_domain(settings):
    settings.MAIL_DOMAIN = DOMAIN
    settings.DEFAULT_FROM_EMAIL = f"Tidings <tidings@{DOMAIN}>"


def message(sender: str, to: str, body: str = "Hello", subject: str = "Re: Plan", **headers):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="mail.example")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def receive(msg: EmailMessage, envelope_sender: str | None = "someone@example.com"):
    """Receive the message signed by its From domain, as the sender's mail server signs it."""
    recipient = str(msg["To"])
    return inbound.receive_message(signed(msg), recipient, envelope_sender=envelope_sender)


def test_reply_address_round_trip(world):
    thread = thread_in(world.open_space, world.owner)
    address = addresses.reply_address(world.member, thread)
    local, _, domain = address.partition("@")
    assert domain == DOMAIN and local.startswith("reply+") and local == local.lower()
    assert addresses.read_reply_token(local[len("reply+") :]) == (world.member.pk, thread.pk)
    # Case changed by a mail server on the way still reads.
    assert addresses.read_reply_token(local[len("reply+") :].upper()) == (
        world.member.pk,
        thread.pk,
    )
    other = addresses.reply_address(world.admin, thread)
    forged = local[: -len("0000")] + "0000"
    assert other != address and addresses.read_reply_token(forged[len("reply+") :]) is None


def test_space_address_is_stable_and_unique(world):
    first = addresses.space_address(world.open_space)
    assert first == f"general.acme@{DOMAIN}"
    world.open_space.slug = "renamed"
    world.open_space.save()
    assert addresses.space_address(world.open_space) == first
    private = addresses.space_address(world.private_space)
    assert re.fullmatch(rf"leadership\.acme\.[0-9a-f]{{12}}@{DOMAIN}", private)
    assert addresses.space_address(world.private_space) == private


def test_reply_by_email_posts_the_new_words_with_the_attachment(world):
    thread = thread_in(world.open_space, world.owner)
    msg = message(
        "Mia Member <MIA@acme.test>", addresses.reply_address(world.member, thread), QUOTED_REPLY
    )
    msg.add_attachment(png_bytes(), maintype="image", subtype="png", filename="chart.png")
    outcome = receive(msg)
    assert outcome.result == InboundResult.ACCEPTED and outcome.smtp_code == 250
    reply = Reply.objects.get(pk=outcome.reply_id)
    assert reply.author == world.member and reply.thread == thread
    assert reply.body == "Sounds good, let's ship it on Friday."
    assert [(a.name, a.is_image) for a in reply.attachments.all()] == [("chart.png", True)]
    entry = InboundMessage.objects.get(pk=outcome.log_id)
    assert (entry.thread, entry.reply, entry.sender) == (thread, reply, "mia@acme.test")
    assert ReadMark.objects.filter(thread=thread, person=world.member).exists()


def test_the_same_message_twice_posts_once(world):
    thread = thread_in(world.open_space, world.owner)
    msg = message("mia@acme.test", addresses.reply_address(world.member, thread))
    first, second = receive(msg), receive(msg)
    assert first.result == second.result == InboundResult.ACCEPTED
    assert second.reason == "Already received."
    assert Reply.objects.filter(thread=thread).count() == 1
    assert InboundMessage.objects.count() == 1


def test_audio_attachment_becomes_the_replys_recording(world, django_capture_on_commit_callbacks):
    thread = thread_in(world.open_space, world.owner)
    msg = message("mia@acme.test", addresses.reply_address(world.member, thread), "Listen.")
    msg.add_attachment(
        webm_bytes(1.0, video=False), maintype="audio", subtype="webm", filename="note.webm"
    )
    msg.add_attachment(
        b"%PDF-1.4 minutes", maintype="application", subtype="pdf", filename="minutes.pdf"
    )
    with django_capture_on_commit_callbacks(execute=True):
        outcome = receive(msg)
    assert outcome.result == InboundResult.ACCEPTED, outcome.reason
    reply = Reply.objects.get(pk=outcome.reply_id)
    recording = Recording.objects.get(reply=reply)
    assert recording.owner == world.member and recording.source == "upload"
    assert recording.state == State.READY and recording.duration_ms > 500
    assert [a.name for a in reply.attachments.all()] == ["minutes.pdf"]


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("forged", "This reply address is not valid."),
        ("other_sender", "This reply address belongs to another person."),
        ("lost_access", "You can no longer see this thread"),
    ],
)
def test_refused_replies_say_why(world, case, reason):
    thread = thread_in(world.private_space, world.owner)
    SpaceMember.objects.create(space=world.private_space, person=world.member)
    address = addresses.reply_address(world.member, thread)
    sender = "mia@acme.test"
    if case == "forged":
        address = address.replace("reply+", "reply+1")
    elif case == "other_sender":
        sender = "adam@acme.test"
    else:
        SpaceMember.objects.filter(space=world.private_space, person=world.member).delete()
    outcome = receive(message(sender, address))
    assert outcome.result == InboundResult.REJECTED and outcome.smtp_code == 550
    assert outcome.reason.startswith(reason)
    assert not Reply.objects.filter(thread=thread).exists()
    assert InboundMessage.objects.get().result == InboundResult.REJECTED


def test_member_mailing_a_space_starts_a_thread(world):
    msg = message(
        "mia@acme.test",
        addresses.space_address(world.open_space),
        "Agenda inside.",
        subject="Re: Fwd: AW: Offsite plans",
    )
    outcome = receive(msg)
    assert outcome.result == InboundResult.ACCEPTED
    thread = Thread.objects.get(pk=outcome.thread_id)
    assert (thread.title, thread.body, thread.author) == (
        "Offsite plans",
        "Agenda inside.",
        world.member,
    )
    assert thread.space == world.open_space


def test_who_may_not_post_in_a_private_space_is_refused(world):
    outcome = receive(message("mia@acme.test", addresses.space_address(world.private_space)))
    assert outcome.result == InboundResult.REJECTED
    # She is told what an address that does not exist tells her, nothing more.
    assert outcome.smtp_reply == "550 5.7.1 There is no such address here."
    wrong = receive(message("mia@acme.test", f"no-such.acme@{addresses.mail_domain()}"))
    assert wrong.smtp_reply == outcome.smtp_reply
    assert not Thread.objects.exists()


def test_unknown_sender_is_held_then_accepted_or_discarded(world):
    inbound.set_unknown_senders(world.owner, world.open_space, UnknownSenders.HOLD)
    to = addresses.space_address(world.open_space)
    held = receive(
        message("Sam Stranger <sam@else.test>", to, "Can you quote?", subject="Quote request")
    )
    dropped = receive(message("spam@else.test", to, "Buy now", subject="Deal"))
    assert held.result == dropped.result == InboundResult.HELD
    assert not Thread.objects.exists()
    waiting = inbound.held_messages(world.owner, world.open_space)
    assert [m.subject for m in waiting] == ["Deal", "Quote request"]
    assert inbound.held_messages(world.member, world.open_space) == []
    thread = inbound.accept_held(world.owner, world.open_space, held.log_id)
    assert thread.title == "Quote request" and thread.author == world.owner
    assert "Sam Stranger <sam@else.test>" in thread.body and "Can you quote?" in thread.body
    inbound.discard_held(world.owner, world.open_space, dropped.log_id)
    assert inbound.held_messages(world.owner, world.open_space) == []
    assert set(InboundMessage.objects.values_list("result", flat=True)) == {
        InboundResult.ACCEPTED,
        InboundResult.DISCARDED,
    }


@pytest.mark.parametrize(
    ("headers", "envelope_sender"),
    [
        ({"Auto_Submitted": "auto-replied"}, "mia@acme.test"),
        ({"Precedence": "bulk"}, "mia@acme.test"),
        ({"X_Autoreply": "yes"}, "mia@acme.test"),
        ({}, ""),
        ({}, "<>"),
    ],
)
def test_automatic_mail_is_ignored(world, headers, envelope_sender):
    thread = thread_in(world.open_space, world.owner)
    msg = message("mia@acme.test", addresses.reply_address(world.member, thread), **headers)
    outcome = receive(msg, envelope_sender=envelope_sender)
    assert outcome.result == InboundResult.IGNORED and outcome.smtp_code == 250
    assert not Reply.objects.exists()


def test_our_own_mail_coming_back_is_ignored(world):
    thread = thread_in(world.open_space, world.owner)
    msg = message(f"Tidings <tidings@{DOMAIN}>", addresses.space_address(world.open_space))
    assert receive(msg).result == InboundResult.IGNORED
    msg = message(
        addresses.reply_address(world.member, thread), addresses.reply_address(world.member, thread)
    )
    assert receive(msg).result == InboundResult.IGNORED
    assert Thread.objects.count() == 1 and not Reply.objects.exists()


def test_unknown_addresses_and_domains_are_refused(world):
    assert "no such address" in receive(message("mia@acme.test", f"nobody@{DOMAIN}")).reason
    outcome = receive(message("mia@acme.test", "general.acme@elsewhere.test"))
    assert outcome.result == InboundResult.REJECTED and "only for @tidings.test" in outcome.reason


def test_space_manage_page_shows_the_address_and_decides_held_mail(world):
    owner = world.client_for("owner")
    manage = "/w/acme/s/general/manage"
    page = owner.get(manage)
    assert f"general.acme@{DOMAIN}" in page.content.decode()
    answer = owner.post("/w/acme/s/general/email", {"unknown_senders": "hold"})
    assert answer.status_code == 302
    held = receive(
        message(
            "sam@else.test",
            addresses.space_address(world.open_space),
            "Hi there",
            subject="Hello from Sam",
        )
    )
    assert held.result == InboundResult.HELD
    page = owner.get(manage).content.decode()
    assert "Hello from Sam" in page and "sam@else.test" in page
    decide = f"/w/acme/s/general/email/held/{held.log_id}"
    # A member cannot decide or change the setting; nothing changes.
    member = world.client_for("member")
    assert member.post(decide, {"decision": "accept"}).status_code == 403
    assert member.post("/w/acme/s/general/email", {"unknown_senders": "reject"}).status_code == 403
    space_page = member.get("/w/acme/s/general/").content.decode()
    assert "Hello from Sam" not in space_page
    assert f"Start a thread by email: <code>general.acme@{DOMAIN}</code>" in space_page
    assert owner.post(decide, {"decision": "accept"}).status_code == 302
    assert Thread.objects.get(title="Hello from Sam").author == world.owner
    # A second decision on the same message only says it was handled.
    again = owner.post(decide, {"decision": "discard"}, follow=True)
    assert "already handled" in again.content.decode()
    assert world.client_for("outsider").post(decide, {"decision": "accept"}).status_code == 404


def test_people_who_share_the_mail_domain_are_not_taken_for_loops(world, mail_dns):
    mail_dns.publish_dkim(DOMAIN, SENDERS_KEY[1])
    world.member.email = f"mia@{DOMAIN}"
    world.member.save()
    outcome = receive(message(f"mia@{DOMAIN}", addresses.space_address(world.open_space)))
    assert outcome.result == InboundResult.ACCEPTED


@pytest.mark.parametrize("recipient", ["", "<>", "not an address", "ünï@cödé", "a@b@c"])
def test_odd_recipients_are_refused_not_crashed(world, recipient):
    outcome = inbound.receive_message(message("mia@acme.test", "x").as_bytes(), recipient)
    assert outcome.result == InboundResult.REJECTED and outcome.smtp_code == 550


def test_a_message_over_the_size_limit_is_refused(world, settings):
    settings.MAIL_MAX_MB = 0  # Everything is too large: polled mail meets the same limit.
    outcome = receive(message("mia@acme.test", addresses.space_address(world.open_space)))
    assert (outcome.result, outcome.smtp_code) == (InboundResult.REJECTED, 552)
    assert outcome.smtp_reply == "552 5.3.4 Messages can be up to 0 MB."


# The space email endpoints: roles × (endpoint, space) → status. Managers are the space's
# creator (the owner) and workspace admins; others who see the space get 403, the rest 404.
MANAGE_OPEN = by_role(302, 302, 403, 403, 404, 302)
MANAGE_PRIVATE = by_role(302, 302, 404, 404, 404, 302)
EMAIL_MATRIX = [
    ("space-email", "general", {"unknown_senders": "hold"}, MANAGE_OPEN),
    ("space-email", "leadership", {"unknown_senders": "hold"}, MANAGE_PRIVATE),
    ("held-message", "general", {"decision": "discard"}, MANAGE_OPEN),
    ("held-message", "leadership", {"decision": "discard"}, MANAGE_PRIVATE),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("endpoint", "space", "data", "statuses"), EMAIL_MATRIX)
def test_space_email_permission_matrix(world, role, endpoint, space, data, statuses):
    target = world.open_space if space == "general" else world.private_space
    inbound.set_unknown_senders(world.owner, target, UnknownSenders.HOLD)
    held = receive(message("sam@else.test", addresses.space_address(target)))
    kwargs = {"workspace": "acme", "space": space}
    if endpoint == "held-message":
        kwargs["message_id"] = held.log_id
    answer = world.client_for(role).post(reverse(f"mail:{endpoint}", kwargs=kwargs), data)
    assert answer.status_code == statuses[role]
    if answer.status_code == 302 and role == "anonymous":
        assert answer["Location"].startswith("/sign-in") or "next=" in answer["Location"]
    entry = InboundMessage.objects.get(pk=held.log_id)
    decided = endpoint == "held-message" and role in ("owner", "admin")
    assert entry.result == (InboundResult.DISCARDED if decided else InboundResult.HELD)


def test_reply_addresses_are_signed_as_salted_hmac_signs_them(world):
    """Addresses already sent out stay valid: the MAC is Django's salted HMAC of the ids."""
    from django.utils.crypto import salted_hmac

    thread = thread_in(world.open_space, world.owner)
    ids = f"{world.member.pk}.{thread.pk}"
    mac = salted_hmac("tidings.mail.reply-address", ids, algorithm="sha256").hexdigest()
    assert addresses.reply_address(world.member, thread).endswith(f"-{mac[:20]}@{DOMAIN}")
