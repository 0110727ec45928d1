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
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django_ratelimit.core import is_ratelimited

from tidings.accounts.models import User
from tidings.mail import addresses, letters, outbox, proof, reading, unsubscribe
from tidings.mail.models import (
    InboundMessage,
    InboundResult,
    SenderProof,
    SpaceMailbox,
    UnknownSenders,
    WorkspaceMail,
)
from tidings.recordings import upload as recording_upload
from tidings.threads import access
from tidings.threads import actions as thread_actions
from tidings.threads.models import Reply, Space, Thread, ThreadKind

if TYPE_CHECKING:
    from tidings.accounts.models import User
    from tidings.workspaces.models import Workspace

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
_UNTOLD = "Received."
_TOO_MANY = "Too many messages from this sender or server, or for this address; try again later."
# Not a stored result: the message was not taken, and the sending server tries again later.
RATE_LIMITED = "rate_limited"
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
    # Whether the sender may learn the result. Until a message proves that it comes from
    # someone who may see the space, every address answers alike, so that the answers
    # reveal no private space (nor who is a member).
    told: bool = True

    @property
    def smtp_reply(self) -> str:
        if not self.told:
            return f"250 2.0.0 {_UNTOLD}"
        if self.smtp_code < 400:
            return f"250 2.0.0 {self.reason or _UNTOLD}"
        enhanced = {552: "5.3.4", 451: "4.7.1"}.get(self.smtp_code, "5.7.1")
        return f"{self.smtp_code} {enhanced} {self.reason}"


class _Refused(Exception):
    def __init__(self, reason: str, code: int = 550, *, told: bool = True) -> None:
        super().__init__(reason)
        self.reason, self.code, self.told = reason, code, told


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
            recording = recording_upload.start_recording(
                person,
                space=space,
                thread=thread,
                source="upload",
                mime_type=media.content_type,
                original_name=media.name,
                size=len(media.data),
            )
            step = recording_upload.max_chunk_bytes()
            pieces = [media.data[i : i + step] for i in range(0, len(media.data), step)]
            for index, piece in enumerate(pieces):
                recording_upload.store_chunk(person, recording, index, piece)
    except recording_upload.UploadRefused as refused:
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


def _refusal(error: Exception, *, told: bool = True) -> _Refused:
    if isinstance(error, ValidationError):
        return _Refused(" ".join(error.messages), told=told)
    if isinstance(error, recording_upload.UploadRefused):
        return _Refused(str(error), 552 if error.status_code == 413 else 550, told=told)
    return _Refused(str(error) or "This could not be posted.", told=told)


_POSTING_ERRORS = (ValidationError, PermissionDenied, Http404, recording_upload.UploadRefused)


def sender_proof_for(space: Space) -> str:
    """What the space does with members' mail that does not prove its sender: its own
    choice, else its workspace's, else require proof."""
    mailbox = SpaceMailbox.objects.filter(space=space).only("sender_proof").first()
    if mailbox is not None and mailbox.sender_proof:
        return mailbox.sender_proof
    return _workspace_sender_proof(space.workspace_id)


def _workspace_sender_proof(workspace_id: int) -> str:
    found = WorkspaceMail.objects.filter(workspace_id=workspace_id).first()
    return found.sender_proof if found is not None else SenderProof.REQUIRE


def _hold(entry: InboundMessage, raw: bytes, verdict: proof.Proof) -> None:
    kept = proof.kept_copy(raw, verdict)
    entry.held_file.save(f"{secrets.token_hex(16)}.eml", ContentFile(kept), save=False)


def _active_person(address: str) -> User | None:
    if not address:
        return None
    return User.objects.filter(email__iexact=address, is_active=True).first()


def _by_reply_address(
    token: str,
    message: EmailMessage,
    raw: bytes,
    sender: str,
    entry: InboundMessage,
    verdict: proof.Proof,
) -> tuple[str, str, bool]:
    ids = addresses.read_reply_token(token)
    if ids is None:
        raise _Refused(_FORGED)

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
    if not verdict.verified and sender_proof_for(thread.space) == SenderProof.REQUIRE:
        # The token may sit in a forwarded email: only proof says the person wrote this.
        _hold(entry, raw, verdict)
        transaction.on_commit(lambda: _tell_reply_held(person, thread, verdict))
        return InboundResult.HELD, f"Held: {verdict.why}", False
    try:
        reply, letter = _post(person, message, space=thread.space, thread=thread)
    except _POSTING_ERRORS as error:
        raise _refusal(error) from error
    entry.reply = reply
    return InboundResult.ACCEPTED, _posted("Reply posted.", message, sender, thread, letter), True


