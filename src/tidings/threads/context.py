from functools import partial

from django.http import HttpRequest

from tidings.threads import queries
from tidings.threads.models import SpaceLevel

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
