"""Statistics at scale: the rollup refresh, risk grading, and the render time of the
supervisor dashboard and the public statistics pages over a large generated caseload.

    .venv/bin/python bench/stats.py                               # 1,000,000 cases on SQLite
    .venv/bin/python bench/stats.py --sqlite /tmp/bench_search/cases.sqlite --reuse
    .venv/bin/python bench/stats.py --postgres postgresql+psycopg://root@127.0.0.1:5432/bench_stats

1. Generates the cases with bench/generate.py (unless --reuse finds them), runs the migrations.
2. Times a full rollup refresh (every month recomputed), the number of rollup rows, then an
   incremental refresh after 100 cases of this month changed, and risk grading.
3. Renders each page --iterations times through the Flask app in-process (the server's time,
   template included; no network), signed in as a supervisor where needed, and prints median and
   p99 per page. Target: under 200 ms.

Figures, not assertions.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from bench.generate import generate  # noqa: E402
from bench.common import timed  # noqa: E402
from sqlalchemy import func, select, text, update  # noqa: E402

from casework import migrate  # noqa: E402
from casework.cases.models import Case  # noqa: E402
from casework.db import Database  # noqa: E402
from casework.settings import Settings, new_key  # noqa: E402
from casework.stats.models import StatRollup  # noqa: E402
from casework.stats.risk import grade_all  # noqa: E402
from casework.stats.rollup import month_bounds, month_of, refresh  # noqa: E402

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "bench-supervisor-2026"


def utcnow():
    return datetime.now(timezone.utc)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--sqlite", default=os.path.join(tempfile.gettempdir(), "bench_stats.sqlite"))
    ap.add_argument("--postgres", default=None, help="measure on this PostgreSQL database instead")
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--iterations", type=int, default=50)
    a = ap.parse_args(argv)
    url = a.postgres or f"sqlite:///{a.sqlite}"
    db = Database(url)
    have = 0
    if a.reuse:
        try:
            with db.engine.connect() as conn:
                have = conn.execute(text('SELECT count(*) FROM "case"')).scalar() or 0
        except Exception:  # noqa: BLE001 - no table yet
            have = 0
    if not have:
        if not a.postgres:
            for f in Path(a.sqlite).parent.glob(Path(a.sqlite).name + "*"):
                f.unlink()
        t = time.perf_counter()
        generate(url, cases=a.cases, quiet=True)
        print(f"generated {a.cases:,} cases in {time.perf_counter() - t:.0f} s")
    t = time.perf_counter()
    migrate.upgrade(url)
    print(f"migrations to head: {time.perf_counter() - t:.1f} s")
    with db.engine.connect() as conn:
        n_cases = conn.execute(text('SELECT count(*) FROM "case"')).scalar()
    print(f"database: {url.split('@')[-1]}, {n_cases:,} cases")

    t = time.perf_counter()
    months = refresh(db, utcnow, full=True)
    full_s = time.perf_counter() - t
    with db.session_scope(write=False) as s:
        rows = s.scalar(select(func.count()).select_from(StatRollup))
    print(f"full rollup refresh: {len(months)} months in {full_s:.1f} s ({full_s / max(1, len(months)):.2f} s per month), "
          f"{rows:,} rollup rows")
    # touch 100 cases of this month, as a busy minute would, and refresh incrementally
    start, end = month_bounds(month_of(utcnow()))
    with db.session_scope() as s:
        ids = list(s.scalars(select(Case.id).where(Case.submitted_at >= start, Case.submitted_at < end).limit(100)))
        s.execute(update(Case).where(Case.id.in_(ids)).values(updated_at=utcnow()))
    t = time.perf_counter()
    months = refresh(db, utcnow)
    print(f"incremental refresh after {len(ids)} changed cases: {months} in {time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    graded = grade_all(db, Settings.from_env({"CHANGTONG_SECRET_KEY": "x", "CHANGTONG_PII_KEY": new_key(),
                                              "CHANGTONG_QUERY_PEPPER": new_key(), "DATABASE_URL": url}), utcnow)
    print(f"risk grading: {graded:,} associations in {time.perf_counter() - t:.1f} s")

    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings.from_env({"CHANGTONG_SECRET_KEY": new_key(), "CHANGTONG_PII_KEY": new_key(),
                                      "CHANGTONG_QUERY_PEPPER": new_key(), "DATABASE_URL": url,
                                      "CHANGTONG_DATA_DIR": data_dir})
        from casework.accounts.models import Role, User
        from casework.accounts.operations import create_user, grant_role
        from casework.registry.models import Association, Unit
        from web.app import create_app

        app = create_app(settings)
        app.config["RATELIMIT_ENABLED"] = False
        with db.session_scope() as s:
            user = s.scalar(select(User).where(User.username == "bench-supervisor"))
            if user is None:
                user = create_user(s, "bench-supervisor", "Bench supervisor", PASSWORD)
                unit = s.scalar(select(Unit).order_by(Unit.id))
                grant_role(s, user, unit, Role.supervisor)
            busiest_unit = s.scalar(select(StatRollup.key).where(StatRollup.dim == "unit", StatRollup.key != 0)
                                    .group_by(StatRollup.key).order_by(func.sum(StatRollup.received).desc()))
            busiest_assoc = s.scalar(select(StatRollup.key).where(StatRollup.dim == "association",
                                                                 StatRollup.key != 0)
                                     .group_by(StatRollup.key).order_by(func.sum(StatRollup.received).desc()))
            assert s.get(Association, busiest_assoc) is not None
        client = app.test_client()
        page = client.get("/staff/login").get_data(as_text=True)
        resp = client.post("/staff/login", data={"csrf_token": CSRF.search(page).group(1),
                                                 "username": "bench-supervisor", "password": PASSWORD})
        assert resp.status_code == 303, resp.status_code
        pages = {
            "supervisor dashboard, 12 months": "/supervise",
            "dashboard, 24 months": "/supervise?months=24",
            "dashboard, busiest unit": f"/supervise?unit={busiest_unit}",
            "dashboard, reports only": "/supervise?type=report",
            "overdue list": "/supervise/overdue",
            "risk list": "/supervise/risk?authority=",
            "public statistics": "/stats",
            "public, busiest association": f"/stats/associations/{busiest_assoc}",
            "public, busiest unit": f"/stats/units/{busiest_unit}",
            "open data, associations.json": "/open-data/associations.json",
        }
        # what the public pages withhold is settled once per refresh, by the first page after it
        from casework.stats.published import build
        from casework.stats.queries import Period

        period = Period.last_months(utcnow())
        for attempt in range(3):
            with db.session_scope(write=False) as s:
                t = time.perf_counter()
                pub = build(s, period, settings.public_min_count)
                took = time.perf_counter() - t
            print(f"public figures settled (a thread after each refresh; a process's first page waits), try {attempt + 1}: "
                  f"{took:.2f} s, {len(pub.table._index):,} cells")
        print(f"{'page':34s} {'median ms':>10s} {'p99 ms':>8s}  (target < 200 ms)")
        for name, path in pages.items():
            first = client.get(path)
            if first.status_code != 200:
                print(f"{name:34s} {'HTTP ' + str(first.status_code):>10s}")
                continue
            med, p99 = timed(lambda: client.get(path), a.iterations)
            print(f"{name:34s} {med:10.1f} {p99:8.1f}  {'met' if p99 < 200 else 'NOT met'}")
    db.dispose()


if __name__ == "__main__":
    main()
