"""Every figure the public statistics publish for a period, protected together.

The overview, the pages of one unit or association and the open-data files show parts of one set
of figures: the period's totals, its months, its units, categories and associations, each unit's
months and categories, each association's months, and each month's case types. They add up to
one another, so a count withheld on one page could be worked out from the others; they are put
in one ``casework.stats.disclosure.Table`` with the sums among them and settled once, and every
page and file reads its cells from it. All of it is read from the rollups; it is made again when
the rollups change (``stat_refresh.generation``) and kept per process: about 50,000 cells at a
million cases, 1.2–2 s to make and about 13 MB kept (bench/stats.py).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from casework.cases.models import CaseType
from casework.db import Database
from casework.stats.disclosure import PUBLIC_MEASURES, Group, Table
from casework.stats.models import ALL_TYPES, StatRefresh, StatRollup as R
from casework.stats.queries import Figures, Period, _sums
from casework.stats.rollup import JOB, generation

log = logging.getLogger("changtong.stats")

EMPTY = Figures({})


@dataclass
class Published:
    """The period's figures as they may be published. Keys: ``("all",)``, ``("month", m)``,
    ``("unit", id)``, ``("category", id)``, ``("association", id)``, ``("unit_month", id, m)``,
    ``("unit_category", id, category)``, ``("association_month", id, m)``,
    ``("type_month", type, m)``; a unit, category or association without cases in the period is
    not in the table (``group`` gives its zeros, judged alone)."""

    period: Period
    threshold: int
    generation: int                 # of the rollups read (stat_refresh.generation)
    refreshed_at: datetime | None   # when they were refreshed: the pages' "as of"
    seconds: float                  # how long making it took
    table: Table
    units: list[int]         # with cases in the period (0: cases not yet at a unit)
    categories: list[int]
    associations: list[int]  # (0: cases filed without one)
    unit_categories: dict[int, list[int]]

    def as_of(self, session) -> datetime | None:
        """When these figures were computed: the last refresh's time while they are the latest
        (a refresh that changed nothing leaves them as they are), else their own."""
        row = session.get(StatRefresh, JOB)
        current = row is not None and (row.generation or 0) == self.generation
        return row.refreshed_at if current else self.refreshed_at

    def group(self, *key) -> Group:
        if key in self.table:
            return self.table.group(key)
        table = Table(self.threshold)
        table.add(key, EMPTY)
        return table.group(key)

    def totals(self) -> Group:
        return self.group("all")

    def months(self, scope: str | None = None, ident: int | None = None) -> list[tuple[str, Group]]:
        """The period's months, for all cases or for one unit or association (``scope``)."""
        if scope is None:
            return [(m, self.group("month", m)) for m in self.period.months]
        return [(m, self.group(f"{scope}_month", ident, m)) for m in self.period.months]

    def breakdown(self, by: str, unit: int | None = None) -> list[tuple[int, Group]]:
        """Every unit, category or association with cases (``by``), or a unit's categories."""
        if unit is not None:
            return [(c, self.group("unit_category", unit, c)) for c in self.unit_categories.get(unit, [])]
        keys = {"unit": self.units, "category": self.categories, "association": self.associations}[by]
        return [(k, self.group(by, k)) for k in keys]


def _read(session, period: Period, dim: str, by: tuple[str, ...], *, types: str = "all") -> dict[tuple, Figures]:
    where = [R.dim == dim, R.month >= period.first, R.month <= period.last]
    where.append(R.type != ALL_TYPES if types == "each" else R.type == ALL_TYPES)
    cols = [getattr(R, c) for c in by]
    rows = session.execute(select(*cols, *_sums(PUBLIC_MEASURES)).where(*where).group_by(*cols))
    same = {m: m for m in period.months}  # one string per month, not one per row (a process keeps them)
    return {tuple(same.get(v, v) for v in r[:len(by)]): Figures({m: int(getattr(r, m) or 0) for m in PUBLIC_MEASURES})
            for r in rows}


