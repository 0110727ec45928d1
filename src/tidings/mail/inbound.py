"""Incoming mail: every message received for one of our addresses goes through
`receive_message`, which posts it (a reply by email, a new thread at a space address), holds
it for a space admin, ignores it (auto-replies, bounces, loops) or rejects it with a reason.

Every message is logged (InboundMessage) once per recipient; the same Message-ID delivered
again returns the first result and posts nothing.
"""

from __future__ import annotations

import logging
import mimetypes
import re
import secrets
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.http import Http404
from mailparser_reply import EmailReplyParser

from tidings.mail import addresses, outbox
from tidings.mail.models import InboundMessage, InboundResult, SpaceMailbox, UnknownSenders
from tidings.recordings import actions as recording_actions
from tidings.threads import actions as thread_actions
from tidings.threads.models import Reply, Space, Thread, ThreadKind
from tidings.workspaces import access

if TYPE_CHECKING:
    from tidings.accounts.models import User

log = logging.getLogger(__name__)

_REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "sv", "pl"]
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


# --- Reading a message. Nothing here may raise on bad input: every path returns a value.


def _parse(raw: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw)  # type: ignore[return-value]


def _clean(text: str) -> str:
    """Text safe to store: undecodable bytes (kept by the parser as surrogates) become
    replacement characters, and NULs, which PostgreSQL refuses, are dropped."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text.replace("\x00", "")


def _header(message: EmailMessage, name: str) -> str:
    """A header as text; a header the parser cannot read comes back raw, never an error."""
    try:
        value = message.get(name)
        return _clean(" ".join(str(value).split())) if value is not None else ""
    except Exception:  # noqa: BLE001 - the stdlib raises many kinds on malformed headers
        for key, raw_value in message.raw_items():
            if key.lower() == name.lower():
                return _clean(" ".join(str(raw_value).split()))
        return ""


def _sender(message: EmailMessage) -> tuple[str, str]:
    """(display name, lowercased address) of From."""
    value = _header(message, "From")
    try:
        name, address = getaddresses([value])[0]
    except (IndexError, ValueError):
        name, address = parseaddr(value)
    return " ".join(name.split())[:100], address.strip().lower()[:254]


def _decoded_text(part: EmailMessage) -> str:
    try:
        content = part.get_content()
        if isinstance(content, str):
            return content
    except (LookupError, ValueError, AssertionError, KeyError, UnicodeError):
        pass  # An unknown charset or a broken transfer encoding: decode the bytes by hand.
    data = _payload(part)
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")


def _payload(part: EmailMessage) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - broken base64 or quoted-printable
        return b""
    return data if isinstance(data, bytes) else b""


class _HtmlToText(HTMLParser):
    """Readable text from an HTML-only mail: blocks become lines, quoted blocks become `>`
    lines (so the reply parser drops the history), links keep their address, scripts and
    styles vanish."""

    _BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "hr"}
    _SKIP = {"script", "style", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.quote_depth = 0
        self.skip_depth = 0
        self.links: list[str] = []

    def _newline(self) -> None:
        if self.lines[-1].strip(" >"):
            self.lines.append("")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self.skip_depth += 1
        elif tag == "blockquote":
            self._newline()
            self.quote_depth += 1
        elif tag in self._BLOCKS:
            self._newline()
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.links.append(href if href.startswith(("http://", "https://")) else "")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag == "blockquote":
            self._newline()
            self.quote_depth = max(0, self.quote_depth - 1)
        elif tag in self._BLOCKS:
            self._newline()
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href and href not in self.lines[-1]:
                self._add(f" ({href})")

    def handle_data(self, data: str) -> None:
        if self.skip_depth or not data:
            return
        text = " ".join(data.split())
        if data[0].isspace():
            text = " " + text
        if data[-1].isspace() and text.strip():
            text += " "
        self._add(text)

    def _add(self, text: str) -> None:
        if not self.lines[-1]:
            text = text.lstrip()
            if not text:
                return
            self.lines[-1] = "> " * self.quote_depth
        self.lines[-1] += text

    def text(self) -> str:
        kept = (" ".join(line.split()) for line in self.lines if line.strip(" >"))
        return "\n\n".join(kept)


def _html_to_text(html: str) -> str:
    converter = _HtmlToText()
    try:
        converter.feed(html)
        converter.close()
    except (AssertionError, ValueError):
        pass  # Keep what was read before the markup broke.
    return converter.text()


def _body_part(message: EmailMessage) -> EmailMessage | None:
    try:
        found = message.get_body(preferencelist=("plain", "html"))
    except (KeyError, ValueError, AttributeError):
        found = None
    if (
        found is None
        and not message.is_multipart()
        and message.get_content_maintype()
        in {
            "multipart",
            "text",
        }
    ):
        # A multipart without its boundary is read as one part: its text is still the body.
        return message
    return found  # type: ignore[return-value]


def _new_text(message: EmailMessage) -> str:
    """The words the sender wrote now: quoted history and signature removed."""
    part = _body_part(message)
    if part is None:
        return ""
    text = _decoded_text(part)
    if part.get_content_subtype() == "html":
        text = _html_to_text(text)
    text = _clean(text.replace("\r\n", "\n"))
    try:
        replies = EmailReplyParser(languages=_REPLY_LANGUAGES).read(text=text).replies
    except Exception:  # noqa: BLE001 - a parser failure must not lose the message
        log.exception("Reply parser failed on inbound mail; keeping the whole text")
        return text.strip()
    newest = replies[0].body.strip() if replies else ""
    if all(line.startswith(">") for line in newest.splitlines() if line.strip()):
        return ""  # Only quoted history: nothing new was written.
    return newest


@dataclass
class _File:
    name: str
    content_type: str
    data: bytes

    @property
    def is_media(self) -> bool:
        return self.content_type.startswith(("audio/", "video/"))


def _files(message: EmailMessage) -> list[_File]:
    """Every attached file (at any depth of nesting) except the text we read as the body."""
    body = _body_part(message)
    found: list[_File] = []
    for part in message.walk():
        if part.is_multipart() or part is body:
            continue
        try:
            name = _clean(part.get_filename() or "")
        except Exception:  # noqa: BLE001 - a malformed filename parameter
            name = ""
        content_type = part.get_content_type()
        disposition = part.get_content_disposition()
        if not name and disposition != "attachment" and content_type.startswith("text/"):
            continue  # The other half of a text/HTML alternative, not a file.
        if content_type in {"message/delivery-status", "message/rfc822"}:
            continue
        data = _payload(part)
        if not data:
            continue  # Nothing to keep (or undecodable).
        if content_type == "application/octet-stream" and name:
            content_type = mimetypes.guess_type(name)[0] or content_type
        ext = mimetypes.guess_extension(content_type) or ".bin"
        found.append(_File(name or f"attachment{ext}", content_type, data))
    return found


# --- What is ignored.


def _is_automatic(message: EmailMessage, sender: str, envelope_sender: str | None) -> str:
    """Why the message is machine-made and must get no answer, or "" for a person's mail."""
    auto = _header(message, "Auto-Submitted").lower()
    if auto and auto != "no":
        return "Auto-submitted message."
    if _header(message, "Precedence").lower() in {"bulk", "junk", "list", "auto_reply"}:
        return "Bulk or list message."
    if _header(message, "X-Autoreply") or _header(message, "X-Autorespond"):
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


