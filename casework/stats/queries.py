"""Reading the rollups: totals, monthly trends and breakdowns for a period, and the rates
people ask for. Everything here reads ``stat_rollup`` (a few hundred to a few thousand rows),
never the cases, so a page costs the same with a thousand cases or a million."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from casework.stats.models import ALL_TYPES, MEASURES, StatRollup
from casework.stats.rollup import month_of, months_between

R = StatRollup


@dataclass(frozen=True)
class Period:
    first: str  # YYYY-MM, inclusive
    last: str

    @classmethod
    def last_months(cls, now: datetime, months: int = 12) -> "Period":
        last = month_of(now)
        y, m = int(last[:4]), int(last[5:7]) - (months - 1)
        while m < 1:
            y, m = y - 1, m + 12
        return cls(f"{y:04d}-{m:02d}", last)

    @property
    def months(self) -> list[str]:
        return months_between(self.first, self.last)


# each rate: its numerator and the measures whose sum is its base (its denominator)
RATE_PARTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "acceptance_rate": ("accepted", ("accepted", "not_accepted")),
    "on_time_rate": ("on_time", ("concluded",)),
    "satisfaction_rate": ("satisfied", ("rated",)),
    "review_rate": ("reviewed", ("replied",)),
    "mediation_success_rate": ("mediation_agreed", ("mediation_ended",)),
    "substantiated_rate": ("substantiated", ("with_finding",)),
    "supported_rate": ("supported", ("with_opinion",)),
}


@dataclass
class Figures:
    """The measures of one group, with the rates derived from them (``figures.on_time_rate``:
    a share between 0 and 1, None without a base)."""

    counts: dict[str, int]

    RATES = tuple(RATE_PARTS)

    def __getitem__(self, name: str) -> int:
        return self.counts.get(name, 0)

    def base(self, rate: str) -> int:
        return sum(self[m] for m in RATE_PARTS[rate][1])

    def rate(self, name: str) -> float | None:
        base = self.base(name)
        return self[RATE_PARTS[name][0]] / base if base else None

    def __getattr__(self, name: str) -> float | None:
        if name in RATE_PARTS:
            return self.rate(name)
        raise AttributeError(name)

    def as_dict(self) -> dict:
        return {**{m: self[m] for m in MEASURES}, **{r: self.rate(r) for r in self.RATES}}


def _sums(measures: tuple[str, ...] = MEASURES):
    return [func.coalesce(func.sum(getattr(R, m)), 0).label(m) for m in measures]


def _where(dim: str, period: Period, *, type: str | None, key: int | None = None):
    where = [R.dim == dim, R.month >= period.first, R.month <= period.last, R.type == (type or ALL_TYPES)]
    if key is not None:
        where.append(R.key == key)
    return where


def _scope(unit: int | None, association: int | None) -> tuple[str, int | None]:
    if association is not None:
        return "association", association
    if unit is not None:
        return "unit", unit
    return "all", 0


def _figures(row) -> Figures:
    return Figures({m: int(getattr(row, m, 0) or 0) for m in MEASURES})


def totals(session, period: Period, *, type: str | None = None, unit: int | None = None,
           association: int | None = None) -> Figures:
    dim, key = _scope(unit, association)
    return _figures(session.execute(select(*_sums()).where(*_where(dim, period, type=type, key=key))).one())


def by_month(session, period: Period, *, type: str | None = None, unit: int | None = None,
             association: int | None = None) -> list[tuple[str, Figures]]:
    """Every month of the period, months without cases included (as zeros)."""
    dim, key = _scope(unit, association)
    rows = {r.month: _figures(r) for r in session.execute(
        select(R.month, *_sums()).where(*_where(dim, period, type=type, key=key)).group_by(R.month))}
    return [(m, rows.get(m) or Figures({})) for m in period.months]


def breakdown(session, by: str, period: Period, *, type: str | None = None, unit: int | None = None,
              limit: int | None = None, order: str = "received",
              measures: tuple[str, ...] = MEASURES) -> list[tuple[int, Figures]] | None:
    """Figures per unit, category or association (``by``), largest ``order`` first. Within a
    unit (``unit``), by category or association, for all types together (None with a type). ``measures``: only these are summed (a page
    that shows seven of them reads less)."""
    if by not in ("unit", "category", "association"):
        raise ValueError(by)
    if unit is not None and by != "unit":
        if type:
            return None  # within a unit the rollups hold all types together only
        key_col, where = R.key2, _where(f"unit_{by}", period, type=None, key=unit)
    else:
        key_col, where = R.key, _where(by, period, type=type, key=unit if by == "unit" else None)
    sums = _sums(tuple(dict.fromkeys((order, *measures))))
    order_col = next(c for c in sums if c.name == order)
    q = select(key_col.label("k"), *sums).where(*where).group_by(key_col).order_by(order_col.desc(), key_col)
    if limit:
        q = q.limit(limit)
    return [(r.k, _figures(r)) for r in session.execute(q)]
