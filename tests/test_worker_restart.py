"""A background worker SIGKILLed while it processes a recording (during assembly, or while it
makes the poster): Huey loses the task, but the recording's claim names the worker, and the
next worker, as it starts, sees that worker gone and queues the job again at once. The
recording ends ready, with the exact bytes, within a minute of the restart.
Runs a real `tidings worker` on SQLite (SqliteHuey) and on PostgreSQL + Redis (RedisHuey)."""

from __future__ import annotations

import json
import math
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from tidings.recordings.tests.factories import _Stream

pytestmark = pytest.mark.slow

LEASE_SECONDS = 2
CHUNKS = 400

# The start of both scenarios: the worker's database migrated, an owner, a space.
SETUP = """
import json, sys
import django
django.setup()
from django.core.management import call_command
from django.db import transaction
call_command("migrate", interactive=False, verbosity=0)
from tidings.accounts.models import User
from tidings.threads.models import Space
from tidings.threads.tests.factories import thread_in
from tidings.workspaces.models import Membership, Role, Workspace

owner = User.objects.create_user("olivia@acme.test", "correct horse battery", name="Olivia")
workspace = Workspace.objects.create(name="Acme", slug="acme")
Membership.objects.create(workspace=workspace, person=owner, role=Role.OWNER)
space = Space.objects.create(workspace=workspace, name="General", slug="general", created_by=owner)
"""

# Runs in a subprocess on the worker's database: a recording whose chunks reached the server,
# posted the way the composer posts it (processing queued at commit).
SCENARIO = (
    SETUP
    + """
from tidings.recordings import upload
from tidings.recordings.tests.factories import recording_with_chunks, split

thread = thread_in(space, owner, title="Walkthrough")
data = open(sys.argv[1], "rb").read()
recording = recording_with_chunks(owner, space, split(data, int(sys.argv[2])))
with transaction.atomic():
    upload.attach_to_post(owner, recording.token, thread=thread)
print(json.dumps({"id": recording.pk, "token": recording.token}))
"""
)


def heavy_webm(seconds: float = 4.0, fps: int = 10, size=(1280, 720)) -> bytes:
    """Tens of MB of real WebM, cheaply: one noise keyframe (about 1 MB) repeated as every
    frame, with an Opus tone, written without duration or cues like MediaRecorder's output.
    Big enough that joining its chunks and decoding a frame take a moment."""
    width, height = size
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base = Fraction(1, fps)
    encoder.options = {"crf": "4", "b": "200M", "qmin": "0", "qmax": "4", "lag-in-frames": "0"}
    noise = np.random.default_rng(1).integers(0, 256, (height, width, 3), dtype=np.uint8)
    frame = av.VideoFrame.from_ndarray(noise, format="rgb24").reformat(format="yuv420p")
    frame.pts = 0
    keyframe = bytes((encoder.encode(frame) + encoder.encode(None))[0])

    sink = _Stream()
    output = av.open(sink, "w", format="webm")
    video = output.add_stream("libvpx", rate=fps)
    video.width, video.height, video.pix_fmt = width, height, "yuv420p"
    audio = output.add_stream("libopus", rate=48000)
    audio.layout = "mono"
    samples, sent = 960, 0
    for index in range(math.ceil(seconds * fps)):
        packet = av.Packet(keyframe)
        packet.stream, packet.pts, packet.dts = video, index, index
        packet.time_base, packet.is_keyframe = Fraction(1, fps), True
        output.mux(packet)
        while sent * samples / 48000 < (index + 1) / fps:
            t = (np.arange(samples) + sent * samples) / 48000
            wave = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32).reshape(1, -1)
            tone = av.AudioFrame.from_ndarray(wave, format="flt", layout="mono")
            tone.sample_rate, tone.pts = 48000, sent * samples
            output.mux(audio.encode(tone))
            sent += 1
    output.mux(audio.encode())
    output.close()
    return bytes(sink.data)


class Tables:
    """Reads the worker's database directly, fast enough to catch a stage as it happens."""

    def __init__(self, env: dict[str, str]) -> None:
        url = env.get("DATABASE_URL", "")
        if url.startswith("postgres"):
            import psycopg

            self.connection = psycopg.connect(url, autocommit=True)
            self.mark = "%s"
        else:
            path = Path(env["DATA_DIR"]) / "tidings.sqlite3"
            self.connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            self.mark = "?"

    def recording(self, pk: int) -> dict:
        cursor = self.connection.cursor()
        cursor.execute(
            "SELECT state, stage, processed_at, original, playable, poster"
            f" FROM recordings_recording WHERE id = {self.mark}",
            (pk,),
        )
        names = ["state", "stage", "processed_at", "original", "playable", "poster"]
        return dict(zip(names, cursor.fetchone(), strict=True))

    def chunk_count(self, pk: int) -> int:
        cursor = self.connection.cursor()
        cursor.execute(
            f"SELECT count(*) FROM recordings_recordingchunk WHERE recording_id = {self.mark}",
            (pk,),
        )
        return cursor.fetchone()[0]

    def close(self) -> None:
        self.connection.close()


def start_worker(env: dict[str, str], log: Path, cwd: Path) -> subprocess.Popen:
    with log.open("a") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tidings", "worker"],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def kill(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


def forget_redis_queue(env: dict[str, str]) -> None:
    if not env.get("REDIS_URL"):
        return
    import redis

    client = redis.Redis.from_url(env["REDIS_URL"])
    for key in client.scan_iter(f"*{env['HUEY_NAME']}*"):
        client.delete(key)


