"""The deadline sweep over a large open caseload, and notices per second through Redis.

    .venv/bin/python bench/sweep.py [--postgres URL] [--cases 1000000] [--due-percent 1]
                                    [--notices 5000] [--reuse] [--skip-notices]

Part 1 — sweep: a PostgreSQL database with --cases cases (bench/generate.py), all of them
made open (pending acceptance, or awaiting routing where no unit holds them) with a
deadline a month ahead, except --due-percent of them: half past their deadline (overdue,
escalation level 1 at once), half due tomorrow (a reminder). Then one sweep: wall time,
SQL statements issued, and what it did; and a second sweep, which must do nothing.

Part 2 — notices: --notices pending outbox messages, a redis-server of the benchmark's own
on a free port, and a Celery worker with 2 processes; the beat's dispatch task is sent
once and the time until every message is sent gives notices per second (file sink).
"""
from __future__ import annotations

import argparse
import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from bench.generate import generate  # noqa: E402
from sqlalchemy import event, func, insert, select, text  # noqa: E402

from casework.context import Services  # noqa: E402
from casework.db import Database, utcnow  # noqa: E402
from casework.settings import Settings, new_key  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://root@127.0.0.1:5432/bench_sweep"


def ensure_database(url: str, reuse: bool) -> bool:
    """Create the database (dropping it unless --reuse); True if it already had data."""
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0].replace("+psycopg", "") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and reuse:
            return True
        if exists:
            conn.execute(f'DROP DATABASE "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return False


def settings_for(url: str, data_dir: Path, redis_url: str | None = None) -> Settings:
    return Settings.from_env({
        "DATABASE_URL": url, "CHANGTONG_DATA_DIR": str(data_dir), "CHANGTONG_SECRET_KEY": new_key(),
        "CHANGTONG_PII_KEY": new_key(), "CHANGTONG_QUERY_PEPPER": new_key(),
        **({"REDIS_URL": redis_url} if redis_url else {})})


def prepare_open_load(db: Database, due_percent: float) -> dict:
    now = utcnow()
    every = max(1, round(100 / due_percent))
    with db.engine.begin() as conn:
        conn.execute(text("""
            UPDATE "case" SET
              state = CASE WHEN unit_id IS NULL THEN 'received' ELSE 'pending_acceptance' END,
              stage = CASE WHEN unit_id IS NULL THEN 'triage' ELSE 'acceptance' END,
              resume_state = NULL, paused_at = NULL, overdue = false, supervision_level = 0,
              reminded_for_due = NULL,
              due_at = CASE WHEN id % :every = 0 THEN
                         (CASE WHEN (id / :every) % 2 = 0 THEN :past ELSE :soon END)
                       ELSE :later END"""),
            {"every": every, "past": now - timedelta(hours=2), "soon": now + timedelta(hours=20),
             "later": now + timedelta(days=30)})
        conn.execute(text("DELETE FROM outbox_message"))
        conn.execute(text("DELETE FROM event WHERE kind <> 'submitted'"))
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text('VACUUM ANALYZE "case"'))
        conn.execute(text("VACUUM ANALYZE event"))
    with db.engine.connect() as conn:
        return {
            "cases": conn.scalar(text('SELECT count(*) FROM "case"')),
            "open": conn.scalar(text("SELECT count(*) FROM \"case\" WHERE state IN ('received','pending_acceptance')")),
            "due": conn.scalar(text('SELECT count(*) FROM "case" WHERE due_at < :c'),
                               {"c": now + timedelta(days=3)}),
        }


def count_statements(db: Database):
    counter = {"n": 0}

    @event.listens_for(db.engine, "before_cursor_execute")
    def _count(*_a):
        counter["n"] += 1

    return counter


