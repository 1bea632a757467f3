"""The clocks the statutes set: the material time limit (补正), pauses counted as their stage
counts, the transfer-objection window on the administrator's limit and calendar."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from casework.accounts.actor import Actor
from casework.accounts.models import Role
from casework.cases.models import Case, CaseState as S, CaseType, Event, EventKind, Stage
from casework.cases.numbers import CHINA
from casework.context import Services
from casework.deadlines.calendar import WorkingCalendar, china_date
from casework.deadlines.limits import DEFAULTS, Deadlines, Limit, end_of_day
from casework.deadlines.models import CalendarOverride, TimeLimit
from casework.documents.kinds import Document
from casework.documents.models import CaseDocument
from casework.deadlines.sweep import sweep
from casework.notify.models import OutboxMessage
from casework.registry.models import Unit
from casework.workflow.machine import MoveNotAllowed, perform


def at(services, moment) -> Services:
    return Services(settings=services.settings, cipher=services.cipher, files=services.files, clock=lambda: moment)


def beijing(y, m, d, h=10) -> datetime:
    return datetime(y, m, d, h, tzinfo=CHINA)


def load(db, case_id) -> Case:
    with db.session_scope(write=False) as s:
        case = s.get(Case, case_id)
        s.expunge(case)
        return case


@pytest.fixture
def set_limit(db):
    """set_limit(stage, amount, working_days): an administrator's row, put back afterwards."""
    changed = []

    def put(stage, amount, working_days, case_type=None):
        with db.session_scope() as s:
            row = s.scalar(select(TimeLimit).where(TimeLimit.stage == stage, TimeLimit.case_type.is_(case_type)))
            if row is None:
                row = TimeLimit(case_type=case_type, stage=stage, amount=amount, working_days=working_days, note="")
                s.add(row)
                changed.append((stage, case_type, None))
            else:
                changed.append((stage, case_type, (row.amount, row.working_days)))
                row.amount, row.working_days = amount, working_days

    yield put
    with db.session_scope() as s:
        for stage, case_type, before in reversed(changed):
            row = s.scalar(select(TimeLimit).where(TimeLimit.stage == stage, TimeLimit.case_type.is_(case_type)))
            if before is None:
                s.delete(row)
            else:
                row.amount, row.working_days = before


# -- the material time limit (补正) ------------------------------------------------------------

def ask_for_material(db, services, file_case, make_staff, when):
    filed = file_case().case_id
    handler = make_staff("miit", Role.handler)
    with db.session_scope() as s:
        perform(s, at(services, when), handler, s.get(Case, filed), "request_info",
                public_text="请补充缴费凭证和协会的收费通知。")
    return filed


def test_material_deadline_is_15_calendar_days_by_default_and_runs_while_the_stage_clock_is_paused(
        db, services, file_case, make_staff):
    """办法 (2026) 第十六条第五项 makes missing material a ground not to accept; no statute fixes the
    补正 period, so it is a time limit row (default 15 calendar days, ending on a working day)."""
    assert DEFAULTS[(None, Stage.material)] == Limit(15, False)
    asked = beijing(2026, 11, 27)
    filed = ask_for_material(db, services, file_case, make_staff, asked)
    case = load(db, filed)
    assert case.state is S.need_info and case.paused_at is not None
    # 2026-11-27 + 15 days = 2026-12-12, a Saturday: the period ends on Monday 2026-12-14
    assert china_date(case.info_due_at) == date(2026, 12, 14)
    assert case.due_at is not None  # the stage deadline stands still, it is not replaced


