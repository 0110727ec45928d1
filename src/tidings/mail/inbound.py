"""Incoming mail: every message received for one of our addresses goes through
`receive_message`, which posts it (a reply by email, a new thread at a space address), holds
it for a space admin, ignores it (auto-replies, bounces, loops) or rejects it with a reason.

Every message is logged (InboundMessage) once per recipient; the same Message-ID delivered
again returns the first result and posts nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail import EmailMessage as OutgoingEmail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from tidings.mail import addresses, letters, outbox, reading
from tidings.mail.models import InboundMessage, InboundResult, SpaceMailbox, UnknownSenders
from tidings.recordings import actions as recording_actions
from tidings.threads import actions as thread_actions
from tidings.threads.models import Reply, Space, Thread, ThreadKind
from tidings.workspaces import access

if TYPE_CHECKING:
    from tidings.accounts.models import User

log = logging.getLogger(__name__)

_AUTOMATED_SENDERS = {"mailer-daemon", "postmaster", "noreply", "no-reply"}
_TITLE_FROM_BODY = 80
# "Re:", "Fwd:" and their German and Nordic forms, however many, before a subject.
_REPLY_PREFIXES = re.compile(r"^(\s*(re|fwd?|aw|wg|sv|vs)\s*:\s*)+", re.IGNORECASE)
_FORGED = (
    "This reply address is not valid. Reply to the latest email about the thread, "
    "or answer in Tidings."
)
_NO_SUCH_ADDRESS = "There is no such address here."
_BAD_UNSUBSCRIBE = (
    "This unsubscribe address is not valid. Use the link at the foot of a recent email, "
    "or change your email settings in Tidings."
)


@dataclass(frozen=True)
class Outcome:
    """What became of one message for one recipient, and the SMTP answer that says so."""

    result: str
    reason: str = ""
    smtp_code: int = 250
    log_id: int | None = None
    thread_id: int | None = None
    reply_id: int | None = None
    repeated: bool = False  # The same message was handled before; nothing was done now.

    @property
    def smtp_reply(self) -> str:
        if self.smtp_code < 400:
            return f"250 2.0.0 {self.reason or 'Received.'}"
        enhanced = "5.3.4" if self.smtp_code == 552 else "5.7.1"
        return f"{self.smtp_code} {enhanced} {self.reason}"


class _Refused(Exception):
    def __init__(self, reason: str, code: int = 550) -> None:
        super().__init__(reason)
        self.reason, self.code = reason, code


# --- What is ignored.


def _is_automatic(message: EmailMessage, sender: str, envelope_sender: str | None) -> str:
    """Why the message is machine-made and must get no answer, or "" for a person's mail."""
    auto = reading.header(message, "Auto-Submitted").lower()
    if auto and auto != "no":
        return "Auto-submitted message."
    if reading.header(message, "Precedence").lower() in {"bulk", "junk", "list", "auto_reply"}:
        return "Bulk or list message."
    if reading.header(message, "X-Autoreply") or reading.header(message, "X-Autorespond"):
        return "Auto-reply."
    if envelope_sender is not None and envelope_sender.strip("<> ") == "":
        return "Bounce (empty return path)."
    if message.get_content_type() == "multipart/report":
        return "Delivery report."
    if sender.partition("@")[0] in _AUTOMATED_SENDERS:
        return "Automated sender."
    if _is_our_own(sender):
        return "Loop: sent by this server."
    return ""


def _is_our_own(address: str) -> bool:
    """Whether the sender is one of this server's own addresses (its From address, a reply
    address or a space address): such mail is our own coming back, a loop."""
    if address == parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower():
        return True
    local_part, _, domain = address.rpartition("@")
    if domain != addresses.mail_domain():
        return False
    return (
        local_part.startswith(addresses.REPLY_PREFIX)
        or SpaceMailbox.objects.filter(local_part=local_part).exists()
    )


# --- Posting.


