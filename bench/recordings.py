"""Measure recordings: the link after stop, processing time per minute of media, and chunk
upload throughput over loopback against a raw disk write.

    DATA_DIR=bench/out/rec .venv/bin/python bench/recordings.py
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/tidings_bench_rec DATA_DIR=bench/out/rec-pg \\
        .venv/bin/python bench/recordings.py --only link

1. "link": recordings of 1, 10 and 60 minutes whose chunks (1-second pieces of 320 KB, a
   2.5 Mbit/s camera stream) are already on the server; the clock runs from the post request
   (the composer's submit after stop) until the reply page has answered and the first bytes
   of the recording have come back from its media URL. In-process, through the whole Django
   stack; the processing job is queued, not run (a worker does that).
2. "process": real WebM media made like a browser's recorder (VP8 + Opus, 640x360, 30 fps,
   2.5 Mbit/s of moving detail, no duration, no cues) of 1 and 5 minutes, cut in 1-second
   chunks, processed by the real job: time until it plays (assemble + remux), until every
   step is done (poster, 16 kHz audio, waveform), and for the MP4 rendition; each divided by
   the media's minutes.
3. "upload": a real `tidings serve` on loopback; 1 MB chunks PUT through the API with a
   personal token, two requests in flight like the recorder; against writing the same bytes
   to files in the same folder (with and without fsync).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import platform
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1")
os.environ.setdefault("RATELIMIT_ENABLE", "false")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from tidings.accounts.actions import create_access_token  # noqa: E402
from tidings.accounts.models import User  # noqa: E402
from tidings.recordings import pipeline, upload  # noqa: E402
from tidings.recordings.models import Recording, Source  # noqa: E402
from tidings.threads import actions as thread_actions  # noqa: E402
from tidings.threads.models import Space  # noqa: E402
from tidings.workspaces.actions import create_owner_and_workspace  # noqa: E402

CHUNK_BYTES = 320 * 1024  # one second of a 2.5 Mbit/s stream
EMAIL = "recorder@bench.test"


def setting_up() -> tuple[User, Space]:
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    person = User.objects.filter(email=EMAIL).first()
    if person is None:
        person, workspace = create_owner_and_workspace(
            email=EMAIL,
            name="Rae Corder",
            password=secrets.token_urlsafe(16),
            workspace_name="Recording bench",
        )
        thread_actions.create_space(person, workspace, name="Walkthroughs", description="")
    space = Space.objects.get(workspace__memberships__person=person, slug="walkthroughs")
    return person, space


def held_recording(person: User, space: Space, thread, seconds: int) -> Recording:
    recording = upload.start_recording(
        person, thread=thread, source=Source.CAMERA, mime_type="video/webm;codecs=vp8,opus"
    )
    piece = os.urandom(CHUNK_BYTES)
    for index in range(seconds):
        # Each chunk differs (as real media does) without generating megabytes of randomness.
        data = index.to_bytes(8, "big") + piece[8:]
        upload.store_chunk(person, recording, index, data, hashlib.sha256(data).hexdigest())
    return recording


def measure_link(person: User, space: Space, repeats: int) -> dict:
    client = Client()
    client.force_login(person)
    figures = {}
    for minutes in (1, 10, 60):
        samples = []
        for _ in range(repeats):
            # A thread per sample, so the page's only player is this recording's.
            thread = thread_actions.post_thread(
                person, space, kind="discussion", title="Link timing", body="A recording follows."
            )
            recording = held_recording(person, space, thread, minutes * 60)
            started = time.perf_counter()
            posted = client.post(
                reverse("threads:reply", kwargs={"thread_id": thread.pk}),
                {"body": "", "recording": recording.token, "recording_chunks": minutes * 60},
            )
            if posted.status_code != 302:
                raise SystemExit(f"posting answered {posted.status_code}")
            page = client.get(posted["Location"].split("#")[0])
            media = re.search(r'src="(/media/r/[^"]+)"', page.content.decode())
            if page.status_code != 200 or media is None:
                raise SystemExit("the reply page has no playable recording")
            first = client.get(media.group(1), HTTP_RANGE="bytes=0-65535")
            body = b"".join(first.streaming_content) if first.streaming else first.content
            if first.status_code != 206 or len(body) != 65536:
                raise SystemExit(f"media answered {first.status_code} with {len(body)} bytes")
            samples.append(time.perf_counter() - started)
            forget(recording)
        worst = round(max(samples) * 1000, 1)
        figures[f"{minutes} min"] = {
            "chunks": minutes * 60,
            "stop_to_link_ms": [round(s * 1000, 1) for s in samples],
            "worst_ms": worst,
        }
        print(f"link {minutes:>2} min: worst {worst} ms", flush=True)
    return figures


def forget(recording: Recording) -> None:
    """Free the disk: the link benchmark's chunks are random bytes, never processed."""
    for chunk in recording.chunks.all():
        chunk.file.delete(save=False)
    recording.chunks.all().delete()


def browser_like_webm(seconds: int) -> bytes:
    from tidings.recordings.tests.factories import webm_bytes

    return webm_bytes(seconds, size=(640, 360), fps=30, detailed=True)


