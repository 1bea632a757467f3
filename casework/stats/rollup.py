"""Keeping ``stat_rollup`` in step with the cases.

Each case counts in the month it was filed (Beijing time). A refresh finds the months of the
cases changed since its watermark (``Case.updated_at`` moves with every change, the sweep's
included), recomputes those months from the cases and their events, and replaces their rows in
one transaction per month. The facts of a case are read in a read session and aggregated in
Python, so the work is the same on SQLite and PostgreSQL and a month's write is short.

As with search (casework.search.sync), the new watermark lags the time the cases were read by
OVERLAP, so a change committed while a refresh ran is picked up by the next one; recomputing a
month twice gives the same rows.

Which unit a figure counts against (``dim`` ``unit`` and the two within-a-unit dimensions). A
case counts once in each measure, against one unit, so the units still add up to the totals; but
not always against the unit that holds it now. A review request (复查, 复核) sends the case one
level up, and the figures of the unit that replied must not go with it (a supervisor grading
units by their own work would otherwise see a unit's dissatisfied replies vanish and the review
body charged with a reception, an acceptance and a rating it never had):

- received, accepted, not accepted, replied, concluded, on time, ever overdue, supervised,
  mediation, and the rating of the reply and whether a review was asked for: the **unit that
  handled the case at first instance** (``first_unit``): the unit holding it, and once a review
  was asked for, the unit whose reply the first request named (its event's ``from_unit_id``).
  Routing, triage, a transfer or a send-back before the reply hand the case, and so these
  figures, to the unit that then decides on it: a unit transferred a case it was not
  responsible for is not charged with it, and the unit that took it over shows it received as
  well as accepted.
- the rating counted is the reply's: 不满意 once a review was asked for, since that is what the
  request says of the reply (a later rating of the review decision is the review body's work
  and not counted here: one rating per case, as ``rated`` says);
- finding and opinion (supervisors only): the **unit whose decision is in force**, the last
  review decision's unit once a review was decided (it replaces the reply's), else the first;
- overdue now: the **unit holding the case now**, which has to act on it (none: not counted
  against any unit while it waits for triage).

Only cases with a review (``reviews_requested > 0``) read their events for this, through the
event's index on ``case_id``; the others are counted against ``case.unit_id`` as before.
"""
from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable

from sqlalchemy import case, delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from casework.cases.models import Case, CaseState, CaseType, Event, EventKind, Finding, Opinion, Rating
from casework.cases.numbers import CHINA
from casework.stats.models import ALL_TYPES, MEASURES, StatRefresh, StatRollup
from casework.workflow.states import FINISHED as DONE, REPLIED, TAKEN_UP

log = logging.getLogger(__name__)

JOB = "rollup"
OVERLAP = timedelta(minutes=2)
S = CaseState
SATISFIED = frozenset({Rating.satisfied, Rating.basically_satisfied})
SUBSTANTIATED = frozenset({Finding.substantiated, Finding.partly_substantiated})
INDEX = {m: i for i, m in enumerate(MEASURES)}
ANALYZE_AFTER = 3  # months recomputed at once: refresh the planner's statistics afterwards


