"""API for workspaces: the ones I belong to."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from tidings.workspaces import queries
from tidings.workspaces.models import Role

router = Router(tags=["workspaces"])


class WorkspaceOut(Schema):
    id: int
    name: str
    slug: str
    my_role: Role


@router.get("/workspaces", response=list[WorkspaceOut], summary="Workspaces I belong to")
def list_workspaces(request: HttpRequest) -> list[WorkspaceOut]:
    return [
        WorkspaceOut(id=ws.pk, name=ws.name, slug=ws.slug, my_role=role)
        for ws, role in queries.my_workspaces(request.auth)
    ]
