"""HTTP for workspaces: first setup."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from tidings.workspaces import actions
from tidings.workspaces.forms import SetupForm

BACKEND = "django.contrib.auth.backends.ModelBackend"


def setup(request: HttpRequest, token: str) -> HttpResponse:
    """The one-time link that creates the owner account and the first workspace."""
    if not actions.setup_token_is_valid(token):
        return render(request, "workspaces/setup_used.html", status=410)
    form = SetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            owner, workspace = actions.complete_setup(token, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            login(request, owner, backend=BACKEND)
            messages.success(request, f"Welcome to {workspace.name}. Invite your team from People.")
            return redirect("home")
    status = 400 if request.method == "POST" else 200
    return render(request, "workspaces/setup.html", {"form": form}, status=status)
