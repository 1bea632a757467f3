"""Mediation in the domain: consent before anything starts, conflicted mediators kept
out, outcomes, and the time limit."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from casework.accounts.actor import Actor
from casework.accounts.models import Role
from casework.cases.models import Case, CaseState as S, Stage
from casework.context import Services
from casework.deadlines.sweep import sweep
from casework.mediation.models import MediationSession, Outcome
from casework.mediation.moves import respondent_code_hash
from casework.notify.models import OutboxMessage
from casework.workflow.machine import Forbidden, InvalidMove, MoveNotAllowed, perform


@pytest.fixture
def mediation_id(mediation):
    return mediation.case_id


def act(db, services, actor, case_id, move, **fields):
    with db.session_scope() as s:
        ev = perform(s, services, actor, s.get(Case, case_id), move, **fields)
        return getattr(ev, "respondent_code", None)


def case(db, case_id):
    with db.session_scope(write=False) as s:
        c = s.get(Case, case_id)
        c.mediation  # load
        return c


def test_accepting_gives_the_respondent_a_code_of_its_own(db, services, mediation_id, make_staff):
    coordinator = make_staff("caam-mediation", Role.unit_lead)
    with pytest.raises(Forbidden):  # the ordinary accept is not for mediation
        act(db, services, coordinator, mediation_id, "accept")
    code = act(db, services, coordinator, mediation_id, "accept_mediation")
    c = case(db, mediation_id)
    assert c.state is S.accepted and c.stage is None  # no clock until consent
    assert c.mediation.respondent_code_hash == respondent_code_hash(services.settings.query_pepper, c.number, code)
    with db.session_scope(write=False) as s:
        invite = s.scalar(select(OutboxMessage).where(OutboxMessage.template == "respondent_invite"))
        assert invite is not None and code.encode() not in invite.payload_enc


def test_no_mediation_without_consent_and_refusal_ends_it(db, services, mediation_id, make_staff):
    coordinator = make_staff("caam-mediation", Role.unit_lead)
    with pytest.raises(MoveNotAllowed):
        act(db, services, coordinator, mediation_id, "schedule_session", scheduled_at="2026-12-03 10:00", place="协会会议室")
    act(db, services, coordinator, mediation_id, "accept_mediation")
    with pytest.raises(Forbidden):  # the applicant cannot consent for the respondent
        act(db, services, Actor.complainant(mediation_id), mediation_id, "respondent_consent")
    act(db, services, Actor.respondent(mediation_id), mediation_id, "respondent_refuse", public_text="我方不同意调解。")
    c = case(db, mediation_id)
    assert c.state is S.mediation_failed and c.mediation.outcome is Outcome.refused


def test_consent_starts_the_45_working_day_clock(db, services, mediation_id, make_staff):
    coordinator = make_staff("caam-mediation", Role.unit_lead)
    act(db, services, coordinator, mediation_id, "accept_mediation")
    act(db, services, Actor.respondent(mediation_id), mediation_id, "respondent_consent")
    c = case(db, mediation_id)
    assert c.state is S.mediating and c.stage is Stage.mediation and c.mediation.respondent_consented_at
    from casework.deadlines.calendar import WorkingCalendar, china_date

    assert china_date(c.due_at) == WorkingCalendar().add_working_days(china_date(c.stage_started_at), 45)


def test_a_recused_mediator_cannot_be_assigned(db, services, mediation_id, make_staff):
    coordinator = make_staff("caam-mediation", Role.unit_lead)
    mediator = make_staff("caam-mediation", Role.handler)
    act(db, services, coordinator, mediation_id, "accept_mediation")
    act(db, services, coordinator, mediation_id, "recuse", user_id=mediator.user_id, internal_text="系被申请人股东的亲属")
    with pytest.raises(InvalidMove) as exc:
        act(db, services, coordinator, mediation_id, "assign", handler_id=mediator.user_id)
    assert "handler_id" in exc.value.errors
    with pytest.raises(InvalidMove):  # someone outside the body cannot be recused or assigned either
        act(db, services, coordinator, mediation_id, "recuse", user_id=make_staff("miit", Role.handler).user_id,
            internal_text="无关")


def test_sessions_then_agreement_and_the_reminders(db, services, mediation_id, make_staff):
    coordinator = make_staff("caam-mediation", Role.unit_lead)
    act(db, services, coordinator, mediation_id, "accept_mediation")
    act(db, services, coordinator, mediation_id, "record_consent", public_text="被申请人电话表示同意。")
    with pytest.raises(InvalidMove):
        act(db, services, coordinator, mediation_id, "schedule_session", scheduled_at="下周三", place="协会会议室")
    act(db, services, coordinator, mediation_id, "schedule_session", scheduled_at="2026-12-03 10:00", place="协会三楼会议室")
    with db.session_scope(write=False) as s:
        session_id = s.scalar(select(MediationSession.id).where(MediationSession.case_id == mediation_id))
    act(db, services, coordinator, mediation_id, "log_session", session_id=session_id, attendees="申请人、被申请人、调解员",
        summary="双方就付款期限交换意见。", internal_text="被申请人资金紧张")
    with pytest.raises(InvalidMove):
        act(db, services, coordinator, mediation_id, "record_agreement", facts="", terms="")
    act(db, services, coordinator, mediation_id, "record_agreement",
        facts="被申请人拖欠申请人货款三十万元。", terms="一、被申请人于2026年12月31日前支付货款三十万元。")
    c = case(db, mediation_id)
    assert c.state is S.mediated and c.mediation.outcome is Outcome.agreement
    assert c.stage is Stage.judicial_confirmation
    with db.session_scope(write=False) as s:
        templates = sorted(m.template for m in s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == mediation_id)))
        assert templates.count("judicial_confirmation") == 2 and templates.count("mediation_ended") == 2


def test_mediation_past_its_limit_ends_without_agreement(db, services, mediation_id, make_staff):
    coordinator = make_staff("caam-mediation", Role.unit_lead)
    act(db, services, coordinator, mediation_id, "accept_mediation")
    act(db, services, Actor.respondent(mediation_id), mediation_id, "respondent_consent")
    due = case(db, mediation_id).due_at
    later = Services(settings=services.settings, cipher=services.cipher, files=services.files,
                     clock=lambda: due + timedelta(hours=1))
    report = sweep(db, later)
    c = case(db, mediation_id)
    assert c.state is S.mediation_failed and c.mediation.outcome is Outcome.timed_out
    assert report.overdue == 0  # ended, not flagged overdue
