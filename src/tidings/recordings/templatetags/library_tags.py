"""Template helpers of the library: collections shared to a space, for the space's page."""

from __future__ import annotations

from django import template

from tidings.recordings import queries

register = template.Library()


@register.simple_tag(takes_context=True)
def space_collections(context, space) -> list:
    """Collections shared to `space` that the viewer may open, each with the number of its
    recordings the viewer may see."""
    request = context.get("request")
    if request is None or space is None:
        return []
    return list(queries.space_collections(request.user, space))