def _upload_files(person: User, space: Space, files: list[reading.MailFile]) -> list[str]:
    tokens = []
    for item in files:
        uploaded = SimpleUploadedFile(item.name, item.data, content_type=item.content_type)
        tokens.append(thread_actions.upload_attachment(person, space, uploaded).token)
    return tokens


def _recording(
    person: User, letter: letters.Letter, *, space: Space, thread: Thread | None
) -> tuple[str, int | None]:
    """The first audio or video file as a recording: (token, chunk count), or ("", None). A
    file the recordings refuse (too large, too long) is named in the post instead."""
    media = next((f for f in letter.files if f.is_media), None)
    if media is None:
        return "", None
    letter.files.remove(media)
    try:
        with transaction.atomic():
            recording = recording_actions.start_recording(
                person,
                space=space,
                thread=thread,
                source="upload",
                mime_type=media.content_type,
                original_name=media.name,
                size=len(media.data),
            )
            step = recording_actions.max_chunk_bytes()
            pieces = [media.data[i : i + step] for i in range(0, len(media.data), step)]
            for index, piece in enumerate(pieces):
                recording_actions.store_chunk(person, recording, index, piece)
    except recording_actions.UploadRefused as refused:
        letter.unreadable.append(reading.Unreadable(media.name, str(refused).rstrip(".")))
        return "", None
    return recording.token, len(pieces)


def _post(
    person: User,
    message: EmailMessage,
    *,
    space: Space,
    thread: Thread | None,
    title: str = "",
    note: str = "",
) -> tuple[Reply | Thread, letters.Letter]:
    """Post the message's new words, forwarded messages, files and first audio or video (as
    a recording): a reply when `thread` is given, else a new thread in `space` (starting with
    `note`, when given). Returns the post and the letter it was made of."""
    letter = letters.letter_for(message, keep_history=thread is None)
    if note:
        letter.pieces.insert(0, note)
    recording_token, chunks = _recording(person, letter, space=space, thread=thread)
    letter = letters.within_limits(letter)
    tokens = _upload_files(person, space, letter.files)
    if thread is not None:
        # Answering the email means the person read the thread up to here.
        reply = thread_actions.post_reply(
            person,
            thread,
            body=letter.body,
            attachment_tokens=tokens,
            recording_token=recording_token,
            recording_chunks=chunks,
            mark_read=True,
        )
        return reply, letter
    new_thread = thread_actions.post_thread(
        person,
        space,
        kind=ThreadKind.DISCUSSION,
        title=title or _title_from(letter.body) or f"Email from {person.name or person.email}",
        body=letter.body,
        attachment_tokens=tokens,
        recording_token=recording_token,
        recording_chunks=chunks,
    )
    return new_thread, letter


def _title_from(text: str) -> str:
    lines = (line.strip() for line in text.splitlines())
    first_line = next((line for line in lines if line and not line.startswith(":::")), "")
    if len(first_line) > _TITLE_FROM_BODY:
        first_line = first_line[: _TITLE_FROM_BODY - 1].rstrip() + "…"
    return first_line


def _refusal(error: Exception) -> _Refused:
    if isinstance(error, ValidationError):
        return _Refused(" ".join(error.messages))
    if isinstance(error, recording_actions.UploadRefused):
        return _Refused(str(error), 552 if error.status_code == 413 else 550)
    return _Refused(str(error) or "This could not be posted.")


def _active_person(address: str) -> User | None:
    from tidings.accounts.models import User

    if not address:
        return None
    return User.objects.filter(email__iexact=address, is_active=True).first()


def _by_reply_address(token: str, message: EmailMessage, sender: str, entry: InboundMessage) -> str:
    ids = addresses.read_reply_token(token)
    if ids is None:
        raise _Refused(_FORGED)
    from tidings.accounts.models import User

    person = User.objects.filter(pk=ids[0]).first()
    if person is None or not person.is_active:
        raise _Refused("This reply address belongs to an account that is closed.")
    if sender != person.email.lower():
        raise _Refused(
            "This reply address belongs to another person. Reply from the address the "
            "email was sent to."
        )
    thread = Thread.objects.select_related("space").filter(pk=ids[1], deleted_at=None).first()
    if thread is None or not access.can_view_thread(person, thread):
        raise _Refused("You can no longer see this thread, so the reply was not posted.")
    entry.space, entry.thread = thread.space, thread
    reply, letter = _post(person, message, space=thread.space, thread=thread)
    entry.reply = reply
    return _posted("Reply posted.", message, sender, thread, letter)


