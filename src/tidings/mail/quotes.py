"""Where the words a person wrote now end and the history their mail client added begins.

Works on the text of a message (plain, or HTML already turned into Markdown): an attribution
line ("On … wrote:" in the languages people write in, also wrapped over two lines; Yahoo's
"--- On …"), an Outlook header block (From/Sent/To/Subject in several languages, after a
rule or a separator line), "> " quoted lines, and inline forwards ("---------- Forwarded
message ---------", "Begin forwarded message:"). New text below a quote (bottom-posting) or
between quotes (inline answers) is kept: only history is taken out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mailparser_reply.constants import MAIL_LANGUAGES

# Attribution lines, each ending the way a mail client writes it in one language. Tried on a
# line, and on a line joined with the next (clients wrap long attributions).
_WROTE = [
    r"^(?:-{2,}\s*)?On\s.+\bwrote\s?:$",  # English; Yahoo's "--- On Tue, … wrote:"
    r"^Am\s.+\bschrieb\b.*:$",  # German
    r"^Le\s.+\ba\s[ée]crit\s?:$",  # French
    r"^El\s.+\bescribi[óo]\s?:$",  # Spanish
    r"^Em\s.+\bescreveu\s?:$",  # Portuguese
    r"^Il\s.+\bha\sscritto\s?:$",  # Italian
    r"^Op\s.+\bschreef\b.*:$",  # Dutch
    r"^.{0,40}\d{4}\s?г\..+<\s?[^>\s]+@[^>\s]+>:$",  # Russian (Gmail: "вт, 3 мар. 2026 г. в …:")
    r"^\d{4}年\d{1,2}月\d{1,2}日.+[:：]$",  # Japanese and Chinese (Gmail)
    r"^.+(?:書きました|のメール|写道|寫道)\s?[:：]$",
    # Name first ("Olivia <o@acme.test> schrieb am …:"): only with an address or a date in
    # the line, so that "Here is what Bob wrote:" stays the sender's own words.
    r"^(?=.*[@\d]).+\b(?:wrote|schrieb(?:\sam\s.+)?|a\s[ée]crit|escribi[óo]|escreveu|"
    r"ha\sscritto|schreef|пишет|написал|написала|написал\(а\))\s?:$",
]
# What mail-parser-reply knows of other languages' attribution lines.
_WROTE += [
    rules["wrote_header"]
    for language, rules in MAIL_LANGUAGES.items()
    if language in {"sv", "pl", "cs", "da", "ko", "zh"} and "wrote_header" in rules
]
_YAHOO = re.compile(r"^-{2,}\s*On\s")
# How attributions begin: "On", "Am", "Le", … a date, or a weekday ("вт, 3 мар.").
_OPENER = re.compile(r"^(?:-{2,}\s*)?(?:(?:On|Am|Le|El|Em|Il|Op)\s|\d|\w{2,3}[.,]+\s\d)")
_ATTRIBUTION = re.compile("|".join(f"(?:{pattern})" for pattern in _WROTE), re.IGNORECASE)

# Header lines of a quoted or forwarded message, as mail clients write them in each language.
_FROM_KEYS = "From|Von|De|Da|Van|Från|Fra|Od|От|Від|差出人|发件人|寄件者|보낸 사람"
_OTHER_KEYS = (
    "Sent|Date|To|Cc|Subject|Gesendet|Datum|An|Betreff|Envoyé|Date d'envoi|À|Objet|"
    "Enviado|Fecha|Para|Asunto|Assunto|Data|Inviato|A|Oggetto|Verzonden|Aan|Onderwerp|"
    "Skickat|Till|Ämne|Sendt|Til|Emne|Odesláno|Komu|Předmět|Wysłano|Do|Temat|"
    "Отправлено|Дата|Кому|Тема|Копия|送信日時|日付|宛先|件名|发送时间|日期|收件人|主题|"
    "主旨|보낸 날짜|받는 사람|제목"
)
_HEADER_LINE = re.compile(
    rf"^\**\s*(?P<key>{_FROM_KEYS}|{_OTHER_KEYS})\s?\**\s?[:：]\s?\**\s?(?P<value>.*)$",
    re.IGNORECASE,
)
# Lines that only separate: a rule (Markdown's, or Outlook's underscores), "Original Message".
_SEPARATOR = re.compile(
    r"^(?:\*\s?\*\s?\*[\s*]*|-{3,}|_{10,}|-+\s?(?:Original Message|Ursprüngliche Nachricht|"
    r"Message d'origine|Mensaje original|Mensagem original|Messaggio originale|"
    r"Oorspronkelijk bericht|Исходное сообщение|原始邮件)\s?-+)$",
    re.IGNORECASE,
)
_FORWARD = re.compile(
    r"^(?:-{2,}\s?(?:Forwarded message|Forwarded Message|Weitergeleitete Nachricht|"
    r"Message transféré|Mensaje reenviado|Mensagem encaminhada|Messaggio inoltrato|"
    r"Doorgestuurd bericht|Пересылаемое сообщение|転送されたメッセージ|转发的邮件)\s?-{2,}|"
    r"Begin forwarded message\s?:|Anfang der weitergeleiteten Nachricht\s?:|"
    r"Début du message réexpédié\s?:|Inicio del mensaje reenviado\s?:|"
    r"Início da mensagem reencaminhada\s?:)$",
    re.IGNORECASE,
)
# A subject that says the quoted message was forwarded, not answered.
FORWARD_SUBJECT = re.compile(r"^\s*(?:fwd?|fw|wg|tr|rv|enc|i|doorst)\s?:", re.IGNORECASE)
# Header keys by meaning, for reading a quoted or forwarded message's header block.
FROM_KEYS = re.compile(rf"^(?:{_FROM_KEYS})$", re.IGNORECASE)
SUBJECT_KEYS = re.compile(
    r"^(?:subject|betreff|objet|asunto|assunto|oggetto|onderwerp|ämne|emne|předmět|temat|"
    r"тема|件名|主题|主旨|제목)$"
)
DATE_KEYS = re.compile(
    r"^(?:date|sent|datum|gesendet|envoyé|date d'envoi|enviado|fecha|data|inviato|verzonden|"
    r"skickat|sendt|odesláno|wysłano|отправлено|дата|送信日時|日付|发送时间|日期|보낸 날짜)$"
)
_SIGNATURE = re.compile(r"^\\?--\s?$")  # "-- ", also as HTML-to-Markdown escapes it
# The one-line signature phones and apps add ("Sent from my iPhone"): the marker and a few
# words at most, so that a sentence of the sender's own that starts alike is kept.
_SENT_FROM = re.compile(
    r"^(?:Sent from my|Sent from Outlook|Get Outlook for|Von meinem|Gesendet von meinem|"
    r"Envoyé de mon|Obtenir Outlook pour|Enviado desde mi|Enviado do meu|Obter o Outlook|"
    r"Inviato da|Отправлено с|iPhoneから送信)(?:\s+\S+){0,3}$",
    re.IGNORECASE,
)
_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


@dataclass
class Split:
    """A message's text cut into what was written now and what came along with it."""

    new: str
    quoted: str = ""  # history for sure
    folded: str = ""  # most likely history, but not for sure: to keep, folded
    # Inline forwards: each the forwarded part's header lines and its text.
    forwarded: list[InlineForward] = field(default_factory=list)


