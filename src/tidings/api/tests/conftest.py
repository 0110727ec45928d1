"""API test scenes: posts in each space on top of the world."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tidings.inbox.models import InboxItem
from tidings.threads import actions
from tidings.threads.models import Reply, Thread


@dataclass
class Scene:
    """Posts on top of the world: a thread in each space, a reply in each, one decision."""

    open_thread: Thread
    private_thread: Thread
    open_reply: Reply
    private_reply: Reply
    owner_private_item: InboxItem


PRIVATE_TITLE = "Acquisition of Globex"
PRIVATE_WORDS = ("Globex", "Leadership", "confidential")


@pytest.fixture
def scene(world, django_capture_on_commit_callbacks) -> Scene:
    with django_capture_on_commit_callbacks(execute=True):
        open_thread = actions.post_thread(
            world.member, world.open_space, kind="question", title="Where is the style guide?",
            body="Looking for the **style guide**.",
        )  # fmt: skip
        private_thread = actions.post_thread(
            world.owner, world.private_space, kind="decision", title=PRIVATE_TITLE,
            body="The confidential numbers are in.",
        )  # fmt: skip
        open_reply = actions.post_reply(world.guest, open_thread, body="It is in the wiki.")
        private_reply = actions.post_reply(world.admin, private_thread, body="Globex agrees.")
        actions.resolve_thread(world.owner, private_thread, "We buy Globex.")
    item = InboxItem.objects.get(person=world.owner, thread=private_thread)
    return Scene(open_thread, private_thread, open_reply, private_reply, item)