def _by_unsubscribe_address(token: str, entry: InboundMessage) -> str:
    space = outbox.unsubscribe_by_email(token)
    if space is None:
        raise _Refused(_BAD_UNSUBSCRIBE)
    entry.space = space
    return f"Unsubscribed from {space.name}: only mentions, requests and reminders still come."


def _may_start_thread(person: User | None, space: Space) -> bool:
    return (
        person is not None
        and access.can_view_space(person, space)
        and access.can_post_in_space(person, space)
    )


def _by_space_address(
    mailbox: SpaceMailbox, message: EmailMessage, raw: bytes, sender: str, entry: InboundMessage
) -> tuple[str, str]:
    space = mailbox.space
    entry.space = space
    if space.archived_at is not None:
        raise _Refused("This space is archived; nothing new can be posted in it.")
    person = _active_person(sender)
    if _may_start_thread(person, space):
        assert person is not None
        thread, letter = _post(person, message, space=space, thread=None, title=_title(message))
        entry.thread = thread
        return InboundResult.ACCEPTED, _posted("Thread started.", message, sender, thread, letter)
    if mailbox.unknown_senders == UnknownSenders.HOLD:
        entry.held_file.save(f"{secrets.token_hex(16)}.eml", ContentFile(raw), save=False)
        return InboundResult.HELD, "Held for a space admin to review."
    raise _Refused("Only members of this space can start threads by email at this address.")


def _posted(
    reason: str, message: EmailMessage, sender: str, thread: Thread, letter: letters.Letter
) -> str:
    """The result's reason; when parts could not be read, it names them, and the sender is
    told by an automatic reply once the post is saved."""
    if not letter.unreadable:
        return reason
    names = ", ".join(f"{u.name or 'the message text'} ({u.why})" for u in letter.unreadable)
    url = outbox.absolute(reverse("threads:thread", args=[thread.pk]))
    transaction.on_commit(lambda: _tell_sender_what_was_lost(message, sender, url, letter))
    return f"{reason} Not everything could be read: {names}."


def auto_reply(message: EmailMessage, to: str, subject: str, text: str) -> None:
    """Send an automatic answer to a received message (marked so that no auto-responder
    answers it back), threaded under it."""
    original_subject = reading.header(message, "Subject")[:150]
    reply = OutgoingEmail(
        subject=f"{subject}: {original_subject}" if original_subject else subject,
        body=f"{text}\n\nThis is an automatic reply; answers to it are not read.",
        to=[to],
        headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"},
    )
    if message_id := reading.header(message, "Message-ID"):
        reply.extra_headers.update({"In-Reply-To": message_id, "References": message_id})
    reply.send(fail_silently=False)


def _tell_sender_what_was_lost(
    message: EmailMessage, sender: str, url: str, letter: letters.Letter
) -> None:
    lines = "\n".join(
        f"- {u.name or 'Part of the message text'} ({u.why})" for u in letter.unreadable
    )
    text = (
        f"Your message was posted in Tidings, but these parts of it could not be read:\n\n"
        f"{lines}\n\nSend them again, or add them in Tidings: {url}"
    )
    try:
        auto_reply(message, sender, "Not all of your message could be read", text)
    except Exception:
        # The post is saved and names what is missing: a failed notice must not undo it.
        log.exception("Could not tell %s about unreadable parts of a message", sender)


def _title(message: EmailMessage) -> str:
    subject = _REPLY_PREFIXES.sub("", reading.header(message, "Subject"))
    return subject[: thread_actions.TITLE_MAX]


