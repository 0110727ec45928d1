"""Messages in the shapes real mail clients send them (Outlook, Gmail, Apple Mail, Thunderbird,
Yahoo; forwards, digests, lying charsets, broken parts, long lines and long texts), each sent
through the real SMTP receiver and the LMTP path on loopback: the post's text and files are
exactly what the sender meant, and nothing is dropped without saying so."""

from __future__ import annotations

import base64
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage

import pytest

from tidings.mail import addresses, receiver
from tidings.mail.models import InboundMessage, InboundResult
from tidings.mail.tests.conftest import free_port, signed
from tidings.threads.models import Reply, Thread
from tidings.threads.tests.factories import thread_in

DOMAIN = "tidings.test"
MIA = "Mia Member <mia@acme.test>"
DATE = "Tue, 03 Mar 2026 09:00:00 +0100"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _mail_settings(settings):
    settings.MAIL_DOMAIN = DOMAIN
    settings.DEFAULT_FROM_EMAIL = f"Tidings <tidings@{DOMAIN}>"
    settings.MAIL_MAX_MB = 2
    settings.MAX_ATTACHMENT_BYTES = 64 * 1024


@pytest.fixture(params=["smtp", "lmtp"])
def send(request) -> Callable[[bytes, str], tuple[int, bytes]]:
    """send(raw, recipient) -> the receiver's answer for that recipient."""
    lmtp = request.param == "lmtp"
    controller = receiver.make_controller("127.0.0.1", free_port(), lmtp=lmtp)
    controller.start()

    def deliver(raw: bytes, recipient: str) -> tuple[int, bytes]:
        client = smtplib.LMTP if lmtp else smtplib.SMTP
        with client("127.0.0.1", controller.port, timeout=30) as session:
            session.ehlo("mx.mail.example")
            session.mail("mia@acme.test")
            assert session.rcpt(recipient)[0] == 250
            # Signed by the sender's domain, as her mail server does: these tests are about
            # the shapes of messages, not about proof of who sent them.
            return session.data(signed(raw, domain="acme.test"))

    yield deliver
    controller.stop()


# --- Building messages as clients send them.


def _headers(msg: EmailMessage, subject: str, **extra: str) -> EmailMessage:
    msg["From"] = MIA
    msg["To"] = "{TO}"
    msg["Subject"] = subject
    msg["Date"] = DATE
    msg["Message-ID"] = f"<{abs(hash(subject + str(extra)))}@mail.example>"
    for name, value in extra.items():
        msg[name.replace("_", "-")] = value
    return msg


def plain(text: str, subject: str = "Re: Quarterly plan", **extra: str) -> EmailMessage:
    msg = _headers(EmailMessage(), subject, **extra)
    msg.set_content(text)
    return msg


def html_mail(html: str, text: str | None = None, subject: str = "Re: Quarterly plan"):
    """multipart/alternative when `text` is given (even blank, as Outlook sends), else HTML."""
    msg = _headers(EmailMessage(), subject)
    if text is None:
        msg.set_content(html, subtype="html")
    else:
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
    return msg


def forwarded_budget() -> EmailMessage:
    inner = EmailMessage()
    inner["From"] = "Ann Lee <ann@partner.test>"
    inner["To"] = MIA
    inner["Subject"] = "Budget 2027"
    inner["Date"] = "Mon, 02 Mar 2026 16:30:00 +0000"
    inner["Message-ID"] = "<budget@partner.test>"
    inner.set_content("The budget is 10k.\n\nAnn")
    inner.add_alternative("<p>The budget is <b>10k</b>.</p><p>Ann</p>", subtype="html")
    inner.add_attachment(
        b"%PDF-1.4 numbers", maintype="application", subtype="pdf", filename="numbers.pdf"
    )
    return inner


