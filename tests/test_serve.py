"""`tidings serve` as a user runs it: migrations, setup link, web workers, static files,
security headers, and a clean stop of the server and its background worker."""

import signal
import subprocess
import time
from urllib.request import urlopen

import pytest

pytestmark = pytest.mark.slow


def test_serve_starts_prints_setup_link_and_serves_static(server):
    with urlopen(server.setup_link) as response:
        assert response.status == 200
        page = response.read().decode()
        headers = response.headers
    assert "workspace" in page.lower()
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"

    with urlopen(server.url("/static/vendor/htmx.min.js")) as response:
        assert response.status == 200
        assert b"htmx" in response.read(2000)

    deadline = time.monotonic() + 20
    while "Huey consumer started" not in server.output.read_text():
        assert time.monotonic() < deadline, "the background worker did not start"
        time.sleep(0.2)
    assert "Booting worker" in server.output.read_text(), "gunicorn workers did not start"


def test_serve_stops_cleanly_with_its_worker(server):
    worker_pids = subprocess.run(
        ["pgrep", "-P", str(server.process.pid), "-f", "tidings worker"],
        capture_output=True,
        text=True,
    ).stdout.split()
    assert worker_pids
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(timeout=20)
    time.sleep(0.5)
    still_running = [
        pid
        for pid in worker_pids
        if subprocess.run(["kill", "-0", pid], capture_output=True).returncode == 0
    ]
    assert not still_running