def _route(
    raw: bytes,
    message: EmailMessage,
    recipient: str,
    envelope_sender: str | None,
    entry: InboundMessage,
) -> tuple[str, str]:
    local_part, _, domain = recipient.rpartition("@")
    if domain != addresses.mail_domain():
        raise _Refused(f"This server takes mail only for @{addresses.mail_domain()}.")
    sender = entry.sender
    if why := _is_automatic(message, sender, envelope_sender):
        return InboundResult.IGNORED, why
    if len(raw) > settings.MAIL_MAX_MB * 1024 * 1024:
        raise _Refused(f"Messages can be up to {settings.MAIL_MAX_MB} MB.", 552)
    if not sender:
        raise _Refused("The message has no sender address (From).")
    try:
        with transaction.atomic():
            if local_part.startswith(addresses.REPLY_PREFIX):
                token = local_part[len(addresses.REPLY_PREFIX) :]
                return InboundResult.ACCEPTED, _by_reply_address(token, message, sender, entry)
            if local_part.startswith(addresses.UNSUBSCRIBE_PREFIX):
                token = local_part[len(addresses.UNSUBSCRIBE_PREFIX) :]
                return InboundResult.ACCEPTED, _by_unsubscribe_address(token, entry)
            mailbox = (
                SpaceMailbox.objects.select_related("space__workspace")
                .filter(local_part=local_part)
                .first()
            )
            if mailbox is None:
                raise _Refused(_NO_SUCH_ADDRESS)
            return _by_space_address(mailbox, message, raw, sender, entry)
    except (ValidationError, PermissionDenied, Http404, recording_actions.UploadRefused) as error:
        raise _refusal(error) from error


def check_recipient(address: str) -> str:
    """Why mail for `address` cannot be taken at all ("" when it may be): answered at RCPT,
    so an SMTP sender learns it per recipient before sending the message."""
    local_part, _, domain = address.strip().lower().rpartition("@")
    if domain != addresses.mail_domain():
        return f"This server takes mail only for @{addresses.mail_domain()}."
    if local_part.startswith(addresses.REPLY_PREFIX):
        if addresses.read_reply_token(local_part[len(addresses.REPLY_PREFIX) :]) is None:
            return _FORGED
        return ""
    if local_part.startswith(addresses.UNSUBSCRIBE_PREFIX):
        token = local_part[len(addresses.UNSUBSCRIBE_PREFIX) :]
        return "" if addresses.read_unsubscribe_address(token) else _BAD_UNSUBSCRIBE
    if not SpaceMailbox.objects.filter(local_part=local_part).exists():
        return _NO_SUCH_ADDRESS
    return ""


def _from_log(entry: InboundMessage, *, again: bool) -> Outcome:
    rejected = entry.result == InboundResult.REJECTED
    return Outcome(
        result=entry.result,
        reason="Already received." if again and not rejected else entry.reason,
        smtp_code=550 if rejected else 250,
        log_id=entry.pk,
        thread_id=entry.thread_id,
        reply_id=entry.reply_id,
        repeated=again,
    )


class _Duplicate(Exception):
    pass


def _keep_original(entry: InboundMessage, raw: bytes) -> None:
    """Keep the message as it came, for "View original", for MAIL_KEEP_ORIGINAL_DAYS."""
    if settings.MAIL_KEEP_ORIGINAL_DAYS > 0:
        entry.original.save(f"{secrets.token_hex(16)}.eml", ContentFile(raw), save=False)


