"""API for spaces, threads, replies, reactions, attachments and decisions."""

from datetime import datetime

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, File, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.responses import Status

from tidings.accounts.api import PersonOut, person_out
from tidings.accounts.models import User
from tidings.apikit.pagination import LimitOffset, PageParams
from tidings.bounds import Id
from tidings.threads import actions, queries
from tidings.threads.models import (
    Attachment,
    Reply,
    Space,
    SpaceLevel,
    Thread,
    ThreadKind,
    Visibility,
)
from tidings.threads.views import serve_attachment
from tidings.workspaces.queries import workspace_by_id

router = Router(tags=["threads"])

# Generous outer bounds so absurd input is refused before it reaches the actions, which give
# the precise, human limits (200-character titles, 50,000-character bodies...).
TEXT_MAX = 100_000
LINE_MAX = 1_000
MAX_ATTACHMENTS = 20


# --- Schemas.


def _given(obj: object, key: str) -> object:
    """A value already computed, when a schema is built from a dict or another schema."""
    return obj[key] if isinstance(obj, dict) else getattr(obj, key)


class SpaceOut(Schema):
    id: int
    workspace_id: int
    name: str
    slug: str
    description: str
    visibility: Visibility
    archived: bool
    created_at: datetime
    created_by: PersonOut | None

    @staticmethod
    def resolve_archived(obj: Space | dict) -> bool:
        return obj.archived_at is not None if isinstance(obj, Space) else _given(obj, "archived")


class SpaceIn(Schema):
    name: str = Field(..., max_length=LINE_MAX)
    description: str = Field("", max_length=TEXT_MAX)
    visibility: Visibility = Visibility.OPEN
    member_ids: list[Id] = Field(default_factory=list, max_length=5000)


class SpaceUpdateIn(Schema):
    name: str | None = Field(None, max_length=LINE_MAX)
    description: str | None = Field(None, max_length=TEXT_MAX)
    archived: bool | None = None


class SpaceMembersIn(Schema):
    member_ids: list[Id] = Field(..., max_length=5000)


class LevelIn(Schema):
    level: SpaceLevel


class LevelOut(Schema):
    space_id: int
    level: SpaceLevel


class AttachmentOut(Schema):
    token: str
    name: str
    content_type: str
    size: int
    is_image: bool
    url: str = Field(..., description="Where the web app serves the file.")
    download_url: str = Field(..., description="Where the API serves the file (token auth).")


class ReactionOut(Schema):
    emoji: str
    count: int
    mine: bool


class ThreadOut(Schema):
    id: int
    space_id: int
    workspace_id: int
    kind: ThreadKind
    title: str
    body: str = Field(..., description="Markdown source.")
    body_html: str = Field(..., description="Sanitized HTML rendered from the Markdown.")
    author: PersonOut | None
    created_at: datetime
    edited_at: datetime | None
    last_activity_at: datetime
    reply_count: int
    resolved: bool
    resolved_at: datetime | None
    resolved_by: PersonOut | None
    outcome: str
    outcome_html: str
    url: str = Field(..., description="The thread's page in the web app.")

    # Resolvers compute from a Thread; built from a dict or a schema, the values are given.
    @staticmethod
    def resolve_workspace_id(obj: Thread | dict) -> int:
        return obj.space.workspace_id if isinstance(obj, Thread) else _given(obj, "workspace_id")

    @staticmethod
    def resolve_url(obj: Thread | dict) -> str:
        if isinstance(obj, Thread):
            return reverse("threads:thread", kwargs={"thread_id": obj.pk})
        return _given(obj, "url")

    @staticmethod
    def resolve_resolved(obj: Thread | dict) -> bool:
        return obj.resolved_at is not None if isinstance(obj, Thread) else _given(obj, "resolved")


class ReplyOut(Schema):
    id: int
    thread_id: int
    author: PersonOut | None
    deleted: bool
    body: str = Field(..., description="Markdown source (empty when deleted).")
    body_html: str = Field(..., description="Sanitized HTML (empty when deleted).")
    quoted_reply_id: int | None
    quote_text: str
    created_at: datetime
    edited_at: datetime | None
    attachments: list[AttachmentOut]
    reactions: list[ReactionOut]