def test_material_not_supplied_in_time_is_closed_as_not_accepted_with_a_notice(db, services, file_case, make_staff):
    """办法 (2026) 第十六条第五项: the sweep closes the case as not accepted; the written notice says
    why and how to file again, and the complainant is told."""
    filed = ask_for_material(db, services, file_case, make_staff, beijing(2026, 11, 27))
    due = load(db, filed).info_due_at
    assert sweep(db, at(services, due - timedelta(hours=1))).closed == 0
    report = sweep(db, at(services, due + timedelta(hours=1)))
    assert report.closed == 1 and not report.errors
    case = load(db, filed)
    assert case.state is S.not_accepted and case.stage is None and case.due_at is None
    assert case.resume_state is None and case.info_due_at is None and case.paused_at is None
    with db.session_scope(write=False) as s:
        event = s.scalars(select(Event).where(Event.case_id == filed).order_by(Event.id.desc())).first()
        assert event.kind is EventKind.not_accepted and event.actor_kind.value == "system"
        assert event.data["move"] == "close_material_lapsed" and event.data["was"] == "pending_acceptance"
        assert "第十六条第五项" in event.public_text and "暂行" not in event.public_text
        assert "对您的投诉不予受理" in event.public_text
        assert "重新提交" in event.public_text
        assert "2026-12-14" in event.public_text
        assert s.scalar(select(OutboxMessage.id).where(OutboxMessage.case_id == filed))
        # the written notice (不予受理告知书) is made with the move
        doc = s.scalar(select(CaseDocument).where(CaseDocument.event_id == event.id))
        assert doc is not None and doc.kind is Document.non_acceptance
    assert sweep(db, at(services, due + timedelta(days=1))).closed == 0  # once


def test_a_reports_material_lapse_cites_no_article_on_complaints(db, services, make_staff, submission_data):
    """办法 (2026) 第十六条第五项 is a ground not to accept a 投诉; a report that lacks the material
    asked for is closed by the platform's 补正 rule, and its notice says so in the report's own word
    without citing the 办法's article on complaints."""
    from casework.cases.models import Channel
    from casework.intake.operations import submit_case
    from casework.intake.validation import validate_submission

    with db.session_scope() as s:
        sub, errors = validate_submission(s, submission_data(type="report", category="illegal_fees"))
        assert not errors, errors
        filed = submit_case(s, services, sub, channel=Channel.api, phone_verified="sms").case_id
    handler = make_staff("miit", Role.handler)
    asked = beijing(2026, 11, 27)
    with db.session_scope() as s:
        case = s.get(Case, filed)
        assert case.state is S.pending_acceptance, case.state
        perform(s, at(services, asked), handler, case, "request_info", public_text="请补充协会收费的票据和时间。")
    due = load(db, filed).info_due_at
    assert sweep(db, at(services, due + timedelta(hours=1))).closed == 1
    with db.session_scope(write=False) as s:
        event = s.scalars(select(Event).where(Event.case_id == filed).order_by(Event.id.desc())).first()
        assert event.data["move"] == "close_material_lapsed"
        assert "对您的举报不予受理" in event.public_text
        assert "第十六条" not in event.public_text and "投诉举报处理办法" not in event.public_text


def test_material_supplied_in_time_stops_its_clock(db, services, file_case, make_staff):
    """办法 第十六条: material supplied before its deadline: the case goes on, nothing is closed."""
    asked = beijing(2026, 11, 27)
    filed = ask_for_material(db, services, file_case, make_staff, asked)
    with db.session_scope() as s:
        perform(s, at(services, asked + timedelta(days=3)), Actor.complainant(filed), s.get(Case, filed),
                "supply_info", public_text="凭证已上传。")
    case = load(db, filed)
    assert case.state is S.pending_acceptance and case.info_due_at is None
    assert sweep(db, at(services, asked + timedelta(days=30))).closed == 0
    assert load(db, filed).state is not S.not_accepted


def test_the_material_limit_is_an_administrators_setting(db, services, file_case, make_staff, set_limit):
    """The 补正 period is a setting (办法 第十六条 leaves it open): 5 working days, if so set."""
    set_limit(Stage.material, 5, True)
    filed = ask_for_material(db, services, file_case, make_staff, beijing(2026, 11, 27))  # a Friday
    assert china_date(load(db, filed).info_due_at) == date(2026, 12, 4)


def test_the_lapse_is_not_a_move_before_the_deadline_nor_for_staff(db, services, file_case, make_staff):
    """The closing is the system's move, only after the material deadline (办法 第十六条)."""
    asked = beijing(2026, 11, 27)
    filed = ask_for_material(db, services, file_case, make_staff, asked)
    with db.session_scope() as s:
        with pytest.raises(MoveNotAllowed):
            perform(s, at(services, asked + timedelta(days=2)), Actor.system("test"), s.get(Case, filed),
                    "close_material_lapsed")


# -- pauses counted as their stage counts ------------------------------------------------------

# the 2026 Spring Festival: 2-15 to 2-23 off, 2-14 and 2-28 (Saturdays) are working days
PAUSED_FROM, RESUMED = beijing(2026, 2, 10), beijing(2026, 2, 21)  # 11 days, 4 of them working days


