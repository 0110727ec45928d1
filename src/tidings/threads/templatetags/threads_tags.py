"""Template helpers for threads: times in the viewer's zone, the workspace sidebar, files."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as format_date

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
    now = timezone.localtime(timezone.now(), local.tzinfo)
    if local.date() == now.date():
        return format_date(local, "H:i")
    if local.year == now.year:
        return format_date(local, "M j, H:i")
    return format_date(local, "M j, Y")


@register.filter
def full_time(value: datetime | None, person) -> str:
    local = in_zone(value, person)
    return format_date(local, "l, F j, Y, H:i T") if local else ""


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
    """What the sidebar shows: spaces the viewer can see, and whether they may add one."""
    from tidings.threads.queries import sidebar_spaces
    from tidings.workspaces.access import can_create_space

    request = context.get("request")
    if workspace is None or request is None:
        return {"spaces": [], "can_create": False}
    return {
        "spaces": list(sidebar_spaces(request.user, workspace)),
        "can_create": can_create_space(request.user, workspace),
    }