def _upload_files(person: User, space: Space, files: list[_File]) -> list[str]:
    tokens = []
    for item in files:
        uploaded = SimpleUploadedFile(item.name, item.data, content_type=item.content_type)
        tokens.append(thread_actions.upload_attachment(person, space, uploaded).token)
    return tokens


def _recording(
    person: User, files: list[_File], *, space: Space, thread: Thread | None
) -> tuple[str, int | None]:
    """The first audio or video file as a recording: (token, chunk count), or ("", None)."""
    media = next((f for f in files if f.is_media), None)
    if media is None:
        return "", None
    files.remove(media)
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
    return recording.token, len(pieces)


def _post(
    person: User, message: EmailMessage, *, space: Space, thread: Thread | None, title: str = ""
) -> Reply | Thread:
    """Post the message's new words, files and first audio or video (as a recording): a
    reply when `thread` is given, else a new thread in `space`."""
    text = _new_text(message)
    files = _files(message)
    recording_token, chunks = _recording(person, files, space=space, thread=thread)
    tokens = _upload_files(person, space, files)
    if thread is not None:
        # Answering the email means the person read the thread up to here.
        return thread_actions.post_reply(
            person,
            thread,
            body=text,
            attachment_tokens=tokens,
            recording_token=recording_token,
            recording_chunks=chunks,
            mark_read=True,
        )
    return thread_actions.post_thread(
        person,
        space,
        kind=ThreadKind.DISCUSSION,
        title=title or _title_from(text) or f"Email from {person.name or person.email}",
        body=text,
        attachment_tokens=tokens,
        recording_token=recording_token,
        recording_chunks=chunks,
    )


