"""API for the inbox: the open, snoozed and done lists and the triage actions."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tidings.accounts.api import PersonOut, person_out
from tidings.apikit.errors import ErrorOut
from tidings.apikit.pagination import PageParams
from tidings.bounds import Id
from tidings.inbox import actions, queries, send_later
from tidings.inbox.models import (
    InboxItem,
    Reason,
    Reminder,
    Request,
    RequestRecipient,
    ScheduledPost,
)
from tidings.threads.access import visible_spaces, visible_threads

router = Router(tags=["inbox"])


class Tab(StrEnum):
    OPEN = "open"
    SNOOZED = "snoozed"
    DONE = "done"


class RemindPreset(StrEnum):
    HOUR = "hour"
    TOMORROW = "tomorrow"
    MONDAY = "monday"


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


# --- Reminders, requests and scheduled posts.


class PostRef(Schema):
    thread_id: Id
    reply_id: Id | None = None


class ReminderIn(PostRef):
    at: datetime | None = Field(None, description="ISO 8601; without offset: in my time zone")
    preset: RemindPreset | None = None


class ReminderOut(Schema):
    id: int
    thread_id: int
    reply_id: int | None
    thread_title: str
    remind_at: datetime
    created_at: datetime


class RequestIn(PostRef):
    people: list[Id] = Field(
        ..., max_length=500, description="Ids of people who can see the thread"
    )
    due_on: date = Field(..., description="Respond by this date, in my time zone")


class AskedOut(Schema):
    person: PersonOut
    answered_at: datetime | None
    answer_reply_id: int | None


class RequestOut(Schema):
    id: int
    thread_id: int
    reply_id: int | None
    thread_title: str
    asker: PersonOut | None
    due_on: date
    due_at: datetime
    overdue: bool
    asked: list[AskedOut]


class WaitingOut(Schema):
    id: int = Field(..., description="Id of my part of the request (to mark it answered)")
    request_id: int
    thread_id: int
    reply_id: int | None
    thread_title: str
    asker: PersonOut | None
    due_on: date
    due_at: datetime
    overdue: bool


class ScheduledIn(Schema):
    space_id: Id | None = Field(None, description="For a new thread")
    thread_id: Id | None = Field(None, description="For a reply")
    kind: str = "discussion"
    title: str = ""
    body: str = ""
    send_at: datetime = Field(..., description="ISO 8601; without offset: in my time zone")
    attachments: list[str] = Field(
        default_factory=list, max_length=20, description="Tokens of files I uploaded to post."
    )
    recording: str = Field("", max_length=64, description="Token of my recording to post.")


class ScheduledOut(Schema):
    id: int
    space_id: int
    thread_id: int | None
    kind: str
    title: str
    body: str
    send_at: datetime
    state: str
    sent_thread_id: int | None
    sent_reply_id: int | None
    failure: str
    attachments: list[str]
    recording: str


def _reminder_out(reminder: Reminder) -> ReminderOut:
    return ReminderOut(
        id=reminder.pk, thread_id=reminder.thread_id, reply_id=reminder.reply_id,
        thread_title=reminder.thread.title, remind_at=reminder.remind_at,
        created_at=reminder.created_at,
    )  # fmt: skip


def _request_out(found: Request) -> RequestOut:
    rows = list(found.recipients.all())
    return RequestOut(
        id=found.pk, thread_id=found.thread_id, reply_id=found.reply_id,
        thread_title=found.thread.title, asker=person_out(found.asker), due_on=found.due_on,
        due_at=found.due_at,
        overdue=found.due_at <= timezone.now() and any(r.answered_at is None for r in rows),
        asked=[
            AskedOut(person=person_out(r.person), answered_at=r.answered_at,
                     answer_reply_id=r.answer_id)
            for r in rows
        ],
    )  # fmt: skip


def _waiting_out(row: RequestRecipient) -> WaitingOut:
    found = row.request
    return WaitingOut(
        id=row.pk, request_id=found.pk, thread_id=found.thread_id, reply_id=found.reply_id,
        thread_title=found.thread.title, asker=person_out(found.asker), due_on=found.due_on,
        due_at=found.due_at, overdue=row.answered_at is None and found.due_at <= timezone.now(),
    )  # fmt: skip


def _scheduled_out(post: ScheduledPost) -> ScheduledOut:
    return ScheduledOut(
        id=post.pk, space_id=post.space_id, thread_id=post.thread_id, kind=post.kind,
        title=post.title, body=post.body, send_at=post.send_at, state=post.state,
        sent_thread_id=post.sent_thread_id, sent_reply_id=post.sent_reply_id,
        failure=post.failure, attachments=post.attachment_tokens, recording=post.recording_token,
    )  # fmt: skip


@router.get("/reminders", response=list[ReminderOut], summary="My reminders still to come")
def list_reminders(request: HttpRequest) -> list[ReminderOut]:
    return [_reminder_out(r) for r in queries.pending_reminders(request.auth)[:500]]


@router.post(
    "/reminders",
    response={201: ReminderOut, 404: ErrorOut},
    summary="Remind me of a thread or reply: at a time, or a preset (hour, tomorrow, monday)",
)
def create_reminder(request: HttpRequest, payload: ReminderIn) -> Status:
    reminder = actions.create_reminder(
        request.auth, payload.thread_id, reply_id=payload.reply_id, at=payload.at,
        preset=payload.preset.value if payload.preset else "",
    )  # fmt: skip
    return Status(201, _reminder_out(reminder))


@router.delete("/reminders/{reminder_id}", response={204: None}, summary="Cancel a reminder")
def cancel_reminder(request: HttpRequest, reminder_id: int) -> Status:
    actions.cancel_reminder(request.auth, reminder_id)
    return Status(204, None)


@router.get(
    "/requests/waiting", response=list[WaitingOut], summary="Requests waiting for my answer"
)
def list_waiting(request: HttpRequest) -> list[WaitingOut]:
    return [_waiting_out(r) for r in queries.waiting_requests(request.auth)[:500]]


@router.post(
    "/requests/waiting/{recipient_id}/answered",
    response=WaitingOut,
    summary="Mark a request to me answered",
)
def answer_request(request: HttpRequest, recipient_id: int) -> WaitingOut:
    row = actions.mark_answered(request.auth, recipient_id)
    return _waiting_out(RequestRecipient.objects.select_related("request__thread").get(pk=row.pk))


@router.get("/requests", response=list[RequestOut], summary="Requests I asked, with answers")
def list_asked(request: HttpRequest) -> list[RequestOut]:
    return [_request_out(r) for r in queries.requests_asked(request.auth)[:500]]


@router.post(
    "/requests",
    response={201: RequestOut, 404: ErrorOut},
    summary="Ask people who can see a thread to respond to a post by a date",
)
def create_request(request: HttpRequest, payload: RequestIn) -> Status:
    found = actions.ask_to_respond(
        request.auth, payload.thread_id, payload.people, payload.due_on, reply_id=payload.reply_id
    )
    return Status(201, _request_out(queries.requests_asked(request.auth).get(pk=found.pk)))


@router.delete("/requests/{request_id}", response={204: None}, summary="Withdraw my request")
def cancel_request(request: HttpRequest, request_id: int) -> Status:
    actions.cancel_request(request.auth, request_id)
    return Status(204, None)


@router.get("/scheduled", response=list[ScheduledOut], summary="My posts waiting to be sent")
def list_scheduled(request: HttpRequest) -> list[ScheduledOut]:
    return [_scheduled_out(p) for p in queries.scheduled_posts(request.auth)[:500]]


@router.post(
    "/scheduled",
    response={201: ScheduledOut, 404: ErrorOut},
    summary="Send a new thread (space_id) or a reply (thread_id) later",
)
def create_scheduled(request: HttpRequest, payload: ScheduledIn) -> Status:
    thread = space = None
    if payload.thread_id is not None:
        thread = visible_threads(request.auth).filter(pk=payload.thread_id).first()
        if thread is None:
            raise Http404("No such thread.")
    else:
        space = visible_spaces(request.auth).filter(pk=payload.space_id or 0).first()
        if space is None:
            raise Http404("No such space.")
    post = send_later.schedule_post(
        request.auth, space=space, thread=thread, kind=payload.kind, title=payload.title,
        body=payload.body, send_at=payload.send_at, attachment_tokens=payload.attachments,
        recording_token=payload.recording,
    )  # fmt: skip
    return Status(201, _scheduled_out(post))


@router.delete("/scheduled/{scheduled_id}", response={204: None}, summary="Cancel a post")
def cancel_scheduled(request: HttpRequest, scheduled_id: int) -> Status:
    send_later.cancel_scheduled(request.auth, scheduled_id)
    return Status(204, None)
