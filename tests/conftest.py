"""A real `tidings serve` (gunicorn + background worker) in a subprocess, on a fresh
database, for tests that exercise the product as a user starts it."""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse
from urllib.request import urlopen

import pytest


@dataclass
class RunningServer:
    base_url: str
    setup_link: str
    data_dir: Path
    output: Path
    process: subprocess.Popen

    def url(self, path: str) -> str:
        return self.base_url + path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _fresh_postgres_database(url: str) -> tuple[str, str]:
    """Create an empty database beside the one in `url`; return its URL and name."""
    import psycopg

    name = f"tidings_run_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunparse(urlparse(url)._replace(path=f"/{name}")), name


def _drop_postgres_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_database_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for a `tidings` subprocess with its own empty database: a new data folder
    (SQLite), and in the PostgreSQL run a new database beside the test one, dropped after."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env["DATA_DIR"] = str(tmp_path / "data")
    # Its own queue and cache keys in a shared Redis: rate limits counted by earlier servers
    # (of this run or another) must not refuse this one's invitations.
    env["HUEY_NAME"] = f"test-{secrets.token_hex(4)}"
    database = None
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        env["DATABASE_URL"], database = _fresh_postgres_database(os.environ["DATABASE_URL"])
    yield env
    if database:
        _drop_postgres_database(os.environ["DATABASE_URL"], database)


@pytest.fixture
def server(tmp_path: Path, fresh_database_env: dict[str, str]) -> Iterator[RunningServer]:
    """A brand-new Tidings server with an empty database, as a user would start it."""
    port = _free_port()
    env = {
        **fresh_database_env,
        "SITE_URL": f"http://127.0.0.1:{port}",
        "PYTHONUNBUFFERED": "1",
    }
    output = tmp_path / "server.log"
    with output.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tidings", "serve", "--port", str(port), "--workers", "2"],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urlopen(base_url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("tidings serve did not start:\n" + output.read_text())
            time.sleep(0.3)
        match = re.search(r"(http://\S+/setup/\S+/)", output.read_text())
        assert match, "the setup link was not printed:\n" + output.read_text()
        yield RunningServer(base_url, match.group(1), tmp_path / "data", output, process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
