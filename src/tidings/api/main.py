"""The Tidings JSON API: one NinjaAPI with a router per domain app, served under /api/."""

from __future__ import annotations

from ninja import NinjaAPI

from tidings.api import errors
from tidings.api.auth import PersonalAccessToken

api = NinjaAPI(
    title="Tidings API",
    version="1",
    description=(
        "Everything a person can do in the web app, as JSON. Authenticate with a personal "
        "access token: `Authorization: Bearer tid_…`. Lists take `limit` (at most 100) and "
        "`offset`. Errors are JSON with a `detail` sentence; validation errors add `errors`."
    ),
    urls_namespace="api",
    auth=PersonalAccessToken(),
)
errors.install(api)


def _add_routers() -> None:
    from tidings.accounts.api import router as accounts
    from tidings.inbox.api import router as inbox
    from tidings.search.api import router as search
    from tidings.threads.api import router as threads
    from tidings.workspaces.api import router as workspaces

    for router in (accounts, workspaces, threads, inbox, search):
        api.add_router("/", router)


_add_routers()
