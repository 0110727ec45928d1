"""Real SMTP and LMTP sessions (smtplib) against the receiver of `tidings mail-server`."""

from __future__ import annotations

import imaplib
import os
import signal
import smtplib
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tidings.mail import addresses, receiver
from tidings.mail.models import InboundMessage, InboundResult
from tidings.mail.tests.conftest import free_port, signed
from tidings.mail.tests.conftest import message as plain_message
from tidings.threads.models import Reply, Thread
from tidings.threads.tests.factories import thread_in

DOMAIN = "tidings.test"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _mail_domain(settings):
    settings.MAIL_DOMAIN = DOMAIN
    settings.DEFAULT_FROM_EMAIL = f"Tidings <tidings@{DOMAIN}>"
    settings.MAIL_MAX_MB = 1


def message(sender: str, to: str, body: str, subject: str = "Re: Quarterly plan"):
    return plain_message(sender, to, body, subject)


def test_reply_by_smtp_lands_in_the_thread(world, smtp_port):
    thread = thread_in(world.open_space, world.owner)
    to = addresses.reply_address(world.member, thread)
    msg = message(
        "Mia <mia@acme.test>",
        to,
        "Yes, Friday works.\n\n-- \nMia\n\nOn Tue, Olivia wrote:\n> Friday?\n",
    )
    msg.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="numbers.csv")
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as smtp:
        refused = smtp.sendmail("mia@acme.test", [to], signed(msg))
    assert refused == {}
    reply = Reply.objects.get(thread=thread)
    assert (reply.author, reply.body) == (world.member, "Yes, Friday works.")
    assert [a.name for a in reply.attachments.all()] == ["numbers.csv"]


def test_smtp_refusals_carry_the_reason(world, smtp_port):
    thread = thread_in(world.open_space, world.owner)
    to = addresses.reply_address(world.member, thread)
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as smtp:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            smtp.sendmail("adam@acme.test", [to], signed(message("adam@acme.test", to, "Hi")))
        assert refused.value.smtp_code == 550
        assert b"belongs to another person" in refused.value.smtp_error
        with pytest.raises(smtplib.SMTPRecipientsRefused) as other_domain:
            smtp.send_message(
                message("mia@acme.test", "x@else.test", "Hi"), to_addrs=["x@else.test"]
            )
        assert other_domain.value.recipients["x@else.test"][0] == 550
        big = message("mia@acme.test", to, "x" * (1024 * 1024 + 10))
        with pytest.raises(smtplib.SMTPException) as too_big:
            smtp.sendmail("mia@acme.test", [to], signed(big))
        assert "552" in str(too_big.value)
    assert not Reply.objects.exists()


def test_lmtp_answers_each_recipient(world, lmtp_port):
    thread = thread_in(world.open_space, world.owner)
    good = addresses.reply_address(world.member, thread)
    space = addresses.space_address(world.open_space)
    admins = addresses.reply_address(world.admin, thread)
    forged = good.replace("reply+", "reply+9")
    msg = message("mia@acme.test", good, "Both places, please.", subject="Launch notes")
    with smtplib.LMTP("127.0.0.1", lmtp_port) as lmtp:
        lmtp.ehlo("postfix.example")
        lmtp.mail("mia@acme.test")
        # Any space address is taken at RCPT, real or not; a forged token is refused.
        for rcpt in (good, space, admins, f"nobody@{DOMAIN}"):
            assert lmtp.rcpt(rcpt)[0] == 250
        code, answer = lmtp.rcpt(forged)
        assert (code, b"not valid" in answer) == (550, True)
        first = lmtp.data(signed(msg))
        replies = [first, lmtp.getreply(), lmtp.getreply(), lmtp.getreply()]
    assert [code for code, _ in replies] == [250, 250, 550, 550]
    assert b"belongs to another person" in replies[2][1]
    # The proven member learns what became of each, a wrong address included.
    assert replies[3][1] == b"5.7.1 There is no such address here."
    assert Reply.objects.get(thread=thread).body == "Both places, please."
    assert Thread.objects.get(title="Launch notes").author == world.member
    assert sorted(InboundMessage.objects.values_list("result", flat=True)) == [
        InboundResult.ACCEPTED,
        InboundResult.ACCEPTED,
        InboundResult.REJECTED,
        InboundResult.REJECTED,
    ]