def measure_processing(person: User, space: Space) -> dict:
    from tidings.recordings.tests.factories import recording_with_chunks, split

    thread = thread_actions.post_thread(
        person, space, kind="discussion", title="Processing timing", body="Recordings follow."
    )
    figures = {}
    for minutes in (1, 5):
        started = time.perf_counter()
        media = browser_like_webm(minutes * 60)
        made = time.perf_counter() - started
        chunks = split(media, minutes * 60)
        recording = recording_with_chunks(person, space, chunks, thread=thread)
        reply = thread_actions.post_reply(
            person,
            thread,
            body="",
            recording_token=recording.token,
            recording_chunks=len(chunks),
        )
        recording.refresh_from_db()
        assert recording.reply_id == reply.pk
        timings = process_with_stages(recording)
        rendition_started = time.perf_counter()
        pipeline.make_rendition(recording.pk)
        rendition = time.perf_counter() - rendition_started
        recording.refresh_from_db()
        if recording.state != "ready":
            raise SystemExit(f"processing ended in {recording.state}: {recording.failure_reason}")
        per_minute = {key: round(value / minutes, 2) for key, value in timings.items()}
        per_minute["rendition_s"] = round(rendition / minutes, 2)
        figures[f"{minutes} min"] = {
            "media_mb": round(len(media) / 1e6, 1),
            "seconds_per_media_minute": per_minute,
            "rendition_state": recording.rendition_state,
            "generating_media_s": round(made, 1),
        }
        print(f"process {minutes} min: {per_minute}", flush=True)
    return figures


def process_with_stages(recording: Recording) -> dict[str, float]:
    """Run the job in this process and note when the recording became playable."""
    playable_at: list[float] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            state = Recording.objects.filter(pk=recording.pk).values_list("state", flat=True)[0]
            if state == "ready" and not playable_at:
                playable_at.append(time.perf_counter())
            time.sleep(0.02)

    from django.db import connections

    watcher = threading.Thread(target=lambda: (watch(), connections.close_all()))
    started = time.perf_counter()
    watcher.start()
    try:
        pipeline.finalize_recording(recording.pk)
    finally:
        ended = time.perf_counter()
        done.set()
        watcher.join()
    return {
        "playable_s": (playable_at[0] if playable_at else ended) - started,
        "all_steps_s": ended - started,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure_upload(person: User, space: Space, total_mb: int) -> dict:
    _, raw_token = create_access_token(person, "upload bench")
    recording = upload.start_recording(
        person, space=space, source=Source.UPLOAD, original_name="upload.webm", size=total_mb << 20
    )
    port = free_port()
    env = {**os.environ, "SITE_URL": f"http://127.0.0.1:{port}", "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "tidings", "serve", "--port", str(port), "--no-worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    try:
        wait_for(port)
        piece = os.urandom(1 << 20)
        next_index = iter(range(total_mb))
        lock = threading.Lock()

        def sender() -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            while True:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    break
                data = index.to_bytes(8, "big") + piece[8:]
                connection.request(
                    "PUT",
                    f"/api/recordings/{recording.token}/chunks/{index}",
                    body=data,
                    headers={
                        "Authorization": f"Bearer {raw_token}",
                        "Content-Type": "application/octet-stream",
                        "X-Chunk-SHA256": hashlib.sha256(data).hexdigest(),
                    },
                )
                answer = connection.getresponse()
                answer.read()
                if answer.status != 201:
                    raise SystemExit(f"chunk {index} answered {answer.status}")

        started = time.perf_counter()
        senders = [threading.Thread(target=sender) for _ in range(2)]
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join()
        loopback = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    forget(recording)

    folder = Path(tempfile.mkdtemp(dir=os.environ.get("DATA_DIR", ".")))
    raw = {}
    for label, sync in (("disk_write_mb_s", False), ("disk_write_fsync_mb_s", True)):
        started = time.perf_counter()
        for index in range(total_mb):
            path = folder / f"{index:06d}"
            with open(path, "wb") as handle:
                handle.write(index.to_bytes(8, "big") + piece[8:])
                if sync:
                    handle.flush()
                    os.fsync(handle.fileno())
        raw[label] = round(total_mb / (time.perf_counter() - started), 1)
        for path in folder.iterdir():
            path.unlink()
    folder.rmdir()
    figures = {"mb": total_mb, "loopback_upload_mb_s": round(total_mb / loopback, 1), **raw}
    print(f"upload: {figures}", flush=True)
    return figures


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], help="link, process, upload")
    parser.add_argument("--repeats", type=int, default=3, help="posts per recording length")
    parser.add_argument("--upload-mb", type=int, default=256)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    wanted = set(args.only) or {"link", "process", "upload"}
    person, space = setting_up()
    from django.db import connection

    results: dict = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "database": connection.vendor,
    }
    if "link" in wanted:
        results["link"] = measure_link(person, space, args.repeats)
    if "process" in wanted:
        results["process"] = measure_processing(person, space)
    if "upload" in wanted:
        results["upload"] = measure_upload(person, space, args.upload_mb)
    print(json.dumps(results, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
