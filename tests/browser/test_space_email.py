"""A space's email address as people use it: the owner finds the address on the space's
manage page and chooses to hold mail from strangers; a member's mail starts a thread, a
stranger's waits until the owner posts it. Mail goes by real SMTP to `tidings mail-server`
running beside `tidings serve` on the same database, as behind a Postfix whose DKIM milter
vouches for the member's mail."""

from __future__ import annotations

import re
import signal
import smtplib
import socket
import subprocess
import sys
import time
from email.message import EmailMessage

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import snap
from tests.browser.test_journeys import (
    accept_invite,
    create_space,
    invite,
    open_space,
    set_up_owner,
    submit_setup,
)

DOMAIN = "harbour.test"


TRUSTED_AUTHSERV_ID = "mx.harbour.test"


@pytest.fixture
def fresh_database_env(fresh_database_env):
    fresh_database_env["MAIL_DOMAIN"] = DOMAIN
    fresh_database_env["MAIL_TRUSTED_AUTHSERV_ID"] = TRUSTED_AUTHSERV_ID
    return fresh_database_env


def vouched(raw: bytes, domain: str) -> bytes:
    """The message as Postfix hands it on once its milter verified a DKIM signature."""
    verdict = f"Authentication-Results: {TRUSTED_AUTHSERV_ID}; dkim=pass header.d={domain}\r\n"
    return verdict.encode() + raw


@pytest.fixture
def mail_server(server, fresh_database_env, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (tmp_path / "mail-server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "tidings", "mail-server", "--port", str(port)],
        cwd=tmp_path,
        env=fresh_database_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=5) as probe:
                probe.noop()
            break
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, (
                tmp_path / "mail-server.log"
            ).read_text()
            time.sleep(0.3)
    yield port
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    log.close()


def send(port: int, sender: str, to: str, subject: str, body: str, proven: bool = True) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg.set_content(body)
    raw = msg.as_bytes()
    domain = sender.rpartition("@")[2].rstrip(">")
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.sendmail(sender, [to], vouched(raw, domain) if proven else raw)


def forward_as_attachment(port: int, sender: str, to: str) -> None:
    """Outlook's "forward as attachment": the client's message inside, with its file, and
    beside it an attachment damaged on the way."""
    client = EmailMessage()
    client["From"], client["To"] = "Carol Client <carol@client.test>", "mina@example.com"
    client["Subject"], client["Date"] = "Contract draft", "Tue, 01 Dec 2026 16:20:00 +0000"
    client.set_content("Here is the draft contract. Please review clause 4 by Friday.")
    client.add_attachment(b"%PDF-1.4 draft", maintype="application", subtype="pdf",
                          filename="contract.pdf")  # fmt: skip
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, "FW: Contract draft"
    msg.set_content("Carol's draft below, for Thursday's review.")
    msg.add_attachment(client, filename="Contract draft.eml")
    msg.add_attachment(b"x", maintype="application", subtype="pdf", filename="budget.pdf")
    raw = msg.as_bytes()
    assert raw.count(b"\n\neA==\n") == 1  # budget.pdf's one byte, in base64
    raw = raw.replace(b"\n\neA==\n", b"\n\neA=!!@@\n")  # as a cut transfer leaves it
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.sendmail(sender, [to], vouched(raw, "example.com"))


def test_space_address_holds_strangers_for_the_owner(server, mail_server, new_page) -> None:
    owner = set_up_owner(new_page, server)
    submit_setup(owner)
    create_space(owner, "Lighthouse")
    link = invite(owner, "mina@example.com")
    member = accept_invite(new_page, link, "Mina Member")

    open_space(owner, "Lighthouse")
    owner.get_by_role("link", name="Manage").click()
    section = owner.get_by_role("region", name="Email")
    address = section.locator("code").inner_text()
    assert re.fullmatch(rf"\d+-lighthouse\.[\w-]+@{re.escape(DOMAIN)}", address)
    section.get_by_role("radio", name=re.compile("Hold it for a space admin")).check()
    section.get_by_role("button", name="Save email setting").click()
    expect(owner.get_by_text("Email setting saved.")).to_be_visible()

    send(mail_server, "Mina Member <mina@example.com>", address, "Fog horn test", "Tuesday 10:00.")
    send(
        mail_server,
        "Sam Stranger <sam@else.test>",
        address,
        "Visiting hours?",
        "Can we visit?",
        proven=False,
    )

    owner.reload()
    held = (
        owner.get_by_role("region", name="Email")
        .get_by_role("listitem")
        .filter(has_text="Visiting hours?")
    )
    expect(held).to_contain_text("sam@else.test")
    snap(owner, "space-email-held")
    held.get_by_role("button", name="Post as a thread").click()
    expect(owner.get_by_text("Posted “Visiting hours?” in #Lighthouse.")).to_be_visible()

    open_space(member, "Lighthouse")
    expect(member.get_by_role("link", name="Fog horn test")).to_be_visible()
    member.get_by_role("link", name="Visiting hours?").click()
    expect(member.locator(".post-opening .post-body")).to_contain_text("Sam Stranger")
    expect(member.locator(".post-opening .post-body")).to_contain_text("Can we visit?")

    # A forwarded message lands whole: folded under its sender and subject, its .eml kept;
    # the damaged file is named; the author may open the message as received.
    forward_as_attachment(mail_server, "Mina Member <mina@example.com>", address)
    open_space(member, "Lighthouse")
    member.get_by_role("link", name="Contract draft").click()
    body = member.locator(".post-opening .post-body")
    expect(body).to_contain_text("Carol's draft below, for Thursday's review.")
    expect(body).to_contain_text("1 attachment could not be read: budget.pdf")
    forwarded = body.locator("details", has_text="Forwarded message from Carol Client")
    expect(forwarded).to_contain_text("“Contract draft”")
    forwarded.locator("summary").click()
    expect(forwarded).to_contain_text("Please review clause 4 by Friday.")
    expect(member.locator(".post-opening")).to_contain_text("Contract draft.eml")
    expect(member.get_by_role("link", name="View original")).to_be_visible()
    snap(member, "space-email-forwarded")
