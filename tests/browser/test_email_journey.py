"""Issue 4 end to end, as people live it: a member takes a daily digest, the digest arrives by
real SMTP, and the member answers a thread by replying to an email. `tidings serve` sends
through an aiosmtpd sink; `tidings mail-server` receives the reply; both share one database."""

from __future__ import annotations

import email
import email.policy
import re
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from tests.browser.conftest import snap
from tests.browser.test_journeys import (
    POLL,
    accept_invite,
    create_space,
    invite,
    post_thread,
    set_up_owner,
    submit_setup,
)
from tidings.mail.tests.conftest import Sink

DOMAIN = "harbour.test"
MEMBER_EMAIL = "mina@example.com"
TITLE = "Fog signal drill on Thursday"
OPENING = "We test the fog signal at 10:00. Bring ear protection."


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_sink() -> Iterator[Sink]:
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    sink.port = controller.port
    yield sink
    controller.stop()


@pytest.fixture
def fresh_database_env(fresh_database_env, smtp_sink):
    """The server's environment: outgoing mail to the sink, addresses under DOMAIN."""
    fresh_database_env.update(
        MAIL_DOMAIN=DOMAIN,
        # As behind a Postfix whose DKIM milter vouches for the member's reply.
        MAIL_TRUSTED_AUTHSERV_ID="mx.tidings.test",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_sink.port),
        EMAIL_USE_TLS="",
        EMAIL_USE_SSL="",
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
    )
    return fresh_database_env


@pytest.fixture
def tidings_env(server, fresh_database_env) -> dict[str, str]:
    """What a second `tidings` process beside the server needs to share its world."""
    return {**fresh_database_env, "SITE_URL": server.base_url}


def tidings_shell(env: dict[str, str], cwd: Path, code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tidings", "shell", "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip()


@pytest.fixture
def mail_server(tidings_env, tmp_path) -> Iterator[int]:
    port = _free_port()
    log_path = tmp_path / "mail-server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tidings", "mail-server", "--port", str(port)],
            cwd=tmp_path,
            env=tidings_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=5) as probe:
                    probe.noop()
                break
            except OSError:
                alive = process.poll() is None and time.monotonic() < deadline
                assert alive, log_path.read_text()
                time.sleep(0.3)
        yield port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def received(sink: Sink, to: str) -> list[EmailMessage]:
    with sink.lock:
        messages = list(sink.messages)
    return [
        email.message_from_bytes(content, policy=email.policy.default)
        for _sender, recipients, content in messages
        if to in recipients
    ]


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_digest_and_reply_by_email(
    server, smtp_sink, tidings_env, mail_server, new_page, tmp_path
) -> None:
    owner = set_up_owner(new_page, server)
    submit_setup(owner)
    create_space(owner, "Lighthouse")
    link = invite(owner, MEMBER_EMAIL)
    member = accept_invite(new_page, link, "Mina Member")

    # The member asks for one daily digest instead of an email per event.
    member.locator("summary.avatar").click()
    member.get_by_role("link", name="Settings").click()
    member.get_by_role("navigation", name="Settings sections").get_by_role(
        "link", name="Delivery"
    ).click()
    member.get_by_role("radio", name="In a daily digest").check()
    member.get_by_label("Digest at").fill("07:30")
    member.get_by_role("button", name="Save delivery settings").click()
    expect(member.get_by_text("Your delivery settings are saved.")).to_be_visible()
    expect(member.locator("#delivery-preview")).to_contain_text("at 07:30")
    snap(member, "email-journey-01-daily-digest")

    thread_url = post_thread(owner, "Lighthouse", TITLE, OPENING)
    member.goto(server.url("/inbox/"))
    expect(member.locator(".inbox-item-title", has_text=TITLE)).to_be_visible(timeout=POLL)
    snap(member, "email-journey-02-member-inbox")

    # Time travel: send the member's pending digest as if its 07:30 had come.
    tidings_shell(
        tidings_env,
        tmp_path,
        "import datetime as dt\n"
        "from tidings.mail.digests import schedule_digests, send_due_digests\n"
        "from tidings.mail.models import Digest\n"
        "schedule_digests()\n"
        f"row = Digest.objects.get(person__email={MEMBER_EMAIL!r}, finished_at=None)\n"
        "print(send_due_digests(now=row.due_at + dt.timedelta(minutes=1)))\n",
    )
    digests = [m for m in received(smtp_sink, MEMBER_EMAIL) if "digest" in m["Subject"]]
    assert len(digests) == 1, [m["Subject"] for m in received(smtp_sink, MEMBER_EMAIL)]
    digest = digests[0]
    body = text_of(digest)
    assert TITLE in body
    assert thread_url in body  # the link opens the thread on this server

    # Reply by email: each thread in the digest has its own reply address.
    found = re.search(rf"{re.escape(TITLE)}.*?Reply by email: (\S+)", body, re.S)
    assert found, body
    reply_to = found.group(1)
    assert re.fullmatch(rf"reply\+[0-9a-z-]+@{re.escape(DOMAIN)}", str(reply_to)), reply_to

    answer = "Count me in. I will bring spare ear defenders for the visitors."
    message = EmailMessage()
    message["From"] = f"Mina Member <{MEMBER_EMAIL}>"
    message["To"] = str(reply_to)
    message["Subject"] = f"Re: {TITLE}"
    message.set_content(
        f"{answer}\n\nOn Wed, 25 Nov 2026 at 10:00, Olivia Owner wrote:\n> {OPENING}\n\n-- \nMina\n"
    )
    verdict = b"Authentication-Results: mx.tidings.test; dkim=pass header.d=example.com\r\n"
    with smtplib.SMTP("127.0.0.1", mail_server, timeout=30) as smtp:
        smtp.sendmail(MEMBER_EMAIL, [str(reply_to)], verdict + message.as_bytes())

    owner.goto(thread_url)
    reply = owner.locator("article.post", has_text=answer)
    expect(reply).to_be_visible(timeout=POLL)
    expect(reply).to_contain_text("Mina Member")
    reply_body = reply.locator(".post-body").inner_text()
    assert "wrote:" not in reply_body and "ear protection" not in reply_body
    assert not re.search(r"(^|\n)--\s*\n?\s*Mina", reply_body)
    snap(owner, "email-journey-03-reply-by-email")
