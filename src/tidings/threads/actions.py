"""Every state change of spaces, threads, replies, reactions, attachments and decisions.

Both the pages and the JSON API call these functions; nothing else writes these tables.
Conventions: Http404 for things the person cannot see (existence never leaks),
PermissionDenied for visible-but-not-allowed, ValidationError with a sentence for bad input.
"""

from __future__ import annotations

import mimetypes
import re
import secrets
from collections.abc import Iterable
from datetime import timedelta
from pathlib import PurePath
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Sum
from django.http import Http404
from django.template.defaultfilters import filesizeformat, pluralize
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image, UnidentifiedImageError

from tidings import uploads
from tidings.events import publish
from tidings.threads import access
from tidings.threads.markdown import plain_text, render_markdown, render_post
from tidings.threads.mentions import find_mentions
from tidings.threads.models import (
    REACTION_PALETTE,
    Attachment,
    Reaction,
    ReadMark,
    Reply,
    Revision,
    Space,
    SpaceLevel,
    SpaceMember,
    SpaceSubscription,
    Thread,
    ThreadFollow,
    ThreadKind,
    Visibility,
)
from tidings.workspaces.models import Membership, Workspace

if TYPE_CHECKING:
    from tidings.accounts.models import User

TITLE_MAX = 200
BODY_MAX = 50_000
QUOTE_MAX = 5_000
SPACE_NAME_MAX = 80
SPACE_DESCRIPTION_MAX = 500
IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}


# --- Checks shared by the actions below.


def _require_space_visible(person: User | None, space: Space) -> None:
    if not access.can_view_space(person, space):
        raise Http404("No such space.")


def _require_thread_visible(person: User | None, thread: Thread) -> None:
    if not access.can_view_thread(person, thread):
        raise Http404("No such thread.")


def _require_can_post(person: User | None, space: Space) -> None:
    _require_space_visible(person, space)
    if not access.can_post_in_space(person, space):
        raise PermissionDenied("This space is archived; nothing new can be posted in it.")


def _require_manager(person: User | None, space: Space) -> None:
    _require_space_visible(person, space)
    if not access.can_manage_space(person, space):
        raise PermissionDenied("Only the space's creator or a workspace admin can change it.")


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise ValidationError({"title": ["Give the thread a title."]})
    if len(title) > TITLE_MAX:
        raise ValidationError(
            {"title": [f"Keep the title to {TITLE_MAX} characters or fewer (it has {len(title)})."]}
        )
    return title


def _clean_body(body: str, *, required: bool, field: str = "body") -> str:
    body = (body or "").strip()
    if required and not body:
        raise ValidationError({field: ["Write something first."]})
    if len(body) > BODY_MAX:
        raise ValidationError({field: [f"Keep it under {BODY_MAX:,} characters."]})
    return body


def _squash(text: str) -> str:
    return " ".join(text.split()).casefold()


def _claim_attachments(person: User, space: Space, tokens: Iterable[str]) -> list[Attachment]:
    tokens = [t for t in dict.fromkeys(tokens) if t]
    if not tokens:
        return []
    found = list(
        Attachment.objects.select_for_update().filter(
            token__in=tokens, uploader=person, space=space, thread=None, reply=None
        )
    )
    if len(found) != len(tokens):
        raise ValidationError(
            {"attachments": ["An attachment could not be found. Upload it again and retry."]}
        )
    return found


def hold_attachments(person: User, space: Space, tokens: Iterable[str]) -> list[Attachment]:
    """Keep the person's uploaded, unposted files in `space` for a post scheduled for later:
    they are not cleaned up as abandoned, and the post claims them when it is made."""
    found = _claim_attachments(person, space, tokens)
    Attachment.objects.filter(pk__in=[a.pk for a in found]).update(held_for_later=True)
    return found


def release_attachments(tokens: Iterable[str]) -> int:
    """Let go of files held for a post that will not be made: unposted, they are cleaned up
    like any abandoned upload."""
    return Attachment.objects.filter(token__in=list(tokens), thread=None, reply=None).update(
        held_for_later=False
    )