def receive_message(raw: bytes, recipient: str, *, envelope_sender: str | None = None) -> Outcome:
    """Handle one message for one recipient address and log what became of it.

    Never raises for bad input: a message that cannot be posted is rejected with a reason
    (SMTP 550, or 552 when too large). An unexpected error rolls everything back and
    propagates, so the receiver answers 451 and the sending server tries again later."""
    recipient = reading.clean(parseaddr(recipient)[1]).strip().lower()
    message = reading.parse(raw)
    _, sender = reading.sender(message)
    message_id = reading.header(message, "Message-ID")[:255]
    if message_id and (
        found := InboundMessage.objects.filter(message_id=message_id, recipient=recipient).first()
    ):
        return _from_log(found, again=True)
    entry = InboundMessage(
        message_id=message_id,
        recipient=recipient[:255],
        sender=sender,
        subject=reading.header(message, "Subject")[:255],
    )
    code = 250
    try:
        with transaction.atomic():
            try:
                entry.result, entry.reason = _route(raw, message, recipient, envelope_sender, entry)
            except _Refused as refused:
                entry.result, entry.reason, code = (
                    InboundResult.REJECTED,
                    refused.reason,
                    refused.code,
                )
                entry.thread = entry.reply = None
            entry.reason = entry.reason[:300]
            if entry.result == InboundResult.ACCEPTED and (entry.thread or entry.reply):
                _keep_original(entry, raw)
            try:
                with transaction.atomic():
                    entry.save()
            except IntegrityError as error:
                # The same message arrived twice at once and the other delivery logged it
                # first: undo this one's post.
                raise _Duplicate from error
    except _Duplicate:
        for kept in (entry.held_file, entry.original):
            if kept:
                kept.delete(save=False)
        found = InboundMessage.objects.filter(message_id=message_id, recipient=recipient).first()
        if found is None:
            raise
        return _from_log(found, again=True)
    log.info(
        "inbound mail %s for %s from %s: %s (%s)",
        entry.pk,
        recipient,
        sender,
        entry.result,
        entry.reason,
    )
    return Outcome(
        result=entry.result,
        reason=entry.reason,
        smtp_code=code,
        log_id=entry.pk,
        thread_id=entry.thread_id,
        reply_id=entry.reply_id,
    )


# --- Originals: the message as it came, for the post's author and workspace admins.


def forget_old_originals(now: dt.datetime | None = None) -> int:
    """Delete kept originals older than MAIL_KEEP_ORIGINAL_DAYS (all of them when it is 0);
    the log lines and posts stay. Returns how many were removed."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.MAIL_KEEP_ORIGINAL_DAYS)
    old = InboundMessage.objects.exclude(original="").filter(received_at__lt=cutoff)
    kept = list(old.values_list("pk", "original"))
    for _pk, name in kept:
        default_storage.delete(name)
    InboundMessage.objects.filter(pk__in=[pk for pk, _name in kept]).update(original="")
    return len(kept)


def original_for(person: User | None, message_pk: int) -> InboundMessage:
    """The kept message a post came from. Http404 unless the person can see the post and it
    still has its original; PermissionDenied unless they wrote it or are a workspace admin."""
    entry = (
        InboundMessage.objects.select_related("thread__space", "reply")
        .exclude(original="")
        .filter(pk=message_pk, result=InboundResult.ACCEPTED)
        .first()
    )
    thread = entry.thread if entry is not None else None
    if entry is None or thread is None or thread.deleted_at is not None:
        raise Http404("No such message.")
    post = entry.reply or thread
    if getattr(post, "deleted_at", None) is not None or not access.can_view_thread(person, thread):
        raise Http404("No such message.")
    if not access.can_view_original_email(person, post.author_id, thread.space):
        raise PermissionDenied("Only the author of the post or a workspace admin can see it.")
    return entry


def original_links(thread: Thread, reply_ids: list[int]) -> dict[int | None, str]:
    """{reply id, or None for the opening post: "View original" URL} for the posts of a page
    that came by email and still have their original. Who may open one is the page's to
    decide, by `access.can_view_original_email`."""
    entries = (
        InboundMessage.objects.filter(result=InboundResult.ACCEPTED, thread=thread)
        .filter(Q(reply=None) | Q(reply_id__in=reply_ids))
        .exclude(original="")
        .values_list("pk", "reply_id")
    )
    return {reply_id: reverse("mail:original", args=[pk]) for pk, reply_id in entries}


# --- Held messages: a space admin decides.


def held_messages(person: User, space: Space) -> list[InboundMessage]:
    """Messages from unknown senders waiting in the space, for people who manage it."""
    if not access.can_manage_space(person, space):
        return []
    return list(InboundMessage.objects.filter(space=space, result=InboundResult.HELD)[:50])


@dataclass(frozen=True)
class SpaceMail:
    address: str
    unknown_senders: str
    held: list[InboundMessage]
    recent: list[InboundMessage]
    choices = UnknownSenders.choices


def space_mail(person: User, space: Space) -> SpaceMail | None:
    """The space's address, its unknown-sender setting and held mail, for its managers."""
    if not access.can_manage_space(person, space):
        return None
    mailbox = addresses.mailbox_for(space)
    address = f"{mailbox.local_part}@{addresses.mail_domain()}"
    recent = InboundMessage.objects.filter(space=space, recipient=address).exclude(
        result=InboundResult.HELD
    )
    return SpaceMail(
        address=address,
        unknown_senders=mailbox.unknown_senders,
        held=held_messages(person, space),
        recent=list(recent[:10]),
    )


