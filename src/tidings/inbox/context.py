from django.http import HttpRequest

from tidings.inbox.queries import open_inbox_count
from tidings.threads.context import request_spaces


def inbox_count(request: HttpRequest) -> dict:
    """The open inbox count in the top navigation on every page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Counted when the template shows it; a page that already knows it (the inbox) passes its
    # own number instead, and the count is not made twice.
    # The spaces come from the list the sidebar reads too (one query for both).
    return {
        "nav_inbox_count": lambda: open_inbox_count(
            user, [space.pk for space in request_spaces(request)]
        )
    }
