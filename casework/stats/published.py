"""Every figure the public statistics publish for a period, protected together.

The overview, the pages of one unit or association and the open-data files show parts of one set
of figures: the period's totals, its months, its units, categories and associations, each unit's
months and categories, each association's months, and each month's case types. They add up to
one another, so a count withheld on one page could be worked out from the others; they are put
in one ``casework.stats.disclosure.Table`` with the sums among them and settled once, and every
page and file reads its cells from it. All of it is read from the rollups (a few thousand rows
at a million cases); it is made again when the rollups are refreshed (``stat_refresh.generation``), kept
per process until then.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import select

from casework.cases.models import CaseType
from casework.stats.disclosure import PUBLIC_MEASURES, Group, Table
from casework.stats.models import ALL_TYPES, StatRollup as R
from casework.stats.queries import Figures, Period, _sums
from casework.stats.rollup import generation

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
    table: Table
    units: list[int]         # with cases in the period (0: cases not yet at a unit)
    categories: list[int]
    associations: list[int]  # (0: cases filed without one)
    unit_categories: dict[int, list[int]]

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
    return Published(period, table.threshold, table, found["unit"], found["category"], found["association"],
                     unit_categories)


_cache: dict[tuple, Published] = {}
_lock = threading.Lock()


def published(session, period: Period, threshold: int) -> Published:
    """``build``, kept per process for the same period, threshold and refresh of the rollups
    (``stat_refresh.generation``); one entry per database (the tests run several)."""
    key = (str(session.get_bind().engine.url), period, max(1, int(threshold)), generation(session))
    with _lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    made = build(session, period, threshold)
    with _lock:
        for old in [k for k in _cache if k[0] == key[0]]:
            del _cache[old]
        _cache[key] = made
    return made
