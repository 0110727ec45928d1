"""Reads of recordings, already filtered by what a person may see (workspaces.access)."""

from __future__ import annotations

# --- Finding recordings.


# --- Player, moments and viewers.


# --- Library and collections.
