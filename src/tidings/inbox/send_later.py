"""Send later: a post published at a time, or delivered in each reader's working hours.

It builds on posting (threads and recordings) and on the inbox fan-out, so it sits in the
inbox app, above both; the workers run `publish_due_posts` and `deliver_held` every minute.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from tidings.accounts import delivery
from tidings.accounts.models import User
from tidings.inbox import actions
from tidings.inbox.models import ScheduledDelivery, ScheduledPost, ScheduleState
from tidings.recordings import upload as recording_upload
from tidings.threads import actions as thread_actions
from tidings.threads.access import visible_spaces, visible_threads
from tidings.threads.models import ThreadKind

if TYPE_CHECKING:
    from tidings.threads.models import Reply, Space, Thread

SCHEDULED_TITLE_MAX = 200
SCHEDULED_BODY_MAX = 50_000


def _clean_scheduled(
    thread: Thread | None, kind: str, title: str, body: str, *, has_media: bool = False
) -> dict:
    """The fields of a scheduled post, checked as posting will check them."""

    title, body = " ".join((title or "").split()), (body or "").strip()
    errors: dict[str, list[str]] = {}
    if thread is None:
        if kind not in ThreadKind.values or kind == ThreadKind.WALKTHROUGH:
            errors["kind"] = ["Choose a kind: discussion, status update, decision, question or"
                              " announcement."]  # fmt: skip
        if not title:
            errors["title"] = ["Give the thread a title."]
        elif len(title) > SCHEDULED_TITLE_MAX:
            errors["title"] = [f"Keep the title under {SCHEDULED_TITLE_MAX} characters."]
    elif not body and not has_media:
        errors["body"] = ["Write the reply before scheduling it."]
    if len(body) > SCHEDULED_BODY_MAX:
        errors["body"] = [f"Keep the text under {SCHEDULED_BODY_MAX:,} characters."]
    if errors:
        raise ValidationError(errors)
    return {"kind": kind if thread is None else "", "title": title, "body": body}


@transaction.atomic
def schedule_post(
    author: User,
    *,
    space: Space | None = None,
    thread: Thread | None = None,
    kind: str = "",
    title: str = "",
    body: str = "",
    send_at: dt.datetime,
    attachment_tokens: Iterable[str] = (),
    recording_token: str = "",
    recording_chunks: int | None = None,
    now: dt.datetime | None = None,
) -> ScheduledPost:
    """Keep a new thread in `space` (or a reply in `thread`) to publish at `send_at` (naive: in
    the author's zone), through the normal posting actions. Nobody else sees it until then.
    Files the author uploaded and a recording they made are held until then and posted with
    it (they are checked now as posting checks them)."""

    now = now or timezone.now()
    if thread is not None:
        if not visible_threads(author).filter(pk=thread.pk).exists():
            raise Http404("No such thread.")
        space = thread.space
    if space is None or not visible_spaces(author).filter(pk=space.pk).exists():
        raise Http404("No such space.")
    if space.archived_at is not None:
        raise PermissionDenied("This space is archived; nothing new can be posted in it.")
    tokens = [t for t in dict.fromkeys(attachment_tokens) if t]
    fields = _clean_scheduled(thread, kind, title, body, has_media=bool(tokens or recording_token))
    send_at = actions.future_time(author, send_at, now, "post")
    thread_actions.hold_attachments(author, space, tokens)
    if recording_token:
        recording_upload.hold_for_later(
            author, recording_token, space=space, thread=thread, chunk_count=recording_chunks
        )
    return ScheduledPost.objects.create(
        author=author,
        space=space,
        thread=thread,
        send_at=send_at,
        created_at=now,
        attachment_tokens=tokens,
        recording_token=recording_token,
        recording_chunks=recording_chunks,
        **fields,
    )


def _release(post: ScheduledPost) -> None:
    """The post will not be made: its held files and recording go back to being unposted."""

    thread_actions.release_attachments(post.attachment_tokens)
    recording_upload.release_for_later(post.recording_token)


def _own_scheduled(author: User, scheduled_id: int) -> ScheduledPost:
    found = (
        ScheduledPost.objects.select_for_update(of=("self",))
        .filter(pk=scheduled_id, author=author, state=ScheduleState.SCHEDULED)
        .select_related("thread", "space")
        .first()
    )
    if found is None:
        raise Http404("No such scheduled post.")
    return found


@transaction.atomic
def edit_scheduled(
    author: User,
    scheduled_id: int,
    *,
    title: str,
    body: str,
    send_at: dt.datetime,
    now: dt.datetime | None = None,
) -> ScheduledPost:
    """Change the words or the time of one's post that is still waiting to be sent."""
    found = _own_scheduled(author, scheduled_id)
    has_media = bool(found.attachment_tokens or found.recording_token)
    fields = _clean_scheduled(found.thread, found.kind, title, body, has_media=has_media)
    found.title, found.body = fields["title"], fields["body"]
    found.send_at = actions.future_time(author, send_at, now or timezone.now(), "post")
    found.save(update_fields=["title", "body", "send_at"])
    return found


@transaction.atomic
def cancel_scheduled(author: User, scheduled_id: int) -> ScheduledPost:
    """Drop one's post that is still waiting to be sent."""
    found = _own_scheduled(author, scheduled_id)
    found.state = ScheduleState.CANCELLED
    found.save(update_fields=["state"])
    _release(found)
    return found


def cancel_scheduled_posts_in(author_id: int, workspace_id: int) -> int:
    """Drop every post the author still has waiting to be sent in the workspace (they were
    removed from it). Returns how many."""
    waiting = list(
        ScheduledPost.objects.select_for_update(of=("self",)).filter(
            author_id=author_id, space__workspace_id=workspace_id, state=ScheduleState.SCHEDULED
        )
    )
    for post in waiting:
        post.state = ScheduleState.CANCELLED
        post.save(update_fields=["state"])
        _release(post)
    return len(waiting)


def publish_due_posts(now: dt.datetime | None = None) -> int:
    """Publish every scheduled post whose time has come, exactly once: the row is claimed in
    the same transaction that posts it, so a second run or worker finds nothing to do. A post
    that can no longer be made (access lost, space archived) is marked failed with the reason.
    Returns how many were published."""

    now = now or timezone.now()
    due = ScheduledPost.objects.filter(state=ScheduleState.SCHEDULED, send_at__lte=now)
    published = 0
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            claimed = ScheduledPost.objects.filter(pk=pk, state=ScheduleState.SCHEDULED).update(
                state=ScheduleState.SENT, sent_at=now
            )
            if not claimed:
                continue
            post = ScheduledPost.objects.select_related("author", "space", "thread").get(pk=pk)
            try:
                with transaction.atomic():
                    media = {
                        "attachment_tokens": post.attachment_tokens,
                        "recording_token": post.recording_token,
                        "recording_chunks": post.recording_chunks,
                    }
                    if post.thread is None:
                        post.sent_thread = thread_actions.post_thread(
                            post.author, post.space, kind=post.kind, title=post.title,
                            body=post.body, **media,
                        )  # fmt: skip
                    else:
                        post.sent_reply = thread_actions.post_reply(
                            post.author, post.thread, body=post.body, **media
                        )
                        post.sent_thread = post.thread
            except (ValidationError, PermissionDenied, Http404) as error:
                post.state = ScheduleState.FAILED
                messages = getattr(error, "messages", None) or [str(error)]
                post.failure = " ".join(messages)[:300]
                _release(post)
            else:
                published += 1
            post.save(update_fields=["state", "sent_thread", "sent_reply", "failure"])
    return published


def working_hours_deliveries(
    thread: Thread, author_id: int | None, now: dt.datetime
) -> list[tuple[User, dt.datetime]]:
    """Who gets a post sent "in the recipients' working hours", and when: everyone who can see
    the thread but its author, each at the start of their next working window (`now` when
    they are working), soonest first."""

    people = User.objects.filter(pk__in=actions.viewer_ids(thread) - {author_id}).select_related(
        "delivery_settings"
    )
    times = [(p, delivery.next_working_start(delivery.settings_for(p), now)) for p in people]
    return sorted(times, key=lambda pair: (pair[1], pair[0].name))


def hold_delivery(thread: Thread, reply: Reply | None, mentioned: Iterable[int]) -> int:
    """A post sent "in the recipients' working hours" is published for its author now; each
    person who can see it gets it in their inbox at the start of their next working window
    (now, if they are working). Returns how many deliveries were held."""
    author_id = reply.author_id if reply is not None else thread.author_id
    if ScheduledDelivery.objects.filter(thread=thread, reply=reply).exists():
        return 0  # this post's deliveries are held already (the task ran twice)
    now = timezone.now()
    mentioned_ids = set(mentioned)
    rows = [
        ScheduledDelivery(
            thread=thread,
            reply=reply,
            person=person,
            mentioned=person.pk in mentioned_ids,
            deliver_at=deliver_at,
        )
        for person, deliver_at in working_hours_deliveries(thread, author_id, now)
    ]
    ScheduledDelivery.objects.bulk_create(rows)
    deliver_held(now)
    return len(rows)


def deliver_held(now: dt.datetime | None = None) -> int:
    """Deliver every held post to the people whose working window has started, once each
    (rows are claimed by a conditional update); the fan-out checks access and follows again.
    Returns how many people got an inbox item."""
    now = now or timezone.now()
    due = ScheduledDelivery.objects.filter(delivered_at=None, deliver_at__lte=now)
    batches: dict[tuple[int, int | None], list[ScheduledDelivery]] = {}
    for row in due.select_related("thread__space", "reply__thread__space").order_by("pk"):
        batches.setdefault((row.thread_id, row.reply_id), []).append(row)
    touched = 0
    for rows in batches.values():
        ids = [row.pk for row in rows]
        with transaction.atomic():
            claimed = list(
                ScheduledDelivery.objects.select_for_update()
                .filter(pk__in=ids, delivered_at=None)
                .values_list("pk", "person_id", "mentioned")
            )
            ScheduledDelivery.objects.filter(pk__in=[c[0] for c in claimed]).update(
                delivered_at=now
            )
        people = {person_id for _, person_id, _ in claimed}
        mentioned = [person_id for _, person_id, was in claimed if was]
        if not people:
            continue
        if rows[0].reply is None:
            touched += actions.fan_out_thread_posted(rows[0].thread, mentioned, only=people)
        else:
            touched += actions.fan_out_reply_posted(rows[0].reply, mentioned, only=people)
    return touched
