"""What a received message holds, read without losing any of it: its text (the richest
readable part, in whatever charset it really uses), its files, the messages forwarded in it
(`message/rfc822` parts, digests, attached .eml files) and the parts that could not be read.

Nothing here raises on bad input: whatever cannot be read is named in `Reading.unreadable`.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
from dataclasses import dataclass, field
from email import errors, policy
from email.header import decode_header
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

import html2text
from charset_normalizer import from_bytes

# Legacy charsets a lying or missing label most often hides, most likely first: when the
# detector finds several equally good, the common one wins (cp1252 over cp1250 for "café").
_LIKELY_CHARSETS = [
    "cp1252",
    "cp1251",
    "gb18030",
    "big5",
    "shift_jis",
    "euc_jp",
    "euc_kr",
    "koi8_r",
    "iso8859_2",
]
_DAMAGED_BASE64 = (errors.InvalidBase64CharactersDefect, errors.InvalidBase64LengthDefect)
# Text that is really MIME structure or an encoded file: never shown as a message's words.
_LOOKS_LIKE_MIME = re.compile(
    r"^(?:Content-(?:Type|Transfer-Encoding|Disposition)\s*:|[A-Za-z0-9+/]{60,}={0,2}$)",
    re.MULTILINE | re.IGNORECASE,
)
_ENCODED_WORD = re.compile(r"^=\?[^?\s]+\?[bq]\?[^?\s]*\?=$", re.IGNORECASE)
# Parts that describe the message rather than hold what it says: delivery reports, signatures.
_NOT_CONTENT = {
    "message/delivery-status",
    "application/pkcs7-signature",
    "application/x-pkcs7-signature",
    "application/pgp-signature",
}
_ADDRESS_HEADERS = {"from", "to", "cc", "reply-to", "sender"}
_ESCAPED_BYTES = re.compile(r"[\udc80-\udcff]")  # bytes the parser could not decode
# A body that is nothing but lines of base64.
_ENCODED_BODY = re.compile(rb"^\s*[A-Za-z0-9+/]{40,}={0,2}\s*(?:\n\s*[A-Za-z0-9+/]+={0,2}\s*)*$")
_NESTING_LIMIT = 20  # forwards of forwards; deeper parts are kept only inside the .eml

DAMAGED = "damaged in transit"


@dataclass
class MailFile:
    name: str
    content_type: str
    data: bytes

    @property
    def is_media(self) -> bool:
        return self.content_type.startswith(("audio/", "video/"))


@dataclass
class Unreadable:
    """A part that could not be kept: its file name ("" for the message text) and why."""

    name: str
    why: str


@dataclass
class Forwarded:
    """A message forwarded inside another: who sent it, when, and what it says."""

    sender: str
    subject: str
    date: str
    reading: Reading
    eml: MailFile | None = None  # the message itself, kept as a file


@dataclass
class Reading:
    text: str = ""  # Markdown-ish, quoted history still in
    files: list[MailFile] = field(default_factory=list)
    forwarded: list[Forwarded] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)


def parse(raw: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw)  # type: ignore[return-value]


def clean(text: str) -> str:
    """Text safe to store: stray undecodable bytes become replacement characters and NULs,
    which PostgreSQL refuses, are dropped."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text.replace("\x00", "")


# --- Charsets.


_isolated_high_bytes = re.compile(rb"(?:[\x00-\x7f]|(?<![\x80-\xff])[\xc0-\xff](?![\x80-\xff]))+")


def _guess(data: bytes) -> str | None:
    if _isolated_high_bytes.fullmatch(data):
        # Accented letters alone among ASCII ("Très bien", "café"): a Western single-byte
        # charset, though too little text for a statistical guess to tell which.
        return data.decode("cp1252", errors="replace")
    results = from_bytes(data)
    best = results.best()
    if best is None:
        return None
    # A Western text mislabelled often looks as clean in a Baltic or Central European code
    # page: among the near guesses, the charsets people send most win.
    near = [match for match in results if match.chaos <= best.chaos + 0.1]
    for charset in _LIKELY_CHARSETS:
        if any(charset in match.could_be_from_charset for match in near):
            return data.decode(charset, errors="replace")
    return str(best)


