"""The built-in mail receiver behind `tidings mail-server`: SMTP for direct delivery (point the
domain's MX record at it) or LMTP for a Postfix in front; and, optionally, polling of an IMAP
mailbox. Each message goes to `inbound.receive_message`, from a worker thread for SMTP and
LMTP (Django's database access is synchronous)."""

from __future__ import annotations

import contextlib
import imaplib
import logging
import signal
import threading
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from tidings.mail import addresses, inbound, proof, reading
from tidings.mail.models import InboundResult

log = logging.getLogger(__name__)


def _receive(
    raw: bytes, recipient: str, envelope_sender: str, session: proof.Connection | None
) -> inbound.Outcome:
    try:
        return inbound.receive_message(
            raw, recipient, envelope_sender=envelope_sender, connection=session
        )
    finally:
        # Pool threads come and go: never leave a database connection behind in one.
        connection.close()


def _check_recipient(address: str) -> str:
    try:
        return inbound.check_recipient(address)
    finally:
        connection.close()


class InboundHandler:
    """aiosmtpd handler: refuses other domains at RCPT, routes each recipient at DATA."""

    def __init__(self, *, lmtp: bool = False) -> None:
        self.lmtp = lmtp

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        try:
            refusal = await sync_to_async(_check_recipient, thread_sensitive=False)(address)
        except Exception:
            log.exception("Checking the recipient %s failed; the sender will retry", address)
            return "451 4.3.0 Temporary failure; try again later."
        if refusal:
            return f"550 5.1.1 {refusal}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        sender = envelope.mail_from or ""
        # SPF is about the server that connected: over LMTP that is our own Postfix, whose
        # verdict comes in its Authentication-Results header instead.
        connection = (
            None
            if self.lmtp or not session.peer
            else proof.Connection(
                ip=str(session.peer[0]), helo=session.host_name or "", mail_from=sender
            )
        )
        answers = []
        for recipient in envelope.rcpt_tos:
            try:
                outcome = await sync_to_async(_receive, thread_sensitive=False)(
                    raw, recipient, sender, connection
                )
                answers.append(outcome.smtp_reply)
            except Exception:
                log.exception("Inbound mail for %s failed; the sender will retry", recipient)
                answers.append("451 4.3.0 Temporary failure; try again later.")
        if self.lmtp:
            # LMTP answers once per recipient, in RCPT order.
            return "\r\n".join(answers)
        # SMTP has one answer for all recipients: success if any took it.
        return next(
            (a for a in answers if a.startswith("250")), answers[0] if answers else "250 OK"
        )


class _LiberalLines:
    """Takes lines of any length up to the message size limit. RFC 5321 caps a line at 1,000
    bytes, but real clients send longer ones (HTML without line breaks) and other servers
    pass them on: refusing them would lose whole messages."""

    def __init__(self, handler: InboundHandler, **kwargs: Any) -> None:
        # aiosmtpd sizes its line buffer from this attribute as the session starts.
        self.line_length_limit = kwargs["data_size_limit"]
        super().__init__(handler, **kwargs)  # type: ignore[call-arg]


class _SMTP(_LiberalLines, SMTP):
    pass


class _LMTP(_LiberalLines, LMTP):
    pass


class _Controller(Controller):
    def __init__(self, handler: InboundHandler, *, lmtp: bool, **kwargs: Any) -> None:
        self.protocol = _LMTP if lmtp else _SMTP
        super().__init__(handler, **kwargs)

    def factory(self) -> SMTP:
        return self.protocol(self.handler, **self.SMTP_kwargs)


def make_controller(host: str, port: int, *, lmtp: bool = False) -> Controller:
    kwargs: dict[str, Any] = {
        "data_size_limit": settings.MAIL_MAX_MB * 1024 * 1024,
        "enable_SMTPUTF8": True,
        "decode_data": False,
    }
    return _Controller(InboundHandler(lmtp=lmtp), lmtp=lmtp, hostname=host, port=port, **kwargs)