def test_a_pause_on_a_calendar_day_stage_moves_the_deadline_by_calendar_days():
    """信访工作条例 第三十四条 counts handling in days (60 日): a pause over the 2026 Spring Festival
    of 11 days moves the deadline by 11 days, not by the 4 working days in it."""
    d = Deadlines.defaults()
    due = end_of_day(date(2026, 4, 10))  # a Friday
    assert d.calendar.working_days_after(china_date(PAUSED_FROM), china_date(RESUMED)) == 4
    moved = d.extend_by_pause(due, PAUSED_FROM, RESUMED, working_days=False)
    assert china_date(moved) == date(2026, 4, 21)
    assert d.pause_counts_working_days(CaseType.complaint, Stage.handling) is False


def test_a_pause_on_a_working_day_stage_moves_the_deadline_by_working_days():
    """办法 第十四条 counts the acceptance decision in working days (七个工作日): the same pause
    moves it by the 4 working days paused."""
    d = Deadlines.defaults()
    due = end_of_day(date(2026, 4, 10))
    moved = d.extend_by_pause(due, PAUSED_FROM, RESUMED, working_days=True)
    assert china_date(moved) == date(2026, 4, 16)
    assert d.pause_counts_working_days(CaseType.complaint, Stage.acceptance) is True


def test_a_period_ending_in_the_national_day_holiday_ends_the_day_after_it():
    """民法典 第二百零三条: 期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日. A period
    of 31 calendar days from 1 September 2026 would end on 2 October, inside the National Day
    holiday (1 to 7 October): it ends on 8 October, the day after the holiday."""
    comp = WorkingCalendar().compute(date(2026, 9, 1), 31, working_days=False)
    assert comp.end == date(2026, 10, 8)
    assert [n.day for n in comp.rolled_forward] == [date(2026, 10, d) for d in range(2, 8)]


def test_a_calendar_day_deadline_moved_onto_a_rest_day_ends_on_the_next_working_day():
    """民法典 第二百零三条: a period in days that ends on a rest day ends on the next working day."""
    d = Deadlines.defaults()
    due = end_of_day(date(2026, 4, 1))  # Wednesday + 11 days = Sunday 4-12
    assert china_date(d.extend_by_pause(due, PAUSED_FROM, RESUMED, working_days=False)) == date(2026, 4, 13)


def test_the_handling_clock_paused_over_spring_festival_gets_the_calendar_days_back(
        db, services, file_case, make_staff):
    """信访工作条例 第三十四条 (60 days of handling) with a 补正 pause over the 2026 Spring Festival:
    the deadline moves by the 11 days paused."""
    filed = file_case().case_id
    handler = make_staff("miit", Role.handler)
    with db.session_scope() as s:
        perform(s, at(services, beijing(2026, 1, 20)), handler, s.get(Case, filed), "accept")
        perform(s, at(services, PAUSED_FROM), handler, s.get(Case, filed), "request_info",
                public_text="请补充缴费凭证。")
    before = load(db, filed).due_at
    with db.session_scope() as s:
        perform(s, at(services, RESUMED), Actor.complainant(filed), s.get(Case, filed), "supply_info",
                public_text="凭证已上传。")
    case = load(db, filed)
    assert case.stage is Stage.handling
    assert (china_date(case.due_at) - china_date(before)).days == 11


# -- the transfer-objection window (信访工作条例 第二十三条第三款) --------------------------------------

def unit_id(db, code):
    with db.session_scope(write=False) as s:
        return s.scalar(select(Unit.id).where(Unit.code == code))


def transferred(db, services, file_case, make_staff, when):
    filed = file_case().case_id
    miit, mca, to = make_staff("miit", Role.handler), make_staff("mca", Role.handler), unit_id(db, "mca")
    with db.session_scope() as s:
        perform(s, at(services, when), miit, s.get(Case, filed), "transfer", unit_id=str(to),
                reason="other_unit_competent")
    return filed, mca


def send_back(db, services, case_id, actor, when):
    with db.session_scope() as s:
        perform(s, at(services, when), actor, s.get(Case, case_id), "send_back",
                internal_text="收费问题不属于登记管理机关职责。")


