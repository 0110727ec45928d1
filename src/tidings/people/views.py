"""HTTP for a workspace's people: the people page, and accepting invitations."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit
from django_ratelimit.exceptions import Ratelimited

from tidings.accounts.models import User
from tidings.people import actions, queries
from tidings.people.forms import AcceptInviteForm, InviteForm, RoleForm
from tidings.threads import access
from tidings.workspaces.models import Workspace
from tidings.workspaces.queries import workspace_for
from tidings.workspaces.views import BACKEND

ACCEPT_RATE_PER_LINK = "10/15m"
ACCEPT_RATE_PER_ADDRESS = "30/15m"


# --- People page --------------------------------------------------------------------------


def _people_page(
    request: HttpRequest,
    workspace: Workspace,
    *,
    invite_form: InviteForm | None = None,
    new_link: str = "",
    new_link_email: str = "",
    status: int = 200,
) -> HttpResponse:
    person = request.user
    members = queries.people_for(person, workspace)
    mine = access.membership(person, workspace)
    manages = mine.is_admin
    if invite_form is None and manages:
        invite_form = InviteForm(spaces=queries.invitable_spaces(person, workspace))
    context = {
        "workspace": workspace,
        "mine": mine,
        "manages": manages,
        "members": members,
        "invites": queries.pending_invites_for(person, workspace) if manages else [],
        "invite_form": invite_form,
        "new_link": new_link,
        "new_link_email": new_link_email,
    }
    return render(request, "people/people.html", context, status=status)


@login_required
def people(request: HttpRequest, workspace: str) -> HttpResponse:
    return _people_page(request, workspace_for(request.user, workspace))


@login_required
@require_POST
def invite(request: HttpRequest, workspace: str) -> HttpResponse:
    ws = workspace_for(request.user, workspace)
    if not access.can_invite(request.user, ws):
        raise PermissionDenied("Only owners and admins invite people.")
    form = InviteForm(request.POST, spaces=queries.invitable_spaces(request.user, ws))
    if form.is_valid():
        try:
            created, raw = actions.create_invite(
                request.user,
                ws,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                space_ids=form.cleaned_data["spaces"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        except Ratelimited as error:
            form.add_error(None, str(error))
            return _people_page(request, ws, invite_form=form, status=429)
    if not form.is_valid():
        return _people_page(request, ws, invite_form=form, status=400)
    # Rendered rather than redirected: the raw link is shown once and never stored. The link
    # card says it was emailed, so no separate message.
    return _people_page(
        request, ws, new_link=actions.invite_link(raw), new_link_email=created.email, status=201
    )


@login_required
@require_POST
def resend_invite(request: HttpRequest, workspace: str, invite_id: int) -> HttpResponse:
    ws = workspace_for(request.user, workspace)
    try:
        renewed, raw = actions.resend_invite(request.user, ws, invite_id)
    except Ratelimited as error:
        messages.error(request, str(error))
        return redirect("people:people", workspace=ws.slug)
    messages.success(request, f"A new invitation link was emailed to {renewed.email}.")
    return _people_page(
        request, ws, new_link=actions.invite_link(raw), new_link_email=renewed.email
    )


@login_required
@require_POST
def revoke_invite(request: HttpRequest, workspace: str, invite_id: int) -> HttpResponse:
    ws = workspace_for(request.user, workspace)
    revoked = actions.revoke_invite(request.user, ws, invite_id)
    messages.success(request, f"The invitation to {revoked.email} is revoked.")
    return redirect("people:people", workspace=ws.slug)


@login_required
@require_POST
def change_role(request: HttpRequest, workspace: str, membership_id: int) -> HttpResponse:
    ws = workspace_for(request.user, workspace)
    form = RoleForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("Pick owner, admin, member or guest.")
        changed = actions.change_role(request.user, ws, membership_id, form.cleaned_data["role"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, f"{changed.person.name} is now {changed.get_role_display().lower()}."
        )
    return redirect("people:people", workspace=ws.slug)


@login_required
@require_POST
def deactivate_member(request: HttpRequest, workspace: str, membership_id: int) -> HttpResponse:
    ws = workspace_for(request.user, workspace)
    try:
        removed = actions.deactivate_member(request.user, ws, membership_id)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{removed.person.name} no longer has access to {ws.name}.")
    return redirect("people:people", workspace=ws.slug)


# --- Accepting an invitation --------------------------------------------------------------


def _invite_link_key(group: str, request: HttpRequest) -> str:
    """Rate-limit key: the invitation link itself (it stands for the invited account)."""
    return request.path


@ratelimit(
    group="accept-invite-link", key=_invite_link_key, rate=ACCEPT_RATE_PER_LINK, method="POST"
)
@ratelimit(group="accept-invite-address", key="ip", rate=ACCEPT_RATE_PER_ADDRESS, method="POST")
def accept_invite(request: HttpRequest, token: str) -> HttpResponse:
    """Join a workspace from an invitation link: new people make an account, others sign in."""
    found = queries.usable_invite(token)
    if found is None:
        return render(request, "people/invite_invalid.html", status=404)
    context = {"invite": found, "workspace": found.workspace, "token": token}
    person = request.user
    if person.is_authenticated:
        if person.email.lower() != found.email:
            return render(request, "people/invite_other_account.html", context, status=403)
        if request.method == "POST":
            joined = actions.accept_invite_as(person, token)
            messages.success(request, f"Welcome to {joined.name}.")
            return redirect("threads:workspace", workspace=joined.slug)
        return render(request, "people/invite_join.html", context)
    if User.objects.filter(email=found.email).exists():
        context["sign_in_url"] = f"{reverse('accounts:sign-in')}?next={request.path}"
        return render(request, "people/invite_sign_in.html", context)
    form = AcceptInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created, joined = actions.accept_invite(token, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            login(request, created, backend=BACKEND)
            messages.success(request, f"Welcome to {joined.name}.")
            return redirect("threads:workspace", workspace=joined.slug)
    context["form"] = form
    status = 400 if request.method == "POST" else 200
    return render(request, "people/invite_accept.html", context, status=status)