def run(host: str, port: int, *, lmtp: bool = False) -> None:
    """Serve until SIGINT or SIGTERM."""
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    # aiosmtpd logs every command line (with reply tokens) at INFO: keep only its problems.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    controller = make_controller(host, port, lmtp=lmtp)
    controller.start()
    protocol = "LMTP" if lmtp else "SMTP"
    print(f"Receiving {protocol} mail for @{addresses.mail_domain()} on {host}:{port}", flush=True)
    try:
        stopped.wait()
    finally:
        controller.stop()


# --- Polling an IMAP mailbox, for set-ups where another server receives the domain's mail.

_RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "To", "Cc")
_POLL_BATCH = 100


def _recipients(message: Message) -> list[str]:
    """Our addresses the message was for: the delivery headers a mailbox server adds first,
    then To and Cc."""
    found: list[str] = []
    for header in _RECIPIENT_HEADERS:
        try:
            values = [str(v) for v in message.get_all(header, [])]
        except Exception:  # noqa: BLE001 - a malformed header names nobody
            continue
        for _, address in getaddresses(values):
            address = address.strip().lower()
            if address.endswith("@" + addresses.mail_domain()) and address not in found:
                found.append(address)
        if found and header in {"Delivered-To", "X-Original-To", "Envelope-To"}:
            break  # The envelope recipient is known: To and Cc may name others.
    return found


def _send_refusal(message: EmailMessage, outcome: inbound.Outcome) -> None:
    """Tell the sender why their message was refused: polled mail cannot be refused during
    delivery, so the reason goes back as an automatic reply."""
    to = parseaddr(reading.header(message, "Reply-To"))[1]
    to = to or parseaddr(reading.header(message, "From"))[1]
    if not to or "@" not in to:
        return
    inbound.auto_reply(
        message, to, "Not delivered", f"Your message was not posted in Tidings.\n\n{outcome.reason}"
    )


class _TryLater(Exception):
    """Over a rate limit: the message stays in the mailbox for a later poll."""


def _handle_polled(raw: bytes) -> None:
    message = reading.parse(raw)
    # A mailbox server keeps the envelope sender as Return-Path; "<>" marks a bounce.
    return_path = message.get("Return-Path")
    envelope_sender = None if return_path is None else parseaddr(str(return_path))[1]
    for recipient in _recipients(message) or ["unknown@" + addresses.mail_domain()]:
        outcome = inbound.receive_message(raw, recipient, envelope_sender=envelope_sender)
        if outcome.result == inbound.RATE_LIMITED:
            raise _TryLater
        # Only a proven sender who may know is told; anyone else would learn what exists.
        if outcome.result == InboundResult.REJECTED and outcome.told and not outcome.repeated:
            _send_refusal(message, outcome)


def _imap() -> imaplib.IMAP4:
    cls = imaplib.IMAP4_SSL if settings.IMAP_SSL else imaplib.IMAP4
    connection = cls(settings.IMAP_HOST, settings.IMAP_PORT, timeout=60)
    connection.login(settings.IMAP_USER, settings.IMAP_PASSWORD)
    return connection


def poll_imap() -> int:
    """Handle the messages waiting in the IMAP folder (up to 100 a poll) and remove each one
    that was handled. A message that fails with an unexpected error stays for the next poll.
    Returns how many were handled; 0 without IMAP_HOST."""
    if not settings.IMAP_HOST:
        return 0
    handled = 0
    connection = _imap()
    try:
        status, _ = connection.select(f'"{settings.IMAP_FOLDER}"')
        if status != "OK":
            raise imaplib.IMAP4.error(f"Cannot open the IMAP folder {settings.IMAP_FOLDER}.")
        _, found = connection.uid("SEARCH", None, "UNDELETED")
        for uid in (found[0] or b"").split()[:_POLL_BATCH]:
            status, data = connection.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((part[1] for part in data if isinstance(part, tuple)), None)
            if status != "OK" or raw is None:
                continue
            try:
                _handle_polled(raw)
            except _TryLater:
                log.info("Polled mail %s is over the rate limit; it stays for a later poll", uid)
                continue
            except Exception:
                log.exception("Polled mail %s failed; it stays for the next poll", uid)
                continue
            connection.uid("STORE", uid, "+FLAGS", "(\\Deleted)")
            handled += 1
        connection.expunge()
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            connection.logout()
    return handled