def test_transfer_objection_is_5_working_days_over_the_spring_festival(db, services, file_case, make_staff):
    """信访工作条例 第二十三条第三款: objection within 5 working days of receipt; received on
    2026-02-12 (Thursday), the 5th working day is 2026-02-26 (2-13, 2-14 调休, 2-24, 2-25, 2-26)."""
    filed, mca = transferred(db, services, file_case, make_staff, beijing(2026, 2, 12))
    with pytest.raises(MoveNotAllowed):
        send_back(db, services, filed, mca, beijing(2026, 2, 27))
    send_back(db, services, filed, mca, beijing(2026, 2, 26, 18))
    assert load(db, filed).unit_id == unit_id(db, "miit")


def test_transfer_objection_window_is_the_administrators_time_limit(db, services, file_case, make_staff, set_limit):
    """信访工作条例 第二十三条第三款 says 5 working days; the row on /admin/time-limits decides."""
    set_limit(Stage.transfer_objection, 2, True)
    filed, mca = transferred(db, services, file_case, make_staff, beijing(2026, 11, 23))  # Monday
    with pytest.raises(MoveNotAllowed) as refused:
        send_back(db, services, filed, mca, beijing(2026, 11, 26))  # Thursday: 3 working days on
    assert refused.value.message.params == {"n": 2}


def test_transfer_objection_window_follows_the_calendar_overrides(db, services, file_case, make_staff):
    """The objection window (信访工作条例 第二十三条第三款) counts on the calendar with the
    administrator's overrides: a day declared a rest day is not counted."""
    with db.session_scope() as s:
        s.add(CalendarOverride(day=date(2026, 11, 24), working=False, note="test: a late-announced rest day"))
    try:
        filed, mca = transferred(db, services, file_case, make_staff, beijing(2026, 11, 23))  # Monday
        # without the override the 5th working day is Monday 11-30; with it, Tuesday 12-01
        send_back(db, services, filed, mca, beijing(2026, 12, 1, 18))
        assert load(db, filed).unit_id == unit_id(db, "miit")
    finally:
        with db.session_scope() as s:
            s.delete(s.get(CalendarOverride, date(2026, 11, 24)))


def test_objection_deadline_without_a_session_uses_the_statutory_default():
    """A case in no session (a form being drawn) still gets the 5 working days."""
    from casework.workflow.handling import came_by_transfer

    case = Case(type=CaseType.complaint, transferred_from_unit_id=1,
                transferred_at=beijing(2026, 11, 23).astimezone(timezone.utc))
    assert came_by_transfer(case, beijing(2026, 11, 30, 18)) is None
    assert came_by_transfer(case, beijing(2026, 12, 1, 9)) is not None
    assert WorkingCalendar().add_working_days(date(2026, 11, 23), 5) == date(2026, 11, 30)


def test_material_asked_after_acceptance_and_not_supplied_leaves_the_case_accepted(db, services, file_case, make_staff):
    """不予受理 is a decision on acceptance (办法 第十五、十六条): a case accepted and then asked for
    material was closed as not accepted when the material did not come, holding both a 受理告知书
    and a 不予受理告知书. Now its handling goes on, the clock running again with the paused time
    added, and the complainant is told."""
    filed = file_case().case_id
    handler = make_staff("miit", Role.handler)
    asked = beijing(2026, 11, 27)
    with db.session_scope() as s:
        perform(s, at(services, asked - timedelta(days=1)), handler, s.get(Case, filed), "accept")
    with db.session_scope() as s:
        perform(s, at(services, asked), handler, s.get(Case, filed), "request_info",
                public_text="请补充缴费凭证和协会的收费通知。")
    paused = load(db, filed)
    due_before, info_due = paused.due_at, paused.info_due_at
    assert paused.resume_state is S.accepted
    report = sweep(db, at(services, info_due + timedelta(hours=1)))
    assert not report.errors
    case = load(db, filed)
    assert case.state is S.accepted and case.resume_state is None and case.paused_at is None
    assert case.due_at > due_before  # the time the clock stood still is added
    with db.session_scope(write=False) as s:
        event = s.scalars(select(Event).where(Event.case_id == filed).order_by(Event.id.desc())).first()
        assert event.kind is EventKind.resumed and event.data["move"] == "material_lapsed_handling_goes_on"
        assert "继续办理" in event.public_text
        kinds = [d.kind for d in s.scalars(select(CaseDocument).where(CaseDocument.case_id == filed))]
        assert Document.non_acceptance not in kinds
