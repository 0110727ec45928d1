"""Pages reached from emails (one-click unsubscribe, RFC 8058) and a space's email settings."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tidings.mail import inbound
from tidings.mail import unsubscribe as unsubscribing
from tidings.security import sandboxed_file
from tidings.threads.queries import space_for
from tidings.workspaces.queries import workspace_for


@csrf_exempt  # RFC 8058: mail clients POST without a session; the signed token is the proof
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks for confirmation (link scanners must not unsubscribe anyone); POST, from the
    button or a mail client's one-click, mutes the space's email for the token's person."""
    if request.method == "POST":
        space = unsubscribing.unsubscribe(token)
        status = 200 if space is not None else 404
        return render(request, "mail/unsubscribed.html", {"space": space}, status=status)
    target = unsubscribing.unsubscribe_target(token)
    if target is None:
        return render(request, "mail/unsubscribed.html", {"space": None}, status=404)
    person, space = target
    return render(
        request, "mail/unsubscribe.html", {"space": space, "person": person, "token": token}
    )


# --- A space's email address: its settings for unknown and unproven senders and the held
# messages; the workspace's default for unproven senders.


@login_required
@require_POST
def space_email(request: HttpRequest, workspace: str, space: str) -> HttpResponse:
    ws = workspace_for(request.user, workspace)
    sp = space_for(request.user, ws, space)
    try:
        with transaction.atomic():
            inbound.set_unknown_senders(request.user, sp, request.POST.get("unknown_senders", ""))
            if "sender_proof" in request.POST:
                inbound.set_sender_proof(request.user, sp, request.POST["sender_proof"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Email setting saved.")
    return redirect("threads:space-manage", workspace=ws.slug, space=sp.slug)


@login_required
@require_POST
def workspace_email(request: HttpRequest, workspace: str) -> HttpResponse:
    ws = workspace_for(request.user, workspace)
    try:
        inbound.set_workspace_sender_proof(request.user, ws, request.POST.get("sender_proof", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Workspace default saved.")
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        return redirect(back)
    return redirect("/")


@login_required
@require_POST
def held_message(request: HttpRequest, workspace: str, space: str, message_id: int) -> HttpResponse:
    ws = workspace_for(request.user, workspace)
    sp = space_for(request.user, ws, space)
    try:
        decision = request.POST.get("decision")
        if decision == "accept":
            thread = inbound.accept_held(request.user, sp, message_id)
            messages.success(request, f"Posted “{thread.title}” in #{sp.name}.")
        elif decision == "discard":
            inbound.discard_held(request.user, sp, message_id)
            messages.success(request, "Message discarded.")
        else:
            messages.error(request, "Choose to post or to discard the message.")
    except Http404:
        messages.error(request, "That message was already handled by someone else.")
    except ValidationError as error:
        messages.error(request, "It could not be posted: " + " ".join(error.messages))
    return redirect("threads:space-manage", workspace=ws.slug, space=sp.slug)


@login_required
@require_GET
def original(request: HttpRequest, message_id: int) -> FileResponse:
    """The message a post came from, as it was received ("View original"): an .eml file to
    open in a mail program, never rendered here (it is whatever the sender made it)."""
    entry = inbound.original_for(request.user, message_id)
    return sandboxed_file(
        entry.original, filename=f"message-{entry.pk}.eml", content_type="message/rfc822"
    )
