"""API for search: the same query and filters as the search page."""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema

from tidings.api.pagination import MAX_LIMIT
from tidings.search import queries
from tidings.threads.models import ThreadKind
from tidings.workspaces.access import visible_workspaces

router = Router(tags=["search"])


class SearchParams(Schema):
    q: str = Field(..., max_length=500, description='Words, "a phrase", a last-word prefix.')
    workspace: int | None = Field(None, description="Only this workspace (id).")
    space: int | None = Field(None, description="Only this space (id).")
    author: int | None = Field(None, description="Only posts by this person (id).")
    kind: ThreadKind | None = None
    date_from: dt.date | None = Field(None, alias="from", description="On or after (YYYY-MM-DD).")
    date_to: dt.date | None = Field(None, alias="to", description="On or before (YYYY-MM-DD).")
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
    snippet_html: str = Field(..., description="Escaped text; matches wrapped in <mark>.")
    url: str = Field(..., description="The page in the web app.")


class SearchResultsOut(Schema):
    items: list[SearchHitOut]
    count: int = Field(
        ..., description="Matches found; at most 1,000 are counted (and ranked), newest first."
    )
    limit: int
    offset: int


@router.get("/search", response=SearchResultsOut, summary="Search what I can see")
def search(request: HttpRequest, params: Query[SearchParams]) -> SearchResultsOut:
    workspace = None
    if params.workspace is not None:
        workspace = visible_workspaces(request.auth).filter(pk=params.workspace).first()
        if workspace is None:
            raise Http404
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
    items = [
        SearchHitOut(
            thread_id=hit.thread_id,
            reply_id=hit.reply_id,
            title=hit.title,
            space_name=hit.space_name,
            author_name=hit.author_name,
            created_at=hit.created_at,
            kind=hit.kind,
            resolved=hit.resolved,
            snippet_html=str(hit.snippet),
            url=hit.url,
        )
        for hit in results.hits
    ]
    return SearchResultsOut(
        items=items, count=results.total, limit=results.limit, offset=results.offset
    )
