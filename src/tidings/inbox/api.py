"""API for the inbox: the open, snoozed and done lists and the triage actions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from tidings.accounts.api import PersonOut, person_out
from tidings.api.pagination import PageParams
from tidings.inbox import actions, queries
from tidings.inbox.models import InboxItem, Reason

router = Router(tags=["inbox"])


class Tab(StrEnum):
    OPEN = "open"
    SNOOZED = "snoozed"
    DONE = "done"


class InboxParams(PageParams):
    state: Tab = Tab.OPEN
    offset: int = Field(0, ge=0, le=10_000)


class InboxThreadOut(Schema):
    id: int
    title: str
    kind: str
    space_id: int
    space_name: str
    workspace_id: int


class InboxItemOut(Schema):
    id: int
    reason: Reason
    thread: InboxThreadOut
    actor: PersonOut | None
    latest_reply_id: int | None
    activity_count: int
    excerpt: str
    created_at: datetime
    updated_at: datetime
    read_at: datetime | None
    done_at: datetime | None
    snoozed_until: datetime | None


class InboxPageOut(Schema):
    items: list[InboxItemOut]
    count: int
    limit: int
    offset: int


class SnoozeIn(Schema):
    until: datetime


def _item_out(item: InboxItem) -> InboxItemOut:
    thread = item.thread
    return InboxItemOut(
        id=item.pk,
        reason=item.reason,
        thread=InboxThreadOut(
            id=thread.pk,
            title=thread.title,
            kind=thread.kind,
            space_id=thread.space_id,
            space_name=thread.space.name,
            workspace_id=thread.space.workspace_id,
        ),
        actor=person_out(item.actor),
        latest_reply_id=item.latest_reply_id,
        activity_count=item.activity_count,
        excerpt=getattr(item, "excerpt", ""),
        created_at=item.created_at,
        updated_at=item.updated_at,
        read_at=item.read_at,
        done_at=item.done_at,
        snoozed_until=item.snoozed_until,
    )


def _fresh(request: HttpRequest, item: InboxItem) -> InboxItemOut:
    return _item_out(queries.item_row(request.auth, item.pk) or item)


@router.get("/inbox", response=InboxPageOut, summary="My inbox: open, snoozed or done")
def list_inbox(request: HttpRequest, params: Query[InboxParams]) -> InboxPageOut:
    tab = params.state.value
    rows = queries.tab_items(request.auth, tab, limit=params.limit, offset=params.offset)
    return InboxPageOut(
        items=[_item_out(item) for item in rows],
        count=queries.tab_count(request.auth, tab),
        limit=params.limit,
        offset=params.offset,
    )


@router.post("/inbox/{item_id}/done", response=InboxItemOut, summary="Mark an item done")
def mark_item_done(request: HttpRequest, item_id: int) -> InboxItemOut:
    return _fresh(request, actions.mark_done(request.auth, item_id))


@router.post("/inbox/{item_id}/undone", response=InboxItemOut, summary="Put a done item back")
def mark_item_undone(request: HttpRequest, item_id: int) -> InboxItemOut:
    return _fresh(request, actions.mark_undone(request.auth, item_id))


@router.post("/inbox/{item_id}/read", response=InboxItemOut, summary="Mark an item read")
def mark_item_read(request: HttpRequest, item_id: int) -> InboxItemOut:
    return _fresh(request, actions.mark_read(request.auth, item_id))


@router.post(
    "/inbox/{item_id}/snooze",
    response=InboxItemOut,
    summary="Snooze until an ISO 8601 time (without offset: in my time zone)",
)
def snooze_item(request: HttpRequest, item_id: int, payload: SnoozeIn) -> InboxItemOut:
    return _fresh(request, actions.snooze(request.auth, item_id, payload.until))


@router.post("/inbox/{item_id}/unsnooze", response=InboxItemOut, summary="Bring it back now")
def unsnooze_item(request: HttpRequest, item_id: int) -> InboxItemOut:
    return _fresh(request, actions.unsnooze(request.auth, item_id))
