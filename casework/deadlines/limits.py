"""Deadlines of a case's stages: the administrator's time limits on the working calendar.

``Deadlines.load(session)`` gives the limits and calendar overrides of the current reference
version (read once per version and process, casework.reference); ``due`` gives the end of a
stage (23:59:59 Beijing time on its last day) and ``explain`` says how.
The statutory defaults below seed the table and serve where it has no row.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from typing import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import reference
from casework.cases.models import CaseType
from casework.cases.numbers import CHINA
from casework.deadlines.calendar import Computation, WorkingCalendar, china_date
from casework.deadlines.models import CalendarOverride, CalendarYear, Stage, TimeLimit
from casework.i18n import N_


@dataclass(frozen=True)
class Limit:
    amount: int
    working_days: bool


# (case type or None for any, stage) -> limit; from 信访工作条例 2022, 市场监督管理投诉举报处理办法
# (市场监管总局令第121号, in force 2026-04-15; it repealed the 暂行办法 of 2019) and 人民调解法, as the
# design's table gives them, brought up to the 办法 of 2026 (docs/legal.md)
DEFAULTS: dict[tuple[CaseType | None, Stage], Limit] = {
    (None, Stage.triage): Limit(1, True),
    (CaseType.complaint, Stage.acceptance): Limit(7, True),
    (CaseType.report, Stage.acceptance): Limit(15, True),
    (CaseType.mediation, Stage.acceptance): Limit(7, True),
    (CaseType.suggestion, Stage.acceptance): Limit(60, False),  # answered, not accepted
    (CaseType.report, Stage.report_notice): Limit(5, True),
    # a report's 立案 decision is extended once by 15 working days (行政处罚程序规定 第十八条), not
    # by the 30 days of a complaint's handling
    (CaseType.report, Stage.extension): Limit(15, True),
    # 信访工作条例 第二十三条第三款: a unit objects to a transfer outside its remit within 5 working days
    (None, Stage.transfer_objection): Limit(5, True),
    # 补正: no statute fixes the period (办法 第十六条第五项 only makes missing material a ground
    # not to accept); the design's 15 days, counted in calendar days
    (None, Stage.material): Limit(15, False),
    (None, Stage.handling): Limit(60, False),
    (None, Stage.extension): Limit(30, False),
    (None, Stage.rating): Limit(15, False),
    (None, Stage.review_request): Limit(30, False),
    (None, Stage.review): Limit(30, False),
    (None, Stage.re_review): Limit(30, False),
    # the respondent's answer to a mediation request: silence by then is refusal (人民调解法 第十七条
    # says only that a party's clear refusal ends it; the 10 working days are the design's choice)
    (None, Stage.mediation_answer): Limit(10, True),
    # 60 days from acceptance, appraisal and testing not counted (办法 第二十三条第一款第五项, 第二十二条;
    # the 暂行办法 it replaced gave 45 working days): counted as 第四十五条 says, from the next day, a
    # last day in a holiday moved to the first day after it (casework.deadlines.calendar)
    (None, Stage.mediation): Limit(60, False),
    (None, Stage.mediation_end_notice): Limit(7, True),
    (None, Stage.judicial_confirmation): Limit(30, False),
    # the follow-up on performance (回访), after the agreement's performance deadline (人民调解法
    # 第三十一条 sets no time: a setting)
    (None, Stage.performance_followup): Limit(5, True),
}


# (case type or None for any, stage) -> the legal basis of its default, shown on /admin/time-limits
# beside the limit. An article is cited only where the statute sets the figure; "Design default"
# where the law sets none and the figure is the design's. docs/legal.md says which citations were
# checked against a published text and which were not.
_DESIGN = N_("Design default (no statute sets it)")
_ACCEPTANCE_BANFA = N_("市场监督管理投诉举报处理办法 (2026) art. 15: 7 working days to decide on acceptance")
BASIS: dict[tuple[CaseType | None, Stage], str] = {
    (None, Stage.triage): _DESIGN,
    (CaseType.complaint, Stage.acceptance): _ACCEPTANCE_BANFA,
    (CaseType.report, Stage.acceptance): N_(
        "市场监督管理行政处罚程序规定 art. 18: 15 working days to decide whether to open a case (立案)"),
    (CaseType.mediation, Stage.acceptance): _ACCEPTANCE_BANFA,
    (CaseType.suggestion, Stage.acceptance): N_(
        "Design default (a suggestion is answered, not accepted; no statute sets the period)"),
    (CaseType.report, Stage.report_notice): N_(
        "Platform practice: the 暂行办法 art. 31 (repealed 2026-04-15) told a named reporter of the 立案 decision "
        "within 5 working days; the 办法 (2026) does not. The decision tells them itself, so only reports accepted "
        "before that wait in this stage"),
    (None, Stage.transfer_objection): N_(
        "信访工作条例 art. 23 para. 3: objection to a transfer within 5 working days of receipt"),
    (None, Stage.material): N_(
        "Design default (no statute sets the 补正 period; 办法 (2026) art. 16 item 5 only makes missing "
        "material a ground not to accept)"),
    (None, Stage.handling): N_("信访工作条例 art. 34: 60 days from acceptance"),
    (CaseType.report, Stage.extension): N_(
        "市场监督管理行政处罚程序规定 art. 18: once, 15 working days more, with the head's approval"),
    (None, Stage.extension): N_(
        "信访工作条例 art. 34: at most 30 days more, with the head's approval; the complainant is told why"),
    (None, Stage.rating): N_("Design default (no statute sets a period for rating the reply)"),
    (None, Stage.review_request): N_(
        "信访工作条例 art. 35 (复查) and art. 36 (复核): 30 days from receiving the written answer"),
    (None, Stage.review): N_("信访工作条例 art. 35: the 复查 opinion within 30 days of the request"),
    (None, Stage.re_review): N_("信访工作条例 art. 36: the 复核 opinion within 30 days of the request"),
    (None, Stage.mediation_answer): N_("Design default (人民调解法 art. 17 sets no period for the answer)"),
    (None, Stage.mediation): N_(
        "市场监督管理投诉举报处理办法 (2026) art. 23 para. 1 item 5: 60 days from acceptance; art. 22: "
        "appraisal and testing not counted"),
    (None, Stage.mediation_end_notice): N_(
        "市场监督管理投诉举报处理办法 (2026) art. 23 para. 2: the parties are told within 7 working days of the end"),
    (None, Stage.judicial_confirmation): N_(
        "人民调解法 art. 33: 30 days from the agreement taking effect (民事诉讼法 for other mediation bodies)"),
    (None, Stage.performance_followup): N_("Design default (人民调解法 art. 31 sets no time for the follow-up)"),
}


def basis(case_type: CaseType | None, stage: Stage) -> str:
    """The legal basis of a time limit (an untranslated message): its own row's, else the stage's
    ("" where none is recorded; tests/casework/test_limit_basis.py keeps that from happening)."""
    return BASIS.get((case_type, stage)) or BASIS.get((None, stage), "")


def seed_time_limits(session: Session) -> int:
    have = {(t.case_type, t.stage) for t in session.scalars(select(TimeLimit))}
    added = 0
    for (case_type, stage), lim in DEFAULTS.items():
        if (case_type, stage) not in have:
            session.add(TimeLimit(case_type=case_type, stage=stage, amount=lim.amount,
                                  working_days=lim.working_days, note="statutory default"))
            added += 1
    session.flush()
    return added


class Deadlines:
    """The time limits and the working calendar of one version of the reference data: shared by
    every request of a process (casework.reference), so never changed once made."""

    def __init__(self, limits: Mapping[tuple[CaseType | None, Stage], Limit], calendar: WorkingCalendar):
        self.limits = MappingProxyType(dict(limits))
        self.calendar = calendar
        self._due: dict[tuple[CaseType, Stage, date], datetime] = {}  # due() by its arguments

    @classmethod
    def defaults(cls) -> "Deadlines":
        return cls(dict(DEFAULTS), WorkingCalendar())

    @classmethod
    def load(cls, session: Session) -> "Deadlines":
        """The limits and calendar of the reference version this session sees: one SELECT of the
        version, the rows read again only after one of them changed (in any process)."""
        return reference.current(session).part("deadlines", cls._load, session)

    @classmethod
    def _load(cls, session: Session) -> "Deadlines":
        limits = dict(DEFAULTS)
        for t in session.scalars(select(TimeLimit)):
            limits[(t.case_type, t.stage)] = Limit(t.amount, t.working_days)
        overrides = {o.day: (o.working, o.note) for o in session.scalars(select(CalendarOverride))}
        years = {y.year: y.confirmed for y in session.scalars(select(CalendarYear))}
        return cls(limits, WorkingCalendar(overrides, years))

    def limit(self, case_type: CaseType, stage: Stage) -> Limit:
        return self.limits.get((case_type, stage)) or self.limits[(None, stage)]

    def explain(self, case_type: CaseType, stage: Stage, start: datetime) -> Computation:
        lim = self.limit(case_type, stage)
        return self.calendar.compute(china_date(start), lim.amount, working_days=lim.working_days)

    def due(self, case_type: CaseType, stage: Stage, start: datetime) -> datetime:
        key = (case_type, stage, china_date(start))
        found = self._due.get(key)
        if found is None:
            if len(self._due) > DUE_KEPT:
                self._due.clear()
            found = self._due[key] = end_of_day(self.explain(case_type, stage, start).end)
        return found

    def extend_by_pause(self, due_at: datetime, paused_from: datetime, resumed_at: datetime,
                        *, working_days: bool = True) -> datetime:
        """A deadline moved on by the time a pause (待补正, appraisal) took, counted as the
        stage counts: the working days paused on a working-day stage, the calendar days paused
        on a calendar-day stage (a deadline that then falls on a rest day moves to the next
        working day, Civil Code art. 203)."""
        start, end = china_date(paused_from), china_date(resumed_at)
        if not working_days:
            paused = (end - start).days
            if paused <= 0:
                return due_at
            day = china_date(due_at) + timedelta(days=paused)
            while not self.calendar.is_working_day(day):
                day += timedelta(days=1)
            return end_of_day(day)
        paused = self.calendar.working_days_after(start, end)
        if paused <= 0:
            return due_at
        return end_of_day(self.calendar.add_working_days(china_date(due_at), paused))

    def pause_counts_working_days(self, case_type: CaseType, stage: Stage | None) -> bool:
        """Whether a pause of this stage's clock is counted in working days (as the stage is)."""
        return stage is None or self.limit(case_type, stage).working_days


DUE_KEPT = 4096  # due() results kept per Deadlines (stage ends by start day: a few hundred a year)


def end_of_day(day) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=CHINA)


def start_of_day(day) -> datetime:
    """Midnight beginning ``day`` in China."""
    return datetime.combine(day, time(0), tzinfo=CHINA)


def due_at(case_type: CaseType, stage: str | Stage, start: datetime, calendar: WorkingCalendar | None = None) -> datetime:
    """Deadline with the statutory defaults (no database): for code without a session."""
    d = Deadlines(dict(DEFAULTS), calendar or WorkingCalendar())
    return d.due(case_type, Stage(stage), start)
