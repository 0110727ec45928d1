from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from tidings.accounts.models import User
from tidings.workspaces.access import visible_workspaces


def home(request: HttpRequest) -> HttpResponse:
    """Signed-in people land in their first workspace; others are asked to sign in."""
    if not request.user.is_authenticated:
        if not User.objects.exists():
            return render(request, "setup_pending.html")
        return redirect("accounts:sign-in")
    workspace = visible_workspaces(request.user).order_by("pk").first()
    if workspace is None:
        return render(request, "no_workspace.html")
    return redirect("threads:workspace", workspace=workspace.slug)


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