def outlook_forward_as_attachment() -> EmailMessage:
    msg = html_mail(
        "<html><body><div>Please see the forwarded message.</div></body></html>",
        "Please see the forwarded message.\r\n",
        subject="FW: Budget 2027",
    )
    msg.make_mixed()
    msg.add_attachment(forwarded_budget(), filename="Budget 2027.eml")
    return msg


def digest_of_two() -> bytes:
    raw = (
        f"From: {MIA}\r\nTo: {{TO}}\r\nSubject: Two notes\r\nDate: {DATE}\r\n"
        "Message-ID: <digest@mail.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n'
        "--outer\r\nContent-Type: text/plain\r\n\r\nBoth notes below.\r\n"
        '--outer\r\nContent-Type: multipart/digest; boundary="d"\r\n\r\n'
        "--d\r\n\r\nFrom: Ann Lee <ann@partner.test>\r\nSubject: First note\r\n"
        "Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n\r\nOne.\r\n"
        "--d\r\n\r\nFrom: Bo <bo@partner.test>\r\nSubject: Second note\r\n"
        "Date: Mon, 02 Mar 2026 11:00:00 +0000\r\n\r\nTwo.\r\n"
        "--d--\r\n--outer--\r\n"
    )
    return raw.encode()


def forwarded_as_base64() -> bytes:
    inner = base64.encodebytes(
        b"From: Ann Lee <ann@partner.test>\r\nSubject: Venue\r\n"
        b"Date: Mon, 02 Mar 2026 16:30:00 +0000\r\n\r\nThe venue is booked.\r\n"
    ).decode()
    return (
        f"From: {MIA}\r\nTo: {{TO}}\r\nSubject: Fwd: Venue\r\nDate: {DATE}\r\n"
        "Message-ID: <fwd-b64@mail.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="m"\r\n\r\n'
        "--m\r\nContent-Type: text/plain\r\n\r\nSee below.\r\n"
        '--m\r\nContent-Type: message/rfc822; name="Venue.eml"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
        f"{inner}--m--\r\n"
    ).encode()


GMAIL_QUOTE = (
    '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Tue, Mar 3, 2026 at '
    '9:00\u202fAM Tidings &lt;<a href="mailto:tidings@tidings.test">tidings@tidings.test</a>'
    '&gt; wrote:<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;'
    'border-left:1px solid rgb(204,204,204);padding-left:1ex"><div>Olivia posted in '
    "Quarterly plan:<br>Shall we ship?</div></blockquote></div>"
)


def gmail_html_with_blank_plain() -> EmailMessage:
    return html_mail(
        '<div dir="ltr">Ship it, see <a href="https://example.com/plan">the plan</a>.</div>'
        f"<br>{GMAIL_QUOTE}",
        " \r\n \r\n",
    )


def outlook_html(rule_headers: str, answer: str) -> EmailMessage:
    return html_mail(
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        "<style>p{margin:0}</style></head><body>"
        f'<div dir="ltr">{answer}</div><div id="appendonsend"></div>'
        '<hr style="display:inline-block;width:98%" tabindex="-1">'
        '<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" '
        f'style="font-size:11pt" color="#000000">{rule_headers}</font><div>&nbsp;</div></div>'
        "<div>Olivia posted in Quarterly plan:<br>Shall we ship?</div></body></html>"
    )


def outlook_desktop_word_html() -> EmailMessage:
    return html_mail(
        '<div class="WordSection1"><p class="MsoNormal">Agreed, Friday it is.<o:p></o:p></p>'
        '<p class="MsoNormal"><o:p>&nbsp;</o:p></p><div><div style="border:none;border-top:'
        'solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p class="MsoNormal"><b>From:</b> '
        "Tidings &lt;tidings@tidings.test&gt; <br><b>Sent:</b> Tuesday, March 3, 2026 9:00 AM"
        "<br><b>To:</b> Mia Member &lt;mia@acme.test&gt;<br><b>Subject:</b> Re: Quarterly "
        'plan<o:p></o:p></p></div></div><p class="MsoNormal">Shall we ship?</p></div>',
        "Agreed, Friday it is.\r\n\r\nFrom: Tidings <tidings@tidings.test>\r\nSent: Tuesday, "
        "March 3, 2026 9:00 AM\r\nTo: Mia Member <mia@acme.test>\r\nSubject: Re: Quarterly "
        "plan\r\n\r\nShall we ship?\r\n",
    )