@dataclass
class InlineForward:
    headers: dict[str, str]
    text: str


def _bare(line: str) -> str:
    return line.strip().strip("\u200b\ufeff")


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _unquoted(line: str) -> str:
    return re.sub(r"^\s*(?:>\s?)+", "", line)


def _is_header_block(lines: list[str], at: int, *, after_separator: bool = False) -> int:
    """How many lines an Outlook-style header block starting at `at` spans, or 0. It starts
    with From and needs a date and a subject line, or an address in From, so that "From:
    Berlin / To: Paris" in a sender's own words is not taken for one (after a separator
    line, From and one more header line are enough)."""
    first = _HEADER_LINE.match(_bare(_unquoted(lines[at])))
    if first is None or not FROM_KEYS.match(first["key"]):
        return 0
    end, keys = at + 1, set()
    while end < len(lines) and end - at <= 8:
        line = _bare(_unquoted(lines[end]))
        if match := _HEADER_LINE.match(line):
            keys.add(match["key"].lower())
        elif line:
            break
        end += 1
    dated = any(DATE_KEYS.match(key) for key in keys)
    titled = any(SUBJECT_KEYS.match(key) for key in keys)
    if (dated and titled) or (keys and (after_separator or "@" in first["value"])):
        return end - at
    return 0


def _attribution(lines: list[str], at: int) -> int:
    """How many lines (1 or 2) an "On … wrote:" attribution starting at `at` spans, or 0."""
    line = _bare(_unquoted(lines[at]))
    if not line or len(line) > 400:
        return 0
    if _ATTRIBUTION.match(line):
        return 1
    if at + 1 < len(lines):
        second = _bare(_unquoted(lines[at + 1]))
        joined = f"{line} {second}"
        # Wrapped: together the lines are an attribution, and the first is not the sender's
        # own last words (it opens like an attribution, or the second is none alone).
        opens = _OPENER.match(line) or line.count("<") > line.count(">")
        if second and _ATTRIBUTION.match(joined) and (opens or not _ATTRIBUTION.match(second)):
            return 2
    return 0


def _history_start(lines: list[str], start: int) -> tuple[int, str, int] | None:
    """The first place from `start` where history begins: (line, kind, marker lines)."""
    for at in range(start, len(lines)):
        line = _bare(_unquoted(lines[at]))
        if not line:
            continue
        if _FORWARD.match(line):
            return at, "forward", 1
        if _SEPARATOR.match(line):
            after = next((i for i in range(at + 1, len(lines)) if _bare(lines[i])), None)
            if after is not None and (span := _is_header_block(lines, after, after_separator=True)):
                return at, "header", after + span - at
            if re.search(r"[^\W\d_]", line):  # "-----Original Message-----" alone
                return at, "header", 1
            continue  # A plain rule in the text.
        if span := _is_header_block(lines, at):
            return at, "header", span
        if span := _attribution(lines, at):
            return at, "yahoo" if _YAHOO.match(line) else "wrote", span
    return None


