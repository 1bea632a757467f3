"""A supervision notice (督办单) issued by a supervisor to the unit holding a case
(``issue_supervision`` in the workflow table).

It does not change the case's state: it is a ``supervised`` event (staff only) naming the date
by which the unit must act and report, with the supervisor's instructions, and an e-mail to the
unit's notice mailbox that carries only the case number and the date (no case content). The
deadline sweep's automatic escalation of overdue cases is separate (casework.deadlines.sweep);
statistics count both as supervised.

Who: a supervisor, on any case a unit holds while the unit has the next step.

The unit answers it in writing (``report_supervision``): what it did, for the supervisor, a
``note`` event that names the notice it answers and whether it came after the date.
信访工作条例 第四十条 has the 信访部门 督办 a unit that delays or fails to carry out an opinion
and propose improvements, and the unit 书面反馈采纳情况; the platform's 督办单 asks for the
report by its date, and the supervisor's mailbox is told when it comes
(``/supervise/notices`` lists every notice with its report or its lateness).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from casework.accounts.models import Role
from casework.cases.models import SUPERVISION_NOTICE_SQL, Case, Event, EventKind
from casework.deadlines.calendar import china_date
from casework.i18n import Message, N_
from casework.workflow.spec import Ctx, invalid

NAME = "issue_supervision"
MAX_DAYS = 90
REPORT = "supervision_report"  # the ``action`` of the unit's report (a note event)


def is_notice(ev) -> bool:
    """A 督办单 a supervisor issued (the sweep's automatic escalations ask for no report)."""
    return ev.kind is EventKind.supervised and bool((ev.data or {}).get("manual"))


def is_report(ev) -> bool:
    return ev.kind is EventKind.note and (ev.data or {}).get("action") == REPORT


def open_notice(case):
    """The latest 督办单 on the case that no report has answered yet, or None."""
    waiting = None
    for ev in case.events:  # in order
        if is_notice(ev):
            waiting = ev
        elif waiting is not None and is_report(ev) and ev.data.get("supervision") == waiting.id:
            waiting = None
    return waiting


def awaiting_report(case, now) -> Message | None:
    if case.notice_report_due is None:  # set by a notice, cleared by its report
        return Message(N_("No supervision notice on this case awaits a report."))
    return None


def respond_by_problem(raw, case, now) -> Message | None:
    """The 督办单's date: a date after today, at most MAX_DAYS ahead (the field's own check, said
    with the other fields' errors)."""
    try:
        day = date.fromisoformat(str(raw).strip())
    except ValueError:
        return Message(N_("Enter a date as YYYY-MM-DD."))
    today = china_date(now)
    if day <= today or day > today + timedelta(days=MAX_DAYS):
        return Message(N_("Choose a date after today and within %(days)d days."), {"days": MAX_DAYS})
    return None


def issue(ctx: Ctx) -> dict:
    if ctx.case.unit_id is None:
        raise invalid("respond_by", N_("This case is not held by a unit yet."))
    day = date.fromisoformat(ctx.values["respond_by"])  # required, and checked as a field (respond_by_problem)
    by_units = sorted(u for u, r in ctx.actor.roles if r is Role.supervisor)
    ctx.case.notice_report_due = day  # a later notice replaces an earlier one's date
    return {"manual": True, "respond_by": day.isoformat(), "unit_id": ctx.case.unit_id,
            "supervisor_unit_ids": by_units}


def report(ctx: Ctx) -> dict:
    """The unit's written report on the open 督办单 (its text is the event's internal text):
    which notice it answers, its date, and whether the report came after it."""
    notice = open_notice(ctx.case)
    if notice is None:  # the guard said so; a second report raced this one
        raise invalid("internal_text", N_("No supervision notice on this case awaits a report."))
    respond_by = notice.data.get("respond_by", "")
    late = bool(respond_by) and china_date(ctx.now) > date.fromisoformat(respond_by)
    ctx.case.notice_report_due = None
    return {"action": REPORT, "supervision": notice.id, "respond_by": respond_by, "late": late,
            "supervisor_unit_ids": list(notice.data.get("supervisor_unit_ids") or [])}


# -- the supervisor's list of notices (/supervise/notices) ----------------------------------------

@dataclass(frozen=True)
class NoticeRow:
    number: str
    unit_id: int | None           # the unit that holds the case now
    issued_at: datetime | None
    respond_by: str
    by_unit_ids: tuple[int, ...]  # the issuing supervisors' units
    reported_at: datetime | None
    late: bool                    # reported after the date, or not reported and the date has passed
    superseded: bool = False      # not reported, and a later notice on the case asks for the report now

    @property
    def status(self) -> str:
        if self.reported_at is not None:
            return "reported_late" if self.late else "reported"
        if self.superseded:
            return "superseded"
        return "overdue" if self.late else "awaiting"


# the index's own WHERE, written out rather than bound: a plan PostgreSQL makes once for any
# parameter (a prepared statement's generic plan) cannot prove a bound value matches it
_NOTICES = text(SUPERVISION_NOTICE_SQL)


def _reports(session: Session, case_ids) -> dict[int, Event]:
    """The units' reports on these cases' 督办单, by the notice each answers."""
    out: dict[int, Event] = {}
    for ev in session.scalars(select(Event).where(Event.case_id.in_(list(case_ids)), Event.kind == EventKind.note)
                              .order_by(Event.id)):
        if is_report(ev):
            out.setdefault(ev.data.get("supervision"), ev)
    return out


# written as the partial index ix_case_notice_report_due says it (SQLite then uses the index)
_WAITING = text('"case".notice_report_due IS NOT NULL')


def count_waiting(session: Session, now, *, unit: int | None = None) -> tuple[int, int]:
    """How many 督办单 wait for a report, and how many of them are past their date (of one unit's
    cases: ``unit``)."""
    today = china_date(now)
    base = select(func.count()).select_from(Case).where(_WAITING)
    if unit is not None:
        base = base.where(Case.unit_id == unit)
    return (session.scalar(base) or 0, session.scalar(base.where(Case.notice_report_due < today)) or 0)


def waiting_notices(session: Session, now, *, overdue_only: bool, limit: int, offset: int = 0,
                    unit: int | None = None) -> list[NoticeRow]:
    """The 督办单 that wait for a report (only those past their date: ``overdue_only``; of one
    unit's cases: ``unit``), the earliest date first: the cases' ``notice_report_due``, then each
    one's latest notice."""
    today = china_date(now)
    q = select(Case.id, Case.number, Case.unit_id, Case.notice_report_due).where(_WAITING)
    if unit is not None:
        q = q.where(Case.unit_id == unit)
    if overdue_only:
        q = q.where(Case.notice_report_due < today)
    cases = list(session.execute(q.order_by(Case.notice_report_due, Case.id).limit(limit).offset(offset)))
    if not cases:
        return []
    latest: dict[int, Event] = {}
    for ev in session.scalars(select(Event).where(Event.case_id.in_([c.id for c in cases]), _NOTICES)
                              .order_by(Event.id)):
        latest[ev.case_id] = ev
    rows = []
    for c in cases:
        ev = latest.get(c.id)
        data = (ev.data or {}) if ev is not None else {}
        rows.append(NoticeRow(number=c.number, unit_id=c.unit_id, issued_at=ev.created_at if ev is not None else None,
                              respond_by=c.notice_report_due.isoformat(),
                              by_unit_ids=tuple(data.get("supervisor_unit_ids") or ()), reported_at=None,
                              late=c.notice_report_due < today))
    return rows


def count_notices(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Event).where(_NOTICES)) or 0