def _follow(person: User, thread: Thread) -> None:
    # An UPDATE first: most repliers already have the row, and update_or_create would cost a
    # locking read and a savepoint on every reply.
    if not ThreadFollow.objects.filter(thread=thread, person=person).update(following=True):
        ThreadFollow.objects.update_or_create(
            thread=thread, person=person, defaults={"following": True}
        )


# --- Spaces.


def _space_slug(space: Space) -> str:
    """`<id>-<name>`: unique by its id, so it never depends on which other spaces exist (a
    `-2` would tell that a private space has the name). Older spaces keep their slugs."""
    return f"{space.pk}-{slugify(space.name)[:60] or 'space'}"


def _clean_space_fields(name: str, description: str) -> tuple[str, str]:
    name = " ".join((name or "").split())
    description = (description or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Give the space a name."]
    elif len(name) > SPACE_NAME_MAX:
        errors["name"] = [f"Keep the name to {SPACE_NAME_MAX} characters or fewer."]
    if len(description) > SPACE_DESCRIPTION_MAX:
        errors["description"] = [
            f"Keep the description to {SPACE_DESCRIPTION_MAX} characters or fewer."
        ]
    if errors:
        raise ValidationError(errors)
    return name, description


def _workspace_people(workspace: Workspace, ids: Iterable[int | str]) -> set[int]:
    try:
        wanted = {int(i) for i in ids}
    except (TypeError, ValueError) as error:
        raise ValidationError({"member_ids": ["Pick members from the list."]}) from error
    active = set(
        Membership.objects.filter(
            workspace=workspace, deactivated_at=None, person_id__in=wanted, person__is_active=True
        ).values_list("person_id", flat=True)
    )
    if wanted - active:
        raise ValidationError(
            {"member_ids": ["Only people of this workspace can be members of its spaces."]}
        )
    return active


@transaction.atomic
def create_space(
    person: User,
    workspace: Workspace,
    *,
    name: str,
    description: str = "",
    visibility: str = "open",
    member_ids: Iterable[int | str] = (),
) -> Space:
    """Create a space. Guests cannot; a private space always includes its creator; its slug is
    `<id>-<name>`, which says nothing about other spaces."""
    if access.membership(person, workspace) is None:
        raise Http404("No such workspace.")
    if not access.can_create_space(person, workspace):
        raise PermissionDenied("Guests cannot create spaces.")
    name, description = _clean_space_fields(name, description)
    if visibility not in Visibility.values:
        raise ValidationError({"visibility": ["Choose open or private."]})
    members = (
        _workspace_people(workspace, member_ids) if visibility == Visibility.PRIVATE else set()
    )
    space = Space.objects.create(
        workspace=workspace,
        name=name,
        # A placeholder no slug can equal (slugs have no dots) until the id is known.
        slug=f"new.{secrets.token_hex(8)}",
        description=description,
        visibility=visibility,
        created_by=person,
    )
    space.slug = _space_slug(space)
    try:
        with transaction.atomic():
            space.save(update_fields=["slug"])
    except IntegrityError:  # an older space was named "<this id> <name>": add a random tail
        space.slug = f"{space.slug[:70]}-{secrets.token_hex(3)}"
        space.save(update_fields=["slug"])
    if space.is_private:
        SpaceMember.objects.bulk_create(
            SpaceMember(space=space, person_id=pid) for pid in members | {person.pk}
        )
    return space


@transaction.atomic
def update_space(person: User, space: Space, *, name: str, description: str) -> Space:
    """Rename a space and change its description (its address stays the same)."""
    _require_manager(person, space)
    space.name, space.description = _clean_space_fields(name, description)
    space.save(update_fields=["name", "description"])
    return space


@transaction.atomic
def set_space_members(person: User, space: Space, member_ids: Iterable[int | str]) -> None:
    """Replace the member list of a private space. Only people of the workspace; the person
    making the change stays a member so nobody locks themselves out by accident."""
    _require_manager(person, space)
    if not space.is_private:
        raise ValidationError("Open spaces are open to every member; they have no member list.")
    wanted = _workspace_people(space.workspace, member_ids) | {person.pk}
    SpaceMember.objects.filter(space=space).exclude(person_id__in=wanted).delete()
    existing = set(SpaceMember.objects.filter(space=space).values_list("person_id", flat=True))
    SpaceMember.objects.bulk_create(
        SpaceMember(space=space, person_id=pid) for pid in wanted - existing
    )


def add_to_spaces(person_id: int, space_ids: Iterable[int]) -> None:
    """Put the person on the member list of each space (a guest joining by invitation; the
    invitation checked who may add them). Adding someone already there changes nothing."""
    for space_id in space_ids:
        SpaceMember.objects.get_or_create(space_id=space_id, person_id=person_id)


def forget_person_in_workspace(person_id: int, workspace_id: int) -> None:
    """Take a person removed from a workspace off every space list, space level and thread
    follow there: none of it comes back if they are invited again, when they get exactly what
    the new invitation gives."""
    SpaceMember.objects.filter(person_id=person_id, space__workspace_id=workspace_id).delete()
    SpaceSubscription.objects.filter(person_id=person_id, space__workspace_id=workspace_id).delete()
    ThreadFollow.objects.filter(
        person_id=person_id, thread__space__workspace_id=workspace_id
    ).delete()


@transaction.atomic
def archive_space(person: User, space: Space, archived: bool = True) -> Space:
    """Archive (read-only from then on) or unarchive a space."""
    _require_manager(person, space)
    space.archived_at = timezone.now() if archived else None
    space.save(update_fields=["archived_at"])
    return space


@transaction.atomic
def set_space_level(person: User, space: Space, level: str) -> SpaceSubscription:
    """Set how much of a space reaches the person's inbox: all, follow, normal or muted."""
    _require_space_visible(person, space)
    if level not in SpaceLevel.values:
        raise ValidationError({"level": ["Choose all, follow, normal or muted."]})
    subscription, _ = SpaceSubscription.objects.update_or_create(
        space=space, person=person, defaults={"level": level}
    )
    return subscription


# --- Threads.


def post_thread(
    person: User,
    space: Space,
    *,
    kind: str,
    title: str,
    body: str,
    attachment_tokens: Iterable[str] = (),
    recording_token: str = "",
    recording_chunks: int | None = None,
    hold_delivery: bool = False,
) -> Thread:
    """Post a new thread. Validates everything before writing anything; the author follows it;
    it is indexed in the same transaction and inboxes are filled after commit. With
    `recording_token`, the author's recording of that many chunks opens the thread (see
    recordings.upload.attach_to_post); the recording is processed after commit. With
    `hold_delivery`, each reader's inbox gets it at the start of their working hours."""
    _require_can_post(person, space)
    errors: dict[str, list[str]] = {}
    if kind not in ThreadKind.values:
        errors["kind"] = [
            "Choose a kind: discussion, status update, decision, question, announcement"
            " or walkthrough."
        ]
    elif kind == ThreadKind.WALKTHROUGH and not recording_token:
        # A walkthrough is a recording standing alone as a thread.
        errors["recording"] = ["A walkthrough needs a recording: record or upload one."]
    try:
        title = _clean_title(title)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        body = _clean_body(body, required=False)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        attachments = _claim_attachments(person, space, attachment_tokens)
        now = timezone.now()
        rendered = render_post(body, space=space)
        thread = Thread.objects.create(
            space=space,
            author=person,
            kind=kind,
            title=title,
            body=body,
            body_html=rendered.html,
            created_at=now,
            last_activity_at=now,
        )
        Attachment.objects.filter(pk__in=[a.pk for a in attachments]).update(thread=thread)
        if recording_token:
            _post_recording(person, recording_token, recording_chunks, thread, None)
        _follow(person, thread)
        # Held: each reader gets it at the start of their own working hours (send later).
        publish(
            "thread_posted",
            thread_id=thread.pk,
            mentioned_ids=[p.pk for p in rendered.mentioned if p.pk != person.pk],
            hold_delivery=hold_delivery,
        )
    return thread


def _notify_new_mentions(
    person: User, thread: Thread, reply: Reply | None, old_body: str, now_mentioned: list[User]
) -> None:
    """After an edit commits, people @mentioned in the new text and not in the old one get an
    inbox mention (through the inbox fan-out, which checks again who can see the thread)."""
    before = {p.pk for p in find_mentions(old_body, thread.space)}
    added = [p.pk for p in now_mentioned if p.pk not in before | {person.pk}]
    if added:
        publish(
            "mentions_added",
            thread_id=thread.pk,
            reply_id=reply.pk if reply else None,
            mentioned_ids=added,
            actor_id=person.pk,
        )


@transaction.atomic
def edit_thread(person: User, thread: Thread, *, title: str, body: str) -> Thread:
    """Change a thread's title and opening post (author only); the old version is kept.
    People newly @mentioned by the edit get an inbox mention after commit; nobody else."""
    _require_thread_visible(person, thread)
    if not access.can_edit_post(person, thread.author_id, thread.space):
        raise PermissionDenied("Only the author can edit this thread.")
    title = _clean_title(title)
    body = _clean_body(body, required=False)
    if title == thread.title and body == thread.body:
        return thread
    Revision.objects.create(thread=thread, title=thread.title, body=thread.body, edited_by=person)
    rendered = render_post(body, space=thread.space)
    _notify_new_mentions(person, thread, None, thread.body, rendered.mentioned)
    thread.title, thread.body = title, body
    thread.body_html = rendered.html
    thread.edited_at = timezone.now()
    thread.save(update_fields=["title", "body", "body_html", "edited_at"])
    publish("thread_edited", thread_id=thread.pk)
    return thread


@transaction.atomic
def delete_thread(person: User, thread: Thread) -> None:
    """Delete a thread (kept in the database, gone from every list): author or workspace admin."""
    _require_thread_visible(person, thread)
    if not access.can_delete_post(person, thread.author_id, thread.space):
        raise PermissionDenied("Only the author or a workspace admin can delete this thread.")
    thread.deleted_at = timezone.now()
    thread.save(update_fields=["deleted_at"])
    publish("thread_deleted", thread_id=thread.pk)


# --- Replies.


def _check_quote(
    thread: Thread, quoted_reply_id: int | str | None, quote_text: str
) -> Reply | None:
    """The quoted passage must really be in the quoted post (its source or its shown text)."""
    quote_text = (quote_text or "").strip()
    if quoted_reply_id in (None, ""):
        if not quote_text:
            return None
        sources = [thread.body, plain_text(thread.body_html)]
        quoted = None
    else:
        try:
            quoted = thread.replies.filter(deleted_at=None).get(pk=int(quoted_reply_id))
        except (ValueError, TypeError, Reply.DoesNotExist) as error:
            raise ValidationError(
                {"quote_text": ["The reply you quoted is not in this thread any more."]}
            ) from error
        if not quote_text:
            raise ValidationError({"quote_text": ["Select the passage you want to quote."]})
        sources = [quoted.body, plain_text(quoted.body_html)]
    if len(quote_text) > QUOTE_MAX:
        raise ValidationError({"quote_text": ["Quote a shorter passage."]})
    needle = _squash(quote_text)
    if not any(needle in _squash(source) for source in sources):
        raise ValidationError({"quote_text": ["A quote must be a passage of the post it quotes."]})
    return quoted


def post_reply(
    person: User,
    thread: Thread,
    *,
    body: str,
    quoted_reply_id: int | str | None = None,
    quote_text: str = "",
    attachment_tokens: Iterable[str] = (),
    mark_read: bool = False,
    recording_token: str = "",
    recording_chunks: int | None = None,
    moment_recording: str = "",
    moment_ms: int | str | None = None,
    hold_delivery: bool = False,
) -> Reply:
    """Reply in a thread, optionally quoting a passage of the opening post or of a reply.
    The replier follows the thread; the thread's activity time and reply count move forward;
    the reply is indexed in the same transaction and inboxes are filled after commit. With
    `mark_read`, the thread is also marked read for the replier (as `mark_thread_read`).
    With `recording_token`, the replier's recording is the reply (no text needed). With
    `moment_recording` (the token of a recording posted in this thread) the reply is made at
    its moment `moment_ms`, which the recordings app checks and keeps; a wrong one (a
    ValidationError on "moment") undoes the reply. With `hold_delivery`, each reader's inbox
    gets it at the start of their working hours."""
    # One visibility check serves all: a thread one may see is in a space one may see.
    _require_thread_visible(person, thread)
    if thread.space.archived_at is not None:
        raise PermissionDenied("This space is archived; nothing new can be posted in it.")
    tokens = [t for t in attachment_tokens if t]
    body = _clean_body(body, required=not tokens and not recording_token)
    quoted = _check_quote(thread, quoted_reply_id, quote_text)
    with transaction.atomic():
        attachments = _claim_attachments(person, thread.space, tokens)
        now = timezone.now()
        rendered = render_post(body, space=thread.space)
        reply = Reply.objects.create(
            thread=thread,
            author=person,
            body=body,
            body_html=rendered.html,
            quoted_reply=quoted,
            quote_text=" ".join((quote_text or "").split()) if quote_text else "",
            created_at=now,
        )
        Attachment.objects.filter(pk__in=[a.pk for a in attachments]).update(
            thread=thread, reply=reply
        )
        if recording_token:
            _post_recording(person, recording_token, recording_chunks, thread, reply)
        if moment_recording:
            publish(
                "reply_at_moment",
                person_id=person.pk,
                reply_id=reply.pk,
                recording_token=str(moment_recording),
                position_ms="" if moment_ms is None else str(moment_ms),
            )
        Thread.objects.filter(pk=thread.pk).update(
            last_activity_at=now, reply_count=F("reply_count") + 1
        )
        thread.refresh_from_db(fields=["last_activity_at", "reply_count"])
        _follow(person, thread)
        publish(
            "reply_posted",
            reply_id=reply.pk,
            thread_id=thread.pk,
            author_id=person.pk,
            posted_at=reply.created_at.isoformat(),
            mentioned_ids=[p.pk for p in rendered.mentioned if p.pk != person.pk],
            hold_delivery=hold_delivery,
        )
        if mark_read:
            _record_read(person, thread)
    return reply


def _require_reply_visible(person: User | None, reply: Reply) -> None:
    if reply.deleted_at is not None or not access.can_view_thread(person, reply.thread):
        raise Http404("No such reply.")


@transaction.atomic
def edit_reply(person: User, reply: Reply, *, body: str) -> Reply:
    """Change a reply (author only); the old text is kept as a revision and it shows "edited".
    People newly @mentioned by the edit get an inbox mention after commit; nobody else."""
    _require_reply_visible(person, reply)
    if not access.can_edit_post(person, reply.author_id, reply.thread.space):
        raise PermissionDenied("Only the author can edit this reply.")
    body = _clean_body(
        body, required=not reply.attachments.exists() and not reply.recordings.exists()
    )
    if body == reply.body:
        return reply
    Revision.objects.create(reply=reply, body=reply.body, edited_by=person)
    rendered = render_post(body, space=reply.thread.space)
    _notify_new_mentions(person, reply.thread, reply, reply.body, rendered.mentioned)
    reply.body = body
    reply.body_html = rendered.html
    reply.edited_at = timezone.now()
    reply.save(update_fields=["body", "body_html", "edited_at"])
    publish("reply_edited", reply_id=reply.pk, thread_id=reply.thread_id)
    return reply


@transaction.atomic
def delete_reply(person: User, reply: Reply) -> None:
    """Delete a reply: the author or a workspace admin. The thread shows "This reply was deleted"
    in its place; its text leaves the search index and the reply count."""
    _require_reply_visible(person, reply)
    if not access.can_delete_post(person, reply.author_id, reply.thread.space):
        raise PermissionDenied("Only the author or a workspace admin can delete this reply.")
    reply.deleted_at = timezone.now()
    reply.deleted_by = person
    reply.save(update_fields=["deleted_at", "deleted_by"])
    Thread.objects.filter(pk=reply.thread_id, reply_count__gt=0).update(
        reply_count=F("reply_count") - 1
    )
    publish("reply_deleted", reply_id=reply.pk, thread_id=reply.thread_id)


# --- Reactions.


@transaction.atomic
def toggle_reaction(person: User, thread: Thread, reply: Reply | None, emoji: str) -> bool:
    """Add the person's emoji reaction to the opening post (reply None) or a reply, or take it
    back if it is there. Returns True when the reaction is now on. Only the fixed palette."""
    _require_thread_visible(person, thread)
    if reply is not None and (reply.thread_id != thread.pk or reply.deleted_at is not None):
        raise Http404("No such reply.")
    if emoji not in REACTION_PALETTE:
        raise ValidationError({"emoji": ["Pick one of the reactions offered."]})
    removed, _ = Reaction.objects.filter(
        thread=thread, reply=reply, person=person, emoji=emoji
    ).delete()
    if removed:
        return False
    Reaction.objects.get_or_create(thread=thread, reply=reply, person=person, emoji=emoji)
    return True


# --- Decisions.


@transaction.atomic
def resolve_thread(person: User, thread: Thread, outcome: str) -> Thread:
    """Resolve a thread with a recorded outcome (Markdown, required); it enters the decision
    log. Resolving again replaces the outcome."""
    _require_thread_visible(person, thread)
    if not access.can_resolve_thread(person, thread):
        raise PermissionDenied("You cannot resolve this thread.")
    if not (outcome or "").strip():
        raise ValidationError(
            {"outcome": ["Write the outcome first: what was decided or answered."]}
        )
    outcome = _clean_body(outcome, required=True, field="outcome")
    thread.outcome = outcome
    thread.outcome_html = render_markdown(outcome, space=thread.space)
    thread.resolved_at = timezone.now()
    thread.resolved_by = person
    thread.save(update_fields=["outcome", "outcome_html", "resolved_at", "resolved_by"])
    publish("thread_resolved", thread_id=thread.pk, resolved_at=thread.resolved_at.isoformat())
    return thread


@transaction.atomic
def reopen_thread(person: User, thread: Thread) -> Thread:
    """Reopen a resolved thread; it leaves the decision log."""
    _require_thread_visible(person, thread)
    if not access.can_resolve_thread(person, thread):
        raise PermissionDenied("You cannot reopen this thread.")
    thread.resolved_at = None
    thread.resolved_by = None
    thread.outcome = ""
    thread.outcome_html = ""
    thread.save(update_fields=["outcome", "outcome_html", "resolved_at", "resolved_by"])
    publish("thread_reopened", thread_id=thread.pk)
    return thread


# --- Attachments.


def _clean_file_name(raw: str) -> str:
    name = PurePath((raw or "").replace("\\", "/")).name
    name = re.sub(r"[^\w.\- ]+", "_", name).strip(" .")
    if not name:
        name = "file"
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:110] + dot + ext[:9]) if dot and len(ext) < 10 else name[:120]
    return name


