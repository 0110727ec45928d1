"""Files uploaded and not posted: each person may keep only so many (count and bytes), with a
sentence that says what to do past that; those left for ABANDONED_UPLOADS_DAYS are removed
with their bytes, never those of a post or held for a post scheduled for later."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tidings.threads import actions
from tidings.threads.models import Attachment, Thread

KB = 1024


def upload(world, name: str, data: bytes = b"notes for the plan", person=None) -> Attachment:
    return actions.upload_attachment(
        person or world.member, world.open_space, SimpleUploadedFile(name, data)
    )


def refusal(error: ValidationError) -> str:
    return error.value.message_dict["attachments"][0]


def test_unposted_uploads_are_removed_after_the_configured_days_with_their_bytes(
    world, settings, django_capture_on_commit_callbacks
):
    settings.ABANDONED_UPLOADS_DAYS = 7
    posted = upload(world, "posted.txt")
    actions.post_thread(
        world.member, world.open_space, kind="discussion", title="Plan", body="See file.",
        attachment_tokens=[posted.token],
    )  # fmt: skip
    abandoned = upload(world, "abandoned.txt")
    held = upload(world, "held.txt")
    actions.hold_attachments(world.member, world.open_space, [held.token])
    recent = upload(world, "recent.txt")
    Attachment.objects.exclude(pk=recent.pk).update(created_at=timezone.now() - timedelta(days=8))
    Attachment.objects.filter(pk=recent.pk).update(created_at=timezone.now() - timedelta(days=6))
    storage = abandoned.file.storage

    with django_capture_on_commit_callbacks(execute=True):
        assert actions.forget_unposted_attachments() == 1
    assert set(Attachment.objects.values_list("name", flat=True)) == {
        "posted.txt",
        "held.txt",
        "recent.txt",
    }
    assert not storage.exists(abandoned.file.name)
    assert all(storage.exists(a.file.name) for a in (posted, held, recent))


def test_past_the_count_an_upload_is_refused_until_files_are_posted(world, settings):
    settings.ATTACHMENT_UNPOSTED_MAX_COUNT = 2
    settings.ABANDONED_UPLOADS_DAYS = 7
    first, second = upload(world, "one.txt"), upload(world, "two.txt")
    with pytest.raises(ValidationError) as refused:
        upload(world, "three.txt")
    assert refusal(refused) == (
        "You have 2 files uploaded and not posted yet, the most one person may keep. Post them "
        "with a thread or reply first; files never posted are removed after 7 days."
    )
    upload(world, "theirs.txt", person=world.admin)  # a share per person

    actions.post_reply(
        world.member, actions.post_thread(
            world.owner, world.open_space, kind="discussion", title="Plan", body="Files?"
        ), body="Here", attachment_tokens=[first.token],
    )  # fmt: skip
    third = upload(world, "three.txt")
    actions.hold_attachments(world.member, world.open_space, [second.token, third.token])
    upload(world, "four.txt")


def test_past_the_bytes_an_upload_is_refused(world, settings):
    settings.ATTACHMENT_UNPOSTED_MAX_MB = 1
    upload(world, "big.bin", b"x" * 600 * KB)
    with pytest.raises(ValidationError) as refused:
        upload(world, "bigger.bin", b"y" * 500 * KB)
    assert refusal(refused).startswith(
        "Files uploaded and not posted yet may take up to 1.0\xa0MB per person; yours take "
        "600.0\xa0KB and this one 500.0\xa0KB."
    )
    assert list(Attachment.objects.values_list("name", flat=True)) == ["big.bin"]
    upload(world, "fits.bin", b"z" * 400 * KB)


def test_the_api_refuses_with_422_and_the_sentence(world, settings, api_for):  # noqa: F811
    settings.ATTACHMENT_UNPOSTED_MAX_COUNT = 1
    api = api_for("member")
    url = f"/spaces/{world.open_space.pk}/attachments"
    first = api.post(url, {"file": SimpleUploadedFile("a.txt", b"a")}, multipart=True)
    assert first.status_code == 201
    second = api.post(url, {"file": SimpleUploadedFile("b.txt", b"b")}, multipart=True)
    assert second.status_code == 422
    assert second.json()["detail"].startswith(
        "attachments: You have 1 file uploaded and not posted yet"
    )


def test_the_composer_shows_the_sentence_and_keeps_nothing(world, settings):
    settings.ATTACHMENT_UNPOSTED_MAX_MB = 1
    upload(world, "waiting.bin", b"x" * 900 * KB)
    response = world.client_for("member").post(
        reverse("threads:thread-new", kwargs={"workspace": "acme", "space": "general"}),
        {
            "kind": "status",
            "title": "With a file",
            "body": "see file",
            "files": [SimpleUploadedFile("chart.bin", b"y" * 200 * KB)],
        },
    )
    assert response.status_code == 400
    assert "Files uploaded and not posted yet may take up to 1.0" in response.content.decode()
    assert not Thread.objects.filter(title="With a file").exists()
    assert list(Attachment.objects.values_list("name", flat=True)) == ["waiting.bin"]