def _tell_reply_held(person: User, thread: Thread, verdict: proof.Proof) -> None:
    """Tell the person, at their account's address (never the message's, which may be
    forged), that a reply in their name waits and how to post it."""
    url = outbox.absolute(reverse("threads:thread", args=[thread.pk]))
    text = (
        f"A reply to “{thread.title}” came by email from {person.email}, but nothing in it "
        f"proves that you sent it, so it was not posted.\n\n{verdict.why}\n\n"
        f"If you wrote it, post it in Tidings: {url}\n"
        "A space admin can also post it for you from the space's held mail.\n\n"
        "If you did not write it, someone else used your address; nothing was posted.\n"
        "Mail sent through a provider that signs it (DKIM) is posted at once."
    )
    notice = OutgoingEmail(
        subject=f"Your reply to “{thread.title[:120]}” was not posted",
        body=text,
        to=[person.email],
        headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
    )
    try:
        notice.send(fail_silently=False)
    except Exception:
        # The reply waits on the held list whatever happens to this notice.
        log.exception("Could not tell person %s that a reply was held", person.pk)


def _by_unsubscribe_address(token: str, entry: InboundMessage) -> str:
    space = unsubscribe.unsubscribe_by_email(token)
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
    mailbox: SpaceMailbox,
    message: EmailMessage,
    raw: bytes,
    sender: str,
    entry: InboundMessage,
    verdict: proof.Proof,
) -> tuple[str, str, bool]:
    space = mailbox.space
    entry.space = space
    person = _active_person(sender)
    # Only a proven sender who may see the space learns what became of the message.
    told = verdict.verified and person is not None and access.can_view_space(person, space)
    proven_stranger = not told and verdict.verified and person is not None
    if proven_stranger and mailbox.unknown_senders != UnknownSenders.HOLD:
        # A space they may not see answers them as an address that does not exist.
        raise _Refused(_NO_SUCH_ADDRESS, told=True)
    if space.archived_at is not None:
        raise _Refused("This space is archived; nothing new can be posted in it.", told=told)
    if _may_start_thread(person, space):
        assert person is not None
        if not verdict.verified and sender_proof_for(space) == SenderProof.REQUIRE:
            _hold(entry, raw, verdict)
            return InboundResult.HELD, f"Held: {verdict.why}", False
        try:
            thread, letter = _post(person, message, space=space, thread=None, title=_title(message))
        except _POSTING_ERRORS as error:
            raise _refusal(error, told=told) from error
        entry.thread = thread
        started = _posted("Thread started.", message, sender, thread, letter)
        return InboundResult.ACCEPTED, started, told
    if mailbox.unknown_senders == UnknownSenders.HOLD:
        _hold(entry, raw, verdict)
        why = "" if verdict.verified else f" {verdict.why}"
        return InboundResult.HELD, f"Held for a space admin to review.{why}", told
    raise _Refused(
        "Only members of this space can start threads by email at this address.", told=told
    )


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
    verdict: proof.Proof,
) -> tuple[str, str, bool]:
    """(result, reason, whether the sender may be told)."""
    local_part, _, domain = recipient.rpartition("@")
    if domain != addresses.mail_domain():
        raise _Refused(f"This server takes mail only for @{addresses.mail_domain()}.")
    sender = entry.sender
    if why := _is_automatic(message, sender, envelope_sender):
        return InboundResult.IGNORED, why, False
    if len(raw) > settings.MAIL_MAX_MB * 1024 * 1024:
        raise _Refused(f"Messages can be up to {settings.MAIL_MAX_MB} MB.", 552)
    if not sender:
        raise _Refused("The message has no sender address (From).")
    with transaction.atomic():
        if local_part.startswith(addresses.REPLY_PREFIX):
            token = local_part[len(addresses.REPLY_PREFIX) :]
            return _by_reply_address(token, message, raw, sender, entry, verdict)
        if local_part.startswith(addresses.UNSUBSCRIBE_PREFIX):
            token = local_part[len(addresses.UNSUBSCRIBE_PREFIX) :]
            return InboundResult.ACCEPTED, _by_unsubscribe_address(token, entry), True
        mailbox = (
            SpaceMailbox.objects.select_related("space__workspace")
            .filter(local_part=local_part)
            .first()
        )
        if mailbox is None or (
            mailbox.space.is_private and not addresses.is_unguessable(local_part)
        ):
            raise _Refused(_NO_SUCH_ADDRESS, told=_proven_account(sender, verdict))
        return _by_space_address(mailbox, message, raw, sender, entry, verdict)


def _proven_account(sender: str, verdict: proof.Proof) -> bool:
    """Whether the sender is someone with an account here whose mail proves it: told that an
    address is wrong (a typo), as they are told about any space they may not see."""
    return verdict.verified and _active_person(sender) is not None