class RepliesPageOut(Schema):
    items: list[ReplyOut]
    count: int
    limit: int
    offset: int


class ThreadDetailOut(ThreadOut):
    following: bool
    last_read_at: datetime | None
    attachments: list[AttachmentOut]
    reactions: list[ReactionOut]
    replies: RepliesPageOut


class ThreadIn(Schema):
    kind: ThreadKind = ThreadKind.DISCUSSION
    title: str = Field(..., max_length=LINE_MAX)
    body: str = Field("", max_length=TEXT_MAX)
    attachments: list[str] = Field(
        default_factory=list, max_length=MAX_ATTACHMENTS, description="Upload tokens."
    )
    recording: str = Field("", max_length=64, description="Token of my recording to post.")
    recording_chunks: int | None = Field(
        None, ge=1, le=1_000_000, description="How many chunks it has (all must be uploaded)."
    )


class ThreadEditIn(Schema):
    title: str | None = Field(None, max_length=LINE_MAX)
    body: str | None = Field(None, max_length=TEXT_MAX)


class ThreadFilters(Schema):
    kind: ThreadKind | None = None
    resolved: bool | None = None


class ResolveIn(Schema):
    outcome: str = Field(..., max_length=TEXT_MAX, description="Markdown.")


class ReplyIn(Schema):
    body: str = Field("", max_length=TEXT_MAX)
    quoted_reply_id: Id | None = Field(
        None, description="Quote a reply; leave empty with quote_text to quote the opening post."
    )
    quote_text: str = Field("", max_length=TEXT_MAX)
    attachments: list[str] = Field(
        default_factory=list, max_length=MAX_ATTACHMENTS, description="Upload tokens."
    )
    recording: str = Field("", max_length=64, description="Token of my recording to post.")
    recording_chunks: int | None = Field(
        None, ge=1, le=1_000_000, description="How many chunks it has (all must be uploaded)."
    )
    moment_recording: str = Field(
        "", max_length=64, description="Reply at a moment of this recording of the thread."
    )
    moment_ms: int | None = Field(
        None, ge=0, description="The moment, in milliseconds from the recording's start."
    )


class ReplyEditIn(Schema):
    body: str = Field(..., max_length=TEXT_MAX)


class ReactionIn(Schema):
    emoji: str = Field(..., max_length=16)
    reply_id: Id | None = Field(None, description="React to this reply; empty: the opening post.")


class ReactionToggledOut(Schema):
    emoji: str
    on: bool
    reactions: list[ReactionOut]


class FollowOut(Schema):
    thread_id: int
    following: bool


class ReadOut(Schema):
    thread_id: int
    read_at: datetime


class RevisionOut(Schema):
    title: str
    body: str
    edited_by: PersonOut | None
    replaced_at: datetime


# --- Output builders.


def _space_out(space: Space) -> SpaceOut:
    return SpaceOut.model_validate(space)


def _thread_out(thread: Thread) -> ThreadOut:
    return ThreadOut.model_validate(thread)


def _attachments_out(attachments: list[Attachment]) -> list[AttachmentOut]:
    return [
        AttachmentOut(
            token=a.token,
            name=a.name,
            content_type=a.content_type,
            size=a.size,
            is_image=a.is_image,
            url=reverse("threads:file", kwargs={"token": a.token, "name": a.name}),
            download_url=reverse(
                "api:download_attachment", kwargs={"token": a.token, "name": a.name}
            ),
        )
        for a in attachments
    ]


def _reactions_out(reactions) -> list[ReactionOut]:
    return [ReactionOut(emoji=r.emoji, count=r.count, mine=r.mine) for r in reactions]


