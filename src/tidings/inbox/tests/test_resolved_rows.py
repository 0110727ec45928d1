"""An inbox row about a resolved thread's opening post quotes the post, not its outcome."""

from tidings.inbox.models import InboxItem, Reason
from tidings.inbox.queries import tab_items
from tidings.threads import actions
from tidings.threads.tests.factories import thread_in
from tidings.threads.tests.test_resolve_outcome import OUTCOME


def test_an_inbox_row_about_the_opening_post_quotes_the_post_not_its_outcome(world):
    thread = thread_in(world.open_space, world.member, "Which database?", "Pick one by Friday.")
    InboxItem.objects.create(person=world.owner, thread=thread, reason=Reason.NEW_THREAD)
    actions.resolve_thread(world.member, thread, OUTCOME)
    [row] = [item for item in tab_items(world.owner, "open") if item.thread_id == thread.pk]
    assert row.excerpt == "Pick one by Friday."
