"""Measure server time of the main pages on data made by bench/generate.py.

    DATA_DIR=bench/out/sqlite .venv/bin/python bench/measure.py
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/tidings_bench \\
        .venv/bin/python bench/measure.py

Each request goes through the whole Django stack in-process (middleware, views, templates,
database), so the figures are server time without network. The raw-SQL floor fetches the same
rows as the thread page with one hand-written query, for comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from tidings.accounts.models import User  # noqa: E402
from tidings.search.queries import search  # noqa: E402
from tidings.threads import access  # noqa: E402
from tidings.threads.models import Reply, Thread  # noqa: E402

RAW_THREAD_SQL = """
SELECT t.id, t.title, t.body_html, t.kind, t.created_at, t.resolved_at, t.outcome_html,
       a.name, r.id, r.body_html, r.created_at, r.edited_at, ra.name
FROM threads_thread t
JOIN accounts_user a ON a.id = t.author_id
LEFT JOIN threads_reply r ON r.thread_id = t.id AND r.deleted_at IS NULL
LEFT JOIN accounts_user ra ON ra.id = r.author_id
WHERE t.id = %s
ORDER BY r.created_at, r.id
"""


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(pick(0.95) * 1000, 2),
        "n": len(ordered),
    }


def timed(runs: int, action: Callable[[int], object], warmup: int = 3) -> dict[str, float]:
    for i in range(warmup):
        action(i)
    samples = []
    for i in range(runs):
        start = time.perf_counter()
        action(i)
        samples.append(time.perf_counter() - start)
    return percentiles(samples)


def ok(response) -> None:
    if response.status_code >= 400:
        raise SystemExit(f"{response.request['PATH_INFO']} answered {response.status_code}")


def page_weight(client: Client, path: str) -> dict[str, int]:
    """Bytes, <form> elements and queries of one page, as the tests hold them."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    ok(response)
    return {
        "bytes": len(response.content),
        "forms": response.content.count(b"<form"),
        "queries": len(queries),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--only", action="append", default=[], help="only measures whose name contains this"
    )
    args = parser.parse_args()

    from django.core.management import call_command
    from huey.contrib.djhuey import HUEY

    call_command("collectstatic", interactive=False, verbosity=0)  # as `tidings serve` does

    HUEY.immediate = False  # fan-out is queued for the worker, as in production

    person = User.objects.get(email="person1@bench.test")
    long_threads = list(
        access.visible_threads(person).filter(reply_count=200).values_list("pk", flat=True)[:20]
    )
    if not long_threads:
        raise SystemExit("No benchmark data: run bench/generate.py first.")
    client = Client()
    client.force_login(person)
    results: dict[str, dict] = {}

    def measure(name: str, action: Callable[[int], object]) -> None:
        if not args.only or any(part in name for part in args.only):
            results[name] = timed(args.runs, action)

    measure(
        "thread page, 200 replies",
        lambda i: ok(
            client.get(reverse("threads:thread", args=[long_threads[i % len(long_threads)]]))
        ),
    )

    weights = {
        "thread page, 200 replies": page_weight(
            client, reverse("threads:thread", args=[long_threads[0]])
        )
    }

    def raw_floor(i: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute(RAW_THREAD_SQL, [long_threads[i % len(long_threads)]])
            cursor.fetchall()

    measure("raw SQL floor (same rows)", raw_floor)

    reply_threads = list(access.visible_threads(person).values_list("pk", flat=True)[100:300])
    measure(
        "post a reply",
        lambda i: ok(
            client.post(
                reverse("threads:reply", args=[reply_threads[i % len(reply_threads)]]),
                {"body": f"Benchmark reply {i}: the rollout looks good to me, **ship it**."},
            )
        ),
    )
    measure("inbox page", lambda i: ok(client.get(reverse("inbox:inbox"))))
    space = access.visible_spaces(person).filter(visibility="open").order_by("pk").first()
    measure(
        "space page (thread list)",
        lambda i: ok(
            client.get(
                reverse("threads:space", args=[space.workspace.slug, space.slug]),
                {"page": 1 + i % 3},
            )
        ),
    )
    measure(
        "recent threads (workspace home)",
        lambda i: ok(client.get(reverse("threads:workspace", args=[space.workspace.slug]))),
    )
    for label, words in [
        ("search, common word", ["deploy", "release", "review", "customer", "database"]),
        ("search, rare word", ["zeppelin", "quokka", "marzipan", "obsidian", "kerfuffle"]),
        ("search, two words", ["deploy canary", "budget review", "incident runbook"]),
    ]:
        measure(
            f"{label} (page)",
            lambda i, words=words: ok(
                client.get(reverse("search:search"), {"q": words[i % len(words)]})
            ),
        )
        measure(
            f"{label} (query only)",
            lambda i, words=words: search(person, words[i % len(words)], limit=20),
        )

    counts = {
        "threads": Thread.objects.count(),
        "replies": Reply.objects.count(),
        "people": User.objects.count(),
    }
    header = {
        "database": connection.vendor,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "data": counts,
    }
    print(json.dumps(header))
    print(f"| measure ({connection.vendor}) | p50 ms | p95 ms | bytes | forms | queries |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, figures in results.items():
        weight = weights.get(name, {})
        sizes = " | ".join(str(weight.get(k, "")) for k in ("bytes", "forms", "queries"))
        print(f"| {name} | {figures['p50_ms']} | {figures['p95_ms']} | {sizes} |")
    if args.json:
        args.json.write_text(
            json.dumps({**header, "results": results, "weights": weights}, indent=2)
        )


if __name__ == "__main__":
    main()