def _sniff_image(uploaded: UploadedFile) -> str | None:
    """The image content type read from the bytes, or None when it is not a picture we show."""
    try:
        uploaded.seek(0)
        with Image.open(uploaded) as image:
            image_format = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None
    finally:
        uploaded.seek(0)
    return IMAGE_TYPES.get(image_format or "")


@transaction.atomic
def upload_attachment(person: User, space: Space, uploaded_file: UploadedFile) -> Attachment:
    """Store a file for a post in the space. It is linked to a thread or reply when that is
    posted (by its token). Images are recognised from their bytes, never from the name."""
    _require_can_post(person, space)
    limit = settings.MAX_ATTACHMENT_BYTES
    if uploaded_file.size > limit:
        raise ValidationError(
            {
                "attachments": [
                    f"“{_clean_file_name(uploaded_file.name)}” is too large: files can "
                    f"be up to {limit // (1024 * 1024)} MB."
                ]
            }
        )
    if uploaded_file.size == 0:
        raise ValidationError({"attachments": ["That file is empty."]})
    _require_room_for_unposted(person, uploaded_file.size)
    name = _clean_file_name(uploaded_file.name)
    image_type = _sniff_image(uploaded_file)
    if image_type:
        content_type = image_type
    else:
        guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
        # Anything that could run in a browser is stored as plain bytes.
        risky = guessed.startswith(("image/", "text/html", "application/xhtml", "text/xml"))
        content_type = "application/octet-stream" if risky or "javascript" in guessed else guessed
    attachment = Attachment(
        uploader=person,
        space=space,
        token=secrets.token_hex(16),
        name=name,
        content_type=content_type,
        size=uploaded_file.size,
        is_image=image_type is not None,
    )
    attachment.file.save(name, uploaded_file, save=False)
    attachment.save()
    return attachment


