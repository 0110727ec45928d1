"""A corpus of awkward real-world messages (corpus/*.eml): each one ends in a clear result,
never a crash. In the files, {REPLY} stands for Mia's reply address of a thread in General,
{SPACE} for General's address and {PRIVATE} for Leadership's. They arrive as from a Postfix in
front whose DKIM milter found a signature of acme.test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tidings.mail import addresses, inbound
from tidings.mail.models import InboundMessage, InboundResult
from tidings.threads.models import Reply, Thread
from tidings.threads.tests.factories import thread_in

CORPUS = Path(__file__).parent / "corpus"
ACCEPTED, REJECTED, IGNORED = InboundResult.ACCEPTED, InboundResult.REJECTED, InboundResult.IGNORED

# file: (envelope recipient, result, what the reason or the posted text must contain)
EXPECTED = {
    "01_plain_reply": ("{REPLY}", ACCEPTED, "Looks good to me."),
    "02_html_only": ("{REPLY}", ACCEPTED, "Approved & **done**."),
    "03_nested_multipart": ("{REPLY}", ACCEPTED, "See the attached minutes."),
    "04_missing_headers": ("{SPACE}", ACCEPTED, "No subject, no date, no message id."),
    "05_no_from": ("{REPLY}", REJECTED, "The message has no sender address (From)."),
    "06_8bit_garbage_headers": ("{SPACE}", ACCEPTED, "Raw 8-bit in the headers."),
    "07_unknown_charset": ("{REPLY}", ACCEPTED, "Café at ten."),
    "08_mislabeled_charset": ("{REPLY}", ACCEPTED, "Naïve résumé says utf-8 but is Latin-1."),
    "09_broken_base64": ("{REPLY}", ACCEPTED, "This body is"),
    "10_empty_body": ("{REPLY}", REJECTED, "Write something first."),
    "11_only_signature": ("{REPLY}", REJECTED, "Write something first."),
    "12_only_quoted_history": ("{REPLY}", REJECTED, "Write something first."),
    "13_attachment_over_limit": (
        "{REPLY}",
        ACCEPTED,
        "*1 attachment could not be read: export.zip (over the 4.0 KB limit)*",
    ),
    "14_forged_token": ("reply+3-1-00000000000000000000@tidings.test", REJECTED, "not valid"),
    "15_token_of_another_person": ("{REPLY}", REJECTED, "belongs to another person"),
    "16_auto_submitted": ("{REPLY}", IGNORED, "Auto-submitted"),
    "17_precedence_bulk": ("{REPLY}", IGNORED, "Bulk"),
    "18_bounce_report": ("{REPLY}", IGNORED, "Delivery report."),
    "19_loop_from_ourselves": ("{SPACE}", IGNORED, "Loop"),
    "20_unknown_sender_to_space": ("{SPACE}", REJECTED, "Only members of this space"),
    "21_multipart_without_boundary": ("{REPLY}", ACCEPTED, "There is no boundary"),
    "22_boundary_never_closed": ("{REPLY}", ACCEPTED, "The message was cut off"),
    "23_binary_garbage": ("{REPLY}", REJECTED, "no sender address"),
    "24_broken_encoded_words": ("{SPACE}", ACCEPTED, "The roadmap draft."),
    "25_subject_too_long": ("{SPACE}", ACCEPTED, "A very long subject line."),
    "26_nul_bytes": ("{REPLY}", ACCEPTED, "NUL bytes inside."),
    "27_html_with_script": ("{SPACE}", ACCEPTED, "Visible _words_ only."),
    "28_hostile_filename": ("{REPLY}", ACCEPTED, "Notes attached."),
    "29_no_to_header": ("{REPLY}", ACCEPTED, "Only the envelope names the recipient."),
    "30_guest_to_private_space": ("{PRIVATE}", REJECTED, "Only members of this space"),
    "31_nul_and_surrogates_in_headers": ("{SPACE}", ACCEPTED, "Headers hold NUL"),
}


@pytest.fixture(autouse=True)
def _mail_settings(settings):
    settings.MAIL_DOMAIN = "tidings.test"
    settings.DEFAULT_FROM_EMAIL = "Tidings <tidings@tidings.test>"
    settings.MAX_ATTACHMENT_BYTES = 4096
    settings.MAIL_TRUSTED_AUTHSERV_ID = "mx.tidings.test"


VERDICT = b"Authentication-Results: mx.tidings.test; dkim=pass header.d=acme.test\r\n"


def test_the_corpus_is_all_listed():
    assert sorted(p.stem for p in CORPUS.glob("*.eml")) == sorted(EXPECTED)
    assert len(EXPECTED) >= 20


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_message(world, name):
    thread = thread_in(world.open_space, world.owner)
    places = {
        "{REPLY}": addresses.reply_address(world.member, thread),
        "{SPACE}": addresses.space_address(world.open_space),
        "{PRIVATE}": addresses.space_address(world.private_space),
    }
    raw = (CORPUS / f"{name}.eml").read_bytes()
    for placeholder, address in places.items():
        raw = raw.replace(placeholder.encode(), address.encode())
    recipient, result, detail = EXPECTED[name]
    outcome = inbound.receive_message(
        VERDICT + raw, places.get(recipient, recipient), envelope_sender="sender@mail.example"
    )
    assert (outcome.result, name) == (result, name), outcome.reason
    entry = InboundMessage.objects.get(pk=outcome.log_id)
    assert entry.result == result
    if result == ACCEPTED:
        post = Reply.objects.get(pk=outcome.reply_id) if outcome.reply_id else None
        post = post or Thread.objects.get(pk=outcome.thread_id)
        assert detail in post.body
        assert "\x00" not in post.body
    else:
        assert detail in outcome.reason
        assert not Reply.objects.exists()
        assert Thread.objects.count() == 1
