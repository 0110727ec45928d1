"""Template helpers for threads: times in the viewer's zone, the workspace sidebar, files."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.urls import reverse
from django.utils import timezone

from tidings.threads.context import sidebar_spaces
from tidings.workspaces.access import can_create_space

register = template.Library()


@register.filter
def in_zone(value: datetime | None, person) -> datetime | None:
    """The moment in the person's own time zone (UTC for anonymous people)."""
    if value is None:
        return None
    zone = getattr(person, "zone", None) or timezone.get_current_timezone()
    return timezone.localtime(value, zone)


@register.filter
def when(value: datetime | None, person) -> str:
    """A short, friendly time in the viewer's zone: 14:05 today, Mar 3 14:05, Mar 3 2024."""
    local = in_zone(value, person)
    if local is None:
        return ""
    return short_time(local, timezone.localtime(timezone.now(), local.tzinfo))


@register.filter
def full_time(value: datetime | None, person) -> str:
    """The full moment in the viewer's zone: Tuesday, March 3, 2026, 14:05 CET."""
    local = in_zone(value, person)
    return long_time(local) if local is not None else ""


# strftime rather than Django's date format (a tenth of its cost; a thread page shows hundreds
# of times). Names are English either way: USE_I18N is off and Python keeps the C locale.
def short_time(local: datetime, now: datetime) -> str:
    """`when` for a moment and the present, both already in the viewer's zone."""
    if local.date() == now.date():
        return f"{local:%H:%M}"
    if local.year == now.year:
        return f"{local:%b} {local.day}, {local:%H:%M}"
    return f"{local:%b} {local.day}, {local.year}"


def long_time(local: datetime) -> str:
    """`full_time` for a moment already in the viewer's zone."""
    zone = local.tzname() or ""
    if local.tzinfo.utcoffset(local.replace(fold=not local.fold)) != local.utcoffset():
        zone = ""  # as Django's "T" format: no zone name in a repeated or skipped hour
    return f"{local:%A, %B} {local.day}, {local.year}, {local:%H:%M} {zone}"


@register.filter
def file_size(value: int) -> str:
    size = float(value or 0)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


@register.filter
def attachment_url(attachment) -> str:
    return reverse("threads:file", kwargs={"token": attachment.token, "name": attachment.name})


@register.simple_tag(takes_context=True)
def workspace_sidebar(context, workspace) -> dict:
    """What the sidebar shows: spaces the viewer can see, whether they may add one, and
    whether the member list opens for them (no link that leads to a refusal)."""
    request = context.get("request")
    if workspace is None or request is None:
        return {"spaces": [], "can_create": False, "can_see_people": False}
    # A page that has read the viewer's membership of this workspace passes the answer.
    can_create = context.get("sidebar_can_create")
    if can_create is None:
        can_create = can_create_space(request.user, workspace)
    return {
        "spaces": sidebar_spaces(request, workspace),
        "can_create": can_create,
        # The same rule (a full member), so the answer already read serves: no second query.
        "can_see_people": can_create,
    }
