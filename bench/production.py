"""Production figures: the platform on PostgreSQL and Redis under gunicorn, one node then two.

    .venv/bin/python bench/production.py [--seconds 60] [--clients 16] [--probe-rate 2]
                                         [--web-concurrency 2] [--warmup 5] [--keep]
                                         [--search-backend whoosh|postgres] [--public-door]
    .venv/bin/python bench/production.py --doors 4 --seconds 30 --probe-rate 4

One script, one run, on this machine. It starts the production topology from docker-compose.yml
without Docker (``bench.cluster.Cluster``: its own PostgreSQL and redis-server on free ports,
gunicorn with ``gunicorn.conf.py``, two Celery workers and one beat, all from the same
settings), then for one web node and again for two:

1. **Submissions.** ``--clients`` connections POST the README's complaint to
   ``/api/v1/cases`` back to back for ``--seconds`` (a sustained, saturating load; no
   Idempotency-Key, so every request files a case), split evenly over the nodes. The client is
   ``wrk`` (installed with apt-get when missing and possible), one per node; the p99 of two
   nodes is the worse of the two.
2. **The desk under that load.** A handler of the unit the complaints are routed to (a real
   staff account and a server-side session) opens their queue (``/desk/units/<id>``) and
   searches (``/desk/search?q=强制入会``), each ``--probe-rate`` times a second from its own
   thread, round-robin over the nodes; p50/p99 of those pages while the submissions run. The
   pages go through each node's staff door (``CHANGTONG_STAFF_BIND``, as docker-compose.yml
   sets it), or through the public port with ``--public-door``.
3. **Memory.** The resident (RSS) and proportional (PSS, shared pages divided among the
   processes sharing them) size of every gunicorn worker, from /proc, after the load.
4. **The baseline.** A one-route Flask app (``GET /hello``) under the same gunicorn
   configuration and worker count, one server per node, same clients and duration: the ratio
   submissions/s ÷ hello/s says how much of the server's capacity a submission costs.

``--doors N`` runs, instead of the two phases, N rounds on one node of the saturating
submissions, each twice: once with the desk's pages sent to the public port, once to the staff's
door, the order alternating; it prints each load's desk latencies (p50, p90, p99).

After each load it waits for the outbox to drain (every receipt SMS sent by the workers) and
prints how long that took. It prints a table at the end; it asserts nothing. The load generator
runs on the same two cores as everything else, as the servers do.
"""
from __future__ import annotations

import argparse
import http.client
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# run as a script, bench/ comes first on the path and bench/queue.py would shadow the stdlib's
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.intake import BARE_APP, BODY, CASES_PATH, HELLO_PATH, Result, find_wrk, percentile, run_wrk  # noqa: E402

HOST = "127.0.0.1"
SEARCH_WORDS = "强制入会"


@dataclass
class Probe:
    label: str
    path: str
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def pct(self, q: float) -> float:
        return percentile(sorted(self.latencies), q) * 1000


@dataclass
class Phase:
    nodes: int
    submissions: Result
    bare: Result
    probes: list[Probe]
    rss_mb: list[float]
    pss_mb: list[float]
    drain_s: float
    stored: int


# -- the parts ----------------------------------------------------------------------------------

def memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of one process in MB, from /proc/<pid>/smaps_rollup."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        m = re.match(r"^(Rss|Pss):\s+(\d+) kB", line)
        if m:
            fields[m.group(1)] = int(m.group(2)) / 1024
    return fields.get("Rss", math.nan), fields.get("Pss", math.nan)


def staff_cookie(cluster, unit_id: int) -> str:
    """A handler of the unit, signed in: the server-side session id for the ct_staff cookie."""
    from casework.accounts.models import Role
    from casework.accounts.operations import create_staff_user
    from casework.accounts.sessions import open_session
    from casework.audit.operations import cli_actor
    from casework.db import Database
    from casework.registry.models import Unit

    db = Database(cluster.pg_url)
    try:
        with db.session_scope() as s:
            user, _ = create_staff_user(s, cli_actor("bench"), "bench-handler", "Bench handler",
                                        "correct horse battery staple", s.get(Unit, unit_id), [Role.handler])
            return open_session(s, user)
    finally:
        db.dispose()


