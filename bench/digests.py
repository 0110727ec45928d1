"""Measure email delivery: daily digests for 10,000 people, and one post's fan-out to 5,000.

    DATA_DIR=bench/out/digests .venv/bin/python bench/digests.py
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/tidings_bench_mail \\
        DATA_DIR=bench/out/digests-pg .venv/bin/python bench/digests.py

1. "digests": 10 workspaces of 1,000 people (10,000 people), 5 spaces each (50 spaces, one
   private per workspace with 100 members); 100,000 events over the last day (2,000 new
   threads, 98,000 replies from the space's people, spread over the day with a daytime
   peak). Each person follows two of their workspace's spaces, so their inbox holds the new
   threads there and the threads they took part in. Everyone takes a daily digest at 09:00
   in one of five time zones (two with half-hour offsets). The clock runs from
   `send_due_digests` at the moment all of them are due until every digest has been built,
   checked against visibility and handed to a real SMTP server on loopback (aiosmtpd, a
   sink that counts, in a process of its own), one connection per worker as the periodic
   task does; once with one worker process, then again with two sharing the run (`--workers`).
2. "fanout": a space with 5,000 followers, all on immediate email; the clock runs for the
   worker's fan-out of one new thread: 5,000 inbox items and 5,000 outbox rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import platform
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")

import django  # noqa: E402

django.setup()

from aiosmtpd.controller import Controller  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from tidings.accounts.models import DeliverySettings, EmailCadence, User  # noqa: E402
from tidings.inbox import actions as inbox_actions  # noqa: E402
from tidings.inbox.models import InboxItem, Reason  # noqa: E402
from tidings.mail import digests  # noqa: E402
from tidings.mail.models import Digest, OutboxEmail, Outcome  # noqa: E402
from tidings.threads.models import (  # noqa: E402
    Reply,
    Space,
    SpaceLevel,
    SpaceMember,
    SpaceSubscription,
    Thread,
    ThreadFollow,
    Visibility,
)
from tidings.workspaces.models import Membership, Role, Workspace  # noqa: E402

ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Adelaide", "UTC"]
WORDS = (
    "deploy release review design customer roadmap budget latency database migration "
    "onboarding interview metrics dashboard incident feature backlog sprint planning estimate "
    "proposal feedback question answer decision meeting agenda schedule handover recording"
).split()


class CountingSink:
    def __init__(self) -> None:
        self.count = 0
        self.bytes = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd API
        self.count += 1
        self.bytes += len(envelope.content)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high))).capitalize() + "."


def daytime(rng: random.Random, start: dt.datetime) -> dt.datetime:
    """A moment in the 24 hours after `start`, busier in the middle of the day."""
    hours = min(max(rng.gauss(12, 5), 0.01), 23.99)
    return start + dt.timedelta(hours=hours)


def bulk(model, rows, size: int = 5000) -> None:
    with transaction.atomic():
        model.objects.bulk_create(rows, batch_size=size)


def generate_digest_world(rng: random.Random, now: dt.datetime) -> dt.datetime:
    """Build the people, spaces and a day of activity; returns when every digest is due."""
    day_start = now - dt.timedelta(days=1)
    bulk(
        User,
        [
            User(
                email=f"person{i}@bench.test",
                name=f"Person {i}",
                time_zone=ZONES[i % len(ZONES)],
                password="!",
            )
            for i in range(10_000)
        ],
    )
    people = list(User.objects.filter(email__endswith="@bench.test").order_by("pk"))
    bulk(
        DeliverySettings,
        [
            DeliverySettings(user=p, cadence=EmailCadence.DAILY, digest_time=dt.time(9, 0))
            for p in people
        ],
    )
    thread_rows: list[Thread] = []
    space_people: dict[int, list[User]] = {}
    follows: dict[int, set[int]] = {}  # space id -> people following it
    for w in range(10):
        workspace = Workspace.objects.create(name=f"Bench {w}", slug=f"bench-{w}")
        staff = people[w * 1000 : (w + 1) * 1000]
        bulk(
            Membership,
            [
                Membership(workspace=workspace, person=p, role=Role.MEMBER if i else Role.OWNER)
                for i, p in enumerate(staff)
            ],
        )
        spaces = [
            Space.objects.create(
                workspace=workspace,
                name=f"Space {w}-{s}",
                slug=f"space-{s}",
                created_by=staff[0],
                visibility=Visibility.PRIVATE if s == 4 else Visibility.OPEN,
            )
            for s in range(5)
        ]
        private_members = staff[:100]
        bulk(SpaceMember, [SpaceMember(space=spaces[4], person=p) for p in private_members])
        subscriptions = []
        for p in staff:
            followed = set(rng.sample(range(4), 2))
            for s, space in enumerate(spaces[:4]):
                if s not in followed:
                    subscriptions.append(
                        SpaceSubscription(space=space, person=p, level=SpaceLevel.NORMAL)
                    )
                else:
                    follows.setdefault(space.pk, set()).add(p.pk)
        bulk(SpaceSubscription, subscriptions)
        follows[spaces[4].pk] = {p.pk for p in private_members}
        for s, space in enumerate(spaces):
            space_people[space.pk] = private_members if s == 4 else staff
            for t in range(40):
                thread_rows.append(
                    Thread(
                        space=space,
                        author=rng.choice(space_people[space.pk]),
                        title=f"{words(rng, 3, 7)[:-1]} ({w}-{s}-{t})",
                        body=words(rng, 10, 60),
                        created_at=daytime(rng, day_start),
                    )
                )
    bulk(Thread, thread_rows)
    threads = list(Thread.objects.filter(space__workspace__slug__startswith="bench-"))
    replies = []
    for _ in range(98_000):
        thread = rng.choice(threads)
        at = max(daytime(rng, day_start), thread.created_at + dt.timedelta(seconds=1))
        author = rng.choice(space_people[thread.space_id])
        text = words(rng, 5, 80)
        replies.append(
            Reply(
                thread=thread, author=author, body=text, body_html=f"<p>{text}</p>", created_at=at
            )
        )
    bulk(Reply, replies)
    # Inboxes: each new thread reaches its space's followers; each reply reaches the people
    # who already replied in that thread (the thread's followers), as the fan-out does.
    latest: dict[tuple[int, int], tuple[dt.datetime, int]] = {}
    for thread in threads:
        for person_id in follows.get(thread.space_id, ()):
            if person_id != thread.author_id:
                latest[(person_id, thread.pk)] = (thread.created_at, 1)
    repliers: dict[int, set[int]] = {}
    for reply in sorted(replies, key=lambda r: r.created_at):
        for person_id in repliers.get(reply.thread_id, set()) - {reply.author_id}:
            at, count = latest.get((person_id, reply.thread_id), (reply.created_at, 0))
            latest[(person_id, reply.thread_id)] = (max(at, reply.created_at), count + 1)
        repliers.setdefault(reply.thread_id, set()).add(reply.author_id)
    bulk(
        ThreadFollow,
        [ThreadFollow(thread_id=t, person_id=p) for t, ps in repliers.items() for p in ps],
    )
    bulk(
        InboxItem,
        [
            InboxItem(
                person_id=person_id,
                thread_id=thread_id,
                reason=Reason.REPLY if count > 1 else Reason.NEW_THREAD,
                activity_count=count,
                created_at=at,
                updated_at=at,
            )
            for (person_id, thread_id), (at, count) in latest.items()
        ],
        size=10_000,
    )
    print(
        f"  {len(people):,} people, {len(threads):,} threads, {len(replies):,} replies, "
        f"{len(latest):,} inbox items"
    )
    # Every zone's 09:00 within the day after `now`: run when the last of them has come.
    return now + dt.timedelta(days=1)


def measure_digests(rng: random.Random, worker_counts: list[int]) -> None:
    now = timezone.now()
    started = time.perf_counter()
    run_at = generate_digest_world(rng, now)
    print(f"  generated in {time.perf_counter() - started:.1f} s")
    digests.schedule_digests(now)  # the periodic task did this the day before
    # The digests cover the day that just ended: put their period start at `now - 1 day`.
    Digest.objects.update(period_start=now - dt.timedelta(days=1))
    due = Digest.objects.filter(finished_at=None, due_at__lte=run_at).count()
    for workers in worker_counts:
        with transaction.atomic():  # the same digests again: undo the previous run
            Digest.objects.filter(due_at__gt=run_at).delete()
            Digest.objects.update(
                finished_at=None, outcome="", claimed_until=None, claimed_by="", attempts=0,
                message_id="", thread_count=0,
            )  # fmt: skip
        sent, received, size, elapsed = send_digests(run_at, workers)
        empty = Digest.objects.filter(outcome=Outcome.EMPTY).count()
        print(
            f"digests, {workers} worker process{'es' if workers > 1 else ''}: {due:,} due, "
            f"{sent:,} sent ({empty:,} empty), {received:,} received ({size / 1e6:.0f} MB) in "
            f"{elapsed:.1f} s: {elapsed / max(sent, 1) * 1000:.2f} ms each (goal: 30 s)"
        )


def send_digests(run_at: dt.datetime, workers: int) -> tuple[int, int, int, float]:
    """Run `send_due_digests` in `workers` processes at once, as that many worker processes
    do when the periodic task comes due in each, against one SMTP server in a process of its
    own (as a real mail server would be). The clock starts once every process is ready."""
    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, __file__, "--sink", str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    sink.stdout.readline()  # "ready"
    senders = [
        subprocess.Popen(
            [sys.executable, __file__, "--send", run_at.isoformat(), "--smtp-port", str(port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    try:
        for sender in senders:
            sender.stdout.readline()  # "ready"
        started = time.perf_counter()
        for sender in senders:
            sender.stdin.write("go\n")
            sender.stdin.flush()
        sent = sum(int(sender.communicate()[0]) for sender in senders)
        elapsed = time.perf_counter() - started
    finally:
        received, size = sink.communicate("")[0].split()
    return sent, int(received), int(size), elapsed


def run_sender(run_at: str, port: int) -> None:
    """One worker's run of the periodic digest task, started when the parent says "go"."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    print("ready", flush=True)
    sys.stdin.readline()
    print(digests.send_due_digests(dt.datetime.fromisoformat(run_at)), flush=True)