def bench_sweep(url: str, cases: int, due_percent: float, reuse: bool, chunk: int = 1000) -> None:
    from casework.deadlines.sweep import sweep

    had = ensure_database(url, reuse)
    if not had:
        t = time.perf_counter()
        generate(url, cases=cases, quiet=True)
        print(f"generated {cases:,} cases in {time.perf_counter() - t:.0f} s")
    db = Database(url)
    load = prepare_open_load(db, due_percent)
    print(f"load: {load['cases']:,} cases, {load['open']:,} open, {load['due']:,} due within 3 days")
    settings = settings_for(url, Path(tempfile.mkdtemp()))
    services = Services.from_settings(type(settings)(**{**settings.__dict__, "sweep_chunk": chunk}))
    print(f"sweep chunk: {chunk} cases per transaction")
    counter = count_statements(db)
    for label in ("first sweep", "second sweep (nothing to do)"):
        counter["n"] = 0
        t = time.perf_counter()
        report = sweep(db, services)
        wall = time.perf_counter() - t
        print(f"{label:30s} {wall:7.2f} s  {counter['n']:7,} SQL statements  {report.as_dict()}")
    with db.engine.connect() as conn:
        plan = conn.execute(text(
            "EXPLAIN SELECT id FROM \"case\" WHERE NOT overdue AND due_at IS NOT NULL AND due_at < now() "
            "AND state IN ('received','pending_acceptance','accepted','under_review','under_re_review','mediating')"
        )).scalars().all()
    print("plan of the work list:\n  " + "\n  ".join(plan))
    db.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_notices(url: str, n: int) -> None:
    from casework.notify.models import OutboxChannel, OutboxMessage

    port = free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="notices-"))
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", str(data_dir)], stdout=subprocess.DEVNULL)
    worker = None
    try:
        settings = settings_for(url, data_dir, f"redis://127.0.0.1:{port}/0")
        services = Services.from_settings(settings)
        db = Database(url)
        now = utcnow()
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM outbox_message"))
            conn.execute(insert(OutboxMessage.__table__), [{
                "dedupe_key": f"bench:{i}", "case_id": None, "channel": OutboxChannel.sms.value,
                "template": "case_update", "locale": "zh_CN", "status": "pending", "attempts": 0,
                "recipient_enc": services.cipher.encrypt_text(f"139{i:08d}", "outbox.recipient"),
                "payload_enc": services.cipher.encrypt(b'{"case_number": "TS2026112700001"}', "outbox.payload"),
                "next_attempt_at": now, "created_at": now} for i in range(n)])
        env = dict(os.environ, DATABASE_URL=url, CHANGTONG_DATA_DIR=str(data_dir),
                   CHANGTONG_SECRET_KEY=settings.secret_key, REDIS_URL=settings.redis_url,
                   CHANGTONG_PII_KEY=base64.urlsafe_b64encode(settings.pii_keys[0]).decode(),
                   CHANGTONG_QUERY_PEPPER=base64.urlsafe_b64encode(settings.query_pepper).decode(),
                   PYTHONPATH=str(ROOT), CHANGTONG_DEV_NOTICE_FILES="1")
        worker = subprocess.Popen([str(Path(sys.executable).parent / "celery"), "-A", "workers.main", "worker",
                                   "-c", "2", "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
                                  cwd=ROOT, env=env, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(4)  # let both processes connect
        from workers.app import make_celery

        client = make_celery(settings)
        t = time.perf_counter()
        client.send_task("changtong.dispatch_outbox")
        sink = data_dir / "notices" / "sms"
        deadline = time.time() + 600
        while time.time() < deadline:
            if sink.exists() and sum(1 for _ in sink.iterdir()) >= n:
                break
            time.sleep(0.1)
        wall = time.perf_counter() - t
        sent = sum(1 for _ in sink.iterdir()) if sink.exists() else 0
        with db.engine.connect() as conn:
            done = conn.scalar(select(func.count()).select_from(OutboxMessage.__table__)
                               .where(OutboxMessage.__table__.c.status == "sent"))
        print(f"notices: {sent:,} delivered ({done:,} recorded sent) in {wall:.1f} s = {sent / wall:,.0f} per second "
              f"(Redis broker, 2 worker processes, file sink)")
        db.dispose()
    finally:
        if worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(30)
        redis.terminate()
        redis.wait(10)
        shutil.rmtree(data_dir, ignore_errors=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--postgres", default=DEFAULT_PG)
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--due-percent", type=float, default=1.0)
    ap.add_argument("--notices", type=int, default=5000)
    ap.add_argument("--reuse", action="store_true", help="keep an already generated database")
    ap.add_argument("--skip-notices", action="store_true")
    ap.add_argument("--chunk", type=int, default=1000, help="cases per sweep transaction (CHANGTONG_SWEEP_CHUNK)")
    ap.add_argument("--drop", action="store_true", help="drop the database at the end")
    a = ap.parse_args(argv)
    bench_sweep(a.postgres, a.cases, a.due_percent, a.reuse, a.chunk)
    if not a.skip_notices:
        bench_notices(a.postgres, a.notices)
    if a.drop:
        import psycopg

        admin = a.postgres.rsplit("/", 1)[0].replace("+psycopg", "") + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{a.postgres.rsplit("/", 1)[1]}"')


if __name__ == "__main__":
    main()
