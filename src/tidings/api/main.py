"""The Tidings JSON API: one NinjaAPI with a router per domain app, served under /api/."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation

from tidings.accounts.api import router as accounts
from tidings.accounts.token_auth import PersonalAccessToken
from tidings.apikit import errors
from tidings.apikit.parser import JSONObjectParser
from tidings.inbox.api import router as inbox
from tidings.people.api import router as people
from tidings.recordings.api import router as recordings
from tidings.search.api import router as search
from tidings.threads.api import router as threads
from tidings.transcripts.api import router as transcripts
from tidings.workspaces.api import router as workspaces


class TidingsAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        """Plain operation ids (`list_threads`) for generated clients."""
        return operation.view_func.__name__

    def get_openapi_schema(self, **kwargs: Any) -> OpenAPISchema:
        """The document with the JSON error answers each operation can give."""
        return errors.document(super().get_openapi_schema(**kwargs))


api = TidingsAPI(
    title="Tidings API",
    version="1",
    description=(
        "Everything a person can do in the web app, as JSON. Authenticate with a personal "
        "access token: `Authorization: Bearer tid_…`. (The web app's recorder calls the "
        "upload operations with its session cookie and the page's X-CSRFToken header.) Lists "
        "take `limit` (at most 100) and `offset`. Errors are JSON with a `detail` sentence; "
        "validation errors add `errors`."
    ),
    urls_namespace="api",
    auth=PersonalAccessToken(),
    parser=JSONObjectParser(),
)
errors.install(api)
for router in (accounts, workspaces, people, threads, inbox, search, recordings, transcripts):
    api.add_router("/", router)
