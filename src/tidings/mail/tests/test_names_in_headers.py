"""A display name stored before names were checked (a line break meant to add a Bcc, emoji)
is encoded safely in From and To, and never stops a notification, a digest or an invitation."""

from __future__ import annotations

from django.core import mail

from tidings.accounts.models import EmailCadence, User
from tidings.mail import digests, outbox
from tidings.mail.models import Digest
from tidings.mail.tests.test_outbox import later, set_delivery
from tidings.people.actions import create_invite
from tidings.threads.tests.factories import reply_to, thread_in

EVIL = "Olivia 🎉\r\nBcc: x@evil.test"
EVIL_ASCII = "Mia\r\nBcc: x@evil.test"


def _store(person: User, name: str) -> None:
    User.objects.filter(pk=person.pk).update(name=name)  # as an older version could have
    person.refresh_from_db()


def test_notification_with_bad_names_goes_out_with_clean_headers(committed, world, sent_mail):
    for person in (world.owner, world.admin, world.guest):
        set_delivery(person, EmailCadence.NEVER)
    set_delivery(world.member)
    _store(world.member, EVIL_ASCII)
    _store(world.owner, EVIL)
    thread = committed(thread_in, world.open_space, world.member, title="Launch")
    committed(reply_to, thread, world.owner, body="Ready.")

    assert outbox.send_due_emails(later()) == 1
    [message] = sent_mail(world.member.email)
    assert "Bcc" not in message  # the would-be header stays words inside the quoted name
    [to] = message["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Mia Bcc: x@evil.test", world.member.email)
    [sender] = message["From"].addresses
    assert sender.display_name == "Olivia 🎉 Bcc: x@evil.test via Tidings"
    assert sent_mail("x@evil.test") == []


def test_digest_to_a_bad_name_goes_out(committed, world, sent_mail):
    for person in (world.owner, world.admin, world.guest):
        set_delivery(person, EmailCadence.NEVER)
    set_delivery(world.member, EmailCadence.DAILY)
    _store(world.member, EVIL_ASCII)
    committed(thread_in, world.open_space, world.owner, title="Launch")
    digests.send_due_digests()  # schedules it
    row = Digest.objects.get(person=world.member, finished_at=None)
    assert digests.send_due_digests(row.due_at) == 1
    [message] = sent_mail(world.member.email)
    assert "Bcc" not in message
    assert message["To"].addresses[0].addr_spec == world.member.email
    assert sent_mail("x@evil.test") == []


def test_invitation_from_a_bad_name_is_sent(world):
    _store(world.owner, EVIL_ASCII)
    create_invite(world.owner, world.workspace, email="nina@new.test", role="member")
    [message] = mail.outbox
    assert message.subject == "Mia Bcc: x@evil.test invited you to Acme on Tidings"
    assert "Bcc" not in message.message()