def _reply_out(post) -> ReplyOut:
    reply = post.reply
    deleted = reply.deleted_at is not None
    return ReplyOut(
        id=reply.pk,
        thread_id=reply.thread_id,
        author=person_out(reply.author),
        deleted=deleted,
        body="" if deleted else reply.body,
        body_html="" if deleted else reply.body_html,
        quoted_reply_id=None if deleted else reply.quoted_reply_id,
        quote_text="" if deleted else reply.quote_text,
        created_at=reply.created_at,
        edited_at=reply.edited_at,
        attachments=_attachments_out(post.attachments),
        reactions=_reactions_out(post.reactions),
    )


def _single_reply_out(person: User, reply: Reply) -> ReplyOut:
    return _reply_out(queries.reply_post(person, reply))


def _revisions_out(revisions) -> list[RevisionOut]:
    return [
        RevisionOut(
            title=r.title, body=r.body, edited_by=person_out(r.edited_by), replaced_at=r.replaced_at
        )
        for r in revisions.select_related("edited_by")
    ]


# --- Spaces.


@router.get(
    "/workspaces/{workspace_id}/spaces",
    response=list[SpaceOut],
    tags=["spaces"],
    summary="Spaces I can see in a workspace",
)
def list_spaces(request: HttpRequest, workspace_id: int) -> list[SpaceOut]:
    workspace = workspace_by_id(request.auth, workspace_id)
    return [_space_out(space) for space in queries.workspace_spaces(request.auth, workspace)]


@router.post(
    "/workspaces/{workspace_id}/spaces",
    response={201: SpaceOut},
    tags=["spaces"],
    summary="Create a space (not guests)",
)
def create_space(request: HttpRequest, workspace_id: int, payload: SpaceIn) -> Status:
    workspace = workspace_by_id(request.auth, workspace_id)
    space = actions.create_space(
        request.auth,
        workspace,
        name=payload.name,
        description=payload.description,
        visibility=payload.visibility.value,
        member_ids=payload.member_ids,
    )
    return Status(201, _space_out(space))


@router.get("/spaces/{space_id}", response=SpaceOut, tags=["spaces"], summary="One space")
def get_space(request: HttpRequest, space_id: int) -> SpaceOut:
    return _space_out(queries.space_by_id(request.auth, space_id))


@router.patch(
    "/spaces/{space_id}",
    response=SpaceOut,
    tags=["spaces"],
    summary="Rename, describe, archive or unarchive (creator or admins)",
)
def update_space(request: HttpRequest, space_id: int, payload: SpaceUpdateIn) -> SpaceOut:
    space = queries.space_by_id(request.auth, space_id)
    with transaction.atomic():  # Both changes or neither.
        return _space_out(_update_space(request.auth, space, payload))


def _update_space(person: User, space: Space, payload: SpaceUpdateIn) -> Space:
    if payload.name is not None or payload.description is not None:
        space = actions.update_space(
            person,
            space,
            name=space.name if payload.name is None else payload.name,
            description=space.description if payload.description is None else payload.description,
        )
    if payload.archived is not None:
        space = actions.archive_space(person, space, payload.archived)
    return space


@router.get(
    "/spaces/{space_id}/members",
    response=list[PersonOut],
    tags=["spaces"],
    summary="Members of a private space",
)
def list_space_members(request: HttpRequest, space_id: int) -> list[PersonOut]:
    space = queries.space_by_id(request.auth, space_id)
    return [person_out(p) for p in queries.private_space_members(request.auth, space)]


@router.put(
    "/spaces/{space_id}/members",
    response=list[PersonOut],
    tags=["spaces"],
    summary="Replace the member list of a private space (creator or admins)",
)
def set_space_members(
    request: HttpRequest, space_id: int, payload: SpaceMembersIn
) -> list[PersonOut]:
    space = queries.space_by_id(request.auth, space_id)
    actions.set_space_members(request.auth, space, payload.member_ids)
    return list_space_members(request, space_id)


@router.get("/spaces/{space_id}/level", response=LevelOut, tags=["spaces"], summary="My level")
def get_level(request: HttpRequest, space_id: int) -> LevelOut:
    space = queries.space_by_id(request.auth, space_id)
    return LevelOut(space_id=space.pk, level=queries.space_level(request.auth, space))


