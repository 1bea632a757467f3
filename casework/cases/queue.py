"""A unit's queue: the filters, sort and counts the desk and the staff API share.

Every query starts from the unit (``unit_id``) and the state, which the composite index
(unit_id, state, due_at) serves; nothing here scans all cases.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, func, or_, select, union
from sqlalchemy.orm import Session, joinedload

from casework.cases.models import Case, CaseState as S, CaseType
from casework.db import as_utc
from casework.deadlines.calendar import china_date

from casework.workflow.states import CAN_BE_OVERDUE, OPEN, TABS, TRIAGE

OPEN_STATES = tuple(s for s in S if s in OPEN)  # in the enum's order (metrics list them)
# the queue's tab that is not a group of states: the unit's cases overdue or with an open 督办单
# (a supervisor's notice awaiting the unit's report), by the report's date, then the deadline
SUPERVISION_TAB = "supervision"


def is_overdue(case: Case, now: datetime) -> bool:
    """The sweep's flag, or a deadline passed since the sweep last ran (clock not paused,
    and a state where a passed deadline makes a case overdue)."""
    return overdue_now(case.overdue, case.due_at, case.paused_at, case.state, now)


def days_overdue(case: Case, now: datetime) -> int | None:
    """How late an overdue case is, as every page says it (the desk's 超期与督办 tab, the
    supervisor's overdue list): calendar days on China's calendar from its deadline's date to
    today's, at least 1 (due 23:59 Beijing, it is 1 day late at 00:10 the next day; a case flagged
    overdue never reads 0). None while it is not overdue."""
    if not is_overdue(case, now):
        return None
    if case.due_at is None:
        return 1
    return max(1, (china_date(now) - china_date(case.due_at)).days)


def overdue_now(flag: bool, due_at, paused_at, state, now: datetime) -> bool:
    """``is_overdue`` on a row's columns (a list read without its cases)."""
    if flag:
        return True
    return due_at is not None and paused_at is None and state in CAN_BE_OVERDUE and as_utc(due_at) < now


@dataclass
class QueueFilter:
    unit_id: int | None  # None: the triage queue (cases no unit holds yet)
    tab: str = "pending"
    case_type: CaseType | None = None
    category_id: int | None = None
    association_id: int | None = None
    overdue: bool = False
    due_within_days: int | None = None
    handler_id: int | None = None
    sort: str = "due"  # "due" | "-due" | "new"
    page: int = 1
    per_page: int = 25
    now: datetime | None = None

    def tab_states(self) -> tuple[S, ...]:
        if self.unit_id is None:
            return TRIAGE
        return TABS.get(self.tab, TABS["pending"])

    @property
    def supervision(self) -> bool:
        return self.unit_id is not None and self.tab == SUPERVISION_TAB


def attention(unit_id: int, now: datetime):
    """The ids of a unit's cases that are overdue (the sweep's flag, or a deadline passed since:
    ``is_overdue``) while still open, or that carry a 督办单 the unit has not reported on yet
    (whatever its state: the report is owed until it is made). Two index reads, not one over the
    unit's every case: the flagged ones through ``ix_case_unit_attention``, the deadlines passed
    since the sweep through ``ix_case_unit_state_due_id``."""
    flagged = select(Case.id).where(
        Case.unit_id == unit_id, or_(Case.overdue, Case.notice_report_due.is_not(None)),  # the index's condition
        or_(Case.notice_report_due.is_not(None), and_(Case.state.in_(OPEN_STATES), Case.overdue)))
    passed = select(Case.id).where(
        Case.unit_id == unit_id, Case.state.in_([s for s in OPEN_STATES if s in CAN_BE_OVERDUE]),
        Case.due_at < now, Case.paused_at.is_(None))
    return union(flagged, passed)


def queue_select(f: QueueFilter) -> Select:
    q = select(Case)
    q = q.where(Case.unit_id.is_(None)) if f.unit_id is None else q.where(Case.unit_id == f.unit_id)
    if f.supervision:
        q = q.where(Case.id.in_(attention(f.unit_id, f.now or datetime.now().astimezone())))
    else:
        q = q.where(Case.state.in_(f.tab_states()))
    if f.case_type is not None:
        q = q.where(Case.type == f.case_type)
    if f.category_id is not None:
        q = q.where(Case.category_id == f.category_id)
    if f.association_id is not None:
        q = q.where(Case.association_id == f.association_id)
    if f.handler_id is not None:
        q = q.where(Case.handler_id == f.handler_id)
    now = f.now or datetime.now().astimezone()
    if f.overdue:  # past the deadline of a stage whose clock the unit holds, and not paused
        q = q.where(Case.due_at < now, Case.paused_at.is_(None), Case.state.in_(CAN_BE_OVERDUE))
    if f.due_within_days is not None:
        q = q.where(Case.due_at < now + timedelta(days=f.due_within_days))
    return q


def queue_page(session: Session, f: QueueFilter) -> tuple[list[Case], int]:
    """One page of the queue and the total number of matching cases."""
    q = queue_select(f)
    total = session.scalar(select(func.count()).select_from(q.order_by(None).subquery())) or 0
    per_page = max(1, min(f.per_page, 100))
    page = max(1, f.page)
    # the page's ids first, from the index alone; then only those rows with their joins
    ids = (q.with_only_columns(Case.id, Case.due_at, Case.submitted_at, Case.notice_report_due)
           .order_by(*_order(Case, f.sort)).limit(per_page).offset((page - 1) * per_page).subquery())
    rows = session.scalars(
        select(Case).join(ids, ids.c.id == Case.id)
        .options(joinedload(Case.category), joinedload(Case.association))
        .order_by(*_order(ids.c, f.sort))
    ).unique().all()
    return list(rows), total


def _order(c, sort: str):
    """The order of a sort key on the columns ``c`` (the table's, or the page's subquery's);
    "notice": the 督办单's report date first (cases without one after), then the deadline."""
    return {
        "due": (c.due_at.asc().nulls_last(), c.id),
        "-due": (c.due_at.desc().nulls_last(), c.id),
        "new": (c.submitted_at.desc(), c.id.desc()),
        "notice": (c.notice_report_due.asc().nulls_last(), c.due_at.asc().nulls_last(), c.id),
    }.get(sort, (c.due_at.asc().nulls_last(), c.id))


def tab_counts(session: Session, unit_id: int | None) -> dict[str, int]:
    """Cases per tab: one GROUP BY state over the unit's index range."""
    q = select(Case.state, func.count()).group_by(Case.state)
    q = q.where(Case.unit_id.is_(None)) if unit_id is None else q.where(Case.unit_id == unit_id)
    per_state = {state: n for state, n in session.execute(q)}
    if unit_id is None:
        return {"triage": sum(per_state.get(s, 0) for s in TRIAGE)}
    return {tab: sum(per_state.get(s, 0) for s in states) for tab, states in TABS.items()}


def supervision_count(session: Session, unit_id: int, now: datetime, handler_id: int | None = None) -> int:
    """How many cases the supervision tab lists (of one handler's: ``handler_id``)."""
    if handler_id is None:
        return session.scalar(select(func.count()).select_from(attention(unit_id, now).subquery())) or 0
    q = select(func.count()).select_from(Case).where(Case.id.in_(attention(unit_id, now)), Case.handler_id == handler_id)
    return session.scalar(q) or 0
