"""A space's email address as people use it: the owner finds the address on the space's
manage page and chooses to hold mail from strangers; a member's mail starts a thread, a
stranger's waits until the owner posts it. Mail goes by real SMTP to `tidings mail-server`
running beside `tidings serve` on the same database."""

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


@pytest.fixture
def fresh_database_env(fresh_database_env):
    fresh_database_env["MAIL_DOMAIN"] = DOMAIN
    return fresh_database_env


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


def send(port: int, sender: str, to: str, subject: str, body: str) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg.set_content(body)
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.send_message(msg)


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
    assert re.fullmatch(rf"lighthouse\.[\w-]+@{re.escape(DOMAIN)}", address)
    section.get_by_role("radio", name=re.compile("Hold it for a space admin")).check()
    section.get_by_role("button", name="Save email setting").click()
    expect(owner.get_by_text("Email setting saved.")).to_be_visible()

    send(mail_server, "Mina Member <mina@example.com>", address, "Fog horn test", "Tuesday 10:00.")
    send(mail_server, "Sam Stranger <sam@else.test>", address, "Visiting hours?", "Can we visit?")

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