def outlook_mac() -> EmailMessage:
    return html_mail(
        '<html><body><div style="font-family:Aptos">Works for me.</div><div><br></div>'
        '<span id="OLK_SRC_BODY_SECTION"><div style="font-family:Aptos;font-size:12pt">'
        '<span style="font-weight:bold">From: </span>Tidings &lt;tidings@tidings.test&gt;<br>'
        '<span style="font-weight:bold">Date: </span>Tuesday, 3 March 2026 at 09:00<br>'
        '<span style="font-weight:bold">To: </span>Mia Member &lt;mia@acme.test&gt;<br>'
        '<span style="font-weight:bold">Subject: </span>Re: Quarterly plan<br></div>'
        "<div><br></div><div>Shall we ship?</div></span></body></html>"
    )


def apple_mail() -> EmailMessage:
    return html_mail(
        '<html><body style="overflow-wrap: break-word;">Yes, <i>Friday</i>.<div><br>'
        '<blockquote type="cite"><div>On Mar 3, 2026, at 09:00, Tidings &lt;tidings@'
        "tidings.test&gt; wrote:</div><br><div><div>Shall we ship?</div></div></blockquote>"
        "</div><br></body></html>",
        "Yes, Friday.\r\n\r\n> On Mar 3, 2026, at 09:00, Tidings <tidings@tidings.test> "
        "wrote:\r\n> \r\n> Shall we ship?\r\n",
    )


def apple_mail_with_attachment_beside_html() -> EmailMessage:
    """Apple Mail: plain text, and a mixed HTML part holding the file between two HTML parts."""
    msg = _headers(EmailMessage(), "Re: Quarterly plan")
    msg.set_content("Here is the deck.\r\n\r\n\r\nSee you Friday.\r\n")
    rich = EmailMessage()
    rich.set_content("<html><body>Here is the deck.<br><br></body></html>", subtype="html")
    rich.add_attachment(
        b"PK deck",
        maintype="application",
        subtype="vnd.ms-powerpoint",
        filename="deck.ppt",
        disposition="inline",
    )
    rich.add_attachment(
        "<html><body><br>See you Friday.</body></html>", subtype="html", disposition="inline"
    )
    msg.make_alternative()
    msg.attach(rich)
    return msg


def gmail_signature_and_phone_line() -> EmailMessage:
    return html_mail(
        '<div dir="ltr">Friday is good.<br clear="all"><div><br></div>-- <br><div dir="ltr" '
        'class="gmail_signature">Mia<br>Product, Acme</div></div><div><br></div><div>Get '
        '<a href="https://aka.ms/o0ukef">Outlook for iOS</a></div>'
    )


def smime_signed() -> bytes:
    return (
        f"From: {MIA}\r\nTo: {{TO}}\r\nSubject: Re: Quarterly plan\r\nDate: {DATE}\r\n"
        "Message-ID: <signed@mail.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; '
        'micalg=sha-256; boundary="sig"\r\n\r\n'
        "--sig\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSigned and sealed.\r\n"
        '--sig\r\nContent-Type: application/pkcs7-signature; name="smime.p7s"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        'Content-Disposition: attachment; filename="smime.p7s"\r\n\r\nMIIGOgYJKoZIhvcNAQcC\r\n'
        "--sig--\r\n"
    ).encode()


