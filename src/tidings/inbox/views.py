"""Inbox pages: the list with its tabs, the nav count, and one endpoint per triage action."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from tidings.inbox import actions, queries
from tidings.inbox.forms import SnoozeForm
from tidings.inbox.models import InboxItem


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _tab(value: str | None) -> str:
    return value if value in queries.TABS else "open"


def _presets(request: HttpRequest) -> list[tuple[str, str, str]]:
    """The snooze presets with their times as the menu shows them ("Tue 09:00")."""
    zone = request.user.zone
    return [
        (key, label, f"{actions.snooze_time(key, zone):%a %H:%M}")
        for key, label in actions.SNOOZE_PRESETS.items()
    ]


def _present(items: list[InboxItem], zone) -> None:
    """What each row shows, worked out once per page rather than in the row template: its
    action URLs (one reverse() per action, then string formatting) and its times."""
    marker = "987654321"
    parts = {
        action: reverse(f"inbox:{action}", args=[int(marker)]).partition(marker)
        for action in ("done", "undone", "snooze", "unsnooze")
    }
    for item in items:
        if item is None:
            continue
        item.urls = {action: f"{head}{item.pk}{tail}" for action, (head, _, tail) in parts.items()}
        updated = timezone.localtime(item.updated_at, zone)
        item.updated_iso = updated.isoformat()
        item.updated_title = f"{updated:%a} {updated.day} {updated:%b %Y, %H:%M}"


def _render(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    """Render with times shown in the person's own time zone."""
    zone = request.user.zone
    _present(context.get("items") or [context.get("item")], zone)
    context = {
        "presets": _presets(request),
        "now_min": f"{timezone.now().astimezone(zone):%Y-%m-%dT%H:%M}",
        **context,
    }
    with timezone.override(zone):
        return render(request, template, context)


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    tab = _tab(request.GET.get("tab"))
    counts = queries.tab_counts(request.user)
    context = {
        "tab": tab,
        "items": queries.tab_items(request.user, tab),
        "counts": counts,
        "nav_inbox_count": counts["open"],  # the top bar's count: no need to count again
    }
    partial = request.GET.get("partial") or _is_htmx(request)
    return _render(request, "inbox/_list.html" if partial else "inbox/inbox.html", context)


@login_required
@require_GET
def count(request: HttpRequest) -> HttpResponse:
    context = {"count": queries.open_inbox_count(request.user)}
    return render(request, "inbox/_count.html", context)


# What each action's notice says, and which action undoes it.
NOTICES = {
    "done": ("Marked done.", "undone"),
    "undone": ("Moved back to your inbox.", "done"),
    "snooze": ("Snoozed until {until}.", "unsnooze"),
    "unsnooze": ("Back in your inbox.", None),
    "read": ("", None),
}


@login_required
@require_POST
def item_action(request: HttpRequest, item_id: int, action: str) -> HttpResponse:
    tab = _tab(request.POST.get("tab"))
    person = request.user
    error = ""
    try:
        if action == "done":
            item = actions.mark_done(person, item_id)
        elif action == "undone":
            item = actions.mark_undone(person, item_id)
        elif action == "unsnooze":
            item = actions.unsnooze(person, item_id)
        elif action == "read":
            item = actions.mark_read(person, item_id)
        else:
            item = _snooze(request, item_id)
    except ValidationError as invalid:
        error = " ".join(invalid.messages)
    if not _is_htmx(request):
        if error:
            messages.error(request, error)
        return redirect(f"{reverse('inbox:inbox')}?tab={tab}")
    row = queries.item_row(person, item_id)
    notice, undo = NOTICES[action]
    if error or not notice:
        notice, undo = "", None
    elif action == "snooze":
        until = timezone.localtime(item.snoozed_until, person.zone)
        notice = notice.format(until=f"{until:%a %-d %b, %H:%M}")
    response = _render(
        request, "inbox/_item.html", {"item": row, "tab": tab, "notice": notice, "undo": undo,
                                      "error": error, "error_action": action if error else ""}
    )  # fmt: skip
    response["HX-Trigger"] = "inbox-changed"
    return response


def _snooze(request: HttpRequest, item_id: int) -> InboxItem:
    form = SnoozeForm(request.POST)
    with timezone.override(request.user.zone):
        valid = form.is_valid()
    if not valid:
        # Someone else's item is 404 before any complaint about the date.
        if queries.item_row(request.user, item_id) is None:
            raise Http404("No such inbox item.")
        raise ValidationError(form.first_error())
    until = form.cleaned_data["until"] or actions.snooze_time(
        form.cleaned_data["preset"], request.user.zone
    )
    return actions.snooze(request.user, item_id, until)
