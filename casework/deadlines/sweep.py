"""The deadline sweep (Celery beat runs it): reminders before a deadline, the overdue flag
after it, supervision (督办) in levels, and closing replies whose rating window lapsed.

It touches only due cases (partial indexes on open deadlines and on overdue cases), and
each case in its own short transaction, where the flag, the event and the notice are
written together: a sweep killed half-way leaves every case either done or untouched, and
a rerun does each thing once (the flags and markers say what is done).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.accounts.actor import Actor
from casework.cases.models import ActorKind, Case, CaseState as S, Event, EventKind
from casework.cases.numbers import CHINA
from casework.context import Services
from casework.db import Database
from casework.deadlines.calendar import china_date
from casework.deadlines.limits import Deadlines, end_of_day
from casework.notify.models import OutboxChannel
from casework.notify.queue import queue_message
from casework.registry.models import Unit

log = logging.getLogger("changtong.sweep")
CLOCK_STATES = (S.received, S.pending_acceptance, S.accepted, S.under_review, S.under_re_review,
                S.mediating)
MAX_LEVEL = 2


@dataclass
class SweepReport:
    reminded: int = 0
    overdue: int = 0
    supervised: int = 0
    closed: int = 0
    queries: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "errors"} | {"errors": len(self.errors)}


def _fmt(dt: datetime) -> str:
    return dt.astimezone(CHINA).strftime("%Y-%m-%d")


def _unit_notice(session, services, case: Case, unit: Unit | None, template: str, key: str, **values) -> None:
    if unit is None or not unit.notice_email:
        return
    queue_message(session, services, dedupe_key=key, case=case, channel=OutboxChannel.email,
                  template=template, locale="zh_CN", recipient=unit.notice_email,
                  payload={"case_number": case.number, **values})


def _event(case: Case, services: Services, kind: EventKind, summary: str, data: dict) -> Event:
    return Event(case=case, created_at=services.clock(), actor_kind=ActorKind.system, kind=kind,
                 summary=summary, data=data)


def remind(session: Session, services: Services, case_id: int, cutoff: datetime) -> bool:
    case = session.get(Case, case_id, with_for_update=not _sqlite(session))
    now = services.clock()
    if (case is None or case.state not in CLOCK_STATES or case.due_at is None or case.paused_at is not None
            or not (now <= case.due_at <= cutoff) or case.reminded_for_due == case.due_at):
        return False
    case.reminded_for_due = case.due_at
    session.add(_event(case, services, EventKind.reminder, f"reminder: {case.stage.value if case.stage else '-'} due {_fmt(case.due_at)}",
                       {"stage": case.stage.value if case.stage else None, "due": case.due_at.isoformat()}))
    _unit_notice(session, services, case, case.unit, "unit_reminder",
                 f"case:{case.id}:reminder:{case.due_at.isoformat()}", due=_fmt(case.due_at))
    return True


def mark_overdue(session: Session, services: Services, case_id: int) -> bool:
    case = session.get(Case, case_id, with_for_update=not _sqlite(session))
    now = services.clock()
    if (case is None or case.state not in CLOCK_STATES or case.due_at is None or case.paused_at is not None
            or case.overdue or case.due_at >= now):
        return False
    case.overdue = True
    session.add(_event(case, services, EventKind.overdue, f"overdue: {case.stage.value if case.stage else '-'} due {_fmt(case.due_at)}",
                       {"stage": case.stage.value if case.stage else None, "due": case.due_at.isoformat()}))
    _unit_notice(session, services, case, case.unit, "unit_overdue",
                 f"case:{case.id}:overdue:{case.due_at.isoformat()}", due=_fmt(case.due_at))
    return True


def supervising_unit(case: Case, level: int) -> Unit | None:
    """Level 1: the supervising unit of the unit holding the case; level 2: the one above
    it (or the same one again where there is nothing above)."""
    first = case.unit.supervising_unit if case.unit is not None else None
    if level == 1 or first is None:
        return first
    return first.supervising_unit or first


def escalate(session: Session, services: Services, case_id: int, level: int, deadlines: Deadlines) -> bool:
    case = session.get(Case, case_id, with_for_update=not _sqlite(session))
    if case is None or not case.overdue or case.supervision_level != level - 1 or case.state not in CLOCK_STATES:
        return False
    if level > 1:  # the next level comes N working days after the previous deadline
        later = end_of_day(deadlines.calendar.add_working_days(china_date(case.due_at),
                                                                services.settings.escalation_working_days))
        if services.clock() <= later:
            return False
    target = supervising_unit(case, level)
    case.supervision_level = level
    session.add(_event(case, services, EventKind.supervised,
                       f"supervision level {level} to {target.code if target else 'nobody configured'}",
                       {"level": level, "unit_id": target.id if target else None}))
    _unit_notice(session, services, case, target, "supervision", f"case:{case.id}:supervision:{level}:{case.due_at.isoformat()}",
                 level=level, due=_fmt(case.due_at), unit_name=case.unit.name if case.unit else "")
    return True


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _each(db: Database, ids: list[int], fn, report: SweepReport, attr: str) -> None:
    for cid in ids:
        try:
            with db.session_scope() as s:
                if fn(s, cid):
                    setattr(report, attr, getattr(report, attr) + 1)
        except Exception as exc:  # one bad case does not stop the sweep
            log.exception("sweep failed on case %s", cid)
            report.errors.append(f"{cid}: {exc.__class__.__name__}")


def sweep(db: Database, services: Services) -> SweepReport:
    report = SweepReport()
    now = services.clock()
    with db.session_scope(write=False) as s:
        deadlines = Deadlines.load(s)
        cutoff = end_of_day(deadlines.calendar.add_working_days(china_date(now), services.settings.reminder_working_days))
        open_due = select(Case.id).where(~Case.overdue, Case.due_at.is_not(None), Case.state.in_(CLOCK_STATES))
        remind_ids = list(s.scalars(open_due.where(Case.due_at >= now, Case.due_at <= cutoff)))
        overdue_ids = list(s.scalars(open_due.where(Case.due_at < now)))
        level1_ids = list(s.scalars(select(Case.id).where(Case.overdue, Case.supervision_level == 0)))
        level2_ids = list(s.scalars(select(Case.id).where(
            Case.overdue, Case.supervision_level == 1, Case.due_at < now)))
        close_ids = list(s.scalars(select(Case.id).where(Case.state == S.replied, Case.due_at < now)))
        report.queries = 5
    _each(db, remind_ids, lambda s, cid: remind(s, services, cid, cutoff), report, "reminded")
    _each(db, overdue_ids, lambda s, cid: mark_overdue(s, services, cid), report, "overdue")
    level1_ids = sorted(set(level1_ids) | set(overdue_ids))
    _each(db, level1_ids, lambda s, cid: escalate(s, services, cid, 1, deadlines), report, "supervised")
    _each(db, level2_ids, lambda s, cid: escalate(s, services, cid, 2, deadlines), report, "supervised")

    from casework.workflow.machine import MoveNotAllowed, perform

    system = Actor.system("sweep")

    def close(s, cid):
        case = s.get(Case, cid)
        if case is None or case.state is not S.replied:
            return False
        try:
            perform(s, services, system, case, "close_unrated", deadlines=deadlines)
        except MoveNotAllowed:
            return False
        return True

    _each(db, close_ids, close, report, "closed")
    log.info("sweep: %s", report.as_dict())
    return report
