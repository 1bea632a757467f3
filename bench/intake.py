"""Intake benchmark: case submissions per second through the JSON API against a bare Flask route.

    .venv/bin/python bench/intake.py [--seconds 15] [--clients 16]

Both apps run under gunicorn with two sync workers, from this virtualenv, on 127.0.0.1, in the
same run: the real app (`web.wsgi:app`, on a fresh SQLite database with the demo registry) and a
one-route Flask app (`GET /hello` -> "hello"). Phase A saturates each for --seconds with --clients
connections and reports requests/s, p50/p99 and the ratio submissions / hello (target >= 20%).
Phase B files cases at half the measured maximum submission rate, on a fixed schedule, and
reports p50/p99 at that load (target p99 < 100 ms). The load generator is `wrk` (Debian package
`wrk`, installed with apt-get when missing and possible), else a Python thread client.

This prints figures; it asserts nothing. Everything lives in a temporary directory that is removed
at the end (--keep keeps it), and both servers are always stopped.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import http.client
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
WORKERS = 2
CASES_PATH = "/api/v1/cases"
HELLO_PATH = "/hello"
# --reads: what a phone loads before it files (the complaint form, the association type-ahead for
# 中国复合), each saturated like the submissions and compared with the same bare route
READS = (
    ("GET  /file/complaint", "/file/complaint"),
    ("GET  /api/v1/associations?q=", "/api/v1/associations?q=%E4%B8%AD%E5%9B%BD%E5%A4%8D%E5%90%88"),
)
READS_TARGET = 0.30
# submissions / bare: issue 18's target (issue 2 asked for 30%)
SUBMIT_TARGET = 0.20

# The README's complaint, as the JSON API takes it; no Idempotency-Key, so every POST files a case.
SUBMISSION = {
    "type": "complaint",
    "association": "51100000500009247D",
    "category": "forced_membership",
    "title": "强制入会并收取会费",
    "description": "协会要求我公司必须入会，并收取会费两万元，否则不予办理证明。",
    "complainant": {"name": "张三", "phone": "13800138000"},
    "privacy_consent": True,
}
BODY = json.dumps(SUBMISSION, ensure_ascii=False).encode()

BARE_APP = '''\
from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello():
    return "hello"
'''


# --------------------------------------------------------------------------------------------
# results


@dataclass
class Result:
    label: str
    requests: int = 0          # completed responses
    seconds: float = 0.0
    p50_ms: float = math.nan
    p99_ms: float = math.nan
    statuses: dict[int, int] = field(default_factory=dict)
    socket_errors: int = 0     # connect/read/write/timeout errors (no response)
    target_rate: float | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def count(self, status: int) -> int:
        return self.statuses.get(status, 0)

    def bad(self, ok: int) -> int:
        return sum(n for s, n in self.statuses.items() if s != ok) + self.socket_errors

    def describe_errors(self, ok: int) -> str:
        parts = [f"{n}x{s}" for s, n in sorted(self.statuses.items()) if s != ok]
        if self.socket_errors:
            parts.append(f"{self.socket_errors} socket")
        return ", ".join(parts) if parts else "0"


# --------------------------------------------------------------------------------------------
# environment: data dir, database, servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def prepare_database(tmp: Path) -> tuple[dict[str, str], str]:
    from casework.settings import new_key

    data_dir = tmp / "data"
    data_dir.mkdir()
    url = f"sqlite:///{data_dir / 'changtong.db'}"
    env = {
        "DATABASE_URL": url,
        "CHANGTONG_DATA_DIR": str(data_dir),
        "CHANGTONG_SECRET_KEY": new_key(),
        "CHANGTONG_PII_KEY": new_key(),
        "CHANGTONG_QUERY_PEPPER": new_key(),
        "CHANGTONG_DEV_NOTICE_FILES": "1",
    }
    os.environ.update(env)

    from casework import migrate
    from casework.db import Database
    from casework.registry.demo import load_demo

    migrate.upgrade(url)
    database = Database(url)
    try:
        with database.session_scope() as session:
            load_demo(session)
    finally:
        database.dispose()
    return env, url


def count_cases(url: str) -> int:
    from sqlalchemy import text

    from casework.db import Database

    database = Database(url)
    try:
        with database.engine.connect() as conn:
            return int(conn.execute(text('SELECT count(*) FROM "case"')).scalar_one())
    finally:
        database.dispose()


class Server:
    """gunicorn serving ``app`` on a free port, in a process group of its own, its output in
    ``log_dir``. ``command`` and ``environment`` say how; bench/side.py's runs gunicorn.conf.py."""

    def __init__(self, name: str, app: str, cwd: Path, env: dict[str, str], log_dir: Path):
        self.name = name
        self.port = free_port()
        self.log = log_dir / f"gunicorn-{name}.log"
        self.cwd = cwd
        self.env = self.environment(env, log_dir)
        self.cmd = self.command(app)
        self._fh = open(self.log, "wb")
        self.proc = subprocess.Popen(self.cmd, cwd=str(cwd), env=self.env, stdout=self._fh,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    @staticmethod
    def gunicorn() -> Path:
        found = Path(sys.executable).with_name("gunicorn")
        return found if found.exists() else ROOT / ".venv" / "bin" / "gunicorn"

    def command(self, app: str) -> list[str]:
        return [str(self.gunicorn()), "--bind", f"{HOST}:{self.port}", "--workers", str(WORKERS),
                "--worker-class", "sync", "--timeout", "60", "--graceful-timeout", "5", app]

    def environment(self, env: dict[str, str], log_dir: Path) -> dict[str, str]:
        return env

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def wait_ready(self, path: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn ({self.name}) exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(self.base + path, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (OSError, urllib.error.URLError) as exc:
                last = exc
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn ({self.name}) did not answer {path} in {timeout:.0f} s ({last}):\n{self.tail()}")

    def tail(self, lines: int = 60) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # the arbiter and its own workers only
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self._fh.close()


# --------------------------------------------------------------------------------------------
# wrk


WRK_LUA = r'''
-- generated by bench/intake.py
local METHOD, PATH, BODY, RATE, OK = %(method)s, %(path)s, %(body)s, %(rate)s, %(ok)d
local HEADERS = %(headers)s

local ffi = require("ffi")
pcall(ffi.cdef, [[
typedef struct bench_timeval { long tv_sec; long tv_usec; } bench_timeval;
int gettimeofday(bench_timeval *tv, void *tz);
]])
local tv = ffi.new("bench_timeval")
local function now_us()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000000 + tonumber(tv.tv_usec)
end

local threads = {}
function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  nthreads = tonumber(args[1]) or 1
  statuses = {}
  local headers = {}
  for k, v in pairs(HEADERS) do headers[k] = v end
  if BODY ~= nil and headers["Content-Type"] == nil then headers["Content-Type"] = "application/json" end
  req = wrk.format(METHOD, PATH, headers, BODY)
  if RATE ~= nil then
    interval_us = 1000000 * nthreads / RATE
  end
end

function request()
  return req
end

if RATE ~= nil then
  -- open-loop pacing: every call claims the next slot of a fixed schedule (per wrk thread);
  -- wrk starts the latency clock when it writes the request, after this delay
  local next_us = nil
  function delay()
    local t = now_us()
    if next_us == nil then next_us = t + (thread_index or 0) * interval_us / nthreads end
    local d = next_us - t
    next_us = next_us + interval_us
    if d <= 0 then return 0 end
    return math.floor(d / 1000 + 0.5)
  end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local codes = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    if s then for k, v in pairs(s) do codes[k] = (codes[k] or 0) + v end end
  end
  local parts = {}
  for k, v in pairs(codes) do table.insert(parts, string.format('"%%d": %%d', k, v)) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, "mean_us": %%.1f, '
    .. '"max_us": %%d, "connect": %%d, "read": %%d, "write": %%d, "timeout": %%d, "status_errors": %%d, '
    .. '"statuses": {%%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.mean,
    latency.max, e.connect, e.read, e.write, e.timeout, e.status, table.concat(parts, ", ")))
end
'''


def lua_string(value: str | bytes | None) -> str:
    if value is None:
        return "nil"
    if isinstance(value, str):
        value = value.encode()
    return '"' + "".join(f"\\{b:03d}" if (b < 32 or b > 126 or b in (34, 92)) else chr(b) for b in value) + '"'


def find_wrk(allow_install: bool) -> str | None:
    found = shutil.which("wrk")
    if found or not allow_install:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    print("wrk is missing: apt-get install -y wrk", flush=True)
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        if subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, **quiet).returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, **quiet)
            subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, **quiet)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return shutil.which("wrk")


