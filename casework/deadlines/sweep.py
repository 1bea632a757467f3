"""The deadline sweep (Celery beat runs it): each unit told of the new cases awaiting its
acceptance, reminders before a deadline, the overdue flag
after it with supervision (督办) level 1 at once, level 2 some working days later,
closing replies whose rating window lapsed and cases whose material (补正) did not come in time.

It is set-based: each step is one ``UPDATE … WHERE <due> … RETURNING`` over at most ``sweep_chunk``
cases, whose rows then become events and notices inserted in bulk, all in one transaction.
The WHERE clause is also the "not done yet" test (the flag, the level, the reminder
marker), so a sweep killed mid-way leaves whole chunks done or untouched and a rerun does
each thing once. The work lists come from partial indexes on open deadlines and on
overdue cases: nothing scans all cases. Flag changes do not bump the case's version (a
handler's open form stays valid); state changes (closing) go through the state machine.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert, or_, select, text, update
from sqlalchemy.orm import Session

from casework.accounts.actor import Actor
from casework.cases.models import UNANNOUNCED_SQL, Case, CaseState as S, Event, EventKind
from casework.cases.numbers import CHINA
from casework.context import Services
from casework.db import Database
from casework.deadlines.calendar import china_date
from casework.deadlines.limits import Deadlines, end_of_day
from casework.notify.models import OutboxChannel, OutboxMessage
from casework.registry.models import Unit
from casework.workflow.states import CAN_BE_OVERDUE, CLOCK_RUNNING

log = logging.getLogger("changtong.sweep")


@dataclass
class SweepReport:
    announced: int = 0
    reminded: int = 0
    overdue: int = 0
    supervised: int = 0
    closed: int = 0
    queries: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "errors"} | {"errors": len(self.errors)}


@dataclass(frozen=True)
class UnitInfo:
    id: int
    code: str
    name: str
    notice_email: str | None
    supervising_unit_id: int | None


def _fmt(dt: datetime) -> str:
    return dt.astimezone(CHINA).strftime("%Y-%m-%d")


class _Writer:
    """Collects the events of one chunk, and one digest notice per unit and kind (a unit
    gets "N cases are due", not N e-mails), and inserts them in bulk."""

    DIGEST_LIST = 50  # case numbers named in one digest

    def __init__(self, services: Services, units: dict[int, UnitInfo]):
        self.services, self.units = services, units
        self.now = services.clock()
        self.events: list[dict] = []
        self.digests: dict[tuple[int, str], list[str]] = {}

    def event(self, case_id: int, kind: EventKind, summary: str, data: dict) -> None:
        self.events.append({"case_id": case_id, "created_at": self.now, "actor_kind": "system",
                            "kind": kind.value, "summary": summary[:300], "data": data})

    def notice(self, unit_id: int | None, template: str, case_number: str) -> None:
        unit = self.units.get(unit_id) if unit_id else None
        if unit is not None and unit.notice_email:
            self.digests.setdefault((unit.id, template), []).append(case_number)

    def flush(self, session: Session, chunk_key: str) -> None:
        if self.events:  # executemany: psycopg pipelines the rows (a rendered multi-VALUES was slower)
            session.execute(insert(Event.__table__), self.events)
        if not self.digests:
            return
        c = self.services.cipher
        rows = []
        for (unit_id, template), numbers in self.digests.items():
            payload = {"count": len(numbers), "case_numbers": " ".join(numbers[:self.DIGEST_LIST]),
                       "more": max(0, len(numbers) - self.DIGEST_LIST)}
            rows.append({
                "dedupe_key": f"sweep:{chunk_key}:{template}:unit:{unit_id}", "case_id": None,
                "channel": OutboxChannel.email.value, "template": template, "locale": "zh_CN",
                "recipient_enc": c.encrypt_text(self.units[unit_id].notice_email, "outbox.recipient"),
                "payload_enc": c.encrypt(json.dumps(payload, ensure_ascii=False).encode(), "outbox.payload"),
                "status": "pending", "attempts": 0, "next_attempt_at": self.now, "created_at": self.now})
        session.execute(insert(OutboxMessage.__table__), rows)


def _load_units(session: Session) -> dict[int, UnitInfo]:
    return {u.id: UnitInfo(u.id, u.code, u.name, u.notice_email, u.supervising_unit_id)
            for u in session.scalars(select(Unit))}


def _supervisor(units: dict[int, UnitInfo], unit_id: int | None, level: int) -> int | None:
    first = units[unit_id].supervising_unit_id if unit_id in units else None
    if level == 1 or first is None:
        return first
    return units[first].supervising_unit_id or first


def _returning():
    return (Case.id, Case.number, Case.unit_id, Case.due_at, Case.stage)


def _run_chunks(db: Database, services: Services, units, make_update, handle, report: SweepReport, attr: str) -> None:
    """Repeat one UPDATE … RETURNING step until it matches nothing."""
    chunk = services.settings.sweep_chunk
    while True:
        with db.session_scope() as s:
            rows = s.execute(make_update()).all()
            report.queries += 1
            if not rows:
                return
            w = _Writer(services, units)
            for row in rows:
                handle(w, row)
            w.flush(s, f"{attr}:{rows[0].id}:{services.clock().isoformat()}")
        setattr(report, attr, getattr(report, attr) + len(rows))
        if len(rows) < chunk:
            return


def working_days_before(deadlines: Deadlines, day, n: int):
    while n > 0:
        day -= timedelta(days=1)
        if deadlines.calendar.is_working_day(day):
            n -= 1
    return day


def unannounced(db: Database, limit: int):
    """Cases awaiting a unit's acceptance that its mailbox has not heard of: filed and routed,
    transferred or sent back to it since the last sweep (one digest per unit, "N new cases"),
    from the partial index ix_case_unannounced. SQLite without statistics would rather search
    every case awaiting acceptance through ix_case_state_due: it is told which index to use
    (INDEXED BY fails the statement if that index cannot serve it)."""
    if db.is_sqlite:
        return (text(f'SELECT id FROM "case" INDEXED BY ix_case_unannounced WHERE {UNANNOUNCED_SQL["sqlite"]} '
                     f'LIMIT {int(limit)}').columns(Case.id))
    return select(Case.id).where(text(UNANNOUNCED_SQL["postgresql"])).limit(limit)


def sweep(db: Database, services: Services) -> SweepReport:
    report = SweepReport()
    now = services.clock()
    with db.session_scope(write=False) as s:
        deadlines = Deadlines.load(s)
        units = _load_units(s)
    today = china_date(now)
    remind_until = end_of_day(deadlines.calendar.add_working_days(today, services.settings.reminder_working_days))
    # level 2 for cases whose deadline is more than N working days past
    level2_before = end_of_day(working_days_before(deadlines, today, services.settings.escalation_working_days))
    # reminders before any running deadline (a mediation body's too); overdue and supervision
    # only where a passed deadline does not end the case by itself (states.CAN_BE_OVERDUE)
    running = Case.state.in_(CLOCK_RUNNING) & Case.paused_at.is_(None)
    overdue_ok = Case.state.in_(CAN_BE_OVERDUE) & Case.paused_at.is_(None)
    chunk = services.settings.sweep_chunk

    def announce_update():
        ids = unannounced(db, chunk)
        return (update(Case).where(Case.id.in_(ids)).values(announced_unit_id=Case.unit_id)
                .returning(*_returning()).execution_options(synchronize_session=False))

    def remind_update():
        ids = (select(Case.id).where(~Case.overdue, Case.due_at.is_not(None), running, Case.due_at >= now,
                                     Case.due_at <= remind_until,
                                     or_(Case.reminded_for_due.is_(None), Case.reminded_for_due != Case.due_at))
               .limit(chunk).scalar_subquery())
        return (update(Case).where(Case.id.in_(ids)).values(reminded_for_due=Case.due_at)
                .returning(*_returning()).execution_options(synchronize_session=False))

    def remind(w: _Writer, r) -> None:
        stage = r.stage.value if r.stage else None
        w.event(r.id, EventKind.reminder, f"reminder: {stage} due {_fmt(r.due_at)}",
                {"stage": stage, "due": r.due_at.isoformat()})
        w.notice(r.unit_id, "unit_reminder", r.number)

    def overdue_update():
        ids = (select(Case.id).where(~Case.overdue, Case.due_at.is_not(None), overdue_ok, Case.due_at < now)
               .limit(chunk).scalar_subquery())
        return (update(Case).where(Case.id.in_(ids)).values(overdue=True, supervision_level=1)
                .returning(*_returning()).execution_options(synchronize_session=False))

    def overdue(w: _Writer, r) -> None:
        """Overdue and supervision level 1 happen together: one event records both."""
        stage = r.stage.value if r.stage else None
        target = _supervisor(units, r.unit_id, 1)
        code = units[target].code if target in units else "nobody configured"
        w.event(r.id, EventKind.overdue, f"overdue: {stage} due {_fmt(r.due_at)}; supervision level 1 to {code}",
                {"stage": stage, "due": r.due_at.isoformat(), "supervision_level": 1, "supervision_unit_id": target})
        w.notice(r.unit_id, "unit_overdue", r.number)
        w.notice(target, "supervision_1", r.number)

    def level2_update():
        ids = (select(Case.id).where(Case.overdue, Case.supervision_level == 1, overdue_ok,
                                     Case.due_at < level2_before)
               .limit(chunk).scalar_subquery())
        return (update(Case).where(Case.id.in_(ids)).values(supervision_level=2)
                .returning(*_returning()).execution_options(synchronize_session=False))

    def _supervise(w: _Writer, r, level: int) -> None:
        target = _supervisor(units, r.unit_id, level)
        code = units[target].code if target in units else "nobody configured"
        w.event(r.id, EventKind.supervised, f"supervision level {level} to {code}",
                {"level": level, "unit_id": target})
        w.notice(target, f"supervision_{level}", r.number)

    _run_chunks(db, services, units, announce_update, lambda w, r: w.notice(r.unit_id, "unit_new_case", r.number),
                report, "announced")
    _run_chunks(db, services, units, remind_update, remind, report, "reminded")
    _run_chunks(db, services, units, overdue_update, overdue, report, "overdue")
    report.supervised = report.overdue
    level2 = SweepReport()
    _run_chunks(db, services, units, level2_update, lambda w, r: _supervise(w, r, 2), level2, "supervised")
    report.supervised += level2.supervised
    report.queries += level2.queries
    _close_unrated(db, services, deadlines, now, report)
    _close_lapsed_material(db, services, deadlines, now, report)
    _end_timed_out_mediations(db, services, deadlines, now, report)
    _end_unanswered_mediations(db, services, deadlines, now, report)
    _remind_followups(db, services, units, today, report)
    log.info("sweep: %s", report.as_dict())
    return report


def _system_moves(db: Database, services: Services, deadlines: Deadlines, ids_query, move: str,
                  report: SweepReport) -> None:
    """A state change the sweep makes (closing, ending), through the state machine, case by case."""
    from casework.workflow.machine import MoveNotAllowed, perform

    system = Actor.system("sweep")
    with db.session_scope(write=False) as s:
        ids = list(s.scalars(ids_query))
        report.queries += 1
    for cid in ids:
        try:
            with db.session_scope() as s:
                case = s.get(Case, cid)
                if case is not None:
                    perform(s, services, system, case, move, deadlines=deadlines)
                    report.closed += 1
        except MoveNotAllowed:
            continue
        except Exception as exc:
            log.exception("sweep could not %s case %s", move, cid)
            report.errors.append(f"{cid}: {exc.__class__.__name__}")


def _close_unrated(db: Database, services: Services, deadlines: Deadlines, now: datetime, report: SweepReport) -> None:
    """Replies not rated in time are closed."""
    _system_moves(db, services, deadlines, select(Case.id).where(Case.state == S.replied, Case.due_at < now),
                  "close_unrated", report)


def _close_lapsed_material(db: Database, services: Services, deadlines: Deadlines, now: datetime,
                           report: SweepReport) -> None:
    """Material asked for (补正) and not supplied by its time limit: a case not accepted yet is not
    accepted, with a written notice (市场监督管理投诉举报处理办法 第十六条第五项); one asked
    after acceptance goes on being handled with what is at hand."""
    lapsed = select(Case.id).where(Case.state == S.need_info, Case.info_due_at < now)
    _system_moves(db, services, deadlines, lapsed.where(Case.resume_state == S.pending_acceptance),
                  "close_material_lapsed", report)
    _system_moves(db, services, deadlines, lapsed.where(Case.resume_state == S.accepted),
                  "material_lapsed_handling_goes_on", report)


def _end_timed_out_mediations(db: Database, services: Services, deadlines: Deadlines, now: datetime,
                              report: SweepReport) -> None:
    """Mediation that reached its limit without agreement ends (人民调解法: no agreement)."""
    _system_moves(db, services, deadlines,
                  select(Case.id).where(Case.state == S.mediating, Case.due_at < now, Case.paused_at.is_(None)),
                  "mediation_timeout", report)


def _end_unanswered_mediations(db: Database, services: Services, deadlines: Deadlines, now: datetime,
                               report: SweepReport) -> None:
    """A respondent silent past its time to answer has refused (人民调解法 第十七条)."""
    from casework.mediation.models import Mediation

    _system_moves(db, services, deadlines,
                  select(Case.id).join(Mediation, Mediation.case_id == Case.id)
                  .where(Case.state == S.accepted, Mediation.answer_due_at < now,
                         Mediation.respondent_consented_at.is_(None)),
                  "mediation_no_answer", report)


def _remind_followups(db: Database, services: Services, units, today, report: SweepReport) -> None:
    """The follow-up on an agreement's performance (回访, 人民调解法 第三十一条) is due: one
    reminder event and the unit's digest, once per agreement (the flag is the "not done yet")."""
    from casework.mediation.models import Mediation

    chunk = services.settings.sweep_chunk
    while True:
        with db.session_scope() as s:
            ids = (select(Mediation.case_id).where(Mediation.followup_due <= today, Mediation.followed_up_at.is_(None),
                                                   ~Mediation.followup_reminded)
                   .limit(chunk).scalar_subquery())
            done = s.execute(update(Mediation).where(Mediation.case_id.in_(ids), ~Mediation.followup_reminded)
                             .values(followup_reminded=True).returning(Mediation.case_id, Mediation.followup_due)
                             .execution_options(synchronize_session=False)).all()
            report.queries += 1
            if not done:
                return
            due = {r.case_id: r.followup_due for r in done}
            w = _Writer(services, units)
            for cid, number, unit_id in s.execute(select(Case.id, Case.number, Case.unit_id).where(Case.id.in_(due))):
                w.event(cid, EventKind.reminder, f"reminder: performance follow-up due {due[cid].isoformat()}",
                        {"stage": "performance_followup", "due": due[cid].isoformat()})
                w.notice(unit_id, "unit_reminder", number)
            w.flush(s, f"followup:{min(due)}:{services.clock().isoformat()}")
        report.reminded += len(done)
        if len(done) < chunk:
            return