def test_mail_server_command_serves_until_sigterm(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MAIL_DOMAIN": DOMAIN,
        "REDIS_URL": "",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "tidings", "mail-server", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                smtp = smtplib.SMTP("127.0.0.1", port, timeout=10)
                break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "mail-server did not start"
                time.sleep(0.3)
        with smtp:
            assert smtp.ehlo()[0] == 250
            assert smtp.mail("a@example.com")[0] == 250
            assert smtp.rcpt("someone@else.test")[0] == 550
            # Nobody can probe for spaces: every address at the domain is taken alike.
            assert smtp.rcpt(f"nobody@{DOMAIN}") == smtp.rcpt(f"leadership.acme@{DOMAIN}")
            assert smtp.rcpt(f"nobody@{DOMAIN}") == (250, b"OK")
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0]
    assert server.returncode == 0, output
    assert f"Receiving SMTP mail for @{DOMAIN}" in output


@pytest.fixture
def imap_server(settings):
    """A real IMAP server (pymap, in memory) with an empty folder the poller reads."""
    port = free_port()
    server = subprocess.Popen(
        [
            Path(sys.executable).parent / "pymap",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "dict",
            "--demo-data",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            connection = imaplib.IMAP4("127.0.0.1", port, timeout=10)
            break
        except OSError:
            assert time.monotonic() < deadline, "pymap did not start"
            time.sleep(0.2)
    connection.login("demouser", "demopass")
    connection.create("Tidings")
    settings.IMAP_HOST, settings.IMAP_PORT, settings.IMAP_SSL = "127.0.0.1", port, False
    settings.IMAP_USER, settings.IMAP_PASSWORD, settings.IMAP_FOLDER = (
        "demouser",
        "demopass",
        "Tidings",
    )
    yield connection
    connection.logout()
    server.terminate()
    server.wait(timeout=10)


def test_polling_an_imap_mailbox(world, imap_server, mailoutbox):
    thread = thread_in(world.open_space, world.owner)
    good = message("mia@acme.test", "Tidings <tidings@tidings.test>", "Posted from IMAP.")
    good["Delivered-To"] = addresses.reply_address(world.member, thread)
    empty = message("mia@acme.test", addresses.reply_address(world.member, thread), "")
    stranger = message("sam@else.test", addresses.space_address(world.open_space), "Hi")
    bounce = message("mailer@else.test", addresses.space_address(world.open_space), "Failed")
    bounce["Return-Path"] = "<>"
    for msg in (good, empty, stranger, bounce):
        assert imap_server.append("Tidings", None, None, signed(msg))[0] == "OK"
    assert receiver.poll_imap() == 4
    assert Reply.objects.get(thread=thread).body == "Posted from IMAP."
    # Mia's empty reply was refused, and she was told why by an automatic reply; the
    # stranger's refusal is not told (it would say who may post where).
    [refusal] = mailoutbox
    assert (
        refusal.to == ["mia@acme.test"] and refusal.subject == "Not delivered: Re: Quarterly plan"
    )
    assert "Write something first" in refusal.body
    assert refusal.extra_headers["Auto-Submitted"] == "auto-replied"
    assert InboundMessage.objects.filter(result=InboundResult.IGNORED).count() == 1
    assert InboundMessage.objects.get(sender="sam@else.test").result == InboundResult.REJECTED
    # Handled messages leave the mailbox; polling again finds nothing.
    imap_server.select("Tidings")
    assert imap_server.search(None, "ALL")[1] == [b""]
    assert receiver.poll_imap() == 0
