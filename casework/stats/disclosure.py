"""What the public may see of the statistics: small groups suppressed, in one place.

The public pages and the open data (casework.stats.open_data) both go through ``disclose``,
so a figure is hidden the same way wherever it is published. With the threshold N
(``Settings.public_min_count``):

- a count c with 0 < c < N is suppressed: the pages say "fewer than N", the open data leave
  it empty (CSV) or null (JSON) and name it in ``suppressed``; 0 is shown as 0;
- a group (the totals of a page, or one row of a breakdown: a month, a unit, a category, an
  association) whose received count is 0 < received < N has every count and every rate
  suppressed, zeros included: nothing about a small group is told;
- a rate whose base (its denominator) is below N is suppressed, and so is a rate whose part or
  the rest of its base is a small count (0 < c < N): a rate and its base would otherwise give
  back the count the page hides (9 of 12 accepted with "fewer than 5" not accepted is 3). A rate
  with no base at all is not applicable (no cases), which is not a suppression.

Only the measures in ``PUBLIC_MEASURES`` and the rates in ``PUBLIC_RATES`` (their parts in
casework.stats.queries.RATE_PARTS) are published; the others (overdue, supervision,
findings) stay on the supervisors' pages.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, TypeVar

from casework.stats.queries import RATE_PARTS, Figures

PUBLIC_MEASURES = ("received", "accepted", "not_accepted", "concluded", "on_time", "rated", "satisfied",
                   "mediation_ended", "mediation_agreed")
PUBLIC_RATES = ("acceptance_rate", "on_time_rate", "satisfaction_rate", "mediation_success_rate")

K = TypeVar("K")


@dataclass(frozen=True)
class Count:
    value: int | None  # None: suppressed

    @property
    def suppressed(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class Rate:
    value: float | None  # a share between 0 and 1; None when suppressed or not applicable
    base: int | None     # the number of cases it is based on, when shown
    suppressed: bool = False

    @property
    def applicable(self) -> bool:
        """False when there were no cases to base it on (and nothing is hidden)."""
        return self.suppressed or self.value is not None


@dataclass(frozen=True)
class Group:
    """The published figures of one group."""

    counts: dict[str, Count]
    rates: dict[str, Rate]
    suppressed: bool  # the whole group is too small to show anything of
    threshold: int

    def __getitem__(self, name: str) -> Count | Rate:
        return self.counts[name] if name in self.counts else self.rates[name]

    def suppressed_fields(self) -> list[str]:
        """Names of the suppressed counts and rates, in publishing order."""
        return ([m for m, c in self.counts.items() if c.suppressed]
                + [r for r, x in self.rates.items() if x.suppressed])

    def values(self) -> dict[str, int | float | None]:
        """Counts then rates (rounded to four decimals); None where suppressed or not applicable."""
        out: dict[str, int | float | None] = {m: c.value for m, c in self.counts.items()}
        out.update({r: None if x.value is None else round(x.value, 4) for r, x in self.rates.items()})
        return out


def small(value: int, threshold: int) -> bool:
    return 0 < value < threshold


def disclose(figures: Figures, threshold: int) -> Group:
    """The figures of one group as they may be published."""
    threshold = max(1, int(threshold))
    hidden = small(figures["received"], threshold)
    counts = {m: Count(None if hidden or small(figures[m], threshold) else figures[m]) for m in PUBLIC_MEASURES}
    rates = {}
    for name in PUBLIC_RATES:
        base, value = figures.base(name), figures.rate(name)
        part = figures[RATE_PARTS[name][0]]
        if base and (hidden or base < threshold or small(part, threshold) or small(base - part, threshold)):
            rates[name] = Rate(None, None, suppressed=True)
        else:
            rates[name] = Rate(value, base if value is not None else None)
    return Group(counts, rates, hidden, threshold)


def disclose_rows(rows: Iterable[tuple[K, Figures]], threshold: int) -> list[tuple[K, Group]]:
    return [(key, disclose(figures, threshold)) for key, figures in rows]


def display_order(rows: list[tuple[K, Group]], name: Callable[[K], str]) -> list[tuple[K, Group]]:
    """Shown groups by received, largest first; then suppressed groups by name, so that
    their order does not tell which small group is larger."""
    shown = [r for r in rows if not r[1].suppressed]
    hidden = sorted((r for r in rows if r[1].suppressed), key=lambda r: name(r[0]))
    return sorted(shown, key=lambda r: -(r[1].counts["received"].value or 0)) + hidden