def _headers(lines: list[str]) -> dict[str, str]:
    """Header lines as {lowercased key: value}, Markdown emphasis removed."""
    found: dict[str, str] = {}
    for line in lines:
        if match := _HEADER_LINE.match(_bare(_unquoted(line))):
            value = match["value"].strip().strip("*").strip()
            found.setdefault(match["key"].lower(), value)
    return found


def _strip_signature(lines: list[str]) -> list[str]:
    """Lines without the signature ("-- " and below) and "Sent from my phone" lines."""
    kept = []
    for line in lines:
        if _SIGNATURE.match(line.rstrip()):
            break
        if _SENT_FROM.match(_MARKDOWN_LINK.sub(r"\1", _bare(line))):
            continue
        kept.append(line)
    return kept


def _join(lines: list[str]) -> str:
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in lines)).strip()


def split(text: str, *, subject: str = "") -> Split:
    """Cut `text` into the new words, the quoted history (sure, and unsure) and inline
    forwards. Outlook writes
    a forward like a reply: its header block is a forward when its subject (or the message's,
    `subject`) says so."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    new: list[list[str]] = []
    quoted: list[str] = []
    folded: list[str] = []
    forwarded: list[InlineForward] = []
    position = 0
    while position < len(lines):
        found = _history_start(lines, position)
        if found is None:
            new.append(lines[position:])
            break
        at, kind, span = found
        new.append(lines[position:at])
        if kind == "forward":
            rest = lines[at + span :]
            first = next((i for i, line in enumerate(rest) if _bare(line)), len(rest))
            header_span = _is_header_block(rest, first) if first < len(rest) else 0
            forwarded.append(
                InlineForward(
                    _headers(rest[first : first + header_span]),
                    _join(rest[first + header_span :]),
                )
            )
            break
        body_start = at + span
        following = next((i for i in range(body_start, len(lines)) if _bare(lines[i])), None)
        if _is_quoted(lines[at]) or (following is not None and _is_quoted(lines[following])):
            # The history is the run of "> " lines: what follows it was written now.
            end = following if following is not None else len(lines)
            while end < len(lines) and (_is_quoted(lines[end]) or not _bare(lines[end])):
                end += 1
            if _answers_between_quotes(lines[end:]):
                # Inline answers: this quote is the context of the answer below it.
                quoted.extend(lines[at:body_start])
                new.append(lines[body_start:end])
            else:
                quoted.extend(lines[at:end])
            position = end
        else:
            # Unquoted history (Outlook): nothing after it can be told apart from it.
            headers = _headers(lines[at:body_start])
            if kind == "header" and _is_forward_subject(headers, subject):
                forwarded.append(InlineForward(headers, _join(lines[body_start:])))
            elif kind == "wrote":
                # An attribution over unquoted text is no client's usual form: keep it.
                folded.extend(lines[at:])
            else:
                quoted.extend(lines[at:])
            break
    new_lines = _fold_leading_and_trailing_quotes([_strip_signature(part) for part in new], quoted)
    return Split(_join(new_lines), _join(quoted), _join(folded), forwarded)


def _answers_between_quotes(lines: list[str]) -> bool:
    """Whether new words below a quote are followed by another quote and more new words."""
    written = [i for i, line in enumerate(lines) if _bare(line) and not _is_quoted(line)]
    return bool(written) and any(_is_quoted(line) for line in lines[written[0] : written[-1]])


def _fold_leading_and_trailing_quotes(parts: list[list[str]], quoted: list[str]) -> list[str]:
    """Joined new text. "> " lines after the last new words are history without an
    attribution; so are those before the first, unless the sender answers between quotes
    (inline answers), where each quote is the context of the answer below it."""
    lines = [line for part in parts for line in ([*part, ""] if part else [])]
    written = [i for i, line in enumerate(lines) if _bare(line) and not _is_quoted(line)]
    if not written:
        quoted[:0] = lines
        return []
    first, last = written[0], written[-1]
    inline = any(_is_quoted(line) for line in lines[first:last])
    if not inline:
        quoted[:0] = [line for line in lines[:first] if _bare(line)]
        lines, last = lines[first:], last - first
    quoted.extend(line for line in lines[last + 1 :] if _bare(line))
    return lines[: last + 1]


def _is_forward_subject(headers: dict[str, str], subject: str) -> bool:
    quoted_subject = next((value for key, value in headers.items() if SUBJECT_KEYS.match(key)), "")
    return bool(FORWARD_SUBJECT.match(quoted_subject) or FORWARD_SUBJECT.match(subject))
