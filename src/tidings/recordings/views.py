"""Pages and browser endpoints of recordings. Thin: parse, call an action or a query, render."""

from __future__ import annotations

# --- Upload protocol and media.


# --- Player, moments, viewers.


# --- Library and collections.
