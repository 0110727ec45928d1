"""API for search: the same query and filters as the search page."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from tidings.apikit.errors import ErrorOut
from tidings.apikit.pagination import MAX_LIMIT
from tidings.bounds import Day, Id
from tidings.search import queries
from tidings.threads.models import ThreadKind
from tidings.workspaces.queries import workspace_by_id

router = Router(tags=["search"])


class SearchParams(Schema):
    q: str = Field(..., max_length=500, description='Words, "a phrase", a last-word prefix.')
    workspace: Id | None = Field(None, description="Only this workspace (id).")
    space: Id | None = Field(None, description="Only this space (id).")
    author: Id | None = Field(None, description="Only posts by this person (id).")
    kind: ThreadKind | None = None
    date_from: Day | None = Field(None, alias="from", description="On or after (YYYY-MM-DD).")
    date_to: Day | None = Field(None, alias="to", description="On or before (YYYY-MM-DD).")
    resolved: bool | None = None
    limit: int = Field(20, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=10_000)


class SearchHitOut(Schema):
    thread_id: int
    reply_id: int | None
    title: str
    space_name: str
    author_name: str
    created_at: dt.datetime
    kind: str
    resolved: bool
    outcome: str = Field(
        "", description="On a resolved thread's opening post: its outcome, as plain text."
    )
    snippet_html: str = Field(..., description="Escaped text; matches wrapped in <mark>.")
    url: str = Field(..., description="The page in the web app.")
    recording_token: str = Field(
        ..., description="Set when the words were spoken in this recording (its transcript)."
    )
    moment_ms: int | None = Field(
        ..., description="When in that recording the first of the words is said."
    )

    # Computed from a SearchHit; when a built schema is validated again, the value is given.
    @staticmethod
    def resolve_snippet_html(hit: queries.SearchHit | SearchHitOut) -> str:
        return str(hit.snippet) if isinstance(hit, queries.SearchHit) else hit.snippet_html


class SearchResultsOut(Schema):
    items: list[SearchHitOut]
    count: int = Field(
        ..., description="Matches found; at most 1,000 are counted (and ranked), newest first."
    )
    limit: int
    offset: int


@router.get(
    "/search",
    response={200: SearchResultsOut, 404: ErrorOut},
    summary="Search what I can see",
)
def search(request: HttpRequest, params: Query[SearchParams]) -> SearchResultsOut:
    workspace = None
    if params.workspace is not None:
        workspace = workspace_by_id(request.auth, params.workspace)
    results = queries.search(
        request.auth,
        params.q,
        workspace=workspace,
        space_id=params.space,
        author_id=params.author,
        kind=params.kind.value if params.kind else None,
        date_from=params.date_from,
        date_to=params.date_to,
        resolved=params.resolved,
        limit=params.limit,
        offset=params.offset,
    )
    return SearchResultsOut(
        items=[SearchHitOut.model_validate(hit) for hit in results.hits],
        count=results.total,
        limit=results.limit,
        offset=results.offset,
    )