def build(session, period: Period, threshold: int) -> Published:
    """Read the rollups of the period and settle what may be published."""
    started = time.perf_counter()
    state = session.get(StatRefresh, JOB)
    table = Table(threshold)
    months = period.months
    table.add(("all",), _read(session, period, "all", ()).get((), EMPTY))
    by_month = _read(session, period, "all", ("month",))
    for m in months:
        table.add(("month", m), by_month.get((m,), EMPTY))
    table.add_sum(("all",), [("month", m) for m in months])

    found = {}
    for dim in ("unit", "category", "association"):
        rows = _read(session, period, dim, ("key",))
        found[dim] = sorted(k for (k,) in rows)
        for (k,), f in rows.items():
            table.add((dim, k), f)
        table.add_sum(("all",), [(dim, k) for k in found[dim]])

    for dim in ("unit", "association"):  # each one's months: rows of a table whose columns are the months
        name = f"{dim}_month"
        cells = _read(session, period, dim, ("key", "month"))
        for (k, m), f in cells.items():
            table.add((name, k, m), f)
        for k in found[dim]:
            table.add_sum((dim, k), [(name, k, m) for m in months])
        for m in months:
            table.add_sum(("month", m), [(name, k, m) for k in found[dim]])

    unit_categories: dict[int, list[int]] = {}
    for (u, c), f in sorted(_read(session, period, "unit_category", ("key", "key2")).items()):
        table.add(("unit_category", u, c), f)
        unit_categories.setdefault(u, []).append(c)
    for u, cats in unit_categories.items():
        table.add_sum(("unit", u), [("unit_category", u, c) for c in cats])
    for c in found["category"]:
        table.add_sum(("category", c), [("unit_category", u, c) for u in unit_categories])

    by_type = _read(session, period, "all", ("type", "month"), types="each")
    for (t, m), f in by_type.items():
        table.add(("type_month", t, m), f)
    for m in months:  # the open data's monthly rows per type add up to the overview's month
        table.add_sum(("month", m), [("type_month", t.value, m) for t in CaseType])

    table.settle()
    return Published(period, table.threshold, state.generation if state else 0,
                     state.refreshed_at if state else None, time.perf_counter() - started, table,
                     found["unit"], found["category"], found["association"], unit_categories)


_cache: dict[str, Published] = {}      # per database: the latest made
_building: set[str] = set()             # databases whose next one is being made in the background
_lock = threading.Lock()
QUICK = 0.25  # seconds: figures made faster than this are made again at once, slower ones in a thread


def published(db: Database, session, period: Period, threshold: int) -> Published:
    """What the public pages show for the period: ``build``, kept per process and database.

    When the rollups change (``stat_refresh.generation``) the figures are made again. Where that
    is quick (under ``QUICK``: a small platform) the page waits for it; where it is slow (2 s at a
    million cases, with the worker refreshing every minute) the figures kept are served, with
    their own time (``Published.as_of``), while a thread makes the new ones, so that only a
    process's first page waits. Figures of another period or threshold are never served."""
    where = str(db.engine.url)
    wanted = (period, max(1, int(threshold)))
    now = generation(session)
    with _lock:
        kept = _cache.get(where)
    if kept is not None and (kept.period, kept.threshold) == wanted:
        if kept.generation == now:
            return kept
        if kept.seconds >= QUICK:
            _build_in_background(db, where, period, threshold)
            return kept
    made = build(session, period, threshold)
    with _lock:
        _cache[where] = made
    return made


def _build_in_background(db: Database, where: str, period: Period, threshold: int) -> None:
    with _lock:
        if where in _building:
            return
        _building.add(where)

    def run() -> None:
        try:
            with db.session_scope(write=False) as session:
                made = build(session, period, threshold)
            with _lock:
                _cache[where] = made
        except Exception:  # the kept figures stay; the next page tries again
            log.exception("public statistics: making the figures again failed")
        finally:
            with _lock:
                _building.discard(where)

    threading.Thread(target=run, name="published-stats", daemon=True).start()
