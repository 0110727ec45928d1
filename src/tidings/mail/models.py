"""Outgoing email (the delivery outbox and digests) and incoming email (replies by email,
space addresses)."""

from django.db import models  # noqa: F401

# --- Outbox and digests.


# --- Incoming mail.