def outlook_plain_forward() -> EmailMessage:
    return plain(
        "Can you handle this?\r\n\r\n-----Original Message-----\r\nFrom: Ann Lee "
        "<ann@partner.test>\r\nSent: Monday, March 2, 2026 4:30 PM\r\nTo: Mia Member "
        "<mia@acme.test>\r\nSubject: Invoice 42\r\n\r\nInvoice 42 is overdue.\r\n",
        subject="FW: Invoice 42",
    )


def outlook_invite() -> EmailMessage:
    """Outlook's invitation: a blank plain part, the HTML, and the calendar as a third
    alternative."""
    msg = html_mail("<html><body><p>Let's review the plan.</p></body></html>", "\r\n")
    msg.add_alternative(
        "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n",
        subtype="calendar",
        params={"method": "REQUEST", "name": "meeting.ics"},
    )
    return msg


def yahoo_classic() -> EmailMessage:
    return plain(
        "Fine by me.\n\n--- On Tue, 3/3/26, Tidings <tidings@tidings.test> wrote:\n\n"
        "From: Tidings <tidings@tidings.test>\nSubject: Quarterly plan\nTo: mia@acme.test\n"
        "Date: Tuesday, March 3, 2026, 9:00 AM\n\nShall we ship?\n"
    )


def wrote_line(attribution: str, answer: str) -> EmailMessage:
    return plain(f"{answer}\n\n{attribution}\n> Shall we ship?\n> Olivia\n")


def thunderbird_bottom_post() -> EmailMessage:
    return plain(
        "On 03.03.26 09:00, Tidings wrote:\n> Olivia posted in Quarterly plan:\n"
        "> Shall we ship?\n\nYes, ship it on Friday.\n\n-- \nMia\n"
    )


def broken_base64_attachment() -> bytes:
    raw = (
        f"From: {MIA}\r\nTo: {{TO}}\r\nSubject: Re: Quarterly plan\r\nDate: {DATE}\r\n"
        "Message-ID: <broken-b64@mail.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe signed contract.\r\n"
        '--b\r\nContent-Type: application/pdf; name="contract.pdf"\r\n'
        'Content-Disposition: attachment; filename="contract.pdf"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK%%%%garbage####JVBERi0x@@@\r\n"
        "--b--\r\n"
    )
    return raw.encode()


def attachment_over_limit() -> EmailMessage:
    msg = plain("The export is attached.")
    msg.add_attachment(
        bytes(100 * 1024), maintype="application", subtype="zip", filename="export.zip"
    )
    msg.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="small.csv")
    return msg


def raw_text(body: bytes, charset: str, subject: bytes = b"Re: Quarterly plan") -> bytes:
    return (
        f"From: {MIA}\r\nTo: {{TO}}\r\n".encode()
        + b"Subject: "
        + subject
        + b"\r\n"
        + f"Date: {DATE}\r\nMessage-ID: <{abs(hash(body))}@mail.example>\r\n".encode()
        + f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset={charset}\r\n".encode()
        + b"Content-Transfer-Encoding: 8bit\r\n\r\n"
        + body
        + b"\r\n"
    )


