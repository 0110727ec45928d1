from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tidings.threads import actions
from tidings.threads.models import Attachment


def upload(world, name: str) -> Attachment:
    return actions.upload_attachment(
        world.member, world.open_space, SimpleUploadedFile(name, b"notes for the plan")
    )


def test_unposted_uploads_are_removed_after_a_day_with_their_bytes(world):
    posted = upload(world, "posted.txt")
    actions.post_thread(
        world.member, world.open_space, kind="discussion", title="Plan", body="See file.",
        attachment_tokens=[posted.token],
    )  # fmt: skip
    abandoned = upload(world, "abandoned.txt")
    fresh = upload(world, "fresh.txt")
    day_ago = timezone.now() - timedelta(days=2)
    Attachment.objects.filter(pk__in=[posted.pk, abandoned.pk]).update(created_at=day_ago)
    storage, abandoned_path = abandoned.file.storage, abandoned.file.name

    assert actions.forget_unposted_attachments() == 1
    assert set(Attachment.objects.values_list("name", flat=True)) == {"posted.txt", "fresh.txt"}
    assert not storage.exists(abandoned_path)
    assert storage.exists(fresh.file.name)