def month_of(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(CHINA).strftime("%Y-%m")


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[start, end) of a ``YYYY-MM`` month in Beijing time, as UTC instants."""
    year, mon = int(month[:4]), int(month[5:7])
    start = datetime(year, mon, 1, tzinfo=CHINA)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=CHINA)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def months_between(first: str, last: str) -> list[str]:
    out, (y, m) = [], (int(first[:4]), int(first[5:7]))
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _happened(*kinds: EventKind):
    return select(Event.id).where(Event.case_id == Case.id, Event.kind.in_(kinds)).exists()


# the measures not counted against the first-instance unit (see the module's docstring)
DECISION_MEASURES = frozenset({"with_finding", "substantiated", "with_opinion", "supported"})
HOLDER_MEASURES = frozenset({"overdue_now"})


@dataclass(frozen=True)
class Facts:
    """What one case contributes, measure by measure (casework.stats.models.MEASURES), and the
    same split by the unit each measure counts against (``by_unit``: (unit id or 0, values); one
    entry when every measure counts against one unit)."""

    type: str
    category_id: int
    association_id: int | None
    values: tuple[int, ...]
    by_unit: tuple[tuple[int, tuple[int, ...]], ...]


def _split(values: list[int], first: int, decider: int, holder: int) -> tuple[tuple[int, tuple[int, ...]], ...]:
    if first == decider == holder:
        return ((first, tuple(values)),)
    parts: dict[int, list[int]] = {}
    for i, m in enumerate(MEASURES):
        if values[i]:
            unit = decider if m in DECISION_MEASURES else holder if m in HOLDER_MEASURES else first
            parts.setdefault(unit, [0] * len(MEASURES))[i] = values[i]
    return tuple((unit, tuple(v)) for unit, v in parts.items()) or ((first, tuple(values)),)


def case_facts(row) -> Facts:
    state, overdue = row.state, bool(row.overdue)
    # the reply's rating: a review request says 不满意 of it, whatever was rated since
    rating = Rating.dissatisfied if (row.reviews_requested or 0) > 0 else row.rating
    concluded = state in DONE
    ever_overdue = bool(row.ex_overdue) or overdue
    v = [0] * len(MEASURES)
    v[INDEX["received"]] = 1
    v[INDEX["accepted"]] = int(bool(row.ex_accepted) or state in TAKEN_UP)
    v[INDEX["not_accepted"]] = int(state is S.not_accepted)
    v[INDEX["replied"]] = int(bool(row.ex_replied) or state in REPLIED)
    v[INDEX["concluded"]] = int(concluded)
    v[INDEX["on_time"]] = int(concluded and not ever_overdue)
    v[INDEX["overdue_now"]] = int(overdue and not concluded)
    v[INDEX["ever_overdue"]] = int(ever_overdue)
    v[INDEX["rated"]] = int(rating is not None)
    v[INDEX["satisfied"]] = int(rating in SATISFIED)
    v[INDEX["reviewed"]] = int((row.reviews_requested or 0) > 0)
    v[INDEX["supervised"]] = int(bool(row.ex_supervised) or (row.supervision_level or 0) > 0)
    mediation = row.type is CaseType.mediation
    v[INDEX["mediation_ended"]] = int(mediation and state in (S.mediated, S.mediation_failed))
    v[INDEX["mediation_agreed"]] = int(mediation and state is S.mediated)
    v[INDEX["with_finding"]] = int(row.finding is not None)
    v[INDEX["substantiated"]] = int(row.finding in SUBSTANTIATED)
    v[INDEX["with_opinion"]] = int(row.opinion is not None)
    v[INDEX["supported"]] = int(row.opinion is Opinion.supported)
    first = row.first_unit_id or 0
    by_unit = _split(v, first, row.decision_unit_id or first, row.unit_id or 0)
    return Facts(row.type.value, row.category_id, row.association_id, tuple(v), by_unit)


def _unit_of(kind: EventKind, key: str, *, last: bool = False):
    """The unit named under ``key`` in the case's first (or last) event of ``kind``."""
    order = Event.id.desc() if last else Event.id
    return (select(Event.data[key].as_integer()).where(Event.case_id == Case.id, Event.kind == kind)
            .order_by(order).limit(1).scalar_subquery())


def facts_query(start: datetime, end: datetime):
    reviewed = Case.reviews_requested > 0  # only these read their events (CASE evaluates lazily)
    first_unit = case((reviewed, func.coalesce(_unit_of(EventKind.review_requested, "from_unit_id"), Case.unit_id)),
                      else_=Case.unit_id)
    decision_unit = case((reviewed, _unit_of(EventKind.review_decided, "unit_id", last=True)), else_=None)
    return (select(Case.type, Case.state, Case.unit_id, Case.category_id, Case.association_id, Case.overdue,
                   Case.rating, Case.reviews_requested, Case.supervision_level, Case.finding, Case.opinion,
                   first_unit.label("first_unit_id"), decision_unit.label("decision_unit_id"),
                   _happened(EventKind.accepted, EventKind.mediation_started).label("ex_accepted"),
                   _happened(EventKind.replied).label("ex_replied"),
                   _happened(EventKind.overdue).label("ex_overdue"),
                   _happened(EventKind.supervised).label("ex_supervised"))
            .where(Case.submitted_at >= start, Case.submitted_at < end))


def aggregate(month: str, facts: Iterable[Facts]) -> list[dict]:
    """The rollup rows of one month from its cases' facts."""
    sums: dict[tuple[str, int, int, str], list[int]] = defaultdict(lambda: [0] * len(MEASURES))

    def add(dim: str, key: int, key2: int, type_: str, values: tuple[int, ...]) -> None:
        acc = sums[(dim, key, key2, type_)]
        for i, x in enumerate(values):
            acc[i] += x

    for f in facts:
        assoc = f.association_id or 0
        for dim, key in (("all", 0), ("category", f.category_id), ("association", assoc)):
            add(dim, key, 0, f.type, f.values)
            add(dim, key, 0, ALL_TYPES, f.values)
        for unit, values in f.by_unit:  # each measure against the unit it counts against
            add("unit", unit, 0, f.type, values)
            add("unit", unit, 0, ALL_TYPES, values)
            # within a unit: all types together only
            add("unit_category", unit, f.category_id, ALL_TYPES, values)
            add("unit_association", unit, assoc, ALL_TYPES, values)
    return [{"dim": dim, "key": key, "key2": key2, "month": month, "type": type_, **dict(zip(MEASURES, vals))}
            for (dim, key, key2, type_), vals in sums.items()]


def recompute_month(db, month: str) -> int:
    """Replace one month's rows; returns how many rows it now has."""
    start, end = month_bounds(month)
    with db.session_scope(write=False) as s:
        rows = aggregate(month, (case_facts(r) for r in s.execute(facts_query(start, end))))
    try:
        with db.session_scope() as s:
            s.execute(delete(StatRollup).where(StatRollup.month == month))
            if rows:
                s.execute(insert(StatRollup), rows)
    except IntegrityError:
        # another refresh wrote the same month at the same moment: its rows are as good
        log.info("stat rollup %s written concurrently; kept the other refresh's rows", month)
    return len(rows)


def _state(session) -> StatRefresh:
    row = session.get(StatRefresh, JOB)
    if row is None:
        row = StatRefresh(job=JOB)
        session.add(row)
    return row


def changed_months(db, since: datetime | None) -> list[str]:
    with db.session_scope(write=False) as s:
        if since is None:
            first, last = s.execute(select(func.min(Case.submitted_at), func.max(Case.submitted_at))).one()
            return months_between(month_of(first), month_of(last)) if first is not None else []
        return sorted({month_of(t) for t in s.scalars(select(Case.submitted_at).where(Case.updated_at >= since))})


def refresh(db, clock: Callable[[], datetime], *, full: bool = False,
            progress: Callable[[str], None] | None = None) -> list[str]:
    """Recompute the months with changes since the last refresh (every month with ``full``);
    returns the months recomputed."""
    started = clock()
    with db.session_scope(write=False) as s:
        row = s.get(StatRefresh, JOB)
        since = None if full or row is None else row.watermark
    months = changed_months(db, since)
    for month in months:
        recompute_month(db, month)
        if progress is not None:
            progress(month)
    if len(months) >= ANALYZE_AFTER:  # a table that grew a lot: let the planner know its shape
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE stat_rollup"))
    with db.session_scope() as s:
        state = _state(s)
        state.watermark = started - OVERLAP
        state.refreshed_at = clock()
        if months:  # the rollups changed: what the public may see is settled again
            state.generation = secrets.randbits(62) or 1
    return months


def refreshed_at(session) -> datetime | None:
    row = session.get(StatRefresh, JOB)
    return row.refreshed_at if row is not None else None


def generation(session) -> int:
    """The rollups' version: a random number each refresh that changed them sets (0: none yet)."""
    row = session.get(StatRefresh, JOB)
    return row.generation or 0 if row is not None else 0