def long_html_line() -> bytes:
    cells = "".join(f"<span>Item {i} is fine.</span> " for i in range(150))
    html = f"<html><body><div>{cells}</div></body></html>".encode()
    assert len(html) > 4000
    return (
        (
            f"From: {MIA}\r\nTo: {{TO}}\r\nSubject: Re: Quarterly plan\r\nDate: {DATE}\r\n"
            "Message-ID: <long-line@mail.example>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        ).encode()
        + html
        + b"\r\n"
    )


LONG_PARAGRAPH = "All the details of the plan, again and again. " * 40


def text_over_the_length_limit() -> EmailMessage:
    msg = plain("\n\n".join([LONG_PARAGRAPH.strip()] * 40))
    msg.add_attachment(b"a,b\n", maintype="text", subtype="csv", filename="plan.csv")
    return msg


def multipart_without_boundary() -> bytes:
    return (
        f"From: {MIA}\r\nTo: {{TO}}\r\nSubject: Re: Quarterly plan\r\nDate: {DATE}\r\n"
        "Message-ID: <no-boundary@mail.example>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed\r\n\r\n"
        "--XyZ\r\nContent-Type: text/plain\r\n\r\nNotes are attached.\r\n"
        '--XyZ\r\nContent-Type: text/csv; name="notes.csv"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\nYSxiCjEsMgo=\r\n--XyZ--\r\n"
    ).encode()


def multipart_of_raw_garbage() -> bytes:
    return (
        f"From: {MIA}\r\nTo: {{TO}}\r\nSubject: Re: Quarterly plan\r\nDate: {DATE}\r\n"
        "Message-ID: <garbage@mail.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="never"\r\n\r\n'
        "Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+PgpzdHJlYW0K\r\n"
        * 3
    ).encode()


def gmail_inline_forward() -> EmailMessage:
    return html_mail(
        '<div dir="ltr">FYI, for the offsite.<br><br><div class="gmail_quote"><div dir="ltr" '
        'class="gmail_attr">---------- Forwarded message ---------<br>From: <strong '
        'class="gmail_sendername" dir="auto">Ann Lee</strong> <span dir="auto">&lt;<a '
        'href="mailto:ann@partner.test">ann@partner.test</a>&gt;</span><br>Date: Mon, Mar 2, '
        '2026 at 4:30\u202fPM<br>Subject: Venue<br>To: &lt;<a href="mailto:mia@acme.test">'
        'mia@acme.test</a>&gt;<br></div><br><br><div dir="ltr">The venue is booked.</div>'
        "</div></div>",
        "FYI, for the offsite.\r\n\r\n---------- Forwarded message ---------\r\nFrom: Ann "
        "Lee <ann@partner.test>\r\nDate: Mon, Mar 2, 2026 at 4:30\u202fPM\r\nSubject: Venue"
        "\r\nTo: <mia@acme.test>\r\n\r\n\r\nThe venue is booked.\r\n",
        subject="Fwd: Venue",
    )


@dataclass
class Shape:
    build: Callable[[], EmailMessage | bytes]
    text: str
    files: list[str] = field(default_factory=list)
    to: str = "reply"  # "reply": Mia's reply address of a thread; "space": General's address
    title: str = ""  # the new thread's title, for mail to the space
    notice: str = ""  # what the automatic reply to the sender says is missing


FORWARD_BLOCK = (
    "::: details Forwarded message from Ann Lee <ann@partner.test>, “Budget 2027”, "
    "2 Mar 2026, 16:30\nThe budget is 10k.\n\nAnn\n\n*Attached to it: numbers.pdf*\n:::"
)
OUTLOOK_RULE = {
    "en": "<b>From:</b> Tidings &lt;tidings@tidings.test&gt;<br><b>Sent:</b> Tuesday, March "
    "3, 2026 9:00 AM<br><b>To:</b> Mia Member<br><b>Subject:</b> Re: Quarterly plan",
    "de": "<b>Von:</b> Tidings &lt;tidings@tidings.test&gt;<br><b>Gesendet:</b> Dienstag, 3. "
    "März 2026 09:00<br><b>An:</b> Mia Member<br><b>Betreff:</b> AW: Quarterly plan",
    "fr": "<b>De :</b> Tidings &lt;tidings@tidings.test&gt;<br><b>Envoyé :</b> mardi 3 mars "
    "2026 09:00<br><b>À :</b> Mia Member<br><b>Objet :</b> RE: Quarterly plan",
    "es": "<b>De:</b> Tidings &lt;tidings@tidings.test&gt;<br><b>Enviado:</b> martes, 3 de "
    "marzo de 2026 9:00<br><b>Para:</b> Mia Member<br><b>Asunto:</b> RE: Quarterly plan",
}
ATTRIBUTIONS = {
    "en_wrapped": "On Tue, Mar 3, 2026 at 9:00 AM Tidings <\ntidings@tidings.test> wrote:",
    "de": "Am Di., 3. März 2026 um 09:00 Uhr schrieb Tidings <tidings@tidings.test>:",
    "fr": "Le mar. 3 mars 2026 à 09:00, Tidings <tidings@tidings.test> a écrit :",
    "es": "El mar, 3 mar 2026 a las 9:00, Tidings (<tidings@tidings.test>) escribió:",
    "pt": "Em ter., 3 de mar. de 2026 às 09:00, Tidings <tidings@tidings.test> escreveu:",
    "ru": "вт, 3 мар. 2026 г. в 09:00, Tidings <tidings@tidings.test>:",
    "ja": "2026年3月3日(火) 9:00 Tidings <tidings@tidings.test>:",
}

SHAPES = {
    "outlook_forward_as_attachment": Shape(
        outlook_forward_as_attachment,
        f"Please see the forwarded message.\n\n{FORWARD_BLOCK}",
        ["Budget 2027.eml"],
        to="space",
        title="Budget 2027",
    ),
    "digest_of_two_messages": Shape(
        digest_of_two,
        "Both notes below.\n\n"
        "::: details Forwarded message from Ann Lee <ann@partner.test>, “First note”, "
        "2 Mar 2026, 10:00\nOne.\n:::\n\n"
        "::: details Forwarded message from Bo <bo@partner.test>, “Second note”, "
        "2 Mar 2026, 11:00\nTwo.\n:::",
        ["First note.eml", "Second note.eml"],
    ),
    "forwarded_message_sent_as_base64": Shape(
        forwarded_as_base64,
        "See below.\n\n::: details Forwarded message from Ann Lee <ann@partner.test>, “Venue”, "
        "2 Mar 2026, 16:30\nThe venue is booked.\n:::",
        ["Venue.eml"],
    ),
    "gmail_html_with_blank_plain": Shape(
        gmail_html_with_blank_plain, "Ship it, see [the plan](https://example.com/plan)."
    ),
    **{
        f"outlook_html_{language}": Shape(
            lambda rule=rule: outlook_html(rule, "Friday <b>works</b>."), "Friday **works**."
        )
        for language, rule in OUTLOOK_RULE.items()
    },
    "outlook_desktop_html": Shape(outlook_desktop_word_html, "Agreed, Friday it is."),
    "outlook_mac": Shape(outlook_mac, "Works for me."),
    "apple_mail": Shape(apple_mail, "Yes, Friday."),
    "apple_mail_attachment_beside_html": Shape(
        apple_mail_with_attachment_beside_html,
        "Here is the deck.\n\nSee you Friday.",
        ["deck.ppt"],
    ),
    "gmail_signature_and_phone_line": Shape(gmail_signature_and_phone_line, "Friday is good."),
    "smime_signed": Shape(smime_signed, "Signed and sealed."),
    "outlook_invite": Shape(outlook_invite, "Let's review the plan.", ["meeting.ics"]),
    "outlook_plain_forward_to_space": Shape(
        outlook_plain_forward,
        "Can you handle this?\n\n::: details Forwarded message from Ann Lee "
        "<ann@partner.test>, “Invoice 42”, Monday, March 2, 2026 4:30 PM\n"
        "Invoice 42 is overdue.\n:::",
        to="space",
        title="Invoice 42",
    ),
    "yahoo_classic": Shape(yahoo_classic, "Fine by me."),
    "outlook_ios": Shape(
        lambda: plain(
            "Ok, Friday!\r\n\r\nGet Outlook for iOS<https://aka.ms/o0ukef>\r\n"
            "________________________________\r\nFrom: Tidings <tidings@tidings.test>\r\n"
            "Sent: Tuesday, March 3, 2026 9:00:00 AM\r\nTo: Mia Member <mia@acme.test>\r\n"
            "Subject: Re: Quarterly plan\r\n\r\nShall we ship?\r\n"
        ),
        "Ok, Friday!",
    ),
    "sentence_like_a_phone_signature": Shape(
        lambda: plain("Sent from my phone, so the plan is short: ship on Friday.\n"),
        "Sent from my phone, so the plan is short: ship on Friday.",
    ),
    **{
        f"wrote_{language}": Shape(
            lambda line=line: wrote_line(line, "Yes, Friday."), "Yes, Friday."
        )
        for language, line in ATTRIBUTIONS.items()
    },
    "thunderbird_bottom_post": Shape(thunderbird_bottom_post, "Yes, ship it on Friday."),
    "inline_answers_keep_their_quotes": Shape(
        lambda: plain(
            "> Ship on Friday?\n\nYes.\n\n> And the docs?\n\nDone too.\n\n"
            "> Olivia posted in Quarterly plan\n"
        ),
        "> Ship on Friday?\n\nYes.\n\n> And the docs?\n\nDone too.",
    ),
    "inline_answers_under_an_attribution_keep_the_first_quote": Shape(
        lambda: plain(
            "On Tue, 3 Mar 2026 at 09:00, Tidings <reply+x@tidings.test> wrote:\n"
            "> Ship on Friday?\n\nYes.\n\n> And the docs?\n\nDone too.\n"
        ),
        "> Ship on Friday?\n\nYes.\n\n> And the docs?\n\nDone too.",
    ),
    "header_like_lines_of_the_senders_own": Shape(
        lambda: plain("Booked it:\n\nFrom: Berlin\nTo: Paris\n\nSee you there.\n"),
        "Booked it:\n\nFrom: Berlin\nTo: Paris\n\nSee you there.",
    ),
    "attribution_over_unquoted_text_is_folded": Shape(
        lambda: plain("Noted.\n\nOn Tue, 3 Mar 2026, Olivia wrote:\nShall we ship?\n"),
        "Noted.\n\n::: details Earlier messages\nOn Tue, 3 Mar 2026, Olivia wrote:\n"
        "Shall we ship?\n:::",
    ),
    "broken_base64_attachment": Shape(
        broken_base64_attachment,
        "The signed contract.\n\n*1 attachment could not be read: contract.pdf "
        "(damaged in transit)*",
        notice="- contract.pdf (damaged in transit)",
    ),
    "attachment_over_limit": Shape(
        attachment_over_limit,
        "The export is attached.\n\n*1 attachment could not be read: export.zip "
        "(over the 64.0 KB limit)*",
        ["small.csv"],
        notice="- export.zip (over the 64.0 KB limit)",
    ),
    "latin1_sent_as_utf8": Shape(
        lambda: raw_text("Naïve café, à demain.".encode("latin-1"), "utf-8"),
        "Naïve café, à demain.",
    ),
    "base64_body_without_its_encoding_named": Shape(
        lambda: raw_text(base64.encodebytes("Ship it on Friday — agreed.\n".encode() * 3), "utf-8"),
        "Ship it on Friday — agreed.\nShip it on Friday — agreed.\nShip it on Friday — agreed.",
    ),
    "french_latin1_sent_as_utf8": Shape(
        lambda: raw_text(
            "Le café est prêt à l'étage, très bon. Voilà, à bientôt, Zoé.".encode("latin-1"),
            "utf-8",
        ),
        "Le café est prêt à l'étage, très bon. Voilà, à bientôt, Zoé.",
    ),
    "cp1251_sent_as_utf8": Shape(
        lambda: raw_text("Да, сделаю к пятнице. Спасибо, коллеги.".encode("cp1251"), "utf-8"),
        "Да, сделаю к пятнице. Спасибо, коллеги.",
    ),
    "utf8_sent_as_gb2312": Shape(
        lambda: raw_text("好的，周五发布。".encode(), "gb2312"), "好的，周五发布。"
    ),
    "broken_encoded_word_subject": Shape(
        lambda: raw_text(
            b"The roadmap draft.",
            "utf-8",
            # Junk in the base64 of one word; UTF-8 bytes in a word labelled Latin-1.
            subject=b"=?utf-8?B?Um9hZG1hcCAyMDI3IC0g!!?= =?iso-8859-1?Q?=C3=A9t=C3=A9?=",
        ),
        "The roadmap draft.",
        to="space",
        title="Roadmap 2027 - été",
    ),
    "line_over_1000_bytes": Shape(
        long_html_line, " ".join(f"Item {i} is fine." for i in range(150))
    ),
    "multipart_without_boundary": Shape(
        multipart_without_boundary, "Notes are attached.", ["notes.csv"]
    ),
    "multipart_of_raw_garbage": Shape(
        multipart_of_raw_garbage,
        "*Part of the message text could not be read (its parts were broken).*",
        notice="- Part of the message text (its parts were broken)",
    ),
    "gmail_inline_forward_to_space": Shape(
        gmail_inline_forward,
        "FYI, for the offsite.\n\n::: details Forwarded message from Ann Lee "
        "<ann@partner.test>, “Venue”, Mon, Mar 2, 2026 at 4:30 PM\nThe venue is booked.\n:::",
        to="space",
        title="Venue",
    ),
    "thunderbird_reply_to_space_folds_history": Shape(
        lambda: plain(
            "Adding the team.\n\nOn 02.03.26 16:30, Ann Lee wrote:\n> The venue is booked.\n",
            subject="Re: Venue",
        ),
        "Adding the team.\n\n::: details Earlier messages\nOn 02.03.26 16:30, Ann Lee wrote:\n"
        "> The venue is booked.\n:::",
        to="space",
        title="Venue",
    ),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_mail_lands_whole(world, send, mailoutbox, name):
    shape = SHAPES[name]
    thread = thread_in(world.open_space, world.owner)
    to = (
        addresses.reply_address(world.member, thread)
        if shape.to == "reply"
        else addresses.space_address(world.open_space)
    )
    built = shape.build()
    raw = built if isinstance(built, bytes) else built.as_bytes(policy=policy.SMTP)
    code, answer = send(raw.replace(b"{TO}", to.encode()), to)
    assert code == 250, answer
    entry = InboundMessage.objects.get()
    assert entry.result == InboundResult.ACCEPTED, entry.reason
    post = entry.reply or entry.thread
    if shape.to == "space":
        assert isinstance(post, Thread) and post.title == shape.title
    else:
        assert isinstance(post, Reply) and post.thread == thread
    assert post.body == shape.text
    assert [a.name for a in post.attachments.order_by("pk")] == shape.files
    assert entry.original  # kept for "View original"
    notices = [m for m in mailoutbox if m.to == ["mia@acme.test"]]
    if shape.notice:
        [notice] = notices
        assert shape.notice in notice.body and notice.extra_headers["Auto-Submitted"]
    else:
        assert notices == []


def test_a_text_over_the_length_limit_is_cut_and_attached_whole(world, send, settings):
    settings.MAX_ATTACHMENT_BYTES = 1024 * 1024
    thread = thread_in(world.open_space, world.owner)
    to = addresses.reply_address(world.member, thread)
    msg = text_over_the_length_limit()
    code, _ = send(msg.as_bytes().replace(b"{TO}", to.encode()), to)
    assert code == 250
    reply = Reply.objects.get()
    note = "*The message was too long to show in full: the whole text is attached as message.txt.*"
    assert reply.body.endswith(f"again and again.\n\n{note}") and len(reply.body) <= 50_000
    files = {a.name: a for a in reply.attachments.all()}
    assert sorted(files) == ["message.txt", "plan.csv"]
    with files["message.txt"].file.open("rb") as full:
        assert full.read().decode() == "\n\n".join([LONG_PARAGRAPH.strip()] * 40)