def decode_text(data: bytes, declared: str | None) -> str:
    """Bytes as text. Valid UTF-8 is UTF-8 whatever the label says (no other charset makes
    it by chance); then the declared charset if the bytes fit it; then charset-normalizer's
    guess; never a replacement character where the charset was only mislabelled."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            return data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    guessed = _guess(data)
    return guessed if guessed is not None else data.decode("cp1252", errors="replace")


def _raw_header(message: EmailMessage, name: str) -> str | None:
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            return str(value)
    return None


def _decode_words(raw: str) -> str:
    """RFC 2047 encoded words read leniently: a broken word stays as it came, the others are
    decoded, each in the charset its bytes really use."""
    tokens = re.split(r"(\s+)", raw)
    pieces = []
    for index, token in enumerate(tokens):
        if not token.strip():
            between_words = 0 < index < len(tokens) - 1 and all(
                _ENCODED_WORD.match(tokens[i]) for i in (index - 1, index + 1)
            )
            # Whitespace between two encoded words is not part of the text (RFC 2047, 6.2).
            pieces.append("" if between_words else token)
            continue
        try:
            decoded = decode_header(token)
        except (binascii.Error, errors.HeaderParseError, ValueError):
            pieces.append(token)
            continue
        for value, charset in decoded:
            pieces.append(value if isinstance(value, str) else decode_text(value, charset))
    return "".join(pieces)


def header(message: EmailMessage, name: str) -> str:
    """A header as one line of text, never an error. Encoded words and raw 8-bit bytes are
    decoded leniently, each in the charset its bytes really use; address headers go through
    the standard parser first, which keeps a quoted display name with a comma whole."""
    raw = _raw_header(message, name)
    if raw is None:
        return ""
    if name.lower() in _ADDRESS_HEADERS or not ("=?" in raw or _ESCAPED_BYTES.search(raw)):
        try:
            value = message.get(name)
            text = str(value)
            if not value.defects and "\ufffd" not in text and not _ESCAPED_BYTES.search(text):
                return clean(" ".join(text.split()))
        except Exception:  # noqa: BLE001 - the stdlib raises many kinds on malformed headers
            pass
    data = raw.encode("utf-8", "surrogateescape")
    return clean(" ".join(_decode_words(decode_text(data, None)).split()))


def sender(message: EmailMessage) -> tuple[str, str]:
    """(display name, lowercased address) of From."""
    value = header(message, "From")
    try:
        name, address = getaddresses([value])[0]
    except (IndexError, ValueError):
        name, address = parseaddr(value)
    return " ".join(name.split())[:100], address.strip().lower()[:254]


# --- Text.


def html_to_text(html: str) -> str:
    """Markdown-ish text of an HTML body: paragraphs, lists, emphasis and links kept, quoted
    blocks as "> " lines, images, scripts and styles left out."""
    converter = html2text.HTML2Text()
    converter.body_width = 0  # Never wrap: the post is rendered, not read raw.
    converter.unicode_snob = True
    converter.ignore_images = True
    converter.ignore_tables = True  # Mail uses tables for layout, not for data.
    try:
        text = converter.handle(html)
    except Exception:  # noqa: BLE001 - html.parser gives up on some broken markup
        text = re.sub(r"<[^>]*>", " ", html)
    return text


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return clean(re.sub(r"\n{3,}", "\n\n", text)).strip()


def _payload(part: EmailMessage) -> tuple[bytes, bool]:
    """The decoded bytes of a part and whether they arrived damaged."""
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - a transfer encoding the stdlib cannot undo
        return b"", True
    damaged = any(isinstance(d, _DAMAGED_BASE64) for d in part.defects)
    return (data if isinstance(data, bytes) else b""), damaged


def _is_binary(text: str) -> bool:
    """Whether decoded "text" is really a file's bytes (a few stray NULs are not)."""
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\n\r\t\f\x00")
    undecodable = "\ufffd" in text[:2000]
    return (
        (undecodable and controls > 0)
        or controls > len(text) // 20
        or (text.count("\x00") > len(text) // 3)
    )


def _undo_unlabelled_base64(data: bytes, charset: str | None) -> bytes:
    """Base64 sent without saying so holds the words: decoded when it decodes to text."""
    try:
        decoded = base64.b64decode(re.sub(rb"\s+", b"", data), validate=True)
    except binascii.Error:
        return data
    return data if _is_binary(decode_text(decoded, charset)) else decoded


def _part_text(part: EmailMessage) -> tuple[str, bool]:
    """A text part's words (HTML turned into Markdown-ish text) and whether it was damaged."""
    data, damaged = _payload(part)
    transfer_encoding = str(part.get("Content-Transfer-Encoding", "7bit")).strip().lower()
    if transfer_encoding in {"7bit", "8bit"} and _ENCODED_BODY.match(data):
        data = _undo_unlabelled_base64(data, part.get_content_charset())
    text = decode_text(data, part.get_content_charset())
    if _is_binary(text):
        return "", True
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return _tidy(text), damaged


def _filename(part: EmailMessage) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:  # noqa: BLE001 - a malformed filename parameter
        name = ""
    return clean(_decode_words(" ".join(name.split())) if "=?" in name else name).strip()


def _is_body_text(part: EmailMessage) -> bool:
    return (
        part.get_content_maintype() == "text"
        and part.get_content_subtype() in {"plain", "html"}
        and part.get_content_disposition() != "attachment"
        and not _filename(part)
    )


def _richest(alternatives: list[EmailMessage]) -> EmailMessage | None:
    """The alternative to read: plain text unless it is empty or only a stub of the HTML."""
    plain = next((p for p in alternatives if p.get_content_type() == "text/plain"), None)
    # Alternatives such as text/calendar are not the body: they are kept as files.
    richer = next(
        (
            p
            for p in reversed(alternatives)
            if p.get_content_type() == "text/html" or p.get_content_maintype() == "multipart"
        ),
        None,
    )
    if plain is None or richer is None:
        return plain or richer
    plain_text, damaged = _part_text(plain)
    if not plain_text or damaged:
        return richer
    richer_words = len(_text_of(richer).split())
    return richer if len(plain_text.split()) * 2 < richer_words else plain


def _text_of(part: EmailMessage) -> str:
    if part.is_multipart():
        return "\n".join(_text_of(p) for p in part.iter_parts() if isinstance(p, EmailMessage))
    return _part_text(part)[0] if _is_body_text(part) else ""


def _recovered(part: EmailMessage) -> EmailMessage | None:
    """A multipart whose boundary is missing or wrong, read again with the boundary its body
    really uses (the first "--token" line); None when there is none."""
    body = part.get_payload()
    if not isinstance(body, str):
        return None
    found = re.search(r"^--([^\s-]\S{0,69}|-[^\s-]\S{0,68})[ \t]*\r?$", body, re.MULTILINE)
    if found is None or found[1] == part.get_boundary():
        return None
    content_type = f'{part.get_content_type()}; boundary="{found[1]}"'
    raw = f"Content-Type: {content_type}\n\n".encode() + body.encode("utf-8", "surrogateescape")
    rebuilt = parse(raw)
    return rebuilt if rebuilt.is_multipart() else None


class _Reader:
    def __init__(self, depth: int = 0) -> None:
        self.reading = Reading()
        self.texts: list[str] = []
        self.depth = depth

    def read(self, part: EmailMessage, *, with_text: bool = True) -> None:
        """Read a part and what it holds; `with_text=False` for an alternative not chosen as
        the body, whose files (Apple Mail puts them beside the HTML) are still kept."""
        content_type = part.get_content_type()
        if content_type in {"message/rfc822", "message/global"} or self._is_eml(part):
            self._forwarded(part)
        elif content_type in _NOT_CONTENT:
            return
        elif part.is_multipart():
            children = [p for p in part.iter_parts() if isinstance(p, EmailMessage)]
            chosen = _richest(children) if content_type == "multipart/alternative" else None
            for child in children:
                alternative = chosen is None or child is chosen
                self.read(child, with_text=with_text and alternative)
        elif part.get_content_maintype() == "multipart":
            if with_text:
                self._broken_multipart(part)
        elif _is_body_text(part):
            if not with_text:
                return
            text, damaged = _part_text(part)
            if text:
                self.texts.append(text)
            if damaged:
                self.reading.unreadable.append(Unreadable("", DAMAGED))
        else:
            self._file(part)

    def _is_eml(self, part: EmailMessage) -> bool:
        return part.get_content_maintype() != "multipart" and _filename(part).lower().endswith(
            ".eml"
        )

    def _broken_multipart(self, part: EmailMessage) -> None:
        recovered = _recovered(part)
        if recovered is not None:
            self.read(recovered)
            return
        data, _ = _payload(part)
        text = _tidy(decode_text(data, part.get_content_charset()))
        if not text:
            return
        if _LOOKS_LIKE_MIME.search(text) or _is_binary(text):
            self.reading.unreadable.append(Unreadable("", "its parts were broken"))
        else:
            self.texts.append(text)  # A multipart without parts: its text is the body.

    def _file(self, part: EmailMessage) -> None:
        name = _filename(part)
        content_type = part.get_content_type()
        if content_type == "application/octet-stream" and name:
            content_type = mimetypes.guess_type(name)[0] or content_type
        name = name or f"attachment{mimetypes.guess_extension(content_type) or '.bin'}"
        data, damaged = _payload(part)
        if damaged:
            self.reading.unreadable.append(Unreadable(name, DAMAGED))
        elif data:
            self.reading.files.append(MailFile(name, content_type, data))

    def _forwarded(self, part: EmailMessage) -> None:
        inner, raw = self._inner_message(part)
        if inner is None:
            self._file(part)
            return
        reader = _Reader(self.depth + 1)
        if self.depth < _NESTING_LIMIT:
            reader.read(inner)
        reading = reader.finish()
        subject = header(inner, "Subject")
        name = _filename(part) or f"{subject or 'Forwarded message'}.eml"
        if not name.lower().endswith(".eml"):
            name += ".eml"
        self.reading.forwarded.append(
            Forwarded(
                sender=header(inner, "From"),
                subject=subject,
                date=_shown_date(header(inner, "Date")),
                reading=reading,
                eml=MailFile(name, "message/rfc822", raw) if raw else None,
            )
        )

    def _inner_message(self, part: EmailMessage) -> tuple[EmailMessage | None, bytes]:
        if part.get_content_maintype() == "message" and part.is_multipart():
            inner = part.get_payload(0)
            try:
                raw = inner.as_bytes()
            except Exception:  # noqa: BLE001 - a message the generator cannot write back
                raw = inner.as_string().encode("utf-8", "surrogateescape")
            if str(part.get("Content-Transfer-Encoding", "")).strip().lower() == "base64":
                # Not allowed for a message part, yet sent: the parser read the code as text.
                try:
                    raw = base64.b64decode(re.sub(rb"\s+", b"", raw), validate=True)
                except binascii.Error:
                    return None, b""
                return parse(raw), raw
            return inner, raw
        data, damaged = _payload(part)
        if damaged or not data:
            return None, b""
        return parse(data), data

    def finish(self) -> Reading:
        self.reading.text = "\n\n".join(self.texts)
        return self.reading


def _shown_date(value: str) -> str:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return value
    return f"{when.day} {when:%b %Y, %H:%M}"


def read(message: EmailMessage) -> Reading:
    """Everything the message holds, in reading order."""
    reader = _Reader()
    reader.read(message)
    return reader.finish()
