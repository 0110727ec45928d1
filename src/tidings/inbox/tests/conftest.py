"""Inbox tests use the API tests' client, which sends a real personal access token."""

from tidings.api.tests.conftest import api_for  # noqa: F401
