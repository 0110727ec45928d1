from functools import partial

from django.http import HttpRequest

from tidings.access.workspaces import visible_workspaces


def navigation(request: HttpRequest) -> dict:
    """What the top navigation needs on every page: workspaces and the open inbox count."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from tidings.inbox.queries import open_inbox_count

    return {
        "nav_workspaces": list(visible_workspaces(user)),
        # Counted when the template shows it; a page that already knows it (the inbox) passes
        # its own number instead, and the count is not made twice.
        "nav_inbox_count": partial(open_inbox_count, user),
    }