def check_recipient(address: str) -> str:
    """Why mail for `address` cannot be taken at all ("" when it may be): answered at RCPT.
    A forged reply or unsubscribe token is refused at once (it names no space), but every
    other address at our domain is taken alike, so that nobody can probe which spaces
    exist: what becomes of a message is decided once its sender is known."""
    local_part, _, domain = address.strip().lower().rpartition("@")
    if domain != addresses.mail_domain():
        return f"This server takes mail only for @{addresses.mail_domain()}."
    if local_part.startswith(addresses.REPLY_PREFIX):
        if addresses.read_reply_token(local_part[len(addresses.REPLY_PREFIX) :]) is None:
            return _FORGED
    elif local_part.startswith(addresses.UNSUBSCRIBE_PREFIX):
        token = local_part[len(addresses.UNSUBSCRIBE_PREFIX) :]
        if addresses.read_unsubscribe_address(token) is None:
            return _BAD_UNSUBSCRIBE
    return ""


def _from_log(entry: InboundMessage) -> Outcome:
    """The same message again: nothing is done, and the answer is the same for every address
    (every message for our domain is logged, whatever its address)."""
    rejected = entry.result == InboundResult.REJECTED
    return Outcome(
        result=entry.result,
        reason=entry.reason if rejected else "Already received.",
        log_id=entry.pk,
        thread_id=entry.thread_id,
        reply_id=entry.reply_id,
        repeated=True,
        told=False,
    )


def _over_rate(sender: str, recipient: str, connection: proof.Connection | None) -> bool:
    """Count the message against its sender, its address and its sending server; whether
    one of them is over a MAIL_RATE_LIMITS rate."""
    keys = {"mail-sender": sender, "mail-address": recipient}
    if connection is not None:
        keys["mail-server"] = connection.ip
    limited = False
    for group, value in keys.items():
        for rate in settings.MAIL_RATE_LIMITS if value else ():
            limited |= is_ratelimited(
                None,
                group=group,
                key=lambda _group, _request, v=value: v,
                rate=rate,
                increment=True,
            )
    return limited


class _Duplicate(Exception):
    pass


def _keep_original(entry: InboundMessage, raw: bytes, verdict: proof.Proof) -> None:
    """Keep the message as it came, for "View original", for MAIL_KEEP_ORIGINAL_DAYS."""
    if settings.MAIL_KEEP_ORIGINAL_DAYS > 0:
        kept = proof.kept_copy(raw, verdict)
        entry.original.save(f"{secrets.token_hex(16)}.eml", ContentFile(kept), save=False)


def receive_message(
    raw: bytes,
    recipient: str,
    *,
    envelope_sender: str | None = None,
    connection: proof.Connection | None = None,
) -> Outcome:
    """Handle one message for one recipient address and log what became of it.

    Members' messages are posted only when they prove their sender (see `proof`), unless
    the space accepts unproven mail; others wait for a space admin. `connection` is the
    SMTP session's, for SPF. Never raises for bad input: a message that cannot be posted is
    rejected with a reason (SMTP 550, or 552 when too large), told to the sender only when
    the sender is proven and may see the space. Over a rate limit, nothing is done and the
    answer is 451. An unexpected error rolls everything back and propagates, so the
    receiver answers 451 and the sending server tries again later."""
    recipient = reading.clean(parseaddr(recipient)[1]).strip().lower()
    message = reading.parse(raw)
    _, sender = reading.sender(message)
    if _over_rate(sender or (envelope_sender or "").lower(), recipient, connection):
        log.warning("inbound mail for %s from %s refused: over the rate limit", recipient, sender)
        return Outcome(result=RATE_LIMITED, reason=_TOO_MANY, smtp_code=451)
    message_id = reading.header(message, "Message-ID")[:255]
    if message_id and (
        found := InboundMessage.objects.filter(message_id=message_id, recipient=recipient).first()
    ):
        return _from_log(found)
    verdict = proof.check(raw, sender, connection)
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
                entry.result, entry.reason, told = _route(
                    raw, message, recipient, envelope_sender, entry, verdict
                )
            except _Refused as refused:
                entry.result, entry.reason, code, told = (
                    InboundResult.REJECTED,
                    refused.reason,
                    refused.code,
                    refused.told,
                )
                entry.thread = entry.reply = None
            entry.reason = entry.reason[:300]
            if entry.result == InboundResult.ACCEPTED and (entry.thread or entry.reply):
                _keep_original(entry, raw, verdict)
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
        return _from_log(found)
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
        told=told,
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
    # The thread's emailed posts are read and those of other posts dropped here, rather than
    # sending a page's hundreds of reply ids to the database.
    wanted = {None, *reply_ids}
    entries = (
        InboundMessage.objects.filter(result=InboundResult.ACCEPTED, thread=thread)
        .exclude(original="")
        .values_list("pk", "reply_id")
    )
    return {
        reply_id: reverse("mail:original", args=[pk])
        for pk, reply_id in entries
        if reply_id in wanted
    }


