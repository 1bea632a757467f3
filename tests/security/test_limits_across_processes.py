"""Issue 16, defect 3: the wrong-code limit holds across processes. Two gunicorn instances on
one database (as two workers of `make run` are, but with the turn of each request known)
together answer exactly the configured number of wrong codes for a case number before they
refuse: with the embedded default (no Redis: the counters are rows in the database,
casework.ratelimit) and with Redis."""
from __future__ import annotations

import base64
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bench.cluster import free_port
from casework.ratelimit import DatabaseStorage
from tests.conftest import needs_service

ROOT = Path(__file__).resolve().parents[2]
NUMBER = "C2026120599999"  # never issued: a wrong code and an unknown number count alike


def _get(url: str, **headers) -> int:
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _wait(url: str, proc: subprocess.Popen, err: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, err.read_text()
        try:
            if _get(url) == 200:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, err.read_text()
        time.sleep(0.1)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


@pytest.fixture
def redis_url(tmp_path):
    server = shutil.which("redis-server")
    if not server:
        needs_service("redis-server is not installed")
    port = free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        import redis

        client = redis.Redis(port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline and proc.poll() is None, "redis-server did not start"
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(proc)


def _two_servers(settings, tmp_path, redis: str | None):
    """Two gunicorn instances of one worker each on the test's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHANGTONG_", "PROMETHEUS_"))}
    env.pop("REDIS_URL", None)
    env.update({
        "DATABASE_URL": settings.database_url, "CHANGTONG_DATA_DIR": str(settings.data_dir),
        "CHANGTONG_SECRET_KEY": settings.secret_key,
        "CHANGTONG_PII_KEY": base64.urlsafe_b64encode(settings.pii_keys[0]).decode(),
        "CHANGTONG_QUERY_PEPPER": base64.urlsafe_b64encode(settings.query_pepper).decode(),
        "WEB_CONCURRENCY": "1", "PYTHONPATH": str(ROOT), "CHANGTONG_DEV_NOTICE_FILES": "1",
    })
    if redis:
        env["REDIS_URL"] = redis
    procs, bases = [], []
    for i in range(2):
        port = free_port()
        err = tmp_path / f"gunicorn{i}.err"
        with open(tmp_path / f"gunicorn{i}.out", "wb") as fo, open(err, "wb") as fe:
            proc = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-c", str(ROOT / "gunicorn.conf.py"),
                                     "web.wsgi:app"], cwd=tmp_path, env={**env, "CHANGTONG_BIND": f"127.0.0.1:{port}"},
                                    stdout=fo, stderr=fe, start_new_session=True)
        procs.append(proc)
        bases.append(f"http://127.0.0.1:{port}")
        _wait(bases[-1] + "/healthz", proc, err)
    return procs, bases


@pytest.mark.commits  # the servers count in rows of their own (emptied after the test)
@pytest.mark.parametrize("storage", ["database", "redis"])
def test_wrong_codes_are_counted_once_across_processes(settings, db, tmp_path, request, storage):
    redis = request.getfixturevalue("redis_url") if storage == "redis" else None
    procs, bases = _two_servers(settings, tmp_path, redis)
    try:
        limit = int(settings.lookup_limit.split()[0])  # "10 per 10 minutes"
        statuses = [_get(f"{bases[i % 2]}/api/v1/cases/{NUMBER}", **{"X-Query-Code": "AAAA-BBBB-CCCC-DDDD"})
                    for i in range(limit + 4)]
        # each process alone would answer 404 ten times: together they answer it ten times
        assert statuses == [404] * limit + [429] * 4, statuses
    finally:
        for proc in procs:
            _stop(proc)


def test_the_default_storage_is_the_database_not_process_memory(app, settings):
    assert settings.redis_url is None and settings.rate_limit_storage.startswith("changtong-db://")
    from web.extensions import limiter

    assert isinstance(limiter.storage, DatabaseStorage)


def test_database_storage_windows(db):
    """The storage itself: hits add up, a window that ended starts again, keys are apart."""
    storage = DatabaseStorage(database=db)
    assert storage.check()
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.get("k") == 3 and storage.get("other") == 0
    assert time.time() < storage.get_expiry("k") <= time.time() + 60
    assert storage.incr("k", 60, amount=2) == 5
    assert storage.incr("gone", 0) == 1  # a window of no length has ended at once
    assert storage.get("gone") == 0 and storage.incr("gone", 60) == 1
    storage.clear("k")
    assert storage.get("k") == 0
    assert storage.reset() >= 1 and storage.get("gone") == 0