def _require_room_for_unposted(person: User, size: int) -> None:
    """Refuse a file past the person's share of files uploaded and not posted, so nobody can
    fill the disk with uploads that never become posts."""
    # One person's uploads one at a time, so two at once cannot both pass the check.
    get_user_model().objects.select_for_update().filter(pk=person.pk).first()
    # Files held for a post scheduled for later belong to that post: they are not waiting.
    waiting = Attachment.objects.filter(
        uploader=person, thread=None, reply=None, held_for_later=False
    ).aggregate(count=Count("pk"), size=Sum("size"))
    count, used = waiting["count"], waiting["size"] or 0
    days = settings.ABANDONED_UPLOADS_DAYS
    if count >= settings.ATTACHMENT_UNPOSTED_MAX_COUNT:
        raise ValidationError(
            {
                "attachments": [
                    f"You have {count} file{pluralize(count)} uploaded and not posted yet, "
                    "the most one person may keep. Post them with a thread or reply first; "
                    f"files never posted are removed after {days} days."
                ]
            }
        )
    limit = settings.ATTACHMENT_UNPOSTED_MAX_MB * 1024 * 1024
    if used + size > limit:
        raise ValidationError(
            {
                "attachments": [
                    f"Files uploaded and not posted yet may take up to {filesizeformat(limit)} "
                    f"per person; yours take {filesizeformat(used)} and this one "
                    f"{filesizeformat(size)}. Post them with a thread or reply first; files "
                    f"never posted are removed after {days} days."
                ]
            }
        )


