"""The threads app's own pages: new and archived spaces, editing and history of posts,
reopening, following, files. Thin: parse, call an action or a query, render. The space and
thread pages, which show what other apps add to them, are in `tidings.pages.threads`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from tidings.accounts.views import delivery_settings_page
from tidings.security import sandboxed_file
from tidings.threads import access, actions, queries
from tidings.threads.models import (
    Attachment,
    SpaceLevel,
    Thread,
    Visibility,
)
from tidings.workspaces.queries import workspace_for

PAGE_SIZE = 30
# Short labels for the space level picker; the model's labels explain them in full.
LEVEL_CHOICES = [
    (SpaceLevel.ALL, "All activity"),
    (SpaceLevel.FOLLOW, "New threads"),
    (SpaceLevel.NORMAL, "Threads I'm in and mentions"),
    (SpaceLevel.MUTED, "Muted"),
]


def form_errors(error: ValidationError) -> dict[str, list[str]]:
    """Messages per field; messages about the whole form under "form" (templates can't read
    names starting with an underscore)."""
    if hasattr(error, "error_dict"):
        errors = dict(error.message_dict)
        if "__all__" in errors:
            errors["form"] = errors.pop("__all__")
        return errors
    return {"form": error.messages}


def thread_url(thread: Thread, anchor: str = "") -> str:
    url = reverse("threads:thread", kwargs={"thread_id": thread.pk})
    return f"{url}#{anchor}" if anchor else url


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- Workspace and spaces.


@login_required
def space_new(request: HttpRequest, workspace: str) -> HttpResponse:
    ws = workspace_for(request.user, workspace)
    if not access.can_create_space(request.user, ws):
        raise PermissionDenied("Guests cannot create spaces.")
    errors: dict[str, list[str]] = {}
    form = {"name": "", "description": "", "visibility": Visibility.OPEN, "member_ids": []}
    status = 200
    if request.method == "POST":
        form = {
            "name": request.POST.get("name", ""),
            "description": request.POST.get("description", ""),
            "visibility": request.POST.get("visibility", Visibility.OPEN),
            "member_ids": request.POST.getlist("member_ids"),
        }
        try:
            space = actions.create_space(request.user, ws, **form)
        except ValidationError as error:
            errors, status = form_errors(error), 400
        else:
            messages.success(request, f"Space “{space.name}” created.")
            return redirect("threads:space", workspace=ws.slug, space=space.slug)
    people = queries.workspace_people(ws).exclude(pk=request.user.pk)
    return render(
        request,
        "threads/space_new.html",
        {
            "workspace": ws,
            "form": form,
            "errors": errors,
            "people": people,
            "visibilities": Visibility.choices,
        },
        status=status,
    )


@login_required
@require_POST
def space_archive(request: HttpRequest, workspace: str, space: str) -> HttpResponse:
    ws = workspace_for(request.user, workspace)
    sp = queries.space_for(request.user, ws, space)
    archived = request.POST.get("archived", "1") == "1"
    actions.archive_space(request.user, sp, archived)
    messages.success(request, "Space archived." if archived else "Space restored.")
    return redirect("threads:space", workspace=ws.slug, space=sp.slug)


@login_required
@require_POST
def space_level(request: HttpRequest, workspace: str, space: str) -> HttpResponse:
    ws = workspace_for(request.user, workspace)
    sp = queries.space_for(request.user, ws, space)
    try:
        actions.set_space_level(request.user, sp, request.POST.get("level", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Notification level saved.")
    return redirect("threads:space", workspace=ws.slug, space=sp.slug)


@login_required
@require_GET
def decisions(request: HttpRequest, workspace: str, space: str | None = None) -> HttpResponse:
    ws = workspace_for(request.user, workspace)
    sp = queries.space_for(request.user, ws, space) if space else None
    page = Paginator(queries.decisions(request.user, ws, sp), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "threads/decisions.html", {"workspace": ws, "space": sp, "page": page})


# --- Threads.


def _mention_list(space, request: HttpRequest) -> JsonResponse:
    people = queries.mention_candidates(space, request.GET.get("q", ""))
    return JsonResponse({"people": [{"handle": p.handle, "name": p.name} for p in people]})


@login_required
@require_GET
def mention_search(request: HttpRequest, thread_id: int) -> JsonResponse:
    """People to @mention in a reply: those who can see the thread."""
    return _mention_list(queries.thread_for(request.user, thread_id).space, request)


@login_required
@require_GET
def space_mention_search(request: HttpRequest, workspace: str, space: str) -> JsonResponse:
    """People to @mention in a new thread: those who can see the space."""
    ws = workspace_for(request.user, workspace)
    return _mention_list(queries.space_for(request.user, ws, space), request)


@login_required
def thread_edit(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread = queries.thread_for(request.user, thread_id)
    if not access.can_edit_post(request.user, thread.author_id, thread.space):
        raise PermissionDenied("Only the author can edit this thread.")
    form = {"title": thread.title, "body": thread.body}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        form = {"title": request.POST.get("title", ""), "body": request.POST.get("body", "")}
        try:
            actions.edit_thread(request.user, thread, **form)
        except ValidationError as error:
            errors, status = form_errors(error), 400
        else:
            return redirect(thread_url(thread, "post"))
    return render(
        request,
        "threads/post_edit.html",
        {
            "workspace": thread.space.workspace,
            "space": thread.space,
            "thread": thread,
            "form": form,
            "errors": errors,
            "editing_thread": True,
        },
        status=status,
    )


@login_required
@require_POST
def thread_delete(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread = queries.thread_for(request.user, thread_id)
    actions.delete_thread(request.user, thread)
    messages.success(request, f"Thread “{thread.title}” deleted.")
    return redirect("threads:space", workspace=thread.space.workspace.slug, space=thread.space.slug)


@login_required
@require_GET
def thread_history(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread = queries.thread_for(request.user, thread_id)
    return render(
        request,
        "threads/history.html",
        {
            "workspace": thread.space.workspace,
            "space": thread.space,
            "thread": thread,
            "current": thread,
            "revisions": thread.revisions.select_related("edited_by"),
            "anchor": "post",
        },
    )


@login_required
def reply_edit(request: HttpRequest, thread_id: int, reply_id: int) -> HttpResponse:
    thread = queries.thread_for(request.user, thread_id)
    reply = queries.reply_for(request.user, thread, reply_id)
    if not access.can_edit_post(request.user, reply.author_id, thread.space):
        raise PermissionDenied("Only the author can edit this reply.")
    form = {"body": reply.body}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        form = {"body": request.POST.get("body", "")}
        try:
            actions.edit_reply(request.user, reply, **form)
        except ValidationError as error:
            errors, status = form_errors(error), 400
        else:
            return redirect(thread_url(thread, f"reply-{reply.pk}"))
    return render(
        request,
        "threads/post_edit.html",
        {
            "workspace": thread.space.workspace,
            "space": thread.space,
            "thread": thread,
            "reply": reply,
            "form": form,
            "errors": errors,
            "editing_thread": False,
        },
        status=status,
    )


@login_required
@require_POST
def reply_delete(request: HttpRequest, thread_id: int, reply_id: int) -> HttpResponse:
    thread = queries.thread_for(request.user, thread_id)
    reply = queries.reply_for(request.user, thread, reply_id)
    actions.delete_reply(request.user, reply)
    return redirect(thread_url(thread, f"reply-{reply.pk}"))


@login_required
@require_GET
def reply_history(request: HttpRequest, thread_id: int, reply_id: int) -> HttpResponse:
    thread = queries.thread_for(request.user, thread_id)
    reply = queries.reply_for(request.user, thread, reply_id)
    return render(
        request,
        "threads/history.html",
        {
            "workspace": thread.space.workspace,
            "space": thread.space,
            "thread": thread,
            "current": reply,
            "revisions": reply.revisions.select_related("edited_by"),
            "anchor": f"reply-{reply.pk}",
        },
    )


@login_required
@require_POST
def reopen(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread = queries.thread_for(request.user, thread_id)
    actions.reopen_thread(request.user, thread)
    messages.success(request, "Thread reopened.")
    return redirect(thread_url(thread))


@login_required
@require_POST
def follow(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread = queries.thread_for(request.user, thread_id)
    following = request.POST.get("following") == "1"
    actions.follow_thread(request.user, thread, following)
    if is_htmx(request):
        return render(request, "threads/_follow.html", {"thread": thread, "following": following})
    return redirect(thread_url(thread))


# --- Files.


@require_GET
def attachment_file(request: HttpRequest, token: str, name: str) -> FileResponse:
    """Serve an attachment only to people who can see where it was posted."""
    return serve_attachment(queries.attachment_for(request.user, token, name))


def serve_attachment(attachment: Attachment) -> FileResponse:
    """The file as a download (pictures inline), sandboxed so it can never run as a page.
    The JSON API serves files through this too."""
    return sandboxed_file(
        attachment.file,
        filename=attachment.name,
        content_type=attachment.content_type or "application/octet-stream",
        as_attachment=not attachment.is_image,
    )


@login_required
@require_POST
def space_levels(request: HttpRequest) -> HttpResponse:
    """Save the level of each space in the delivery settings' table; only spaces the person can
    see are read."""
    problems = []
    changed = 0
    for entry in queries.space_levels(request.user):
        space, level = entry["space"], request.POST.get(f"level-{entry['space'].pk}")
        if level is None or level == entry["level"]:
            continue
        try:
            actions.set_space_level(request.user, space, level)
            changed += 1
        except ValidationError:
            problems.append(f"{space.name}: pick one of the levels in the list.")
    if problems:
        return delivery_settings_page(request, 400, space_problems=problems)
    messages.success(request, "Space levels saved." if changed else "No space level changed.")
    return redirect(reverse("accounts:delivery") + "#spaces")
