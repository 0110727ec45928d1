"""The OpenAPI document tells of the rate limit on invitations (see the workspaces tests for the
limits themselves)."""

from __future__ import annotations

from tidings.api.main import api


def test_the_api_documents_the_429_of_invitations(world):
    paths = api.get_openapi_schema()["paths"]
    for path in (
        "/api/workspaces/{workspace_id}/invites",
        "/api/workspaces/{workspace_id}/invites/{invite_id}/resend",
    ):
        assert "429" in {str(code) for code in paths[path]["post"]["responses"]}, path