def notices(session: Session, now, *, limit: int, offset: int = 0) -> list[NoticeRow]:
    """The 督办单 issued, newest first, each with the unit's report on it or its lateness. A notice
    left unanswered when a later one was issued on the same case is superseded: the unit reports
    on the latest (``open_notice``), and the earlier one's date no longer binds it."""
    events = list(session.scalars(select(Event).where(_NOTICES).order_by(Event.id.desc())
                                  .limit(limit).offset(offset)))
    if not events:
        return []
    case_ids = {e.case_id for e in events}
    cases = {c.id: c for c in session.execute(select(Case.id, Case.number, Case.unit_id)
                                              .where(Case.id.in_(case_ids)))}
    reports = _reports(session, case_ids)
    latest = dict(session.execute(select(Event.case_id, func.max(Event.id)).where(Event.case_id.in_(case_ids), _NOTICES)
                                  .group_by(Event.case_id)).all())
    today = china_date(now)
    rows = []
    for ev in events:
        data, report = ev.data or {}, reports.get(ev.id)
        respond_by = str(data.get("respond_by", ""))
        superseded = report is None and latest.get(ev.case_id, ev.id) != ev.id
        if report is not None:
            late = bool(report.data.get("late"))
        else:
            late = not superseded and bool(respond_by) and today > date.fromisoformat(respond_by)
        c = cases.get(ev.case_id)
        rows.append(NoticeRow(number=c.number if c else "", unit_id=c.unit_id if c else None, issued_at=ev.created_at,
                              respond_by=respond_by, by_unit_ids=tuple(data.get("supervisor_unit_ids") or ()),
                              reported_at=report.created_at if report is not None else None, late=late,
                              superseded=superseded))
    return rows
