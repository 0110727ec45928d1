"""Recordings in email: a notification, an hourly batch or a digest about a recorded reply names
it with its length ("▶ Recording, 0:03"), links to the post and quotes the start of what is
said; never the thread's opening post, and never a poster image or a media link (a forwarded
email or a mail provider's image proxy would show a private recording to anyone)."""

from __future__ import annotations

import datetime as dt

import pytest

from tidings.accounts.models import EmailCadence
from tidings.inbox.models import InboxItem, Reason
from tidings.mail import digests, outbox
from tidings.mail.models import Digest
from tidings.mail.tests.test_outbox import later, set_delivery
from tidings.threads.tests.factories import thread_in
from tidings.transcripts.tests.factories import recorded_post

OPENING = "What is left before the launch"
SAID = "The press kit is ready and the landing page goes live on Monday morning"


def bodies(message) -> tuple[str, str]:
    return (
        message.get_body(("plain",)).get_content(),
        message.get_body(("html",)).get_content(),
    )


def assert_no_media(html: str, text: str) -> None:
    """The recording is a link to its post: no picture, no signed media link."""
    assert "<img" not in html
    assert "/media/r/" not in html and "/media/r/" not in text


@pytest.fixture
def launch(world, committed, settings):
    """Mia's thread in General; Mia gets email at once, the others none."""
    settings.SITE_URL = "https://tidings.example"
    for person in (world.owner, world.admin, world.guest):
        set_delivery(person, EmailCadence.NEVER)
    set_delivery(world.member)
    return committed(thread_in, world.open_space, world.member, title="Launch", body=OPENING)


def test_a_notification_quotes_what_is_said_in_a_recorded_reply(world, launch, sent_mail):
    recording = recorded_post(world.owner, thread=launch, said=SAID)

    assert outbox.send_due_emails(later()) == 1
    text, html = bodies(sent_mail(world.member.email)[0])
    url = f"https://tidings.example/t/{launch.pk}/#reply-{recording.reply_id}"
    assert f"▶ Recording, 0:03: {url}" in text
    assert "“The press kit is ready and the landing page goes live" in text
    assert f'href="{url}">▶&nbsp;Recording, 0:03</a>' in html
    assert "“The press kit is ready" in html
    assert OPENING not in text and OPENING not in html
    assert_no_media(html, text)


def test_before_its_transcript_a_recording_is_named_by_its_length(world, launch, sent_mail):
    recorded_post(world.owner, thread=launch, audio=True)

    assert outbox.send_due_emails(later()) == 1
    text, html = bodies(sent_mail(world.member.email)[0])
    assert "▶ Audio recording, 0:03" in text and "▶&nbsp;Audio recording, 0:03" in html
    assert OPENING not in text


def test_a_new_walkthrough_is_emailed_with_its_recording(world, committed, sent_mail, settings):
    for person in (world.owner, world.admin, world.guest):
        set_delivery(person, EmailCadence.NEVER)
    set_delivery(world.member)
    settings.SITE_URL = "https://tidings.example"
    recording = recorded_post(world.owner, space=world.open_space, title="Office tour", said=SAID)

    assert outbox.send_due_emails(later()) == 1
    text, html = bodies(sent_mail(world.member.email)[0])
    assert "Office tour" in text
    assert f"▶ Recording, 0:03: https://tidings.example/t/{recording.thread_id}/" in text
    assert "“The press kit is ready" in html
    assert_no_media(html, text)


def test_the_hourly_batch_quotes_the_recorded_reply(world, launch, sent_mail):
    set_delivery(world.member, EmailCadence.HOURLY)
    recorded_post(world.owner, thread=launch, said=SAID)

    assert outbox.send_due_emails(later(61)) == 1
    text, html = bodies(sent_mail(world.member.email)[0])
    assert "Launch" in text and "▶ Recording, 0:03" in text
    assert "“The press kit is ready" in text
    assert OPENING not in text
    assert_no_media(html, text)


def digest_for(person) -> str:
    row = Digest.objects.get(person=person, finished_at=None)
    assert digests.send_due_digests(row.due_at) == 1
    return row


@pytest.mark.parametrize("said", [SAID, ""], ids=["transcript", "no-transcript"])
def test_a_digest_entry_about_a_recorded_reply_is_about_that_reply(world, launch, sent_mail, said):
    set_delivery(world.member, EmailCadence.DAILY, digest_time=dt.time(9, 0))
    digests.send_due_digests()
    recorded_post(world.owner, thread=launch, said=said)

    digest_for(world.member)
    [message] = sent_mail(world.member.email)
    text, html = bodies(message)
    assert "Launch" in text and "▶ Recording, 0:03" in text and "▶&nbsp;Recording, 0:03" in html
    assert OPENING not in text and OPENING not in html
    assert ("“The press kit is ready" in text) is bool(said)
    assert_no_media(html, text)


@pytest.mark.parametrize("role", ["owner", "admin", "member", "guest"])
def test_a_digest_shows_a_private_recording_only_to_people_on_the_space(world, committed, role):
    person = world.person(role)
    set_delivery(person, EmailCadence.DAILY, digest_time=dt.time(9, 0))
    digests.schedule_digests()
    thread = thread_in(world.private_space, world.admin, title="Quiet acquisition")
    recording = recorded_post(world.owner, thread=thread, said=SAID)
    # As if the person had been told of it before: only access decides what the digest shows.
    InboxItem.objects.update_or_create(
        person=person,
        thread=thread,
        defaults={"reason": Reason.REPLY, "latest_reply_id": recording.reply_id, "read_at": None},
    )
    row = Digest.objects.get(person=person, finished_at=None)
    [(spaces, _more)] = digests.digest_contents([row]).values()
    shown = [entry for space in spaces for entry in space.threads]
    if role in ("owner", "admin"):
        assert [(e.title, e.recording) for e in shown] == [("Quiet acquisition", "Recording, 0:03")]
        assert shown[0].excerpt.startswith("“The press kit is ready")
    else:
        assert shown == []
