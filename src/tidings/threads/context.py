from functools import partial

from django.http import HttpRequest

from tidings.threads import access, queries
from tidings.threads.models import Space, SpaceLevel

# Short names in the selects; the full sentences explain them once, under the table.
LEVEL_CHOICES = [(value, label.split(":")[0]) for value, label in SpaceLevel.choices]
LEVEL_HELP = [label for _, label in SpaceLevel.choices]


def space_levels(request: HttpRequest) -> dict:
    """The table of space levels on the delivery settings page (an accounts page that knows
    nothing of spaces): read only when a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "space_levels": partial(queries.space_levels, user),
        "space_level_choices": LEVEL_CHOICES,
        "space_level_help": LEVEL_HELP,
    }


def request_spaces(request: HttpRequest) -> list[Space]:
    """The spaces the request's person can see, by name, read once per request: the sidebar
    and the inbox count of every page both need them. Read when a page first renders them,
    so a change the request made before is in."""
    spaces = getattr(request, "_visible_spaces", None)
    if spaces is None:
        spaces = list(access.visible_spaces(request.user).order_by("name"))
        request._visible_spaces = spaces
    return spaces


def sidebar_spaces(request: HttpRequest, workspace) -> list[Space]:
    """The spaces a workspace's sidebar lists: those of `request_spaces` in the workspace, not
    archived, by name."""
    return [
        space
        for space in request_spaces(request)
        if space.workspace_id == workspace.pk and space.archived_at is None
    ]
