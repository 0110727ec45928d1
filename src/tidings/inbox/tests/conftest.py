"""Inbox tests use the API tests' client, which sends a real personal access token."""
