"""Generate realistic benchmark data into the configured database.

    DATA_DIR=bench/out/sqlite .venv/bin/python bench/generate.py --replies 1000000
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/tidings_bench \\
        .venv/bin/python bench/generate.py

Defaults follow the benchmark in docs/PERFORMANCE.md: 200 people, 24 spaces (4 private),
20,000 threads, 1,000,000 replies with Markdown bodies of realistic lengths. Bodies come from
a pool of distinct texts rendered once (rendering a million bodies would dominate the run);
a handful of rare words are planted so that searches for rare terms have few hits.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Max  # noqa: E402
from django.utils import timezone  # noqa: E402

from tidings.accounts.models import User  # noqa: E402
from tidings.inbox.models import InboxItem  # noqa: E402
from tidings.recordings.models import Recording, Source, State  # noqa: E402
from tidings.threads.markdown import render_markdown  # noqa: E402
from tidings.threads.models import (  # noqa: E402
    Reply,
    Space,
    SpaceMember,
    Thread,
    ThreadFollow,
    ThreadKind,
    Visibility,
)
from tidings.workspaces.models import Membership, Role, Workspace  # noqa: E402

WORDS = (
    "deploy release review design customer roadmap budget latency database migration "
    "onboarding interview metrics dashboard incident postmortem feature backlog sprint "
    "planning estimate proposal feedback question answer decision meeting agenda schedule "
    "timezone handover async video recording transcript search inbox digest reminder "
    "request deadline owner priority blocker dependency risk mitigation rollout canary "
    "staging production monitoring alert pager runbook documentation wiki template "
    "contract invoice pricing quote renewal churn retention growth experiment hypothesis "
    "result analysis report summary draft copy launch announcement newsletter campaign "
    "the a to of and in that is for on it with as was be this are by we you they our "
    "will can should would could not have has had more some any all about after before"
).split()
# Recording tokens are 32 hex digits, as the URLs require; this prefix marks the generated ones.
TOKEN_PREFIX = "bec0"

RARE_WORDS = ["zeppelin", "quokka", "marzipan", "obsidian", "kerfuffle"]
TITLES = [
    "Q{q} roadmap: {w1} and {w2}",
    "Proposal: move {w1} to {w2}",
    "Weekly status: {w1}",
    "Decision needed on {w1} {w2}",
    "How do we handle {w1}?",
    "Announcing the new {w1} {w2}",
    "Incident review: {w1} {w2}",
    "Customer feedback on {w1}",
    "Plan for {w1} migration",
]


def sentence(rng: random.Random, low: int = 6, high: int = 18) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + "."


def markdown_body(rng: random.Random) -> str:
    """A Markdown body whose length follows a long-tailed distribution (median ~300 chars)."""
    paragraphs = max(1, min(12, int(rng.lognormvariate(0.4, 0.7))))
    parts = []
    for _ in range(paragraphs):
        shape = rng.random()
        if shape < 0.12:
            parts.append("\n".join(f"- {sentence(rng, 3, 9)}" for _ in range(rng.randint(2, 5))))
        elif shape < 0.17:
            parts.append(
                "```python\n"
                + "\n".join(
                    f"result = {rng.choice(WORDS)}_{i}({rng.choice(WORDS)})" for i in range(4)
                )
                + "\n```"
            )
        elif shape < 0.22:
            parts.append(f"> {sentence(rng)}")
        else:
            text = " ".join(sentence(rng) for _ in range(rng.randint(1, 4)))
            if rng.random() < 0.2:
                text = text.replace(" ", " **", 1).replace(" ", "** ", 2)
            parts.append(text)
    return "\n\n".join(parts)


def reply_counts(rng: random.Random, threads: int, replies: int, long_threads: int) -> list[int]:
    """Replies per thread: a long tail, with `long_threads` threads of exactly 200 replies."""
    fixed = [200] * long_threads
    remaining = replies - sum(fixed)
    weights = [rng.paretovariate(1.6) for _ in range(threads - long_threads)]
    total = sum(weights)
    counts = [int(w / total * remaining) for w in weights]
    counts[0] += remaining - sum(counts)
    return fixed + counts


def generate(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    started = time.monotonic()
    now = timezone.now()
    if Workspace.objects.filter(slug="bench").exists():
        sys.exit("Benchmark data already exists in this database.")

    with transaction.atomic():
        workspace = Workspace.objects.create(name="Bench Corp", slug="bench")
        User.objects.bulk_create(
            User(
                email=f"person{i}@bench.test",
                name=f"Person {i}",
                time_zone=rng.choice(["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"]),
                password="!",
            )
            for i in range(args.people)
        )
        people = list(User.objects.filter(email__endswith="@bench.test").order_by("pk"))
        Membership.objects.bulk_create(
            Membership(workspace=workspace, person=p, role=Role.OWNER if i == 0 else Role.MEMBER)
            for i, p in enumerate(people)
        )
        spaces = [
            Space.objects.create(
                workspace=workspace,
                name=f"Space {i}",
                slug=f"space-{i}",
                visibility=Visibility.PRIVATE if i < args.private_spaces else Visibility.OPEN,
                created_by=people[0],
            )
            for i in range(args.spaces)
        ]
        for space in spaces[: args.private_spaces]:
            invited = {people[0], *rng.sample(people, 30)}
            SpaceMember.objects.bulk_create(SpaceMember(space=space, person=p) for p in invited)
    print(f"people and spaces: {time.monotonic() - started:.1f}s", flush=True)

    pool = [markdown_body(rng) for _ in range(args.pool)]
    for word in RARE_WORDS:
        for index in rng.sample(range(len(pool)), 3):
            pool[index] += f"\n\nWe should talk about the {word} plan."
    rendered = [render_markdown(text, space=spaces[-1]) for text in pool]
    print(f"rendered {len(pool)} bodies: {time.monotonic() - started:.1f}s", flush=True)

    counts = reply_counts(rng, args.threads, args.replies, args.long_threads)
    kinds = [k for k, _ in ThreadKind.choices]
    thread_batch: list[Thread] = []
    for i, count in enumerate(counts):
        created = now - timedelta(days=rng.uniform(1, 700))
        body_index = rng.randrange(len(pool))
        title = rng.choice(TITLES).format(
            q=rng.randint(1, 4), w1=rng.choice(WORDS[:60]), w2=rng.choice(WORDS[:60])
        )
        thread_batch.append(
            Thread(
                space=spaces[i % len(spaces)],
                author=rng.choice(people),
                kind=rng.choice(kinds),
                title=title.capitalize(),
                body=pool[body_index],
                body_html=rendered[body_index],
                created_at=created,
                last_activity_at=created + timedelta(hours=count),
                reply_count=count,
                resolved_at=created + timedelta(days=3) if rng.random() < 0.15 else None,
                outcome="Decision: go ahead." if rng.random() < 0.15 else "",
            )
        )
    Thread.objects.bulk_create(thread_batch, batch_size=2000)
    threads = list(Thread.objects.filter(space__workspace=workspace).order_by("pk"))
    print(f"{len(threads)} threads: {time.monotonic() - started:.1f}s", flush=True)

    follows: list[ThreadFollow] = []
    batch: list[Reply] = []
    written = 0
    for thread, count in zip(threads, counts, strict=True):
        repliers = rng.sample(people, min(len(people), 6))
        follows.extend(ThreadFollow(thread=thread, person=p) for p in repliers)
        for n in range(count):
            body_index = rng.randrange(len(pool))
            batch.append(
                Reply(
                    thread=thread,
                    author=repliers[n % len(repliers)],
                    body=pool[body_index],
                    body_html=rendered[body_index],
                    created_at=thread.created_at + timedelta(minutes=30 * (n + 1)),
                )
            )
        if len(batch) >= 20_000:
            with transaction.atomic():
                Reply.objects.bulk_create(batch, batch_size=5000)
            written += len(batch)
            batch = []
            print(f"  {written} replies: {time.monotonic() - started:.1f}s", flush=True)
    with transaction.atomic():
        Reply.objects.bulk_create(batch, batch_size=5000)
        ThreadFollow.objects.bulk_create(follows, batch_size=5000, ignore_conflicts=True)
    print(f"replies done: {time.monotonic() - started:.1f}s", flush=True)
    last_replies = recordings(rng, args, threads, people)
    print(f"recordings: {time.monotonic() - started:.1f}s", flush=True)

    # Everyone has a realistic inbox: a few hundred items, most done, some snoozed.
    items = []
    for person in people:
        for thread in rng.sample(threads, 300):
            roll = rng.random()
            items.append(
                InboxItem(
                    person=person,
                    thread=thread,
                    reason=rng.choice(["reply", "new_thread", "mention"]),
                    actor=rng.choice(people),
                    latest_reply_id=last_replies.get(thread.pk) if roll > 0.5 else None,
                    updated_at=thread.last_activity_at,
                    done_at=now if roll < 0.7 else None,
                    snoozed_until=now + timedelta(days=2) if 0.7 <= roll < 0.75 else None,
                )
            )
    InboxItem.objects.bulk_create(items, batch_size=5000, ignore_conflicts=True)
    print(f"{len(items)} inbox items: {time.monotonic() - started:.1f}s", flush=True)

    call_command("reindex")
    print(f"search index built: {time.monotonic() - started:.1f}s", flush=True)
    # Fresh statistics, as a running database has them: the planner needs them to choose
    # between the full-text index and a newest-first walk for common words.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"statistics gathered: {time.monotonic() - started:.1f}s", flush=True)


def recordings(
    rng: random.Random, args: argparse.Namespace, threads: list[Thread], people: list[User]
) -> dict[int, int]:
    """Posted, processed recordings with transcripts: a share of threads open with one and a
    share of replies are one (rows only: pages sign links to their files without reading
    them). Returns each thread's newest reply id, for inbox items about a reply."""
    from tidings.transcripts.models import Transcript, TranscriptState

    last_replies = dict(
        Reply.objects.filter(thread__in=threads)
        .values("thread_id")
        .annotate(newest=Max("pk"))
        .values_list("thread_id", "newest")
    )
    chosen = [(t, None) for t in threads if rng.random() < args.recorded_threads]
    replies = Reply.objects.filter(thread__in=threads).values_list("pk", "thread_id")
    wanted = set(last_replies.values())  # some inbox items are about a recorded reply
    chosen_replies = [
        (pk, thread_id)
        for pk, thread_id in replies.iterator()
        if rng.random() < args.recorded_replies or (pk in wanted and rng.random() < 0.3)
    ]
    by_pk = {t.pk: t for t in threads}
    rows = [
        Recording(
            token=f"{TOKEN_PREFIX}{index:028x}",
            owner=rng.choice(people),
            space_id=by_pk[thread_id].space_id if reply_id else thread.space_id,
            thread_id=thread_id if reply_id else thread.pk,
            reply_id=reply_id,
            posted_at=(thread or by_pk[thread_id]).created_at,
            source=rng.choice([Source.CAMERA, Source.SCREEN_CAMERA, Source.AUDIO]),
            state=State.READY,
            duration_ms=rng.randint(5_000, 600_000),
            has_video=True,
            has_audio=True,
            poster=f"recordings/{TOKEN_PREFIX}{index:028x}/poster.jpg",
            playable=f"recordings/{TOKEN_PREFIX}{index:028x}/playable.webm",
        )
        for index, (thread, reply_id, thread_id) in enumerate(
            [(t, None, t.pk) for t, _ in chosen] + [(None, pk, tid) for pk, tid in chosen_replies]
        )
    ]
    Recording.objects.bulk_create(rows, batch_size=5000)
    Transcript.objects.bulk_create(
        (
            Transcript(
                recording=recording,
                state=TranscriptState.READY,
                text=sentence(rng, 30, 80),
                duration_ms=recording.duration_ms,
                progress=100,
            )
            for recording in Recording.objects.filter(token__startswith=TOKEN_PREFIX).only(
                "pk", "duration_ms"
            )
        ),
        batch_size=5000,
    )
    return last_replies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--spaces", type=int, default=24)
    parser.add_argument("--private-spaces", type=int, default=4)
    parser.add_argument("--threads", type=int, default=20_000)
    parser.add_argument("--replies", type=int, default=1_000_000)
    parser.add_argument("--long-threads", type=int, default=50, help="threads of 200 replies")
    parser.add_argument("--pool", type=int, default=20_000, help="distinct bodies")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--recorded-threads", type=float, default=0.1, help="share opened by a recording"
    )
    parser.add_argument(
        "--recorded-replies", type=float, default=0.02, help="share of replies that are one"
    )
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    generate(args)


if __name__ == "__main__":
    main()
