from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict:
    """What the top navigation needs on every page: workspaces and the open inbox count."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from tidings.inbox.queries import open_inbox_count
    from tidings.workspaces.access import visible_workspaces

    return {
        "nav_workspaces": list(visible_workspaces(user)),
        "nav_inbox_count": open_inbox_count(user),
    }
