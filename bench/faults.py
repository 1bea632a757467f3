"""Faults under load with the real parts: PostgreSQL, Redis, Celery workers, gunicorn.

    .venv/bin/python bench/faults.py [--submissions 2000] [--clients 50]
                                     [--burst 300] [--burst-clients 20] [--lease 120]

Everything is the script's own, on free ports, in one temporary directory removed at the end
(and stopped even when something fails): a PostgreSQL cluster (initdb + pg_ctl, run as the
``postgres`` user when started as root), a redis-server, two Celery worker processes
(prefork, concurrency 1; the first also runs beat with dispatch and search every second) and
gunicorn with two sync workers serving ``web.wsgi:app``; all from the same settings (notices
to the encrypted FileSink under data_dir/notices, search in Whoosh under data_dir/search).

A. ``--submissions`` cases through ``POST /api/v1/cases`` from ``--clients`` threads, each
   with its own Idempotency-Key and a phone number (a receipt SMS is queued). Mid-way the
   redis-server is stopped, left down 2 s and started on the same port, and one worker is
   SIGKILLed (a replacement starts). A client retries a failed request with the same key.
B. It waits until the outbox is drained and the index has caught up, then checks: every
   accepted key is one case, no duplicates, one receipt file per case in the sink, no outbox
   row unsent, the index holds exactly the database's case ids.
C. A shorter burst during which PostgreSQL is restarted (``pg_ctl restart -m fast``): the API
   answers 503 with Retry-After and a JSON error, the form pages a 503 page; the clients
   retry; afterwards no case lacks its submitted event or its receipt notice, and every 2xx
   names a stored case.

It prints figures and the checks; ``tests/workers/test_faults.py`` runs a smaller version
through the same functions and asserts them.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# run as a script, bench/ comes first on the path and bench/queue.py would shadow the stdlib's
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.cluster import Postgres  # noqa: E402
from bench.intake import Server  # noqa: E402
from tests.workers.conftest import RedisServer, Worker, wait_for  # noqa: E402

HOST = "127.0.0.1"
CASES = "/api/v1/cases"
FORM = "/file/complaint"
RECEIPT_FILE = re.compile(r"^outbox_(\d+)_case_(\d+)_receipt_sms$")


# a hotline's API token (set by Stack.start): it vouches for the numbers it files with, so each
# case's receipt goes by SMS (an unproved number gets nothing; issue 19)
CLIENT: dict[str, str] = {}


def submission(i: int) -> bytes:
    return json.dumps({
        "type": "complaint", "association": "51100000500009247D", "category": "forced_membership",
        "title": "强制入会并收取会费", "description": "协会要求我公司必须入会，并收取会费两万元，否则不予办理证明。",
        "complainant": {"name": "张三", "phone": f"139{i:08d}"}, "privacy_consent": True,
        "phone_verified_by_client": True,
    }, ensure_ascii=False).encode()


# -- the parts ----------------------------------------------------------------------------------

class Stack:
    """PostgreSQL, Redis, two workers (one with beat) and gunicorn, from one environment.
    A context manager: everything is stopped and the directory removed, whatever happens."""

    def __init__(self, lease: float = 120, keep: bool = False):
        self.lease, self.keep = lease, keep
        self.tmp = Path(tempfile.mkdtemp(prefix="changtong-faults-"))
        os.chmod(self.tmp, 0o755)  # the postgres user reaches its directory through it
        self.data_dir = self.tmp / "data"
        self.pg = Postgres(self.tmp / "pg")
        self.redis = RedisServer(self.tmp)
        self.workers: list[Worker] = []
        self.web: Server | None = None
        self.env: dict[str, str] = {}
        self.leased_at_kill = 0
        self.settle: dict[str, float] = {}

    def __enter__(self) -> "Stack":
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        from casework import migrate
        from casework.db import Database
        from casework.registry.demo import load_demo
        from casework.settings import new_key

        self.data_dir.mkdir()
        self.pg.start()
        self.redis.start()
        self.env = dict(os.environ) | {
            "DATABASE_URL": self.pg.url, "CHANGTONG_DATA_DIR": str(self.data_dir),
            "CHANGTONG_SECRET_KEY": new_key(), "CHANGTONG_PII_KEY": new_key(),
            "CHANGTONG_QUERY_PEPPER": new_key(), "REDIS_URL": self.redis.url,
            "CHANGTONG_DISPATCH_SECONDS": "1", "CHANGTONG_SEARCH_SECONDS": "1", "CHANGTONG_DEV_NOTICE_FILES": "1",
            "CHANGTONG_OUTBOX_LEASE_SECONDS": str(self.lease), "CHANGTONG_SEARCH_BACKEND": "whoosh",
            "PYTHONPATH": str(ROOT),
        }
        migrate.upgrade(self.pg.url)
        self.db = Database(self.pg.url)
        with self.db.session_scope() as s:
            load_demo(s)
        with self.db.session_scope() as s:
            from sqlalchemy import select

            from casework.accounts.models import Role
            from casework.accounts.operations import create_user, grant_role, issue_token
            from casework.registry.models import Unit

            hotline = create_user(s, "hotline", "12345 hotline", secrets.token_urlsafe(18))
            grant_role(s, hotline, s.scalar(select(Unit).where(Unit.code == "miit")), Role.handler)
            s.flush()
            CLIENT["Authorization"] = "Bearer " + issue_token(s, hotline, "hotline")
        self.start_worker(beat=True)
        self.start_worker()
        self.web = Server("app", "web.wsgi:app", ROOT, self.env, self.tmp)
        self.web.wait_ready("/healthz")

    def start_worker(self, beat: bool = False) -> Worker:
        w = Worker(self.env, self.tmp / "worker.log", beat).start()
        self.workers.append(w)
        return w

    def kill_worker(self) -> int:
        """SIGKILL the newest worker without beat (and its pool), start a replacement; returns
        how many outbox messages were held under a lease at that moment (by either worker)."""
        victim = next(w for w in reversed(self.workers) if not w.beat and w.proc is not None)
        deadline = time.monotonic() + 1  # aim for a moment when a batch is being sent
        while leased(self) == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        victim.kill()
        self.leased_at_kill = leased(self)
        self.start_worker()
        return self.leased_at_kill

    def restart_redis(self, down: float = 2.0) -> None:
        self.redis.stop()
        time.sleep(down)
        self.redis.start()  # same port: workers and beat reconnect

    def close(self) -> None:
        for step in ([lambda: self.web and self.web.stop()] + [w.kill for w in self.workers]
                     + [self.redis.stop, self.pg.stop, lambda: getattr(self, "db", None) and self.db.dispose()]):
            try:
                step()
            except Exception as exc:  # keep stopping the rest
                print(f"cleanup: {exc!r}", file=sys.stderr)
        if not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def logs(self, lines: int = 40) -> str:
        out = []
        for name in ("worker.log", "gunicorn-app.log", "pg/postgres.log"):
            p = self.tmp / name
            if p.exists():
                out.append(f"--- {name}\n" + "\n".join(p.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(out)


# -- the clients --------------------------------------------------------------------------------

@dataclass
class Load:
    keys: list[str]
    seconds: float = 0.0
    attempts: dict[str, list] = field(default_factory=dict)  # key -> [status or "socket", ...]
    numbers: dict[str, str] = field(default_factory=dict)  # key -> case number (2xx)
    latencies: list[float] = field(default_factory=list)  # ms, the 2xx requests
    unavailable: list[dict] = field(default_factory=list)  # each 503: Retry-After, JSON message
    pages: Counter = field(default_factory=Counter)  # form page probes: status -> count
    page_503_ok: int = 0  # 503 pages with Retry-After and the message
    events: dict[str, float] = field(default_factory=dict)  # fault name -> seconds into the run
    t0: float = 0.0

    @property
    def statuses(self) -> Counter:
        return Counter(s for a in self.attempts.values() for s in a)

    @property
    def accepted(self) -> int:
        return len(self.numbers)

    @property
    def retried_ok(self) -> int:
        """Keys that met a failure (503, 5xx, socket) and then got their 2xx."""
        return sum(1 for k, a in self.attempts.items() if k in self.numbers and len(a) > 1)

    def pct(self, q: float) -> float:
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, int(len(xs) * q))] if xs else float("nan")


def run_clients(base_port: int, load: Load, clients: int, offset: int,
                faults: list[tuple[float, str, object]], max_attempts: int = 40, retry_cap: float = 1.0) -> Load:
    """Send every key's submission from ``clients`` threads, retrying a failure with the same
    key; ``faults`` are (fraction of keys done, name, callable) run from a separate thread."""
    lock = threading.Lock()
    todo = list(enumerate(load.keys))
    done = [0]
    t0 = load.t0 = time.monotonic()

    def client() -> None:
        conn = http.client.HTTPConnection(HOST, base_port, timeout=60)
        while True:
            with lock:
                if not todo:
                    break
                i, key = todo.pop()
            body, tries = submission(offset + i), []
            for _ in range(max_attempts):
                t = time.perf_counter()
                try:
                    conn.request("POST", CASES, body, {"Content-Type": "application/json", "Idempotency-Key": key,
                                                        "Accept-Language": "zh-CN", **CLIENT})
                    resp = conn.getresponse()
                    data = resp.read()
                except (OSError, http.client.HTTPException):
                    conn.close()
                    tries.append("socket")
                    time.sleep(0.2)
                    continue
                ms = (time.perf_counter() - t) * 1000
                tries.append(resp.status)
                if resp.will_close:
                    conn.close()
                if 200 <= resp.status < 300:
                    with lock:
                        load.numbers[key] = json.loads(data)["case_number"]
                        load.latencies.append(ms)
                    break
                if resp.status == 503:
                    retry_after = resp.getheader("Retry-After")
                    try:
                        message = json.loads(data)["error"]["message"]
                    except (ValueError, KeyError, TypeError):
                        message = None
                    with lock:
                        load.unavailable.append({"retry_after": retry_after, "message": message})
                    time.sleep(min(float(retry_after or 1), retry_cap))
                    continue
                if resp.status >= 500 or resp.status == 429:
                    time.sleep(0.2)
                    continue
                break  # a 4xx is the client's own fault: not retried
            with lock:
                load.attempts[key] = tries
                done[0] += 1
        conn.close()

    def injector(frac: float, name: str, action) -> None:  # each fault on its own clock
        while done[0] < frac * len(load.keys):
            time.sleep(0.01)
        load.events[name + " at"] = time.monotonic() - t0
        action()
        load.events[name + " done"] = time.monotonic() - t0

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    injectors = [threading.Thread(target=injector, args=f, daemon=True) for f in faults]
    for th in threads + injectors:
        th.start()
    for th in threads:
        th.join()
    load.seconds = time.monotonic() - t0
    for th in injectors:
        th.join(120)
    return load


def probe_pages(port: int, load: Load, stop: threading.Event) -> None:
    """What a person on the form sees meanwhile: GET the complaint form (it reads the database)."""
    while not stop.is_set():
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=30)
            conn.request("GET", FORM, headers={"Accept-Language": "zh-CN"})
            resp = conn.getresponse()
            page = resp.read().decode("utf-8", "replace")
            conn.close()
        except (OSError, http.client.HTTPException):
            load.pages["socket"] += 1
            continue
        load.pages[resp.status] += 1
        if resp.status == 503 and resp.getheader("Retry-After") and 'role="alert"' in page:
            load.page_503_ok += 1
        time.sleep(0.05)


# -- the checks ---------------------------------------------------------------------------------

def index_ids(stack: Stack) -> set[int]:
    from whoosh import index

    path = stack.data_dir / "search" / "index"
    if not path.exists():
        return set()
    ix = index.open_dir(str(path))
    with ix.searcher() as s:
        return {int(f["case_id"]) for f in s.all_stored_fields()}


def unsent(stack: Stack) -> int:
    from sqlalchemy import func, select

    from casework.notify.models import OutboxMessage, OutboxStatus

    with stack.db.session_scope(write=False) as s:
        return s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != OutboxStatus.sent))


def leased(stack: Stack) -> int:
    from sqlalchemy import func, select

    from casework.notify.models import OutboxMessage, OutboxStatus

    with stack.db.session_scope(write=False) as s:
        return s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == OutboxStatus.sending))


def case_ids(stack: Stack) -> set[int]:
    from sqlalchemy import select

    from casework.cases.models import Case

    with stack.db.session_scope(write=False) as s:
        return set(s.scalars(select(Case.id)))


def wait_settled(stack: Stack, timeout: float = 600) -> float:
    """Seconds until the outbox is drained and the index holds exactly the cases."""
    t = time.monotonic()
    stack.settle = {}

    def settled():
        try:
            if "outbox" not in stack.settle and unsent(stack) == 0:
                stack.settle["outbox"] = time.monotonic() - t
            if "index" not in stack.settle and index_ids(stack) == case_ids(stack):
                stack.settle["index"] = time.monotonic() - t
            # both at once, at the end: nothing came undone meanwhile
            return len(stack.settle) == 2 and unsent(stack) == 0 and index_ids(stack) == case_ids(stack)
        except Exception:  # the database may still be coming back
            return False

    wait_for(settled, timeout=timeout, interval=0.5, what="the outbox to drain and the index to catch up")
    return time.monotonic() - t


def settle_text(stack: Stack, offset: float = 0.0) -> str:
    return (f"outbox drained {stack.settle['outbox'] + offset:.1f} s, "
            f"index caught up {stack.settle['index'] + offset:.1f} s")


def check(stack: Stack, loads: list[Load]) -> dict:
    """The invariants over the whole database, after the stack settled."""
    from sqlalchemy import exists, func, select

    from casework.cases.models import Case, Event, EventKind
    from casework.notify.models import OutboxChannel, OutboxMessage, OutboxStatus

    accepted = {f"api:{k}": n for load in loads for k, n in load.numbers.items()}
    with stack.db.session_scope(write=False) as s:
        rows = s.execute(select(Case.id, Case.number, Case.idempotency_key)).all()
        no_event = s.scalar(select(func.count()).select_from(Case).where(~exists().where(
            Event.case_id == Case.id, Event.kind == EventKind.submitted)))
        no_receipt = s.scalar(select(func.count()).select_from(Case).where(~exists().where(
            OutboxMessage.case_id == Case.id, OutboxMessage.template == "case_receipt",
            OutboxMessage.channel == OutboxChannel.sms)))
        sent_sms = set(s.scalars(select(OutboxMessage.id).where(
            OutboxMessage.channel == OutboxChannel.sms, OutboxMessage.status == OutboxStatus.sent)))
        not_sent = s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != OutboxStatus.sent))
    by_key = Counter(k for _, _, k in rows)
    db_numbers = {n for _, n, _ in rows}
    ids = {i for i, _, _ in rows}
    files = [p.stem for p in (stack.data_dir / "notices" / "sms").glob("*.notice")]
    receipts = Counter()
    file_ids = set()
    for stem in files:
        file_ids.add(int(stem.split("_")[1]))
        m = RECEIPT_FILE.match(stem)
        if m:
            receipts[int(m.group(2))] += 1
    indexed = index_ids(stack)
    return {
        "accepted_keys": len(accepted),
        "cases": len(rows),
        "duplicates": sum(n - 1 for n in by_key.values() if n > 1),
        "cases_without_a_2xx_key": sum(1 for _, _, k in rows if k not in accepted),
        "2xx_without_a_case": sum(1 for n in accepted.values() if n not in db_numbers),
        "2xx_naming_another_case": sum(1 for k, n in accepted.items()
                                       if n in db_numbers and k not in by_key),
        "cases_without_submitted_event": no_event,
        "cases_without_receipt_notice": no_receipt,
        "sms_files": len(files),
        "receipt_files_per_case": dict(Counter(receipts[i] for i in ids)),  # {1: cases} is right
        "sms_files_without_sent_row": len(file_ids - sent_sms),
        "sent_sms_rows_without_file": len(sent_sms - file_ids),
        "outbox_not_sent": not_sent,
        "index_docs": len(indexed),
        "index_equals_cases": indexed == ids,
    }


# -- the runs -----------------------------------------------------------------------------------

def run_redis_and_worker_faults(stack: Stack, n: int, clients: int, tag: str = "a") -> tuple[Load, float]:
    """Phase A: n submissions; Redis restarted at 30 %, a worker SIGKILLed at 60 %.
    Returns the load and the seconds from the last fault's end until everything settled."""
    load = Load([f"{tag}-{i:06d}-{os.urandom(16).hex()}" for i in range(n)])
    run_clients(stack.web.port, load, clients, offset=0, faults=[
        (0.3, "redis restart", stack.restart_redis), (0.6, "worker SIGKILL", stack.kill_worker)])
    load.events["settle wait from"] = time.monotonic() - load.t0
    wait_settled(stack)
    last_fault = max(load.events["redis restart done"], load.events["worker SIGKILL done"])
    return load, load.events["settle wait from"] - last_fault + stack.settle["outbox"]


