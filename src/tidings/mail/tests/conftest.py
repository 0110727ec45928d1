"""A real SMTP server on loopback for mail tests: the app sends through Django's SMTP backend
to aiosmtpd, and `sent_mail()` reads back what arrived, parsed."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


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
