"""Search over a large generated caseload: indexing rate, index size, query latency.

    .venv/bin/python bench/search.py [--cases 1000000] [--queries 200] [--reuse]
    .venv/bin/python bench/search.py --reuse --postgres postgresql+psycopg://root@127.0.0.1:5432/bench_search

Generates cases with bench/generate.py into a SQLite file (realistic Chinese titles and
descriptions), indexes them with the Whoosh + jieba backend, then runs one-word, two-word
and filtered queries (a handler's view: one unit, plus a state filter) and prints median and
p99 per kind; then one word within units of several sizes (how a unit's search grows with the
unit), and the same words through a plain SQL ``LIKE '%word%'`` over title and description for
comparison. Figures, not assertions.

Another size is another database (or workdir), e.g. 100,000 cases on PostgreSQL:

    .venv/bin/python bench/search.py --cases 100000 --postgres postgresql+psycopg://root@127.0.0.1:5432/bench_search_100k
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from bench.generate import generate  # noqa: E402
from bench.common import timed  # noqa: E402
from sqlalchemy import or_, select, text  # noqa: E402

from casework.cases.models import Case, Category  # noqa: E402
from casework.db import Database  # noqa: E402
from casework.registry.models import Association  # noqa: E402
from casework.search.backend import CaseDoc, SearchQuery  # noqa: E402
from casework.search.whoosh_backend import WhooshBackend  # noqa: E402

ONE_WORD = ["会费", "强制入会", "收费", "评比", "换届", "分支机构", "财务", "服务", "信用", "假冒"]
TWO_WORDS = ["强制入会 会费", "违规 收费", "评比 表彰", "换届 选举", "会员 纠纷"]


def docs(db: Database, batch: int = 5000, lo: int = 0, hi: int | None = None):
    """CaseDocs in batches, for ids in (lo, hi]."""
    with db.engine.connect() as conn:
        assoc = dict(conn.execute(select(Association.id, Association.name)).all())
        cats = dict(conn.execute(select(Category.id, Category.code)).all())
        last = lo
        while True:
            q = (select(Case.id, Case.number, Case.type, Case.state, Case.category_id, Case.unit_id,
                        Case.association_id, Case.submitted_at, Case.title, Case.description)
                 .where(Case.id > last).order_by(Case.id).limit(batch))
            if hi is not None:
                q = q.where(Case.id <= hi)
            rows = conn.execute(q).all()
            if not rows:
                return
            last = rows[-1].id
            yield [CaseDoc(case_id=r.id, number=r.number, type=r.type.value, state=r.state.value,
                           category_code=cats[r.category_id], unit_id=r.unit_id, association_id=r.association_id,
                           association_name=assoc.get(r.association_id, ""), submitted_at=r.submitted_at,
                           title=r.title, description=r.description) for r in rows]


def _pg_index_range(args):
    url, root, lo, hi = args
    from casework.search.pg_backend import PostgresBackend

    db = Database(url)
    backend = PostgresBackend(db, root)
    n = sum(backend.index_cases(batch) for batch in docs(db, batch=1000, lo=lo, hi=hi))
    db.dispose()
    return n


def index_postgres(db: Database, url: str, root: Path, procs: int) -> int:
    """Fill search_document with one process per core, each over a range of case ids."""
    import multiprocessing

    with db.engine.connect() as conn:
        top = conn.execute(text('SELECT max(id) FROM "case"')).scalar() or 0
    step = -(-top // procs)
    ranges = [(url, str(root), i * step, min(top, (i + 1) * step)) for i in range(procs)]
    with multiprocessing.get_context("fork").Pool(procs) as pool:
        return sum(pool.map(_pg_index_range, ranges))


def ensure_database(url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    admin = u.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (u.database,)).fetchone():
            conn.execute(f'CREATE DATABASE "{u.database}"')


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def by_size(db: Database, backend, n: int, ranks=(1, 3, 10, 30, 100, 250), word: str = "会费") -> None:
    """One word within one unit, for units of several sizes (the biggest, the 3rd, 10th, …):
    how the time grows with the unit's cases and matches."""
    with db.engine.connect() as conn:
        sizes = conn.execute(text('SELECT unit_id, count(*) FROM "case" WHERE unit_id IS NOT NULL '
                                  'GROUP BY unit_id ORDER BY count(*) DESC, unit_id')).all()
        matches = dict(conn.execute(text('SELECT unit_id, count(*) FROM "case" WHERE unit_id IS NOT NULL AND '
                                         "(title LIKE :w OR description LIKE :w) GROUP BY unit_id"),
                                    {"w": f"%{word}%"}).all())
    print(f"'{word}' within one unit, by the unit's size ({n} queries each):")
    print(f"{'unit (rank by size)':22s} {'cases':>8s} {'say ' + word:>9s} {'median ms':>10s} {'p99 ms':>8s}")
    for rank in ranks:
        if rank > len(sizes):
            break
        unit, cases = sizes[rank - 1]
        query = SearchQuery(text=word, unit_ids=frozenset({unit}))
        backend.search(query)  # warm
        med, p99 = timed(lambda: backend.search(query), n)
        print(f"{f'#{rank} (id {unit})':22s} {cases:8,d} {matches.get(unit, 0):9,d} {med:10.1f} {p99:8.1f}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "bench_search"))
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--postgres", default=None,
                    help="measure the PostgreSQL backend on this database (created if missing), "
                         "e.g. postgresql+psycopg://root@127.0.0.1:5432/bench_search")
    ap.add_argument("--procs", type=int, default=os.cpu_count() or 2, help="indexing processes (PostgreSQL)")
    a = ap.parse_args(argv)
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    if a.postgres:
        url = a.postgres
        ensure_database(url)
    else:
        url = f"sqlite:///{work / 'cases.sqlite'}"
    db = Database(url)
    have = 0
    if a.reuse:
        try:
            with db.engine.connect() as conn:
                have = conn.execute(text('SELECT count(*) FROM "case"')).scalar() or 0
        except Exception:  # noqa: BLE001 - no tables yet
            have = 0
    if not have:
        if not a.postgres:
            for f in work.glob("cases.sqlite*"):
                f.unlink()
        t = time.perf_counter()
        generate(url, cases=a.cases, quiet=True)
        print(f"generated {a.cases:,} cases in {time.perf_counter() - t:.0f} s")
    from casework import migrate

    migrate.upgrade(url)
    with db.engine.connect() as conn:
        have = conn.execute(text('SELECT count(*) FROM "case"')).scalar() or 0
    if a.postgres:
        from casework.search.pg_backend import PostgresBackend

        backend = PostgresBackend(db, work / "search-pg")
        if not (a.reuse and backend.count() == have):
            backend.clear()
            t = time.perf_counter()
            n = index_postgres(db, url, work / "search-pg", a.procs)
            wall = time.perf_counter() - t
            print(f"indexed {n:,} documents into PostgreSQL in {wall:.0f} s = {n / wall:,.0f} documents/s "
                  f"({a.procs} processes)")
        with db.engine.connect() as conn:
            conn.execute(text("ANALYZE search_document"))
            size = conn.execute(text("SELECT pg_total_relation_size('search_document')")).scalar()
        print(f"index size: {size / 1e6:,.0f} MB (search_document with its GIN index) for {backend.count():,} documents")
    else:
        backend = WhooshBackend(work / "search")
        if not (a.reuse and backend.link.exists() and backend.count() == have):
            t = time.perf_counter()
            n = backend.rebuild(docs(db))
            wall = time.perf_counter() - t
            print(f"indexed {n:,} documents in {wall:.0f} s = {n / wall:,.0f} documents/s")
        print(f"index size: {dir_size(backend.link.resolve()) / 1e6:,.0f} MB for {backend.count():,} documents "
              f"(database {Path(work / 'cases.sqlite').stat().st_size / 1e6:,.0f} MB)")
    with db.engine.connect() as conn:
        unit = conn.execute(text('SELECT unit_id FROM "case" WHERE unit_id IS NOT NULL GROUP BY unit_id '
                                 'ORDER BY count(*) DESC LIMIT 1')).scalar()
    rng = random.Random(7)
    probe = backend.search(SearchQuery(text="会费", unit_ids=None))
    print(f"'会费' matches {'more than ' if probe.more else ''}{probe.total:,} documents (counting stops at the cap)")
    kinds = {
        "one word, all cases": lambda: backend.search(SearchQuery(text=rng.choice(ONE_WORD), unit_ids=None)),
        "two words, all cases": lambda: backend.search(SearchQuery(text=rng.choice(TWO_WORDS), unit_ids=None)),
        "one word, one unit + state": lambda: backend.search(SearchQuery(
            text=rng.choice(ONE_WORD), unit_ids=frozenset({unit}), state="closed")),
    }
    print(f"{'query':32s} {'median ms':>10s} {'p99 ms':>8s}   ({'PostgreSQL' if a.postgres else 'Whoosh'}; "
          f"target median < 50, p99 < 200)")
    medians = {}
    for name, fn in kinds.items():
        fn()  # warm
        med, p99 = timed(fn, a.queries)
        medians[name] = med
        print(f"{name:32s} {med:10.1f} {p99:8.1f}")
    by_size(db, backend, max(20, a.queries // 4))
    with db.engine.connect() as conn:
        def like():
            w = f"%{rng.choice(ONE_WORD)}%"
            conn.execute(select(Case.id).where(or_(Case.title.like(w), Case.description.like(w)))
                         .order_by(Case.id.desc()).limit(20)).all()
            conn.execute(select(text("count(*)")).select_from(Case.__table__)
                         .where(or_(Case.title.like(w), Case.description.like(w)))).scalar()
        med, p99 = timed(like, max(5, a.queries // 20))
    print(f"{'SQL LIKE, one word (page+count)':32s} {med:10.1f} {p99:8.1f}")
    one = medians["one word, all cases"]
    print(f"ratio LIKE / search (one word, medians): {med / one:,.1f}x" if one else "")


if __name__ == "__main__":
    main()
