"""Inbox pages: the list with its tabs, the nav count, and one endpoint per triage action."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from tidings.inbox import actions, queries, send_later
from tidings.inbox.composer import ask_boxes, ask_candidates, due_text
from tidings.inbox.forms import AskForm, RemindForm, SendAtForm, SnoozeForm
from tidings.inbox.models import InboxItem
from tidings.threads import composer as thread_composer
from tidings.threads import queries as threads_queries
from tidings.workspaces.queries import workspace_for


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _tab(value: str | None) -> str:
    return value if value in queries.TABS else "open"


def _presets(request: HttpRequest) -> list[tuple[str, str, str]]:
    """The snooze presets offered now, with their times as the menu shows them ("Tue 09:00")."""
    return actions.preset_menu(actions.SNOOZE_PRESETS, request.user)


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
        "waiting": _waiting(request) if tab == "open" else [],
        "counts": counts,
        "nav_inbox_count": counts["open"],  # the top bar's count: no need to count again
    }
    partial = request.GET.get("partial") or _is_htmx(request)
    return _render(request, "inbox/_list_partial.html" if partial else "inbox/inbox.html", context)


@login_required
@require_GET
def count(request: HttpRequest) -> HttpResponse:
    context = {"count": queries.open_inbox_count(request.user)}
    return render(request, "inbox/_count.html", context)


def _waiting(request: HttpRequest) -> list:
    """Requests made to the person, pinned above the open list with their due dates."""
    now = timezone.now()
    rows = list(queries.waiting_requests(request.user)[:50])
    for row in rows:
        row.due_label, row.overdue = due_text(row.request.due_on, row.request.due_at, now)
        row.answer_url = reverse("inbox:request-answered", args=[row.pk])
    return rows


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
    # The row, and the tab counts and top bar count from the same numbers, in one response.
    context = {"item": row, "tab": tab, "notice": notice, "undo": undo, "error": error,
               "error_action": action if error else "",
               "counts": queries.tab_counts(person)}  # fmt: skip
    return _render(request, "inbox/_triaged.html", context)


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
        form.cleaned_data["preset"], request.user
    )
    return actions.snooze(request.user, item_id, until)


# --- Reminders and requests.


def _back_to_post(thread_id: int, reply_id: int | None) -> str:
    url = reverse("threads:thread", args=[thread_id])
    return f"{url}#reply-{reply_id}" if reply_id else url


def _post_ids(request: HttpRequest) -> tuple[int, int | None]:
    """The thread and reply a post-tool form is about; a malformed id is no such thread."""
    thread_id, reply_id = request.POST.get("thread_id", ""), request.POST.get("reply_id", "")
    if not (thread_id.isascii() and thread_id.isdigit() and len(thread_id) < 18):
        raise Http404("No such thread.")
    if reply_id and not (reply_id.isascii() and reply_id.isdigit() and len(reply_id) < 18):
        raise Http404("No such reply.")
    return int(thread_id), int(reply_id) if reply_id else None


@login_required
@require_POST
def remind(request: HttpRequest) -> HttpResponse:
    thread_id, reply_id = _post_ids(request)
    form = RemindForm(request.POST)
    with timezone.override(request.user.zone):
        valid = form.is_valid()
    try:
        if not valid:
            raise ValidationError(form.first_error().replace("the item", "this"))
        reminder = actions.create_reminder(
            request.user,
            thread_id,
            reply_id=reply_id,
            at=form.cleaned_data["until"],
            preset=form.cleaned_data["preset"],
        )
    except ValidationError as invalid:
        actions.visible_post(request.user, thread_id, reply_id)  # 404 before any complaint
        messages.error(request, " ".join(invalid.messages))
    else:
        when = timezone.localtime(reminder.remind_at, request.user.zone)
        messages.success(request, f"I will bring this back to your inbox {when:%a %-d %b, %H:%M}.")
    return redirect(_back_to_post(thread_id, reply_id))


@login_required
@require_POST
def ask(request: HttpRequest) -> HttpResponse:
    thread_id, reply_id = _post_ids(request)
    form = AskForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.first_error())
        asked = actions.ask_to_respond(
            request.user,
            thread_id,
            form.cleaned_data["people"],
            form.cleaned_data["due_on"],
            reply_id=reply_id,
        )
    except ValidationError as invalid:
        actions.visible_post(request.user, thread_id, reply_id)
        messages.error(request, " ".join(invalid.messages))
    else:
        count = asked.recipients.count()
        messages.success(request, f"Asked {count} {'person' if count == 1 else 'people'}.")
    return redirect(_back_to_post(thread_id, reply_id))


@login_required
@require_GET
def later(request: HttpRequest) -> HttpResponse:
    """My reminders still to come and the requests I asked, with who answered."""
    zone = request.user.zone
    now = timezone.now()
    asked = list(queries.requests_asked(request.user)[:100])
    for found in asked:
        waiting = any(r.answered_at is None for r in found.recipients.all())
        found.due_label, overdue = due_text(found.due_on, found.due_at, now)
        found.overdue = overdue and waiting
    context = {
        "reminders": list(queries.pending_reminders(request.user)[:200]),
        "asked": asked,
        "scheduled": list(queries.scheduled_posts(request.user)[:200]),
        "unsent": list(queries.unsent_posts(request.user)[:20]),
    }
    with timezone.override(zone):
        return render(request, "inbox/later.html", context)


@login_required
@require_POST
def reminder_cancel(request: HttpRequest, reminder_id: int) -> HttpResponse:
    actions.cancel_reminder(request.user, reminder_id)
    messages.success(request, "Reminder cancelled.")
    return redirect("inbox:later")


@login_required
@require_POST
def request_cancel(request: HttpRequest, request_id: int) -> HttpResponse:
    actions.cancel_request(request.user, request_id)
    messages.success(request, "Request withdrawn.")
    return redirect("inbox:later")


@login_required
@require_POST
def request_answered(request: HttpRequest, recipient_id: int) -> HttpResponse:
    actions.mark_answered(request.user, recipient_id)
    messages.success(request, "Marked answered.")
    return redirect("inbox:inbox")


# --- Send later.


def _send_at(request: HttpRequest) -> dt.datetime:
    """The composer's "send at" time, read in the person's zone."""
    form = SendAtForm(request.POST)
    with timezone.override(request.user.zone):
        if not form.is_valid():
            raise ValidationError({"send_at": [form.first_error()]})
    return form.cleaned_data["send_at"]


def _schedule_form(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    zone = request.user.zone
    context.setdefault("now_min", f"{timezone.localtime(timezone.now(), zone):%Y-%m-%dT%H:%M}")
    with timezone.override(zone):
        return render(request, "inbox/schedule.html", context, status=status)


def _schedule(request: HttpRequest, **where) -> HttpResponse:
    """Keep the composer's post for later; on a mistake, show it again on its own page."""
    fields = {key: request.POST.get(key, "") for key in ("kind", "title", "body", "send_at")}
    space = where["thread"].space if "thread" in where else where["space"]
    uploaded: list = []
    try:
        send_at = _send_at(request)
        with transaction.atomic():
            uploaded = thread_composer.upload_files(request, space)
            send_later.schedule_post(
                request.user, kind=fields["kind"], title=fields["title"], body=fields["body"],
                send_at=send_at, attachment_tokens=[a.token for a in uploaded],
                **thread_composer.recording_fields(request), **where,
            )  # fmt: skip
    except ValidationError as error:
        thread_composer.discard_files(uploaded)
        errors = error.message_dict if hasattr(error, "error_dict") else {"form": error.messages}
        fields["recording"] = request.POST.get("recording", "").strip()
        fields["recording_chunks"] = request.POST.get("recording_chunks", "").strip()
        context = {
            "fields": fields,
            "errors": errors,
            "action": request.path,
            "files_dropped": bool(request.FILES),
            **where,
        }
        return _schedule_form(request, context, status=400)
    messages.success(request, "Scheduled. It stays private to you until it is sent.")
    return redirect("inbox:later")