# --- Held messages: a space admin decides.


def held_messages(person: User, space: Space) -> list[InboundMessage]:
    """Messages from unknown senders waiting in the space, for people who manage it."""
    if not access.can_manage_space(person, space):
        return []
    return list(InboundMessage.objects.filter(space=space, result=InboundResult.HELD)[:50])


_PROOF_IN_SHORT = {SenderProof.REQUIRE: "require proof", SenderProof.ACCEPT: "post it anyway"}


@dataclass(frozen=True)
class SpaceMail:
    address: str
    unknown_senders: str
    sender_proof: str  # "" follows the workspace
    workspace_sender_proof: str
    may_set_workspace_default: bool
    held: list[InboundMessage]
    recent: list[InboundMessage]
    choices = UnknownSenders.choices
    proof_choices = SenderProof.choices

    @property
    def workspace_default_label(self) -> str:
        return _PROOF_IN_SHORT[self.workspace_sender_proof]


def space_mail(person: User, space: Space) -> SpaceMail | None:
    """The space's address, its settings for unknown and unproven senders and its held
    mail, for its managers."""
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
        sender_proof=mailbox.sender_proof,
        workspace_sender_proof=_workspace_sender_proof(space.workspace_id),
        may_set_workspace_default=access.is_workspace_admin(person, space.workspace_id),
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
    """Post a held message by the admin who accepts it, naming the sender: a held reply as
    a reply in its thread, other mail as a new thread. The stored copy of the message
    becomes the post's original (or is removed when originals are not kept). Returns the
    thread it was posted in."""
    entry = _held(person, space, message_pk)
    reply_to = (
        Thread.objects.filter(pk=entry.thread_id, space=space, deleted_at=None).first()
        if entry.thread_id
        else None
    )
    if entry.thread_id and reply_to is None:
        raise ValidationError("The thread this reply was for is gone. Discard it.")
    try:
        with entry.held_file.open("rb") as held:
            message = reading.parse(held.read())
    except (FileNotFoundError, ValueError) as error:
        raise ValidationError("The stored copy of this message is gone. Discard it.") from error
    name, sender = reading.sender(message)
    note = f"*Sent by email from {name} <{sender}>*" if name else f"*Sent by email from {sender}*"
    try:
        post, _ = _post(
            person,
            message,
            space=space,
            thread=reply_to,
            title=_title(message) or f"Email from {name or sender}",
            note=note,
        )
    except recording_upload.UploadRefused as error:
        raise ValidationError(str(error)) from error
    if settings.MAIL_KEEP_ORIGINAL_DAYS > 0:
        entry.original.name, entry.held_file.name = entry.held_file.name, ""
    else:
        entry.held_file.delete(save=False)
    entry.result, entry.reason = InboundResult.ACCEPTED, "Accepted by a space admin."
    if isinstance(post, Reply):
        entry.reply = post
    else:
        entry.thread = post
    entry.decided_by = person
    entry.save(
        update_fields=["result", "reason", "thread", "reply", "decided_by", "held_file", "original"]
    )
    return reply_to or post


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


_PROOF_CHOICE = "Choose to require proof, to post unproven mail, or to follow the workspace."


@transaction.atomic
def set_sender_proof(person: User, space: Space, choice: str) -> SpaceMailbox:
    """Choose what happens to members' mail that does not prove its sender, in one space
    ("" follows the workspace's default)."""
    if not access.can_manage_space(person, space):
        raise PermissionDenied("Only the space's creator or a workspace admin can change it.")
    if choice not in ("", *SenderProof.values):
        raise ValidationError({"sender_proof": [_PROOF_CHOICE]})
    mailbox = addresses.mailbox_for(space)
    mailbox.sender_proof = choice
    mailbox.save(update_fields=["sender_proof"])
    return mailbox


@transaction.atomic
def set_workspace_sender_proof(person: User, workspace: Workspace, choice: str) -> WorkspaceMail:
    """Choose the default, for the workspace's spaces, for members' mail that does not prove
    its sender."""
    if not access.is_workspace_admin(person, workspace):
        raise PermissionDenied("Only workspace admins can change the default.")
    if choice not in SenderProof.values:
        raise ValidationError({"sender_proof": ["Choose to require proof or to post such mail."]})
    found, _ = WorkspaceMail.objects.update_or_create(
        workspace=workspace, defaults={"sender_proof": choice}
    )
    return found