@pytest.mark.parametrize("kill_at", ["assembling", "poster"])
def test_a_recording_survives_its_worker_being_killed(fresh_database_env, tmp_path, kill_at):
    env = {
        **fresh_database_env,
        "DJANGO_SETTINGS_MODULE": "tidings.settings",
        "HUEY_NAME": f"worker-restart-{secrets.token_hex(4)}",
        "PYTHONUNBUFFERED": "1",
    }
    data = heavy_webm()
    assert len(data) > 30_000_000
    media = tmp_path / "recording.webm"
    media.write_bytes(data)
    script = tmp_path / "scenario.py"
    script.write_text(SCENARIO)
    posted = subprocess.run(
        [sys.executable, str(script), str(media), str(CHUNKS)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert posted.returncode == 0, posted.stderr
    recording = json.loads(posted.stdout.strip().splitlines()[-1])
    pk, token = recording["id"], recording["token"]

    log = tmp_path / "worker.log"
    tables = Tables(env)
    worker = start_worker(env, log, tmp_path)
    try:
        deadline = time.monotonic() + 60
        while (row := tables.recording(pk))["stage"] != kill_at:
            assert row["processed_at"] is None, f"missed the {kill_at} stage:\n{log.read_text()}"
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.002)
        kill(worker)

        row = tables.recording(pk)
        assert row["stage"] == kill_at and row["processed_at"] is None
        if kill_at == "assembling":
            assert row["state"] == "processing" and not row["playable"]
            assert tables.chunk_count(pk) == CHUNKS
        else:
            assert row["state"] == "ready" and row["playable"] and not row["poster"]

        worker = start_worker(env, log, tmp_path)
        deadline = time.monotonic() + 60
        while (row := tables.recording(pk))["processed_at"] is None:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        chunks_left = tables.chunk_count(pk)
    finally:
        kill(worker)
        tables.close()
        forget_redis_queue(env)

    assert row["state"] == "ready" and row["stage"] == ""
    assert row["poster"] and row["playable"] and chunks_left == 0
    media_root = Path(env["DATA_DIR"]) / "media"
    assert row["original"] == f"recordings/{token}/original.webm"
    assert (media_root / row["original"]).read_bytes() == data
    with av.open(str(media_root / row["playable"])) as container:
        assert abs(container.duration / 1_000_000 - 4.0) <= 0.2


TRANSCRIPT_SCENARIO = (
    SETUP
    + """
from pathlib import Path
from tidings.transcripts import actions
from tidings.transcripts.tests.factories import recording_with_audio, speech_wav

thread = thread_in(space, owner, title="Weekly call")
folder = Path(sys.argv[1])
wav = speech_wav(folder, sys.argv[2], gap_ms=700)
recording = recording_with_audio(owner, thread, wav, folder)
with transaction.atomic():
    transcript = actions.request_transcript(recording)
print(json.dumps({"id": transcript.pk, "duration_ms": recording.duration_ms}))
"""
)


def test_a_transcription_survives_its_worker_being_killed(fresh_database_env, tmp_path):
    """Killed after the first pieces were saved, the next worker goes on from there at once:
    every piece once, the words in order."""
    import shutil

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng speaks the clip (.ci/run installs it)")
    from tidings.transcripts.tests.test_transcription import SCRIPTS

    env = {
        **fresh_database_env,
        "DJANGO_SETTINGS_MODULE": "tidings.settings",
        "TRANSCRIPTION_PIECE_SECONDS": "10",
        "HUEY_NAME": f"worker-restart-{secrets.token_hex(4)}",
        "HF_HUB_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    script = tmp_path / "scenario.py"
    script.write_text(TRANSCRIPT_SCENARIO)
    posted = subprocess.run(
        [sys.executable, str(script), str(tmp_path), ". ".join(SCRIPTS * 3)],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert posted.returncode == 0, posted.stderr
    transcript_id = json.loads(posted.stdout.strip().splitlines()[-1])["id"]

    def transcript() -> tuple:
        cursor = tables.connection.cursor()
        cursor.execute(
            f"SELECT state, done_ms FROM transcripts_transcript WHERE id = {tables.mark}",
            (transcript_id,),
        )
        return cursor.fetchone()

    log = tmp_path / "worker.log"
    tables = Tables(env)
    worker = start_worker(env, log, tmp_path)
    try:
        deadline = time.monotonic() + 90
        while (row := transcript())[1] == 0:
            assert row[0] in ("queued", "transcribing"), log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.01)
        kill(worker)
        state, done_ms = transcript()
        assert state == "transcribing" and done_ms > 0

        worker = start_worker(env, log, tmp_path)
        # The dead worker's claim is released when the new one starts, not when its lease
        # ends: the rest (under half a minute of speech) is done within a minute.
        deadline = time.monotonic() + 60
        while (row := transcript())[0] != "ready":
            assert row[0] in ("queued", "transcribing"), log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        cursor = tables.connection.cursor()
        cursor.execute(
            'SELECT "index", words FROM transcripts_segment'
            f' WHERE transcript_id = {tables.mark} ORDER BY "index"',
            (transcript_id,),
        )
        segments = cursor.fetchall()
    finally:
        kill(worker)
        tables.close()
        forget_redis_queue(env)

    assert [index for index, _ in segments] == list(range(len(segments)))
    starts = [
        word[0]
        for _, words in segments
        for word in (json.loads(words) if isinstance(words, str) else words)
    ]
    assert starts == sorted(starts) and len(starts) > 40  # nothing transcribed twice
