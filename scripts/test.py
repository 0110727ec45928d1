#!/usr/bin/env python3
"""Run every test: lint, the suite on SQLite, then again on PostgreSQL with Huey on Redis.

Without a PostgreSQL server the second run is skipped with a clear message, except in CI
(CI=true), where a missing server is a failure.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def answers(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port), timeout=2):
            return True
    except OSError:
        return False


def run(title: str, command: list[str], env: dict[str, str]) -> int:
    print(f"\n=== {title} ===", flush=True)
    code = subprocess.call(command, cwd=ROOT, env=env)
    if code == 5:
        print(f"{title}: pytest collected no tests; that is a failure.", flush=True)
        return 1
    return code


def main() -> int:
    extra = sys.argv[1:]
    base_env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    base_env.setdefault("HF_HUB_OFFLINE", "1")
    base_env["DATA_DIR"] = str(ROOT / "data" / "test")
    pytest = [PYTHON, "-m", "pytest", "-n", os.environ.get("TEST_PROCESSES", "2"), *extra]

    results: dict[str, int] = {}
    skipped = ""
    results["ruff"] = run("ruff check", [PYTHON, "-m", "ruff", "check", "."], base_env)
    results["sqlite"] = run("tests on SQLite", pytest, base_env)

    in_ci = os.environ.get("CI", "").lower() == "true"
    if answers(POSTGRES_URL) and answers(REDIS_URL):
        pg_env = {**base_env, "DATABASE_URL": POSTGRES_URL, "REDIS_URL": REDIS_URL}
        results["postgresql"] = run("tests on PostgreSQL, Huey on Redis", pytest, pg_env)
    elif in_ci:
        print(f"\nFAILED: PostgreSQL ({POSTGRES_URL}) or Redis ({REDIS_URL}) is not answering.")
        results["postgresql"] = 1
    else:
        skipped = "postgresql: SKIPPED (no PostgreSQL or Redis server answering)"
        print(
            f"\nSKIPPED the PostgreSQL run: no PostgreSQL at {POSTGRES_URL} or no Redis at "
            f"{REDIS_URL}. Set TEST_DATABASE_URL / TEST_REDIS_URL to run it."
        )

    print("\n=== summary ===")
    for name, code in results.items():
        print(f"{name}: {'passed' if code == 0 else 'FAILED'}")
    if skipped:
        print(skipped)
    return 0 if all(code == 0 for code in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