@router.put(
    "/spaces/{space_id}/level",
    response=LevelOut,
    tags=["spaces"],
    summary="How much of this space reaches my inbox: all, follow, normal or muted",
)
def set_level(request: HttpRequest, space_id: int, payload: LevelIn) -> LevelOut:
    space = queries.space_by_id(request.auth, space_id)
    row = actions.set_space_level(request.auth, space, payload.level.value)
    return LevelOut(space_id=space.pk, level=row.level)


@router.post(
    "/spaces/{space_id}/attachments",
    response={201: AttachmentOut},
    tags=["attachments"],
    summary="Upload a file (multipart field `file`); post its token with a thread or reply",
)
def upload_attachment(request: HttpRequest, space_id: int, file: File[UploadedFile]) -> Status:
    space = queries.space_by_id(request.auth, space_id)
    attachment = actions.upload_attachment(request.auth, space, file)
    return Status(201, _attachments_out([attachment])[0])


@router.get(
    "/attachments/{token}/{name}",
    tags=["attachments"],
    summary="Download a file (its `download_url`); pictures come inline, other files as downloads",
    openapi_extra={
        "responses": {
            200: {
                "description": "The file's bytes.",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def download_attachment(request: HttpRequest, token: str, name: str) -> HttpResponse:
    # The same rule as the web link: only people who can see where the file was posted.
    return serve_attachment(queries.attachment_for(request.auth, token, name))


# --- Threads.


@router.get(
    "/spaces/{space_id}/threads",
    response=list[ThreadOut],
    summary="Threads in a space, latest activity first",
)
@paginate(LimitOffset)
def list_threads(request: HttpRequest, space_id: int, filters: Query[ThreadFilters]):
    space = queries.space_by_id(request.auth, space_id)
    state = {None: "", True: "resolved", False: "open"}[filters.resolved]
    kind = filters.kind.value if filters.kind else ""
    threads = queries.space_threads(request.auth, space, kind=kind, state=state)
    return threads.select_related("resolved_by")


@router.post("/spaces/{space_id}/threads", response={201: ThreadDetailOut}, summary="Post a thread")
def create_thread(request: HttpRequest, space_id: int, payload: ThreadIn) -> Status:
    space = queries.space_by_id(request.auth, space_id)
    thread = actions.post_thread(
        request.auth,
        space,
        kind=payload.kind.value,
        title=payload.title,
        body=payload.body,
        attachment_tokens=payload.attachments,
        recording_token=payload.recording,
        recording_chunks=payload.recording_chunks,
    )
    return Status(201, _thread_detail(request.auth, thread.pk, PageParams()))


def _thread_detail(person: User, thread_id: int, page: PageParams) -> ThreadDetailOut:
    thread = queries.thread_for(person, thread_id)
    opening, posts = queries.thread_posts(person, thread)
    return ThreadDetailOut(
        **_thread_out(thread).model_dump(),
        following=queries.is_following(person, thread),
        last_read_at=queries.last_read_at(person, thread),
        attachments=_attachments_out(opening.attachments),
        reactions=_reactions_out(opening.reactions),
        replies=RepliesPageOut(
            items=[_reply_out(p) for p in posts[page.offset : page.offset + page.limit]],
            count=len(posts),
            limit=page.limit,
            offset=page.offset,
        ),
    )


@router.get(
    "/threads/{thread_id}",
    response=ThreadDetailOut,
    summary="A thread with a page of its replies (deleted ones as placeholders)",
)
def get_thread(request: HttpRequest, thread_id: int, page: Query[PageParams]) -> ThreadDetailOut:
    return _thread_detail(request.auth, thread_id, page)


@router.patch("/threads/{thread_id}", response=ThreadOut, summary="Edit title/body (author)")
def edit_thread(request: HttpRequest, thread_id: int, payload: ThreadEditIn) -> ThreadOut:
    thread = queries.thread_for(request.auth, thread_id)
    thread = actions.edit_thread(
        request.auth,
        thread,
        title=thread.title if payload.title is None else payload.title,
        body=thread.body if payload.body is None else payload.body,
    )
    return _thread_out(thread)


@router.delete(
    "/threads/{thread_id}", response={204: None}, summary="Delete (author or workspace admin)"
)
def delete_thread(request: HttpRequest, thread_id: int) -> Status:
    actions.delete_thread(request.auth, queries.thread_for(request.auth, thread_id))
    return Status(204, None)


@router.get("/threads/{thread_id}/history", response=list[RevisionOut], summary="Earlier versions")
def thread_history(request: HttpRequest, thread_id: int) -> list[RevisionOut]:
    return _revisions_out(queries.thread_for(request.auth, thread_id).revisions.all())


@router.post(
    "/threads/{thread_id}/resolve",
    response=ThreadOut,
    tags=["decisions"],
    summary="Resolve with a recorded outcome (enters the decision log)",
)
def resolve_thread(request: HttpRequest, thread_id: int, payload: ResolveIn) -> ThreadOut:
    thread = queries.thread_for(request.auth, thread_id)
    return _thread_out(actions.resolve_thread(request.auth, thread, payload.outcome))


@router.post(
    "/threads/{thread_id}/reopen", response=ThreadOut, tags=["decisions"], summary="Reopen"
)
def reopen_thread(request: HttpRequest, thread_id: int) -> ThreadOut:
    thread = queries.thread_for(request.auth, thread_id)
    return _thread_out(actions.reopen_thread(request.auth, thread))


@router.put("/threads/{thread_id}/follow", response=FollowOut, summary="Follow a thread")
def follow_thread(request: HttpRequest, thread_id: int) -> FollowOut:
    return _set_following(request.auth, thread_id, True)


@router.delete("/threads/{thread_id}/follow", response=FollowOut, summary="Unfollow a thread")
def unfollow_thread(request: HttpRequest, thread_id: int) -> FollowOut:
    return _set_following(request.auth, thread_id, False)


def _set_following(person: User, thread_id: int, following: bool) -> FollowOut:
    thread = queries.thread_for(person, thread_id)
    row = actions.follow_thread(person, thread, following)
    return FollowOut(thread_id=thread.pk, following=row.following)


@router.post("/threads/{thread_id}/read", response=ReadOut, summary="Mark read up to now")
def mark_thread_read(request: HttpRequest, thread_id: int) -> ReadOut:
    thread = queries.thread_for(request.auth, thread_id)
    mark = actions.mark_thread_read(request.auth, thread)
    return ReadOut(thread_id=thread.pk, read_at=mark.read_at)


@router.post(
    "/threads/{thread_id}/reactions",
    response=ReactionToggledOut,
    tags=["reactions"],
    summary="Toggle my reaction on the opening post or a reply",
)
def toggle_reaction(
    request: HttpRequest, thread_id: int, payload: ReactionIn
) -> ReactionToggledOut:
    thread = queries.thread_for(request.auth, thread_id)
    reply = None
    if payload.reply_id is not None:
        reply = queries.reply_for(request.auth, thread, payload.reply_id)
    on = actions.toggle_reaction(request.auth, thread, reply, payload.emoji)
    reactions = queries.reactions_for(request.auth, thread, reply)
    return ReactionToggledOut(emoji=payload.emoji, on=on, reactions=_reactions_out(reactions))


@router.get(
    "/workspaces/{workspace_id}/threads",
    response=list[ThreadOut],
    summary="Threads across the spaces I can see in a workspace, latest activity first",
)
@paginate(LimitOffset)
def recent_threads(request: HttpRequest, workspace_id: int):
    workspace = workspace_by_id(request.auth, workspace_id)
    return queries.recent_threads(request.auth, workspace).select_related("resolved_by")


@router.get(
    "/threads/{thread_id}/mentions",
    response=list[PersonOut],
    summary="People who can see the thread, whose name or handle starts with `q`",
)
def mention_candidates(
    request: HttpRequest, thread_id: int, q: str = Query("", max_length=60)
) -> list[PersonOut]:
    thread = queries.thread_for(request.auth, thread_id)
    return [person_out(p) for p in queries.mention_candidates(thread.space, q)]


@router.get(
    "/spaces/{space_id}/mentions",
    response=list[PersonOut],
    tags=["spaces"],
    summary="People who can see the space, whose name or handle starts with `q` (for a new thread)",
)
def space_mention_candidates(
    request: HttpRequest, space_id: int, q: str = Query("", max_length=60)
) -> list[PersonOut]:
    space = queries.space_by_id(request.auth, space_id)
    return [person_out(p) for p in queries.mention_candidates(space, q)]


# --- Replies.


@router.get(
    "/threads/{thread_id}/replies",
    response=RepliesPageOut,
    tags=["replies"],
    summary="A page of replies, oldest first",
)
def list_replies(request: HttpRequest, thread_id: int, page: Query[PageParams]) -> RepliesPageOut:
    return _thread_detail(request.auth, thread_id, page).replies


@router.post(
    "/threads/{thread_id}/replies",
    response={201: ReplyOut},
    tags=["replies"],
    summary="Reply, optionally quoting a passage, with uploaded attachments",
)
def create_reply(request: HttpRequest, thread_id: int, payload: ReplyIn) -> Status:
    thread = queries.thread_for(request.auth, thread_id)
    reply = actions.post_reply(
        request.auth,
        thread,
        body=payload.body,
        quoted_reply_id=payload.quoted_reply_id,
        quote_text=payload.quote_text,
        attachment_tokens=payload.attachments,
        recording_token=payload.recording,
        recording_chunks=payload.recording_chunks,
        # The same as the page's "Comment at" button; a moment without its time is refused.
        moment_recording=payload.moment_recording,
        moment_ms="" if payload.moment_ms is None else payload.moment_ms,
    )
    return Status(201, _single_reply_out(request.auth, reply))


@router.get("/replies/{reply_id}", response=ReplyOut, tags=["replies"], summary="One reply")
def get_reply(request: HttpRequest, reply_id: int) -> ReplyOut:
    return _single_reply_out(request.auth, queries.reply_by_id(request.auth, reply_id))


@router.patch("/replies/{reply_id}", response=ReplyOut, tags=["replies"], summary="Edit (author)")
def edit_reply(request: HttpRequest, reply_id: int, payload: ReplyEditIn) -> ReplyOut:
    reply = actions.edit_reply(
        request.auth, queries.reply_by_id(request.auth, reply_id), body=payload.body
    )
    return _single_reply_out(request.auth, reply)


@router.delete(
    "/replies/{reply_id}",
    response={204: None},
    tags=["replies"],
    summary="Delete (author or workspace admin)",
)
def delete_reply(request: HttpRequest, reply_id: int) -> Status:
    actions.delete_reply(request.auth, queries.reply_by_id(request.auth, reply_id))
    return Status(204, None)


@router.get(
    "/replies/{reply_id}/history",
    response=list[RevisionOut],
    tags=["replies"],
    summary="Earlier versions",
)
def reply_history(request: HttpRequest, reply_id: int) -> list[RevisionOut]:
    return _revisions_out(queries.reply_by_id(request.auth, reply_id).revisions.all())


# --- Decision log.


@router.get(
    "/workspaces/{workspace_id}/decisions",
    response=list[ThreadOut],
    tags=["decisions"],
    summary="Decision log of a workspace, newest first",
)
@paginate(LimitOffset)
def workspace_decisions(request: HttpRequest, workspace_id: int):
    workspace = workspace_by_id(request.auth, workspace_id)
    return queries.decisions(request.auth, workspace)


@router.get(
    "/spaces/{space_id}/decisions",
    response=list[ThreadOut],
    tags=["decisions"],
    summary="Decision log of a space, newest first",
)
@paginate(LimitOffset)
def space_decisions(request: HttpRequest, space_id: int):
    space = queries.space_by_id(request.auth, space_id)
    return queries.decisions(request.auth, space.workspace, space)
