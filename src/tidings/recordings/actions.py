"""Every state change of recordings: upload, posting, processing, viewers, moments and
collections. Pages, the API and the worker all call these functions.
Conventions (as in threads.actions): Http404 for what the person cannot see,
PermissionDenied for visible-but-not-allowed, ValidationError with a sentence for bad input.
"""

from __future__ import annotations

# --- Upload and posting.


# --- Processing (called by the worker).


# --- Viewers and moments.


# --- Collections.