def run_wrk(wrk: str, tmp: Path, label: str, url: str, method: str, path: str, body: bytes | None,
            ok: int, seconds: float, clients: int, threads: int, rate: float | None = None,
            headers: dict[str, str] | None = None) -> Result:
    """``headers``: sent with every request (a Cookie, X-Query-Code); Content-Type defaults to
    application/json when there is a body."""
    script = tmp / f"wrk-{abs(hash((label, rate)))}.lua"
    lua_headers = "{" + ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in (headers or {}).items()) + "}"
    script.write_text(WRK_LUA % dict(method=lua_string(method), path=lua_string(path), body=lua_string(body),
                                     rate=("nil" if rate is None else repr(float(rate))), ok=ok,
                                     headers=lua_headers))
    threads = max(1, min(threads, clients))
    cmd = [wrk, f"-t{threads}", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "30s",
           "--latency", "-s", str(script), url, "--", str(threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    line = next((l for l in proc.stdout.splitlines() if l.startswith("BENCH_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    data = json.loads(line[len("BENCH_JSON "):])
    res = Result(label, requests=data["requests"], seconds=data["duration_us"] / 1e6,
                 p50_ms=data["p50_us"] / 1000, p99_ms=data["p99_us"] / 1000,
                 statuses={int(k): v for k, v in data["statuses"].items()},
                 socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
                 target_rate=rate)
    res.raw = proc.stdout  # type: ignore[attr-defined]
    return res


# --------------------------------------------------------------------------------------------
# Python fallback client (one http.client connection per thread)


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return math.nan
    k = max(0, min(len(sorted_values) - 1, math.ceil(p / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


def run_python(label: str, port: int, method: str, path: str, body: bytes | None, ok: int,
               seconds: float, clients: int, rate: float | None = None) -> Result:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    socket_errors = [0]
    start = time.monotonic() + 0.05
    end = start + seconds
    schedule = [start]
    interval = 1.0 / rate if rate else 0.0

    def next_slot() -> float | None:
        with lock:
            slot = schedule[0]
            schedule[0] += interval
        return slot if slot < end else None

    def worker():
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        local_lat: list[float] = []
        local_st: dict[int, int] = {}
        errors = 0
        while True:
            if rate:
                slot = next_slot()
                if slot is None:
                    break
                wait = slot - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            elif time.monotonic() >= end:
                break
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                continue
            local_lat.append(time.perf_counter() - t0)
            local_st[resp.status] = local_st.get(resp.status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(local_lat)
            for s, n in local_st.items():
                statuses[s] = statuses.get(s, 0) + n
            socket_errors[0] += errors

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=seconds + 60)
    elapsed = max(time.monotonic() - start, 1e-9)
    latencies.sort()
    return Result(label, requests=len(latencies), seconds=min(elapsed, seconds) if rate else elapsed,
                  p50_ms=percentile(latencies, 50) * 1000, p99_ms=percentile(latencies, 99) * 1000,
                  statuses=statuses, socket_errors=socket_errors[0], target_rate=rate)


# --------------------------------------------------------------------------------------------


def stop_all(servers: list[Server], tmp: Path, keep: bool) -> None:
    """Stop every server (one that will not stop does not keep the others running), then keep
    or remove the run's directory."""
    for s in servers:
        try:
            s.stop()
        except Exception as exc:  # keep stopping the others
            print(f"could not stop gunicorn {s.name}: {exc}", file=sys.stderr)
    if keep:
        print(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


def smoke(server: Server) -> None:
    """One submission by hand, so a misconfigured run stops before it measures 422s."""
    req = urllib.request.Request(server.base + CASES_PATH, data=BODY, method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, text = resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode(errors="replace")
    if status != 201:
        raise RuntimeError(f"POST {CASES_PATH} answered {status}, not 201: {text}\n{server.tail()}")


def fmt(v: float, width: int, digits: int = 1) -> str:
    return f"{v:{width}.{digits}f}" if not math.isnan(v) else f"{'-':>{width}}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=15, help="length of each measured run (default 15)")
    ap.add_argument("--clients", type=int, default=16, help="concurrent connections (default 16)")
    ap.add_argument("--warmup", type=float, default=2, help="unmeasured warm-up per server, s (default 2)")
    ap.add_argument("--threads", type=int, default=1, help="wrk threads (default 1; the machine is small)")
    ap.add_argument("--client", choices=("auto", "wrk", "python"), default="auto",
                    help="load generator: wrk if available (installed with apt-get when possible), else Python")
    ap.add_argument("--no-install", action="store_true", help="never apt-get install wrk")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, database)")
    ap.add_argument("--show-wrk", action="store_true", help="print wrk's own output too")
    ap.add_argument("--reads", action="store_true",
                    help="also saturate the complaint form and the association lookup (target >= 30%% of bare)")
    args = ap.parse_args(argv)
    if args.seconds <= 0 or args.clients <= 0:
        ap.error("--seconds and --clients must be positive")
    # wrk counts whole seconds
    seconds = max(1, round(args.seconds))

    wrk = None
    if args.client in ("auto", "wrk"):
        wrk = find_wrk(allow_install=not args.no_install)
        if wrk is None and args.client == "wrk":
            print("wrk is not available", file=sys.stderr)
            return 2
    client_name = "wrk" if wrk else "python threads"

    tmp = Path(tempfile.mkdtemp(prefix="changtong-bench-"))
    servers: list[Server] = []
    try:
        env_vars, url = prepare_database(tmp)
        (tmp / "bare_hello.py").write_text(BARE_APP)
        base_env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PYTHONPATH")}
        base_env["PYTHONDONTWRITEBYTECODE"] = "1"
        app_env = dict(base_env, **env_vars)
        real = Server("changtong", "web.wsgi:app", ROOT, app_env, tmp)
        servers.append(real)
        bare = Server("bare", "bare_hello:app", tmp, base_env, tmp)
        servers.append(bare)
        real.wait_ready("/healthz")
        bare.wait_ready(HELLO_PATH)
        cases_before = count_cases(url)
        smoke(real)
        print(f"servers up: changtong on :{real.port}, bare on :{bare.port}; client: {client_name}; "
              f"{args.clients} connections, {seconds} s per run", flush=True)

        def load(label, server, method, path, body, ok, secs, rate=None) -> Result:
            if wrk:
                r = run_wrk(wrk, tmp, label, server.base, method, path, body, ok, secs, args.clients,
                            args.threads, rate)
                if args.show_wrk:
                    print(r.raw)  # type: ignore[attr-defined]
                return r
            return run_python(label, server.port, method, path, body, ok, secs, args.clients, rate)

        warm_201 = 0
        if args.warmup > 0:
            w = max(1, round(args.warmup))
            load("warm-up hello", bare, "GET", HELLO_PATH, None, 200, w)
            warm_201 = load("warm-up cases", real, "POST", CASES_PATH, BODY, 201, w).count(201)

        print("phase A: saturating GET /hello ...", flush=True)
        hello = load("GET  /hello (bare Flask)", bare, "GET", HELLO_PATH, None, 200, seconds)
        print(f"  {hello.rate:.1f} req/s", flush=True)
        reads = []
        for label, path in READS if args.reads else ():
            print(f"phase A: saturating {label.split()[1]} ...", flush=True)
            reads.append(load(label, real, "GET", path, None, 200, seconds))
            print(f"  {reads[-1].rate:.1f} req/s", flush=True)
        print("phase A: saturating POST /api/v1/cases ...", flush=True)
        cases = load("POST /api/v1/cases", real, "POST", CASES_PATH, BODY, 201, seconds)
        print(f"  {cases.rate:.1f} req/s", flush=True)

        half = cases.count(201) / cases.seconds / 2 if cases.seconds else 0.0
        paced = None
        if half >= 0.5:
            print(f"phase B: POST /api/v1/cases at {half:.1f} req/s ...", flush=True)
            paced = load(f"POST /api/v1/cases @ {half:.0f} req/s", real, "POST", CASES_PATH, BODY, 201,
                         seconds, rate=half)
        time.sleep(0.5)
        cases_after = count_cases(url)

        ok_201 = 1 + warm_201 + cases.count(201) + (paced.count(201) if paced else 0)
        stored = cases_after - cases_before
        ratio = cases.rate / hello.rate if hello.rate else math.nan

        print()
        print(f"intake benchmark ({WORKERS} gunicorn workers, SQLite, {args.clients} connections, {seconds} s, "
              f"client: {client_name})")
        print(f"{'route':<30}{'req/s':>9}{'p50 ms':>10}{'p99 ms':>10}   errors")
        for r, okc in ((hello, 200), *((r, 200) for r in reads), (cases, 201)):
            print(f"{r.label:<30}{fmt(r.rate, 9)}{fmt(r.p50_ms, 10)}{fmt(r.p99_ms, 10)}   {r.describe_errors(okc)}")
        for r in reads:
            share = r.rate / hello.rate if hello.rate else math.nan
            verdict = "met" if share >= READS_TARGET else "NOT met"
            print(f"{'ratio ' + r.label.split()[1].split('?')[0] + ' / bare':<30}{share * 100:8.1f}%  "
                  f"(target >= {READS_TARGET:.0%}: {verdict})")
        verdict = "met" if ratio >= SUBMIT_TARGET else "NOT met"
        print(f"{'ratio submissions / bare':<30}{ratio * 100:8.1f}%  (target >= {SUBMIT_TARGET:.0%}: {verdict})")
        if paced is not None:
            verdict = "met" if paced.p99_ms < 100 else "NOT met"
            print(f"{'POST /api/v1/cases @ ' + format(half, '.0f') + ' req/s':<30}"
                  f" p50 {paced.p50_ms:.1f} ms  p99 {paced.p99_ms:.1f} ms  (target p99 < 100 ms: {verdict}); "
                  f"achieved {paced.rate:.1f} req/s, errors {paced.describe_errors(201)}")
        else:
            print("POST /api/v1/cases @ half rate  skipped: no successful submissions in phase A")
        print(f"{'cases stored':<30}{stored:>9}  (201 responses: {ok_201}, incl. smoke test and warm-up; "
              f"requests cut off in flight at the end of a run still commit)")

        problems = [r for r, okc in ((hello, 200), *((r, 200) for r in reads), (cases, 201), (paced, 201))
                    if r is not None and r.bad(okc)]
        log = real.log.read_text(errors="replace")
        locked = log.count("database is locked")
        tracebacks = log.count("Traceback")
        # each saturating run (warm-up, phase A) can leave up to --clients requests in flight
        in_flight = args.clients * (3 if args.warmup > 0 else 2)
        if problems or locked or tracebacks or not 0 <= stored - ok_201 <= in_flight:
            print()
            print(f"notes: {locked} 'database is locked', {tracebacks} tracebacks in the changtong gunicorn log; "
                  f"stored - 201s = {stored - ok_201}")
            if locked or tracebacks:
                print("---- changtong gunicorn log (tail) ----")
                print(real.tail(80))
        return 0
    except Exception as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        for s in servers:
            print(f"---- gunicorn {s.name} log (tail) ----\n{s.tail()}", file=sys.stderr)
        return 1
    finally:
        stop_all(servers, tmp, args.keep)


if __name__ == "__main__":
    sys.exit(main())