def _held(person: User, space: Space, message_pk: int | str) -> InboundMessage:
    if not access.can_manage_space(person, space):
        raise PermissionDenied("Only the space's creator or a workspace admin can decide.")
    entry = (
        InboundMessage.objects.select_for_update()
        .filter(pk=str(message_pk) if str(message_pk).isdigit() else 0, space=space)
        .first()
    )
    if entry is None or entry.result != InboundResult.HELD:
        raise Http404("That message was already handled.")
    return entry


@transaction.atomic
def accept_held(person: User, space: Space, message_pk: int | str) -> Thread:
    """Post a held message as a new thread by the admin who accepts it, naming the sender.
    The stored copy of the message becomes the post's original (or is removed when
    originals are not kept)."""
    entry = _held(person, space, message_pk)
    try:
        with entry.held_file.open("rb") as held:
            message = reading.parse(held.read())
    except (FileNotFoundError, ValueError) as error:
        raise ValidationError("The stored copy of this message is gone. Discard it.") from error
    name, sender = reading.sender(message)
    note = f"*Sent by email from {name} <{sender}>*" if name else f"*Sent by email from {sender}*"
    try:
        thread, _ = _post(
            person,
            message,
            space=space,
            thread=None,
            title=_title(message) or f"Email from {name or sender}",
            note=note,
        )
    except recording_actions.UploadRefused as error:
        raise ValidationError(str(error)) from error
    if settings.MAIL_KEEP_ORIGINAL_DAYS > 0:
        entry.original.name, entry.held_file.name = entry.held_file.name, ""
    else:
        entry.held_file.delete(save=False)
    entry.result, entry.reason = InboundResult.ACCEPTED, "Accepted by a space admin."
    entry.thread, entry.decided_by = thread, person
    entry.save(update_fields=["result", "reason", "thread", "decided_by", "held_file", "original"])
    return thread


@transaction.atomic
def discard_held(person: User, space: Space, message_pk: int | str) -> None:
    """Drop a held message; only its log line stays."""
    entry = _held(person, space, message_pk)
    entry.held_file.delete(save=False)
    entry.result, entry.reason = InboundResult.DISCARDED, "Discarded by a space admin."
    entry.decided_by = person
    entry.save(update_fields=["result", "reason", "decided_by", "held_file"])


@transaction.atomic
def set_unknown_senders(person: User, space: Space, choice: str) -> SpaceMailbox:
    """Choose what happens to mail at the space's address from people who may not post."""
    if not access.can_manage_space(person, space):
        raise PermissionDenied("Only the space's creator or a workspace admin can change it.")
    if choice not in UnknownSenders.values:
        raise ValidationError({"unknown_senders": ["Choose to refuse or to hold such mail."]})
    mailbox = addresses.mailbox_for(space)
    mailbox.unknown_senders = choice
    mailbox.save(update_fields=["unknown_senders"])
    return mailbox
