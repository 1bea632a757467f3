"""Search over a large generated caseload: indexing rate, index size, query latency.

    .venv/bin/python bench/search.py [--cases 1000000] [--queries 200] [--reuse]

Generates cases with bench/generate.py into a SQLite file (realistic Chinese titles and
descriptions), indexes them with the Whoosh + jieba backend, then runs one-word, two-word
and filtered queries (a handler's view: one unit, plus a state filter) and prints median and
p99 per kind, and the same words through a plain SQL ``LIKE '%word%'`` over title and
description for comparison. Figures, not assertions.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from sqlalchemy import or_, select, text  # noqa: E402

from casework.cases.models import Case, Category  # noqa: E402
from casework.db import Database  # noqa: E402
from casework.registry.models import Association  # noqa: E402
from casework.search.backend import CaseDoc, SearchQuery  # noqa: E402
from casework.search.whoosh_backend import WhooshBackend  # noqa: E402

ONE_WORD = ["会费", "强制入会", "收费", "评比", "换届", "分支机构", "财务", "服务", "信用", "假冒"]
TWO_WORDS = ["强制入会 会费", "违规 收费", "评比 表彰", "换届 选举", "会员 纠纷"]


def _generator():
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def docs(db: Database, batch: int = 5000):
    with db.engine.connect() as conn:
        assoc = dict(conn.execute(select(Association.id, Association.name)).all())
        cats = dict(conn.execute(select(Category.id, Category.code)).all())
        last = 0
        while True:
            rows = conn.execute(select(Case.id, Case.number, Case.type, Case.state, Case.category_id, Case.unit_id,
                                       Case.association_id, Case.submitted_at, Case.title, Case.description)
                                .where(Case.id > last).order_by(Case.id).limit(batch)).all()
            if not rows:
                return
            last = rows[-1].id
            yield [CaseDoc(case_id=r.id, number=r.number, type=r.type.value, state=r.state.value,
                           category_code=cats[r.category_id], unit_id=r.unit_id, association_id=r.association_id,
                           association_name=assoc.get(r.association_id, ""), submitted_at=r.submitted_at,
                           title=r.title, description=r.description) for r in rows]


def timed(fn, n):
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    out.sort()
    return statistics.median(out), out[max(0, int(len(out) * 0.99) - 1)]


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "bench_search"))
    ap.add_argument("--reuse", action="store_true")
    a = ap.parse_args(argv)
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{work / 'cases.sqlite'}"
    if not (a.reuse and (work / "cases.sqlite").exists()):
        for f in work.glob("cases.sqlite*"):
            f.unlink()
        t = time.perf_counter()
        _generator().generate(url, cases=a.cases, quiet=True)
        print(f"generated {a.cases:,} cases in {time.perf_counter() - t:.0f} s")
    db = Database(url)
    backend = WhooshBackend(work / "search")
    if not (a.reuse and backend.link.exists() and backend.count() > 0):
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
    print(f"{'query':32s} {'median ms':>10s} {'p99 ms':>8s}")
    for name, fn in kinds.items():
        fn()  # warm
        med, p99 = timed(fn, a.queries)
        print(f"{name:32s} {med:10.1f} {p99:8.1f}")
    with db.engine.connect() as conn:
        def like():
            w = f"%{rng.choice(ONE_WORD)}%"
            conn.execute(select(Case.id).where(or_(Case.title.like(w), Case.description.like(w)))
                         .order_by(Case.id.desc()).limit(20)).all()
            conn.execute(select(text("count(*)")).select_from(Case.__table__)
                         .where(or_(Case.title.like(w), Case.description.like(w)))).scalar()
        med, p99 = timed(like, max(5, a.queries // 20))
    print(f"{'SQL LIKE, one word (page+count)':32s} {med:10.1f} {p99:8.1f}")


if __name__ == "__main__":
    main()
