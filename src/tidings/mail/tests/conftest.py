"""A real SMTP server on loopback for mail tests: the app sends through Django's SMTP backend
to aiosmtpd, and `sent_mail()` reads back what arrived, parsed."""

from __future__ import annotations

import base64
import email
import email.policy
import socket
import threading
from email.message import EmailMessage
from email.utils import make_msgid

import dkim
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tidings.mail import receiver


class Sink:
    """Keeps every message the server accepted."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd API
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_port():
    """The port of a running `tidings mail-server` receiver speaking SMTP."""
    controller = receiver.make_controller("127.0.0.1", free_port())
    controller.start()
    yield controller.port
    controller.stop()


@pytest.fixture
def lmtp_port():
    """The port of a running `tidings mail-server` receiver speaking LMTP."""
    controller = receiver.make_controller("127.0.0.1", free_port(), lmtp=True)
    controller.start()
    yield controller.port
    controller.stop()


def message(sender: str, to: str, body: str = "Hello", subject: str = "Plans") -> EmailMessage:
    """A plain text email as a person's mail program writes it."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Message-ID"] = make_msgid(domain="mail.example")
    msg.set_content(body)
    return msg


@pytest.fixture
def smtp_server(settings):
    """Start aiosmtpd on a free loopback port and point Django's SMTP backend at it."""
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield sink
    controller.stop()


@pytest.fixture
def sent_mail(smtp_server):
    """sent_mail(to=None) -> the parsed messages the SMTP server received (to one address)."""

    def read(to: str | None = None) -> list[EmailMessage]:
        with smtp_server.lock:
            received = list(smtp_server.messages)
        return [
            email.message_from_bytes(content, policy=email.policy.default)
            for _sender, recipients, content in received
            if to is None or to in recipients
        ]

    return read


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """committed(action, *args, **kwargs): run an action and then its on-commit work (the
    inbox fan-out), as if its transaction had committed."""

    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


# --- Proof of the sender: a DNS server on loopback publishing DKIM keys and SPF records, and
# messages signed with those keys, as a sender's mail server would sign them.

DKIM_SELECTOR = "tidings-test"
# The world's people write from these domains; each has a key published in the test DNS.
SENDER_DOMAINS = ("acme.test", "client.test", "other.test", "else.test", "mail.example")


def _new_key() -> tuple[bytes, str]:
    """(private key PEM, public key as it goes in a DKIM record)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, base64.b64encode(public).decode()


SENDERS_KEY = _new_key()  # the key the senders' domains publish
STRANGERS_KEY = _new_key()  # a key nobody published


class LoopbackDNS:
    """A UDP DNS server on loopback answering TXT questions from `records`."""

    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {}
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.socket.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.socket.recvfrom(4096)
            except OSError:
                return
            query = dns.message.from_wire(data)
            answer = dns.message.make_response(query)
            question = query.question[0]
            name = question.name.to_text(omit_final_dot=True).lower()
            values = self.records.get(name, [])
            if question.rdtype == dns.rdatatype.TXT and values:
                chunks = [
                    " ".join(f'"{v[i : i + 250]}"' for i in range(0, len(v), 250)) for v in values
                ]
                answer.answer.append(dns.rrset.from_text(question.name, 60, "IN", "TXT", *chunks))
            elif not any(key.endswith(name) for key in self.records):
                answer.set_rcode(dns.rcode.NXDOMAIN)
            self.socket.sendto(answer.to_wire(), peer)

    def publish_dkim(self, domain: str, public_key: str) -> None:
        self.records[f"{DKIM_SELECTOR}._domainkey.{domain}"] = [f"v=DKIM1; k=rsa; p={public_key}"]

    def publish_spf(self, domain: str, policy: str) -> None:
        self.records[domain] = [policy]


@pytest.fixture(scope="session")
def _test_dns() -> LoopbackDNS:
    return LoopbackDNS()


@pytest.fixture(autouse=True)
def mail_dns(_test_dns, settings) -> LoopbackDNS:
    """Every mail test asks this DNS, which publishes the senders' DKIM key (and no SPF)."""
    _test_dns.records.clear()
    for domain in SENDER_DOMAINS:
        _test_dns.publish_dkim(domain, SENDERS_KEY[1])
    settings.MAIL_DNS_RESOLVER = _test_dns.address
    settings.MAIL_TRUSTED_AUTHSERV_ID = ""
    return _test_dns


def signed(message: EmailMessage | bytes, domain: str | None = None, key: bytes | None = None):
    """The message with a DKIM signature of `domain` (the From domain unless given) prepended,
    made with the senders' published key unless another is given."""
    raw = message if isinstance(message, bytes) else message.as_bytes()
    if domain is None:
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        domain = str(parsed["From"].addresses[0].domain)
    signature = dkim.sign(
        raw,
        DKIM_SELECTOR.encode(),
        domain.encode(),
        key or SENDERS_KEY[0],
        include_headers=[b"from", b"to", b"subject", b"message-id", b"date"],
    )
    return signature + raw
