#!/usr/bin/env python3
"""Install and run every test: lint, the suite on SQLite, then again on PostgreSQL with Huey
on Redis.

First the system packages the tests need are checked (scripts/system_needs.py): installed
when run as root on Debian or Ubuntu, otherwise named with the command that installs them,
before anything runs. Then the virtual environment `.venv` gets the project and its test
extras, and this script goes on inside it.

Without a PostgreSQL server the second run is skipped with a clear message, except in CI
(CI=true), where a missing server is a failure. Tests skipped for want of something are
listed with their reasons in the summary.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

import system_needs

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
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


def in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def enter_venv() -> None:
    """Create `.venv` when missing, install the project with its test extras, and carry on in
    it (replacing this process)."""
    if not VENV_PYTHON.exists():
        print("=== creating the virtual environment .venv ===", flush=True)
        # --clear: a .venv copied from elsewhere may hold links to a Python not here.
        subprocess.check_call([sys.executable, "-m", "venv", "--clear", str(VENV)])
    print("=== installing the project and its test extras into .venv ===", flush=True)
    subprocess.check_call(
        [str(VENV_PYTHON), "-m", "pip", "install", "--progress-bar", "off", "-e", ".[test]"],
        cwd=ROOT,
    )
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), __file__, *sys.argv[1:]])


def run(title: str, command: list[str], env: dict[str, str], skips: list[str]) -> int:
    """Run one step; reasons of tests it skipped are appended to `skips`."""
    print(f"\n=== {title} ===", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "skipped.json"
        code = subprocess.call(command, cwd=ROOT, env={**env, "TIDINGS_SKIP_REPORT": str(report)})
        if report.exists():
            skips.extend(json.loads(report.read_text()))
    if code == 5:
        print(f"{title}: pytest collected no tests; that is a failure.", flush=True)
        return 1
    return code


def main() -> int:
    if not system_needs.ensure():
        return 1
    if not in_venv():
        enter_venv()
    extra = sys.argv[1:]
    base_env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    base_env.setdefault("HF_HUB_OFFLINE", "1")
    base_env["DATA_DIR"] = str(ROOT / "data" / "test")
    pytest = [PYTHON, "-m", "pytest", "-n", os.environ.get("TEST_PROCESSES", "2"), *extra]

    results: dict[str, int] = {}
    skips: dict[str, list[str]] = {"sqlite": [], "postgresql": []}
    skipped = ""
    results["ruff"] = run("ruff check", [PYTHON, "-m", "ruff", "check", "."], base_env, [])
    results["sqlite"] = run("tests on SQLite", pytest, base_env, skips["sqlite"])

    in_ci = os.environ.get("CI", "").lower() == "true"
    if answers(POSTGRES_URL) and answers(REDIS_URL):
        pg_env = {**base_env, "DATABASE_URL": POSTGRES_URL, "REDIS_URL": REDIS_URL}
        results["postgresql"] = run(
            "tests on PostgreSQL, Huey on Redis", pytest, pg_env, skips["postgresql"]
        )
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
    for name, reasons in skips.items():
        if reasons:
            print(f"{name}: {len(reasons)} tests skipped:")
            for reason, count in Counter(reasons).most_common():
                print(f"  {count} × {reason}")
    return 0 if all(code == 0 for code in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
