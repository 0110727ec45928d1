"""The fan-out survives the real queue: a reply is enqueued on commit, nothing is delivered until a
real Huey consumer runs it from the configured storage (SQLite file, or Redis with REDIS_URL)."""

from __future__ import annotations

import signal
import time
import uuid

import pytest
from django.conf import settings
from django.db import connections
from huey.contrib.djhuey import HUEY
from huey.signals import SIGNAL_COMPLETE, SIGNAL_ERROR

from tidings.inbox.models import InboxItem, Reason
from tidings.threads import actions

WAIT_SECONDS = 30


@pytest.fixture
def real_queue():
    """HUEY on its configured storage under a queue name of this test's own, flushed after, so
    nothing else's queue is touched. Immediate mode is restored for the tests that follow."""
    name, was_immediate = HUEY.name, HUEY.immediate
    HUEY.name = f"{name}-worker-test-{uuid.uuid4().hex[:8]}"
    HUEY.immediate = False  # recreates the storage, now under the name above

    # Workers keep database connections open between tasks; the test database must be droppable.
    @HUEY.signal(SIGNAL_COMPLETE, SIGNAL_ERROR)
    def close_connections(signal_name, task, *args, **kwargs) -> None:
        connections.close_all()

    try:
        yield HUEY
    finally:
        HUEY.disconnect_signal(close_connections, SIGNAL_COMPLETE, SIGNAL_ERROR)
        HUEY.storage.flush_all()
        HUEY.storage.close()
        HUEY.name = name
        HUEY.immediate = True
        HUEY.immediate = was_immediate


def run_consumer_until(huey, done) -> bool:
    """Run a one-thread consumer until `done()` is true or time runs out; always stop it."""
    handlers = {
        sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    consumer = huey.create_consumer(
        workers=1, worker_type="thread", periodic=False, initial_delay=0.05, max_delay=0.2,
        check_worker_health=False, shutdown_timeout=10,
    )  # fmt: skip
    consumer.start()
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if done():
                return True
            time.sleep(0.2)
        return done()
    finally:
        consumer.stop(graceful=True)
        for sig, handler in handlers.items():  # the consumer installed its own
            signal.signal(sig, handler)


@pytest.mark.django_db(transaction=True)
def test_real_worker_delivers_a_reply(world, real_queue):
    HUEY.immediate = True  # the thread itself is delivered inline; only the reply is queued
    thread = actions.post_thread(world.owner, world.open_space, kind="question", title="Q", body="")
    HUEY.immediate = False
    assert real_queue.pending_count() == 0
    configured = "RedisStorage" if settings.REDIS_URL else "SqliteStorage"
    assert type(real_queue.storage).__name__ == configured

    reply = actions.post_reply(world.member, thread, body="An answer, @gus.")

    assert real_queue.pending_count() == 1
    assert not InboxItem.objects.filter(person=world.owner).exists()  # not delivered yet
    owner_item = InboxItem.objects.filter(person=world.owner, reason=Reason.REPLY)
    guest_mention = InboxItem.objects.filter(person=world.guest, reason=Reason.MENTION)

    def delivered() -> bool:
        # A starting worker also queues its own outbox run for later; wait until the consumer
        # has taken that too, so the queue is seen empty, not caught between two messages.
        return owner_item.exists() and guest_mention.exists() and real_queue.pending_count() == 0

    assert run_consumer_until(real_queue, delivered), "the worker did not deliver the reply"
    item = owner_item.get()
    assert item.latest_reply_id == reply.pk and item.actor_id == world.member.pk
    assert guest_mention.get().latest_reply_id == reply.pk
    assert real_queue.pending_count() == 0
