"""Real Celery workers and a real redis-server of the tests' own, on another port."""
import base64
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.cluster import Redis as RedisServer, free_port, wait_for  # noqa: F401 (the tests' names)
from tests.conftest import needs_service

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def redis_server(tmp_path):
    if not shutil.which("redis-server"):
        needs_service("redis-server (apt-get install redis-server)")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def worker_env(settings, redis_url: str, **extra) -> dict:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": settings.database_url,
        "CHANGTONG_DATA_DIR": str(settings.data_dir),
        "CHANGTONG_SECRET_KEY": settings.secret_key,
        "CHANGTONG_PII_KEY": base64.urlsafe_b64encode(settings.pii_keys[0]).decode(),
        "CHANGTONG_QUERY_PEPPER": base64.urlsafe_b64encode(settings.query_pepper).decode(),
        "REDIS_URL": redis_url,
        "PYTHONPATH": str(ROOT),
        "CHANGTONG_DEV_NOTICE_FILES": "1",  # notices to the encrypted files the tests read
    })
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Worker:
    def __init__(self, env: dict, logfile: Path, beat: bool):
        self.env, self.logfile, self.beat = env, logfile, beat
        self.proc = None

    def start(self):
        args = [str(Path(sys.executable).parent / "celery"), "-A", "workers.main", "worker",
                "-c", "1", "--loglevel", "INFO", "-n", f"w{time.time_ns()}@%h", "--without-mingle",
                "--without-gossip"]
        if self.beat:
            args += ["-B", "-s", str(self.logfile.parent / f"beat-{time.time_ns()}")]
        self.log = open(self.logfile, "ab")
        self.proc = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return self

    def kill(self, sig=signal.SIGKILL):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(30)
        self.proc = None

    def stop(self):
        self.kill(signal.SIGTERM)


@pytest.fixture
def start_worker(settings, tmp_path):
    workers = []

    def start(redis_url, *, beat=False, **extra):
        w = Worker(worker_env(settings, redis_url, **extra), tmp_path / "worker.log", beat).start()
        workers.append(w)
        return w

    yield start
    for w in workers:
        w.kill()