def run_database_restart(stack: Stack, n: int, clients: int, tag: str = "c", at: float = 0.3) -> tuple[Load, float]:
    """Phase C: n submissions; PostgreSQL restarted (-m fast) when ``at`` of them are done,
    while another client reads the form page. Returns the load and the restart's duration."""
    load = Load([f"{tag}-{i:06d}-{os.urandom(16).hex()}" for i in range(n)])
    took = [0.0]
    stop = threading.Event()
    prober = threading.Thread(target=probe_pages, args=(stack.web.port, load, stop), daemon=True)

    def restart():
        took[0] = stack.pg.restart()

    prober.start()
    try:
        run_clients(stack.web.port, load, clients, offset=1_000_000, faults=[(at, "database restart", restart)])
    finally:
        stop.set()
        prober.join(30)
    return load, took[0]


def describe(load: Load) -> str:
    st = ", ".join(f"{k}: {v}" for k, v in sorted(load.statuses.items(), key=lambda kv: str(kv[0])))
    return (f"  submissions {len(load.keys)}, accepted (2xx) {load.accepted}, in {load.seconds:.1f} s "
            f"= {load.accepted / load.seconds:.1f}/s; latency of 2xx p50 {load.pct(0.5):.0f} ms, "
            f"p99 {load.pct(0.99):.0f} ms\n  responses by status: {st}\n"
            f"  keys retried then accepted: {load.retried_ok}\n"
            f"  faults (s into the run): " + ", ".join(f"{k} {v:.1f}" for k, v in load.events.items()))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--submissions", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--burst", type=int, default=300)
    ap.add_argument("--burst-clients", type=int, default=20)
    ap.add_argument("--lease", type=float, default=120, help="outbox lease seconds (production default 120)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args(argv)
    t = time.monotonic()
    with Stack(lease=args.lease, keep=args.keep) as stack:
        print(f"stack up in {time.monotonic() - t:.1f} s: PostgreSQL :{stack.pg.port}, Redis :{stack.redis.port}, "
              f"gunicorn :{stack.web.port} (2 sync workers), 2 Celery workers (-c 1, one with beat), "
              f"outbox lease {args.lease:.0f} s; in {stack.tmp}", flush=True)
        try:
            a, drain = run_redis_and_worker_faults(stack, args.submissions, args.clients)
            print(f"A. {args.submissions} submissions, {args.clients} clients; Redis restarted (down 2 s) "
                  f"and a worker SIGKILLed mid-way\n{describe(a)}")
            print(f"  outbox messages under a lease when the worker was killed: {stack.leased_at_kill}")
            print(f"  after the load ended: {settle_text(stack, a.events['settle wait from'] - a.seconds)}; "
                  f"the outbox drained {drain:.1f} s after the last fault")
            print("B. checks after A:\n" + "\n".join(f"  {k}: {v}" for k, v in check(stack, [a]).items()), flush=True)
            c, took = run_database_restart(stack, args.burst, args.burst_clients)
            leased_after = leased(stack)
            wait_settled(stack)
            ok503 = sum(1 for u in c.unavailable if u["retry_after"] and u["message"])
            print(f"C. {args.burst} submissions, {args.burst_clients} clients; PostgreSQL restarted "
                  f"(pg_ctl restart -m fast, {took:.1f} s)\n{describe(c)}")
            print(f"  API 503s: {len(c.unavailable)} (with Retry-After and a JSON message: {ok503}); "
                  f"form page probes: {dict(c.pages)}, 503 pages with Retry-After and the notice: {c.page_503_ok}")
            print(f"  outbox messages under a lease when the burst ended: {leased_after}; after the burst: "
                  f"{settle_text(stack)}" + (f" (a batch whose result could not be recorded while the database "
                                             f"was down waits for its {args.lease:.0f} s lease)" if leased_after else ""))
            print("D. checks over the whole database after C:\n"
                  + "\n".join(f"  {k}: {v}" for k, v in check(stack, [a, c]).items()))
        except BaseException:
            print(stack.logs(), file=sys.stderr)
            raise
    print("(2 cores shared with other work: throughput and latencies are noisy)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
