"""Watching a recording marks the viewer's own inbox item about its thread read, and no one
else's."""

from __future__ import annotations

from tidings.inbox.models import InboxItem
from tidings.recordings.moments import record_viewing
from tidings.recordings.tests.factories import posted_opening


def test_watching_marks_the_viewers_inbox_item_read(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        recording = posted_opening(world.member, world.open_space)
    item = InboxItem.objects.get(person=world.admin, thread=recording.thread)
    assert item.read_at is None
    others = InboxItem.objects.filter(thread=recording.thread).exclude(person=world.admin)
    assert others.filter(read_at=None).exists()
    record_viewing(world.admin, recording, [[0, 500]])
    item.refresh_from_db()
    assert item.read_at is not None
    assert others.filter(read_at=None).exists()  # only the viewer's own item