def run_sink(port: int) -> None:
    """The counting SMTP server: runs until stdin closes, then prints count and bytes."""
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    sink = CountingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()
    print(sink.count, sink.bytes, flush=True)


def measure_fanout() -> None:
    workspace = Workspace.objects.create(name="Fan-out", slug="fan-out")
    bulk(
        User,
        [User(email=f"fan{i}@bench.test", name=f"Fan {i}", password="!") for i in range(5_000)],
    )
    fans = list(User.objects.filter(email__startswith="fan").order_by("pk"))
    bulk(Membership, [Membership(workspace=workspace, person=p, role=Role.MEMBER) for p in fans])
    bulk(
        DeliverySettings, [DeliverySettings(user=p, cadence=EmailCadence.IMMEDIATELY) for p in fans]
    )
    space = Space.objects.create(workspace=workspace, name="Everyone", slug="everyone")
    author = User.objects.create(email="author@bench.test", name="Author", password="!")
    Membership.objects.create(workspace=workspace, person=author, role=Role.OWNER)
    thread = Thread.objects.create(space=space, author=author, title="Hello all", body="Hi")
    started = time.perf_counter()
    touched = inbox_actions.fan_out_thread_posted(thread, [])
    elapsed = time.perf_counter() - started
    rows = OutboxEmail.objects.filter(thread=thread).count()
    print(
        f"fan-out: one post to {len(fans):,} followers: {touched:,} inbox items, {rows:,} outbox "
        f"rows in {elapsed:.2f} s (goal: 2 s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["digests", "fanout"])
    parser.add_argument(
        "--workers",
        default="1,2",
        help="worker processes sending the digests at once, one run per number (default 1,2)",
    )
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--send", help=argparse.SUPPRESS)
    parser.add_argument("--smtp-port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        run_sink(args.sink)
        return
    if args.send:
        run_sender(args.send, args.smtp_port)
        return
    if "accounts_user" in connection.introspection.table_names():
        call_command("flush", interactive=False, verbosity=0)  # a fresh run each time
    call_command("migrate", verbosity=0)
    print(f"{platform.node()}, {os.cpu_count()} CPUs, {connection.vendor}, {dt.date.today()}")
    rng = random.Random(4)
    if args.only in (None, "digests"):
        measure_digests(rng, [int(n) for n in args.workers.split(",")])
    if args.only in (None, "fanout"):
        measure_fanout()


if __name__ == "__main__":
    main()
