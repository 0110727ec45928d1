"""Keeping the search index in step with threads and replies (placeholder until search lands)."""


def index_thread(thread) -> None:
    """Add or refresh the thread's title and opening post in the index."""


def index_reply(reply) -> None:
    """Add or refresh a reply in the index."""


def remove_thread(thread) -> None:
    """Drop the thread and all its replies from the index."""


def remove_reply(reply) -> None:
    """Drop one reply from the index."""
