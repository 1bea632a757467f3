"""A unit's queue: the filters, sort and counts the desk and the staff API share.

Every query starts from the unit (``unit_id``) and the state, which the composite index
(unit_id, state, due_at) serves; nothing here scans all cases.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload

from casework.cases.models import Case, CaseState as S, CaseType
from casework.db import as_utc

from casework.workflow.states import CAN_BE_OVERDUE, OPEN, TABS, TRIAGE

OPEN_STATES = tuple(s for s in S if s in OPEN)  # in the enum's order (metrics list them)


def is_overdue(case: Case, now: datetime) -> bool:
    """The sweep's flag, or a deadline passed since the sweep last ran (clock not paused,
    and a state where a passed deadline makes a case overdue)."""
    return overdue_now(case.overdue, case.due_at, case.paused_at, case.state, now)


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


def queue_select(f: QueueFilter) -> Select:
    q = select(Case)
    q = q.where(Case.unit_id.is_(None)) if f.unit_id is None else q.where(Case.unit_id == f.unit_id)
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
    order = {
        "due": (Case.due_at.asc().nulls_last(), Case.id),
        "-due": (Case.due_at.desc().nulls_last(), Case.id),
        "new": (Case.submitted_at.desc(), Case.id.desc()),
    }.get(f.sort, (Case.due_at.asc().nulls_last(), Case.id))
    per_page = max(1, min(f.per_page, 100))
    page = max(1, f.page)
    # the page's ids first, from the index alone; then only those rows with their joins
    ids = (q.with_only_columns(Case.id, Case.due_at, Case.submitted_at).order_by(*order)
           .limit(per_page).offset((page - 1) * per_page).subquery())
    rows = session.scalars(
        select(Case).join(ids, ids.c.id == Case.id)
        .options(joinedload(Case.category), joinedload(Case.association))
        .order_by(*_order(ids, f.sort))
    ).unique().all()
    return list(rows), total


def _order(ids, sort: str):
    return {
        "due": (ids.c.due_at.asc().nulls_last(), ids.c.id),
        "-due": (ids.c.due_at.desc().nulls_last(), ids.c.id),
        "new": (ids.c.submitted_at.desc(), ids.c.id.desc()),
    }.get(sort, (ids.c.due_at.asc().nulls_last(), ids.c.id))


def tab_counts(session: Session, unit_id: int | None) -> dict[str, int]:
    """Cases per tab: one GROUP BY state over the unit's index range."""
    q = select(Case.state, func.count()).group_by(Case.state)
    q = q.where(Case.unit_id.is_(None)) if unit_id is None else q.where(Case.unit_id == unit_id)
    per_state = {state: n for state, n in session.execute(q)}
    if unit_id is None:
        return {"triage": sum(per_state.get(s, 0) for s in TRIAGE)}
    return {tab: sum(per_state.get(s, 0) for s in states) for tab, states in TABS.items()}
