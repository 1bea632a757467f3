"""Queue benchmark: the first page of a unit's queue, the overdue filter and the tab counts,
measured on a large generated case load, on SQLite and on PostgreSQL, with the query plans.

    .venv/bin/python bench/queue.py                       # 1,000,000 cases, both databases
    .venv/bin/python bench/queue.py --cases 100000 --skip-postgres
    .venv/bin/python bench/queue.py --reuse               # measure again without regenerating

For each database it
1. generates the load with bench/generate.py (an empty SQLite file, default
   /tmp/bench_queue.sqlite; a PostgreSQL database it creates, default
   postgresql+psycopg://root@127.0.0.1:5432/bench_queue), unless --reuse and the database
   already holds cases;
2. refreshes the planner statistics (SQLite: ANALYZE; PostgreSQL: VACUUM ANALYZE);
3. picks the biggest unit (most cases), the median unit and the triage queue (no unit), and
   times, with time.perf_counter over --iterations runs after --warmup runs, each in a fresh
   read session of casework.db.Database (as a request would):
     (a) queue_page(QueueFilter(unit_id=u, tab="pending"))            first page (25)
     (b) queue_page(QueueFilter(unit_id=u, tab="handling", overdue=True))
     (c) tab_counts(session, u)
     (d) (a) then (c) in one session: the queue page's database time
   (triage: the received tab, which QueueFilter(unit_id=None) always shows);
4. prints median and p99 in ms against the target (median < 50 ms), then the SQL that
   queue_page and tab_counts emitted (captured with a before_cursor_execute listener) and its
   plan with the same parameters: EXPLAIN QUERY PLAN on SQLite, EXPLAIN (ANALYZE, BUFFERS) on
   PostgreSQL (and the generic plan of the prepared statement when its shape differs: psycopg
   prepares a statement after 5 executions, so the timed loop may run that plan).
   A plan that reads the whole case table is flagged "SCAN OF ALL CASES" (SQLite "SCAN case"
   without an index, PostgreSQL "Seq Scan on case"); one that walks a whole index of case
   without a condition is flagged "FULL INDEX SCAN OF CASE".

--all-tabs also times (and explains) the first page of the handling, need_info, replied and done
tabs of both units, for information. The databases are kept for --reuse; --cleanup drops the
PostgreSQL database and deletes the SQLite file at the end. This prints figures; it asserts
nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
# this file is named like the standard library's ``queue``: keep bench/ off sys.path (Python puts
# the script's directory first) so that ``import queue`` elsewhere still finds the real one
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from casework.cases.queue import QueueFilter, queue_page, tab_counts  # noqa: E402
from casework.db import Database  # noqa: E402


def _load_generate():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_generate", HERE / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


gen = _load_generate()  # bench/generate.py

DEFAULT_SQLITE = "/tmp/bench_queue.sqlite"
DEFAULT_PG = "postgresql+psycopg://root@127.0.0.1:5432/bench_queue"
TARGET_MS = 50.0


# --- preparing the databases -----------------------------------------------------------------

def sqlite_url(path: str) -> str:
    return f"sqlite:///{os.path.abspath(path)}"


def sqlite_files(path: str) -> list[str]:
    return [path, path + "-wal", path + "-shm", path + "-journal"]


def pg_admin_engine(url: str):
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def pg_exists(url: str) -> bool:
    eng = pg_admin_engine(url)
    try:
        with eng.connect() as c:
            return bool(c.scalar(text("SELECT 1 FROM pg_database WHERE datname = :d"),
                                 {"d": make_url(url).database}))
    finally:
        eng.dispose()


def pg_recreate(url: str, drop_only: bool = False) -> None:
    name = make_url(url).database
    eng = pg_admin_engine(url)
    try:
        with eng.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if not drop_only:
                c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        eng.dispose()


def case_count(url: str) -> int:
    db = Database(url)
    try:
        with db.engine.connect() as c:
            return c.exec_driver_sql('SELECT count(*) FROM "case"').scalar() or 0
    except Exception:
        return 0
    finally:
        db.dispose()


def prepare(kind: str, url: str, path: str | None, args) -> dict:
    """Generate the load unless it can be reused; returns generation stats (or {})."""
    if args.reuse:
        exists = os.path.exists(path) if kind == "sqlite" else pg_exists(url)
        if exists:
            n = case_count(url)
            if n:
                print(f"reusing {url}: {n:,} cases already there (--reuse)")
                return {"reused": True, "cases": n}
    if kind == "sqlite":
        for f in sqlite_files(path):
            if os.path.exists(f):
                os.remove(f)
    else:
        pg_recreate(url)
    print(f"generating {args.cases:,} cases into {url}")
    return gen.generate(url, cases=args.cases, associations=args.associations, units=args.units,
                        seed=args.seed)


def refresh_stats(kind: str, url: str) -> float:
    t = time.perf_counter()
    if kind == "sqlite":
        eng = create_engine(url)
        with eng.connect() as c:
            c.exec_driver_sql("ANALYZE")
            c.commit()
        eng.dispose()
    else:
        eng = create_engine(url, isolation_level="AUTOCOMMIT")
        with eng.connect() as c:
            c.exec_driver_sql("VACUUM ANALYZE")
        eng.dispose()
    return time.perf_counter() - t


# --- timing ----------------------------------------------------------------------------------

def pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    k = max(0, min(len(s) - 1, int(-(-q * len(s) // 1)) - 1))  # nearest-rank
    return s[k]


def measure(db: Database, fn, iterations: int, warmup: int) -> tuple[list[float], object]:
    result = None
    for _ in range(warmup):
        with db.read() as s:
            result = fn(s)
    samples = []
    for _ in range(iterations):
        t = time.perf_counter()
        with db.read() as s:
            result = fn(s)
        samples.append((time.perf_counter() - t) * 1000.0)
    return samples, result


@contextmanager
def capture(db: Database):
    stmts: list[tuple[str, object]] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            stmts.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield stmts
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)


# --- plans -----------------------------------------------------------------------------------

_COLS = re.compile(r"^SELECT (.+?)\s+FROM ", re.S)


def short_sql(stmt: str) -> str:
    """The statement with long select lists folded (the plans are about FROM/WHERE/ORDER BY)."""
    def fold(m):
        cols = m.group(1)
        if len(cols) <= 90:
            return m.group(0)
        return f"SELECT <{cols.count(',') + 1} columns> FROM "
    out = _COLS.sub(fold, stmt.strip())
    out = re.sub(r"\(SELECT (.{90,}?)\s+FROM ", lambda m: f"(SELECT <{m.group(1).count(',') + 1} columns> FROM ",
                 out, flags=re.S)
    return re.sub(r"\s*\n\s*", " ", out)


def sqlite_plan(conn, stmt: str, params) -> tuple[list[str], list[str]]:
    rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + stmt, params).all()
    depth: dict[int, int] = {0: -1}
    lines, flags = [], []
    for node_id, parent, _unused, detail in rows:
        depth[node_id] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node_id] + detail)
        m = re.match(r'SCAN "?case"?(\s|$)', detail)
        if m:
            if "USING" not in detail:
                flags.append(f"SCAN OF ALL CASES: {detail}")
            else:
                flags.append(f"FULL INDEX SCAN OF CASE: {detail}")
    return lines, flags


def _pg_walk(node, found: list[str]) -> None:
    nt = node.get("Node Type", "")
    rel = node.get("Relation Name")
    idx = node.get("Index Name", "")
    if nt == "Seq Scan" and rel == "case":
        found.append("SCAN OF ALL CASES: Seq Scan on case")
    if nt in ("Index Scan", "Index Only Scan", "Bitmap Index Scan") and \
            (rel == "case" or idx.startswith("ix_case_") or idx in ("pk_case", "uq_case_number")) and \
            "Index Cond" not in node:
        found.append(f"FULL INDEX SCAN OF CASE: {nt} using {idx} without an index condition")
    for child in node.get("Plans", []):
        _pg_walk(child, found)


def _pg_shape(node) -> list[str]:
    out = [f"{node.get('Node Type')}:{node.get('Index Name') or node.get('Relation Name') or ''}"]
    for child in node.get("Plans", []):
        out += _pg_shape(child)
    return out


_PYFORMAT = re.compile(r"%\((\w+)\)s")


def pg_plan(conn, stmt: str, params) -> tuple[list[str], list[str], list[str] | None]:
    rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + stmt, params).all()
    lines = [r[0] for r in rows]
    custom = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + stmt, params).scalar()
    custom = custom if isinstance(custom, list) else json.loads(custom)
    flags: list[str] = []
    _pg_walk(custom[0]["Plan"], flags)
    generic_lines = None
    # the generic plan of the prepared statement (what psycopg's auto-prepare may end up running)
    try:
        import psycopg

        raw = conn.connection.driver_connection
        names: list[str] = []

        def num(m):
            if m.group(1) not in names:
                names.append(m.group(1))
            return f"${names.index(m.group(1)) + 1}"

        prepared = _PYFORMAT.sub(num, stmt)
        values = [params[n] for n in names]
        if not names:  # no parameters: the generic plan is the custom plan
            return lines, flags, None
        with psycopg.ClientCursor(raw) as cur:
            cur.execute("SET plan_cache_mode = force_generic_plan")
            cur.execute(f"PREPARE bench_generic AS {prepared}")
            try:
                marks = ", ".join(["%s"] * len(values))
                cur.execute(f"EXPLAIN (FORMAT JSON) EXECUTE bench_generic({marks})", values)
                generic = cur.fetchone()[0]
                generic = generic if isinstance(generic, list) else json.loads(generic)
                if _pg_shape(generic[0]["Plan"]) != _pg_shape(custom[0]["Plan"]):
                    cur.execute(f"EXPLAIN EXECUTE bench_generic({marks})", values)
                    generic_lines = [r[0] for r in cur.fetchall()]
                    gflags: list[str] = []
                    _pg_walk(generic[0]["Plan"], gflags)
                    flags += [f"(generic plan) {f}" for f in gflags]
            finally:
                cur.execute("DEALLOCATE bench_generic")
                cur.execute("RESET plan_cache_mode")
    except Exception as exc:  # the generic plan is extra information
        conn.rollback()
        generic_lines = [f"(could not get the generic plan: {exc})"]
    return lines, flags, generic_lines


def fmt_params(params) -> str:
    def v(x):
        return x.isoformat(timespec="seconds") if isinstance(x, datetime) else repr(x)
    if isinstance(params, dict):
        return ", ".join(f"{k}={v(x)}" for k, x in params.items())
    return ", ".join(v(x) for x in params)


def print_plans(kind: str, db: Database, label: str, fn) -> list[str]:
    with capture(db) as stmts:
        with db.read() as s:
            fn(s)
    all_flags = []
    with db.engine.connect() as conn:
        for stmt, params in stmts:
            print(f"    SQL: {short_sql(stmt)}")
            print(f"    params: {fmt_params(params)}")
            if kind == "sqlite":
                lines, flags = sqlite_plan(conn, stmt, params)
                generic = None
            else:
                lines, flags, generic = pg_plan(conn, stmt, params)
            for line in lines:
                print("      " + line)
            if generic:
                print("      -- generic plan of the prepared statement (differs from the custom plan):")
                for line in generic:
                    print("      " + line)
            for f in flags:
                print(f"      *** {f}")
                all_flags.append(f"{label}: {f}")
            print()
        conn.rollback()
    return all_flags


# --- one database ----------------------------------------------------------------------------

def run_database(kind: str, url: str, path: str | None, args) -> dict:
    t0 = time.perf_counter()
    title = "SQLite" if kind == "sqlite" else "PostgreSQL"
    print(f"\n==================== {title}: {url} ====================")
    gen_stats = prepare(kind, url, path, args)
    an = refresh_stats(kind, url)
    print(f"{'ANALYZE' if kind == 'sqlite' else 'VACUUM ANALYZE'}: {an:.1f} s")

    db = Database(url)
    try:
        with db.engine.connect() as c:
            total = c.exec_driver_sql('SELECT count(*) FROM "case"').scalar()
            per_unit = c.exec_driver_sql(
                'SELECT unit_id, count(*) FROM "case" WHERE unit_id IS NOT NULL '
                "GROUP BY unit_id ORDER BY count(*) DESC, unit_id").all()
            triage_n = c.exec_driver_sql('SELECT count(*) FROM "case" WHERE unit_id IS NULL').scalar()
            names = dict(c.exec_driver_sql("SELECT id, code FROM unit").all())
        biggest, median = per_unit[0], per_unit[len(per_unit) // 2]
        queues = [
            (f"biggest unit ({names[biggest[0]]}, {biggest[1]:,} cases)", biggest[0]),
            (f"median unit ({names[median[0]]}, {median[1]:,} cases)", median[0]),
            (f"triage queue (no unit, {triage_n:,} cases)", None),
        ]
        print(f"{total:,} cases; {len(per_unit)} units hold cases; biggest {biggest[1]:,} "
              f"({100 * biggest[1] / total:.1f}%), median {median[1]:,}")

        def m_pending(u):
            return lambda s: queue_page(s, QueueFilter(unit_id=u, tab="pending"))

        def m_overdue(u):
            return lambda s: queue_page(s, QueueFilter(unit_id=u, tab="handling", overdue=True))

        def m_counts(u):
            return lambda s: tab_counts(s, u)

        def m_page(u):
            def fn(s):
                return queue_page(s, QueueFilter(unit_id=u, tab="pending")), tab_counts(s, u)
            return fn

        def m_tab(tab):
            return lambda u: (lambda s: queue_page(s, QueueFilter(unit_id=u, tab=tab)))

        measurements = (
            ("(a) pending tab, first page", m_pending),
            ("(b) overdue filter, first page", m_overdue),
            ("(c) tab_counts", m_counts),
            ("(d) page = (a) + (c)", m_page),
        )
        if args.all_tabs:  # the first page of the other tabs, for information
            measurements += tuple((f"(+) {tab} tab, first page", m_tab(tab))
                                  for tab in ("handling", "need_info", "replied", "done"))
        results = []
        print(f"\ntiming: {args.iterations} runs after {args.warmup} warm-up runs each, "
              f"a fresh read session per run; load average {os.getloadavg()[0]:.2f} "
              f"on {os.cpu_count()} CPUs")
        hdr = f"{'queue':<44} {'measurement':<32} {'shown/total':>13} {'median ms':>10} {'p99 ms':>9}  target"
        print(hdr)
        print("-" * len(hdr))
        for qlabel, uid in queues:
            for mlabel, make in measurements:
                if uid is None and mlabel.startswith("(+)"):
                    continue  # the triage queue has one tab
                samples, res = measure(db, make(uid), args.iterations, args.warmup)
                med, p99 = statistics.median(samples), pct(samples, 0.99)
                if mlabel.startswith("(c)"):
                    shown = f"{sum(res.values()):,}" + (" in tabs" if len(res) > 1 else "")
                elif mlabel.startswith("(d)"):
                    shown = f"{len(res[0][0])}/{res[0][1]:,}"
                else:
                    shown = f"{len(res[0])}/{res[1]:,}"
                ok = "met" if med < TARGET_MS else "NOT met"
                print(f"{qlabel:<44} {mlabel:<32} {shown:>13} {med:>10.2f} {p99:>9.2f}  {ok}", flush=True)
                results.append(dict(queue=qlabel, measurement=mlabel, median=med, p99=p99, shown=shown))

        load_after = os.getloadavg()[0]
        print(f"load average after timing: {load_after:.2f}")
        flags: list[str] = []
        if not args.no_plans:
            print(f"\nquery plans ({'EXPLAIN QUERY PLAN' if kind == 'sqlite' else 'EXPLAIN (ANALYZE, BUFFERS)'})"
                  " of the statements queue_page and tab_counts emitted:")
            for qlabel, uid in queues:
                for mlabel, make in measurements[:3] + measurements[4:]:
                    if uid is None and mlabel.startswith("(+)"):
                        continue
                    print(f"\n  --- {qlabel}: {mlabel}")
                    flags += print_plans(kind, db, f"{qlabel} {mlabel}", make(uid))
            if flags:
                print("flags:")
                for f in flags:
                    print("  " + f)
            else:
                print("no plan reads the whole case table or a whole index of it")
    finally:
        db.dispose()
    return dict(kind=title, url=url, gen=gen_stats, analyze_s=an, results=results, flags=flags,
                total=total, seconds=time.perf_counter() - t0, load=load_after)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sqlite", metavar="PATH", default=DEFAULT_SQLITE)
    ap.add_argument("--postgres", metavar="URL", default=DEFAULT_PG)
    ap.add_argument("--skip-sqlite", action="store_true")
    ap.add_argument("--skip-postgres", action="store_true")
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--associations", type=int, default=3000)
    ap.add_argument("--units", type=int, default=300)
    ap.add_argument("--seed", type=int, default=20261127)
    ap.add_argument("--reuse", action="store_true", help="measure an existing database again")
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--no-plans", action="store_true")
    ap.add_argument("--all-tabs", action="store_true",
                    help="also time (and explain) the first page of the handling, need_info, "
                         "replied and done tabs")
    ap.add_argument("--cleanup", action="store_true",
                    help="drop the PostgreSQL database and delete the SQLite file at the end")
    args = ap.parse_args(argv)
    pg_url = args.postgres
    if pg_url.startswith("postgresql://"):
        pg_url = "postgresql+psycopg://" + pg_url[len("postgresql://"):]

    runs = []
    try:
        if not args.skip_sqlite:
            runs.append(run_database("sqlite", sqlite_url(args.sqlite), args.sqlite, args))
        if not args.skip_postgres:
            runs.append(run_database("postgres", pg_url, None, args))
    finally:
        if args.cleanup:
            if not args.skip_sqlite:
                for f in sqlite_files(args.sqlite):
                    if os.path.exists(f):
                        os.remove(f)
            if not args.skip_postgres:
                pg_recreate(pg_url, drop_only=True)
            print("\ncleaned up (--cleanup)")

    print("\n==================== summary ====================")
    for r in runs:
        g = r["gen"]
        if g.get("reused"):
            gtxt = "reused"
        else:
            gtxt = (f"generated in {g['seconds']:.0f} s at {g['rows_per_s']:,.0f} rows/s "
                    f"({g['cases_per_s']:,.0f} cases/s + events)")
        print(f"{r['kind']}: {r['total']:,} cases, {gtxt}; statistics {r['analyze_s']:.0f} s; "
              f"whole run {r['seconds']:.0f} s; load average after timing {r['load']:.2f}")
    hdr = f"{'database':<11} {'queue':<44} {'measurement':<32} {'median ms':>10} {'p99 ms':>9}  target <{TARGET_MS:.0f} ms"
    print(hdr)
    print("-" * len(hdr))
    for r in runs:
        for x in r["results"]:
            ok = "met" if x["median"] < TARGET_MS else "NOT met"
            print(f"{r['kind']:<11} {x['queue']:<44} {x['measurement']:<32} {x['median']:>10.2f} "
                  f"{x['p99']:>9.2f}  {ok}")
    for r in runs:
        if args.no_plans:
            print(f"{r['kind']}: plans not checked (--no-plans)")
        else:
            print(f"{r['kind']}: " + ("; ".join(r["flags"]) if r["flags"] else "no plan scans all cases"))


if __name__ == "__main__":
    main()