def forget_unposted_attachments() -> int:
    """Delete files uploaded for a post that was never made, ABANDONED_UPLOADS_DAYS after
    they were uploaded, rows and bytes. Files of posted threads and replies, and files held
    for a post scheduled for later, are never touched; a post claiming a file right now keeps
    it (its row is locked and skipped). Returns how many were removed."""
    cutoff = timezone.now() - timedelta(days=settings.ABANDONED_UPLOADS_DAYS)
    return uploads.forget_in_batches(
        Attachment.objects.filter(
            thread=None, reply=None, held_for_later=False, created_at__lt=cutoff
        ),
        lambda batch: list(Attachment.objects.filter(pk__in=batch).values_list("file", flat=True)),
        Attachment.file.field.storage,
    )


# --- Following and reading.


@transaction.atomic
def follow_thread(person: User, thread: Thread, following: bool) -> ThreadFollow:
    """Follow (replies come to the inbox) or unfollow a thread."""
    _require_thread_visible(person, thread)
    row, _ = ThreadFollow.objects.update_or_create(
        thread=thread, person=person, defaults={"following": bool(following)}
    )
    return row


@transaction.atomic
def mark_thread_read(person: User, thread: Thread, *, found_visible: bool = False) -> ReadMark:
    """Record that the person has read the thread up to now, and clear its inbox item's unread.

    Raises Http404 when the person cannot see the thread. `found_visible=True` skips that check
    for a thread the caller found through `access.visible_threads(person)` in this request."""
    if not found_visible:
        _require_thread_visible(person, thread)
    return _record_read(person, thread)


def _record_read(person: User, thread: Thread) -> ReadMark:
    """The read mark and the inbox's unread flag, once visibility has been checked, in one
    transaction. A mark that exists (every visit after the first) is one `UPDATE`; the first
    visit creates it (`update_or_create`, which also settles two first visits at once)."""
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        mark = ReadMark(thread=thread, person=person, read_at=now)
        if not ReadMark.objects.filter(thread=thread, person=person).update(read_at=now):
            mark, _ = ReadMark.objects.update_or_create(
                thread=thread, person=person, defaults={"read_at": now}
            )
        publish("thread_read", person_id=person.pk, thread_id=thread.pk)
    return mark


def _post_recording(
    person: User, token: str, chunk_count: int | None, thread: Thread, reply: Reply | None
) -> None:
    """The person's recording goes with the post: the recordings app takes it in this
    transaction, and refuses it (a ValidationError) when it cannot go, which undoes the post."""
    publish(
        "recording_posted",
        person_id=person.pk,
        recording_token=token,
        chunk_count=chunk_count,
        thread_id=thread.pk,
        reply_id=reply.pk if reply is not None else None,
    )
