from django.http import HttpRequest

from tidings.workspaces.access import visible_workspaces


def navigation(request: HttpRequest) -> dict:
    """What the top navigation needs on every page: the person's workspaces (the inbox adds
    its count, `tidings.inbox.context.inbox_count`)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_workspaces": list(visible_workspaces(user))}
