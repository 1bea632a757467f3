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

Figures published together are protected together (``Table``, complementary suppression). A
breakdown's rows add up to its total (the months, units, categories and associations of a
period add up to its totals; a unit's months and categories to the unit's; a month's case types
to the month's), and a withheld count could be worked out, or narrowed to one value, from the
total less the counts shown beside it. So in each such sum, for each measure:

- when the total is shown, either no part is withheld or at least two are, adding up to at
  least N; otherwise the smallest part shown (not 0) is withheld as well, and again, until it
  holds; when no part is left to withhold, the total is withheld (and its own sums then hold it);
- when the total is withheld, at least one of its parts is too (a total is never the sum of
  parts all shown).

A part withheld for this is not small, so every withheld count reads the same ("withheld", empty
in the open data) and none says "fewer than N": a page that told the small ones from the others
would let a reader narrow a small one from the sum. A row whose received count is withheld is
withheld whole, as a small group is. The rules are applied until no sum needs another cell, and
then a rate is withheld wherever a count it is made of is. The choice is deterministic: the same
figures withhold the same cells on every page and in every file.

Only the measures in ``PUBLIC_MEASURES`` and the rates in ``PUBLIC_RATES`` (their parts in
casework.stats.queries.RATE_PARTS) are published; the others (overdue, supervision,
findings) stay on the supervisors' pages.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Hashable, Iterable, TypeVar

from casework.i18n import N_
from casework.stats.queries import RATE_PARTS, Figures

PUBLIC_MEASURES = ("received", "accepted", "not_accepted", "concluded", "on_time", "rated", "satisfied",
                   "mediation_ended", "mediation_agreed")
PUBLIC_RATES = ("acceptance_rate", "on_time_rate", "satisfaction_rate", "mediation_success_rate")
# what a reader is told, once, on every page and in every JSON file of figures (``n``: the threshold)
WITHHELD_NOTICE = N_("Figures under %(n)d (other than 0) are withheld so that nobody can be identified.")

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


def display_order(rows: list[tuple[K, Group]], name: Callable[[K], str]) -> list[tuple[K, Group]]:
    """Shown groups by received, largest first; then suppressed groups by name, so that
    their order does not tell which small group is larger."""
    shown = [r for r in rows if not r[1].suppressed]
    hidden = sorted((r for r in rows if r[1].suppressed), key=lambda r: name(r[0]))
    return sorted(shown, key=lambda r: -(r[1].counts["received"].value or 0)) + hidden




def _rates_of_withheld(group: Group) -> Group:
    """The group with every shown rate withheld that is made of a withheld count."""
    def made_of_withheld(name: str) -> bool:
        part, base = RATE_PARTS[name]
        return any(group.counts[m].suppressed for m in (part, *base))

    rates = {n: Rate(None, None, suppressed=True) if r.value is not None and made_of_withheld(n) else r
             for n, r in group.rates.items()}
    return replace(group, rates=rates)


def _withheld_whole(group: Group) -> Group:
    """Every count and every rate with a base withheld, as for a small group."""
    return Group({m: Count(None) for m in group.counts},
                 {n: Rate(None, None, suppressed=True) if r.value is not None or r.suppressed else r
                  for n, r in group.rates.items()},
                 True, group.threshold)


class Table:
    """Groups published together, and the sums among them (``add_sum``): ``settle`` applies the
    complementary suppression above, and ``group`` gives a cell as it may be published. Kept as
    plain lists of counts and flags (tens of thousands of cells at a million cases); a cell's
    Group is made when it is asked for."""

    def __init__(self, threshold: int):
        self.threshold = max(1, int(threshold))
        self._index: dict[Hashable, int] = {}
        self._values = {m: [] for m in PUBLIC_MEASURES}
        self._held = {m: bytearray() for m in PUBLIC_MEASURES}
        self._whole = bytearray()  # withheld whole: small, or its received count withheld
        self._sums: list[tuple[int, list[int]]] = []
        self.settled = False

    def add(self, key: Hashable, figures: Figures) -> None:
        n = self.threshold
        self._index[key] = len(self._whole)
        hidden = small(figures["received"], n)
        self._whole.append(hidden)
        for m in PUBLIC_MEASURES:
            v = figures[m]
            self._values[m].append(v)
            self._held[m].append(hidden or small(v, n))

    def add_sum(self, total: Hashable, parts: Iterable[Hashable]) -> None:
        """``total`` is the sum of ``parts`` (cells not added are left out)."""
        index = self._index
        self._sums.append((index[total], [index[p] for p in parts if p in index]))

    def __contains__(self, key: Hashable) -> bool:
        return key in self._index

    def group(self, key: Hashable) -> Group:
        """The cell as it may be published."""
        if not self.settled:
            self.settle()
        i = self._index[key]
        g = disclose(Figures({m: self._values[m][i] for m in PUBLIC_MEASURES}), self.threshold)
        if self._whole[i] and not g.suppressed:
            return _withheld_whole(g)
        withheld = [m for m in PUBLIC_MEASURES if self._held[m][i] and not g.counts[m].suppressed]
        if withheld:
            g = replace(g, counts={**g.counts, **{m: Count(None) for m in withheld}})
        return _rates_of_withheld(g)

    def _needs_more(self, total: int, parts: list[int], held: bytearray, values: list[int]) -> bool:
        count = amount = 0
        for p in parts:
            if held[p]:
                count += 1
                amount += values[p]
        if held[total]:
            return count == 0
        return count > 0 and (count < 2 or amount < self.threshold)

    def settle(self) -> None:
        """Withhold until every sum holds (each measure to its fixed point, received first)."""
        if self.threshold > 1 and self._sums:
            touching: dict[int, list[int]] = {}
            for s, (total, parts) in enumerate(self._sums):
                for i in (total, *parts):
                    touching.setdefault(i, []).append(s)
            for m in PUBLIC_MEASURES:
                held, values = self._held[m], self._values[m]
                queue, queued = list(range(len(self._sums))), set(range(len(self._sums)))
                while queue:
                    s = queue.pop()
                    queued.discard(s)
                    total, parts = self._sums[s]
                    while self._needs_more(total, parts, held, values):
                        shown = [p for p in parts if not held[p] and values[p] > 0]
                        if shown:
                            pick = min(shown, key=lambda p: (values[p], p))
                        elif not held[total] and values[total] > 0:
                            pick = total  # nothing beside it to withhold: the total goes (its own sums follow)
                        else:
                            break
                        if m == "received":  # withheld whole: every measure of the cell
                            self._whole[pick] = 1
                            for other in PUBLIC_MEASURES:
                                self._held[other][pick] = 1
                        else:
                            held[pick] = 1
                        for again in touching.get(pick, ()):
                            if again not in queued:
                                queue.append(again)
                                queued.add(again)
        self._sums = []  # settled: only the cells are kept (a process keeps a period's table)
        self.settled = True