def submit_one(base_url: str) -> None:
    req = urllib.request.Request(base_url + CASES_PATH, data=BODY, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        if resp.status != 201:
            raise RuntimeError(f"POST {CASES_PATH} answered {resp.status}")


def routed_unit(cluster) -> int:
    from sqlalchemy import text

    from casework.db import Database

    db = Database(cluster.pg_url)
    try:
        with db.session_scope(write=False) as s:
            unit_id = s.execute(text('SELECT unit_id FROM "case" WHERE unit_id IS NOT NULL LIMIT 1')).scalar()
    finally:
        db.dispose()
    if unit_id is None:
        raise RuntimeError("the smoke submission was not routed to a unit")
    return unit_id


def count(cluster, sql: str) -> int:
    from sqlalchemy import text

    from casework.db import Database

    db = Database(cluster.pg_url)
    try:
        with db.session_scope(write=False) as s:
            return int(s.execute(text(sql)).scalar() or 0)
    finally:
        db.dispose()


def wait_drained(cluster, timeout: float = 600) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if count(cluster, "SELECT count(*) FROM outbox_message WHERE status IN ('pending', 'sending')") == 0:
            return time.monotonic() - t0
        time.sleep(0.5)
    return math.nan


def run_probes(ports: list[int], probes: list[Probe], cookie: str, rate: float, stop: threading.Event) -> list[threading.Thread]:
    def loop(probe: Probe, offset: float) -> None:
        conns = {p: http.client.HTTPConnection(HOST, p, timeout=60) for p in ports}
        headers = {"Cookie": f"ct_staff={cookie}", "Accept-Language": "zh-CN"}
        i = 0
        next_at = time.monotonic() + offset
        while not stop.is_set():
            wait = next_at - time.monotonic()
            if wait > 0 and stop.wait(wait):
                break
            next_at += 1.0 / rate
            port = ports[i % len(ports)]
            i += 1
            t = time.perf_counter()
            try:
                conns[port].request("GET", probe.path, headers=headers)
                resp = conns[port].getresponse()
                resp.read()
            except (OSError, http.client.HTTPException):
                conns[port].close()
                probe.statuses[0] = probe.statuses.get(0, 0) + 1
                continue
            probe.latencies.append(time.perf_counter() - t)
            probe.statuses[resp.status] = probe.statuses.get(resp.status, 0) + 1
        for c in conns.values():
            c.close()

    threads = [threading.Thread(target=loop, args=(p, k / (rate * len(probes))), daemon=True)
               for k, p in enumerate(probes)]
    for t in threads:
        t.start()
    return threads


def load(wrk: str, tmp: Path, label: str, ports: list[int], method: str, path: str, body: bytes | None,
         ok: int, seconds: float, clients: int) -> Result:
    """wrk against each port at once, clients split evenly; one Result for all of them."""
    results: list[Result | BaseException] = [None] * len(ports)  # type: ignore[list-item]
    per = max(1, clients // len(ports))

    def one(k: int, port: int) -> None:
        try:
            results[k] = run_wrk(wrk, tmp, f"{label}-{port}", f"http://{HOST}:{port}", method, path, body,
                                 ok, seconds, per, threads=1)
        except BaseException as exc:  # reported below
            results[k] = exc

    threads = [threading.Thread(target=one, args=(k, p)) for k, p in enumerate(ports)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        if isinstance(r, BaseException):
            raise r
    out = Result(label, requests=sum(r.requests for r in results), seconds=max(r.seconds for r in results),
                 p50_ms=max(r.p50_ms for r in results), p99_ms=max(r.p99_ms for r in results),
                 socket_errors=sum(r.socket_errors for r in results))
    for r in results:
        for s, n in r.statuses.items():
            out.statuses[s] = out.statuses.get(s, 0) + n
    return out


class BareServers:
    """The one-route Flask app under the same gunicorn.conf.py, one server per node."""

    def __init__(self, tmp: Path, n: int, concurrency: int):
        from bench.intake import free_port

        (tmp / "bare_app.py").write_text(BARE_APP)
        self.procs: list[subprocess.Popen] = []
        self.ports: list[int] = []
        gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
        if not gunicorn.exists():
            gunicorn = Path(sys.executable).with_name("gunicorn")
        for k in range(n):
            port = free_port()
            env = dict(os.environ, CHANGTONG_BIND=f"{HOST}:{port}", WEB_CONCURRENCY=str(concurrency),
                       PYTHONPATH=str(tmp), PROMETHEUS_MULTIPROC_DIR=str(tmp / f"bare-metrics-{k}"))
            (tmp / f"bare-metrics-{k}").mkdir(exist_ok=True)
            log = open(tmp / f"bare-{k}.log", "wb")
            self.procs.append(subprocess.Popen([str(gunicorn), "-c", str(ROOT / "gunicorn.conf.py"), "bare_app:app"],
                                               cwd=str(tmp), env=env, stdout=log, stderr=subprocess.STDOUT,
                                               start_new_session=True))
            self.ports.append(port)
        for port in self.ports:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"http://{HOST}:{port}{HELLO_PATH}", timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"the bare app on {port} did not start (see {tmp})")
                    time.sleep(0.2)

    def close(self) -> None:
        import signal

        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass


# -- one phase ----------------------------------------------------------------------------------

def filings_with_desk(wrk: str, tmp: Path, args, ports: list[int], desk_ports: list[int], cookie: str,
                      unit_id: int) -> tuple[Result, list[Probe]]:
    """The saturating submissions to ``ports`` for ``--seconds``, while a handler opens the queue
    and searches through ``desk_ports``; the submissions' result and the two probes."""
    probes = [Probe(f"GET /desk/units/{unit_id} (queue)", f"/desk/units/{unit_id}"),
              Probe("GET /desk/search?q=强制入会", "/desk/search?q=" + urllib.request.quote(SEARCH_WORDS))]
    stop = threading.Event()
    threads = run_probes(desk_ports, probes, cookie, args.probe_rate, stop)
    try:
        subs = load(wrk, tmp, "POST /api/v1/cases", ports, "POST", CASES_PATH, BODY, 201, args.seconds, args.clients)
    finally:
        stop.set()
        for t in threads:
            t.join(70)
    return subs, probes


def phase(cluster, wrk: str, tmp: Path, args, cookie: str, unit_id: int) -> Phase:
    ports = [n.port for n in cluster.nodes]
    n = len(ports)
    print(f"\n== {n} web node{'s' if n > 1 else ''} ({args.web_concurrency} gunicorn workers each)", flush=True)
    before = count(cluster, 'SELECT count(*) FROM "case"')
    print(f"warm-up {args.warmup:.0f} s …", flush=True)
    load(wrk, tmp, "warmup", ports, "POST", CASES_PATH, BODY, 201, args.warmup, args.clients)

    desk_ports = ports if args.public_door else [node.staff_port or node.port for node in cluster.nodes]
    print(f"submissions: {args.clients} connections for {args.seconds:.0f} s, desk probes {args.probe_rate}/s each …",
          flush=True)
    subs, probes = filings_with_desk(wrk, tmp, args, ports, desk_ports, cookie, unit_id)
    mem = [memory_mb(pid) for node in cluster.nodes for pid in node.worker_pids()]
    print(f"  {subs.rate:.1f} submissions/s, p99 {subs.p99_ms:.0f} ms; waiting for the outbox to drain …", flush=True)
    drain = wait_drained(cluster)
    stored = count(cluster, 'SELECT count(*) FROM "case"') - before

    bare_servers = BareServers(tmp, n, args.web_concurrency)
    try:
        load(wrk, tmp, "warmup-bare", bare_servers.ports, "GET", HELLO_PATH, None, 200, args.warmup, args.clients)
        print(f"bare Flask: {args.clients} connections for {args.seconds:.0f} s …", flush=True)
        bare = load(wrk, tmp, "GET /hello (bare Flask)", bare_servers.ports, "GET", HELLO_PATH, None, 200,
                    args.seconds, args.clients)
    finally:
        bare_servers.close()
    return Phase(n, subs, bare, probes, [m[0] for m in mem], [m[1] for m in mem], drain, stored)


def doors(cluster, wrk: str, tmp: Path, args, cookie: str, unit_id: int) -> None:
    """``--doors N``: on one node, N rounds of the saturating submissions, each round twice, once
    with the desk's pages sent to the public port and once to the staff's door (the order
    alternates); prints each load's desk latencies."""
    node = cluster.nodes[0]
    if node.staff_port is None:
        raise SystemExit("docker-compose.yml's web service sets no CHANGTONG_STAFF_BIND: no staff door to compare")
    print(f"\n== the desk through the public port and through the staff door, {args.doors} rounds of "
          f"{args.seconds:.0f} s, {args.clients} connections filing, desk pages {args.probe_rate}/s each", flush=True)
    load(wrk, tmp, "warmup", [node.port], "POST", CASES_PATH, BODY, 201, args.warmup, args.clients)
    print(f"{'desk through':<14}{'filings/s':>10}  {'queue n, p50 / p90 / p99 ms':<30}{'search n, p50 / p90 / p99 ms'}")
    for k in range(args.doors):
        pair = [("public port", node.port), ("staff door", node.staff_port)]
        for name, port in (pair if k % 2 == 0 else pair[::-1]):
            subs, probes = filings_with_desk(wrk, tmp, args, [node.port], [port], cookie, unit_id)
            cells = [f"{len(p.latencies):>4}, {fmt(p.pct(50), 4, 0)} / {fmt(p.pct(90), 4, 0)} / {fmt(p.pct(99), 4, 0)}"
                     for p in probes]
            print(f"{name:<14}{fmt(subs.rate, 10)}  {cells[0]:<30}{cells[1]}", flush=True)


def fmt(v: float, width: int = 9, digits: int = 1) -> str:
    return f"{v:{width}.{digits}f}" if not (isinstance(v, float) and math.isnan(v)) else f"{'-':>{width}}"


def report(phases: list[Phase], args) -> None:
    print()
    print(f"production benchmark: PostgreSQL + Redis, gunicorn ({args.web_concurrency} sync workers per node, "
          f"gunicorn.conf.py), 2 Celery workers + 1 beat, {args.clients} connections, {args.seconds:.0f} s per load, "
          f"search: {args.search_backend}, {os.cpu_count()} CPUs; desk pages through "
          f"{'the public port' if args.public_door else 'the staff door'}")
    print(f"{'nodes':<6}{'what':<38}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}  errors")
    for p in phases:
        s = p.submissions
        print(f"{p.nodes:<6}{'POST /api/v1/cases':<38}{fmt(s.rate)}{fmt(s.p50_ms)}{fmt(s.p99_ms)}  {s.describe_errors(201)}")
        for pr in p.probes:
            bad = {k: v for k, v in pr.statuses.items() if k != 200}
            rate = len(pr.latencies) / args.seconds
            print(f"{'':<6}{pr.label:<38}{fmt(rate)}{fmt(pr.pct(50))}{fmt(pr.pct(99))}  {bad or 0}")
        b = p.bare
        print(f"{'':<6}{'GET /hello (bare Flask, same server)':<38}{fmt(b.rate)}{fmt(b.p50_ms)}{fmt(b.p99_ms)}  "
              f"{b.describe_errors(200)}")
        ratio = s.rate / b.rate if b.rate else math.nan
        print(f"{'':<6}{'ratio submissions / bare':<38}{fmt(ratio * 100)}%")
        print(f"{'':<6}{'memory per web worker RSS / PSS MB':<38}"
              f"{fmt(statistics.mean(p.rss_mb))}{fmt(statistics.mean(p.pss_mb))}  "
              f"(max RSS {max(p.rss_mb):.1f}, {len(p.rss_mb)} workers)")
        print(f"{'':<6}{'cases stored / outbox drained after':<38}{p.stored:>9}{fmt(p.drain_s)} s")
    if len(phases) == 2 and phases[0].submissions.rate:
        print(f"two nodes / one node, submissions/s: {phases[1].submissions.rate / phases[0].submissions.rate:.2f}x "
              f"(same two cores: a second node adds processes, not CPU)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--probe-rate", type=float, default=2.0, help="desk queue and search requests per second, each")
    ap.add_argument("--web-concurrency", type=int, default=2, help="gunicorn workers per node")
    ap.add_argument("--warmup", type=float, default=5)
    ap.add_argument("--search-backend", choices=("whoosh", "postgres"), default="whoosh",
                    help="CHANGTONG_SEARCH_BACKEND of every process (default whoosh, as .env.example)")
    ap.add_argument("--doors", type=int, default=0, metavar="N",
                    help="instead of the phases: N rounds on one node comparing the desk through the public port "
                         "and through the staff door")
    ap.add_argument("--public-door", action="store_true",
                    help="send the desk's pages to the public port, not to the staff's door (CHANGTONG_STAFF_BIND)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args(argv)

    from bench.cluster import Cluster

    wrk = find_wrk(allow_install=True)
    if wrk is None:
        print("wrk is needed (apt-get install wrk)", file=sys.stderr)
        return 1
    phases: list[Phase] = []
    tmp = Path(tempfile.mkdtemp(prefix="changtong-production-"))
    with Cluster(web_nodes=1, workers=2, web_concurrency=args.web_concurrency, keep=args.keep,
                 env={"CHANGTONG_SEARCH_BACKEND": args.search_backend}) as cluster:
        print(f"cluster up: PostgreSQL, redis-server, {len(cluster.nodes)} node, workers and beat ({cluster.tmp})",
              flush=True)
        submit_one(cluster.nodes[0].base_url)
        unit_id = routed_unit(cluster)
        cookie = staff_cookie(cluster, unit_id)
        if args.doors:
            doors(cluster, wrk, tmp, args, cookie, unit_id)
        else:
            phases.append(phase(cluster, wrk, tmp, args, cookie, unit_id))
            cluster.add_node()
            phases.append(phase(cluster, wrk, tmp, args, cookie, unit_id))
    if phases:
        report(phases, args)
    if not args.keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