@login_required
@require_POST
def schedule_reply(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread = actions.visible_post(request.user, thread_id, None)[0]
    return _schedule(request, thread=thread)


@login_required
@require_POST
def schedule_thread(request: HttpRequest, workspace: str, space: str) -> HttpResponse:
    found = threads_queries.space_for(request.user, workspace_for(request.user, workspace), space)
    return _schedule(request, space=found)


@login_required
def scheduled_edit(request: HttpRequest, scheduled_id: int) -> HttpResponse:
    found = queries.scheduled_posts(request.user).filter(pk=scheduled_id).first()
    if found is None:
        raise Http404("No such scheduled post.")
    local = timezone.localtime(found.send_at, request.user.zone)
    fields = {"title": found.title, "body": found.body, "send_at": f"{local:%Y-%m-%dT%H:%M}"}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        fields = {key: request.POST.get(key, "") for key in ("title", "body", "send_at")}
        try:
            send_later.edit_scheduled(
                request.user, found.pk, title=fields["title"], body=fields["body"],
                send_at=_send_at(request),
            )  # fmt: skip
        except ValidationError as error:
            errors = (
                error.message_dict if hasattr(error, "error_dict") else {"form": error.messages}
            )
        else:
            messages.success(request, "Scheduled post saved.")
            return redirect("inbox:later")
    context = {"fields": fields, "errors": errors, "action": request.path, "scheduled": found,
               "thread": found.thread, "space": found.space}  # fmt: skip
    return _schedule_form(request, context, status=400 if errors else 200)


@login_required
@require_POST
def scheduled_cancel(request: HttpRequest, scheduled_id: int) -> HttpResponse:
    send_later.cancel_scheduled(request.user, scheduled_id)
    messages.success(request, "Scheduled post cancelled.")
    return redirect("inbox:later")


@login_required
@require_GET
def ask_people(request: HttpRequest, thread_id: int) -> HttpResponse:
    """The checkboxes of the people a post in the thread may ask to respond, fetched when the
    composer's "Ask people to respond…" opens, or a post's "Ask to respond" (`?for=post`)."""
    thread = threads_queries.thread_for(request.user, thread_id)
    field = "people" if request.GET.get("for") == "post" else "ask_people"
    return HttpResponse(ask_boxes(ask_candidates(request.user, thread.space), field=field))