def _title_from(text: str) -> str:
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
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
    reply = _post(person, message, space=thread.space, thread=thread)
    entry.reply = reply
    return "Reply posted."


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
        entry.thread = _post(person, message, space=space, thread=None, title=_title(message))
        return InboundResult.ACCEPTED, "Thread started."
    if mailbox.unknown_senders == UnknownSenders.HOLD:
        entry.held_file.save(f"{secrets.token_hex(16)}.eml", ContentFile(raw), save=False)
        return InboundResult.HELD, "Held for a space admin to review."
    raise _Refused("Only members of this space can start threads by email at this address.")


def _title(message: EmailMessage) -> str:
    subject = _REPLY_PREFIXES.sub("", _header(message, "Subject"))
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


def receive_message(raw: bytes, recipient: str, *, envelope_sender: str | None = None) -> Outcome:
    """Handle one message for one recipient address and log what became of it.

    Never raises for bad input: a message that cannot be posted is rejected with a reason
    (SMTP 550, or 552 when too large). An unexpected error rolls everything back and
    propagates, so the receiver answers 451 and the sending server tries again later."""
    recipient = _clean(parseaddr(recipient)[1]).strip().lower()
    message = _parse(raw)
    _, sender = _sender(message)
    message_id = _header(message, "Message-ID")[:255]
    if message_id and (
        found := InboundMessage.objects.filter(message_id=message_id, recipient=recipient).first()
    ):
        return _from_log(found, again=True)
    entry = InboundMessage(
        message_id=message_id,
        recipient=recipient[:255],
        sender=sender,
        subject=_header(message, "Subject")[:255],
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
            try:
                with transaction.atomic():
                    entry.save()
            except IntegrityError as error:
                # The same message arrived twice at once and the other delivery logged it
                # first: undo this one's post.
                raise _Duplicate from error
    except _Duplicate:
        if entry.held_file:
            entry.held_file.delete(save=False)
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
    The stored copy of the message is removed."""
    entry = _held(person, space, message_pk)
    try:
        with entry.held_file.open("rb") as held:
            message = _parse(held.read())
    except (FileNotFoundError, ValueError) as error:
        raise ValidationError("The stored copy of this message is gone. Discard it.") from error
    name, sender = _sender(message)
    note = f"*Sent by email from {name} <{sender}>*" if name else f"*Sent by email from {sender}*"
    text = _new_text(message)
    files = _files(message)
    try:
        recording_token, chunks = _recording(person, files, space=space, thread=None)
        thread = thread_actions.post_thread(
            person,
            space,
            kind=ThreadKind.DISCUSSION,
            title=_title(message) or _title_from(text) or f"Email from {name or sender}",
            body=f"{note}\n\n{text}",
            attachment_tokens=_upload_files(person, space, files),
            recording_token=recording_token,
            recording_chunks=chunks,
        )
    except recording_actions.UploadRefused as error:
        raise ValidationError(str(error)) from error
    entry.held_file.delete(save=False)
    entry.result, entry.reason = InboundResult.ACCEPTED, "Accepted by a space admin."
    entry.thread, entry.decided_by = thread, person
    entry.save(update_fields=["result", "reason", "thread", "decided_by", "held_file"])
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
