"""Mediation in the domain: consent before anything starts, conflicted mediators kept
out, outcomes, and the time limit."""
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from casework.accounts.actor import Actor
from casework.accounts.models import Role
from casework.cases.models import Case, CaseState as S, Stage
from casework.cases.numbers import CHINA
from casework.context import Services
from casework.deadlines.sweep import sweep
from casework.mediation.models import MediationSession, Outcome
from casework.mediation.moves import respondent_code_hash
from casework.notify.models import OutboxChannel, OutboxMessage
from casework.workflow.machine import Forbidden, InvalidMove, MoveNotAllowed, available_moves, perform


# the 调解协议书's content (人民调解法 第二十九条)
AGREEMENT = dict(
    applicant_id="110101199001011237", applicant_address="北京市东城区示例路1号",
    respondent_id="91110000100000000R", respondent_address="上海市浦东新区示例大道8号", respondent_agent="法定代表人 李四",
    facts="被申请人拖欠申请人货款三十万元。", issues="被申请人应否支付所欠货款。", liability="被申请人应承担付款责任。",
    terms="一、被申请人支付货款三十万元。", performance_method="银行转账。", performance_due="2099-12-31")


def agree(db, services, coordinator, case_id, **changes):
    """Records the agreement, after holding a session if none was held (record_agreement's guard)."""
    with db.session_scope(write=False) as s:
        held = s.scalar(select(MediationSession.id).where(MediationSession.case_id == case_id, MediationSession.held))
    if held is None:
        hold_session(db, services, coordinator, case_id)
    act(db, services, coordinator, case_id, "record_agreement", **{**AGREEMENT, **changes})


def just_now() -> str:
    """This minute in Beijing, as the desk takes a session's time: a session that can be recorded
    as held at once (one still to come cannot be)."""
    return datetime.now(CHINA).strftime("%Y-%m-%d %H:%M")


def hold_session(db, services, coordinator, case_id, when=None):
    act(db, services, coordinator, case_id, "schedule_session", scheduled_at=when or just_now(), place="协会会议室")
    with db.session_scope(write=False) as s:
        session_id = s.scalar(select(MediationSession.id).where(MediationSession.case_id == case_id,
                                                                MediationSession.held.is_(False)))
    act(db, services, coordinator, case_id, "log_session", session_id=session_id, attendees="申请人、被申请人、调解员",
        summary="双方就付款期限交换意见。")


def at(services, when):
    return Services(settings=services.settings, cipher=services.cipher, files=services.files, clock=lambda: when)


@pytest.fixture
def mediation_id(mediation):
    return mediation.case_id


def act(db, services, actor, case_id, move, **fields):
    with db.session_scope() as s:
        ev = perform(s, services, actor, s.get(Case, case_id), move, **fields)
        return getattr(ev, "respondent_code", None)


def offered(db, actor, case_id) -> set[str]:
    with db.session_scope(write=False) as s:
        return {m.name for m in available_moves(actor, s.get(Case, case_id))}


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
    assert c.state is S.accepted and c.stage is Stage.mediation  # the 60 days run from acceptance
    assert c.mediation.respondent_code_hash == respondent_code_hash(services.settings.query_pepper, c.number, code)
    with db.session_scope(write=False) as s:
        invite = s.scalar(select(OutboxMessage).where(OutboxMessage.template == "respondent_invite"))
        assert invite is not None and code.encode() not in invite.payload_enc


def test_the_respondents_invitation_says_where_to_answer(db, services, mediation_id, make_staff, tmp_path):
    """The respondent has never seen the site: the SMS gives its address (CHANGTONG_BASE_URL) and
    the page to answer on, with the case number and the answer code (人民调解法 第十七条: the
    mediation waits for the respondent's answer)."""
    from casework.notify.channels import FileSink
    from casework.notify.dispatch import send_message
    from casework.notify.models import OutboxChannel

    code = act(db, services, make_staff("caam-mediation", Role.unit_lead), mediation_id, "accept_mediation")
    with db.session_scope(write=False) as s:
        invite_id = s.scalar(select(OutboxMessage.id).where(OutboxMessage.template == "respondent_invite"))
    sms = FileSink(tmp_path / "sms", services.cipher)
    assert send_message(db, services, invite_id, {OutboxChannel.sms: sms}) == "sent"
    [text] = [n["body"] for n in sms.delivered()]
    assert services.settings.base_url.startswith("http")
    assert f"请访问 {services.settings.base_url}/respond " in text
    assert code in text and case(db, mediation_id).number in text and "$" not in text


def test_no_mediation_without_consent_and_refusal_ends_it(db, services, mediation_id, make_staff):
    coordinator = make_staff("caam-mediation", Role.unit_lead)
    with pytest.raises(MoveNotAllowed):
        act(db, services, coordinator, mediation_id, "schedule_session", scheduled_at=just_now(), place="协会会议室")
    act(db, services, coordinator, mediation_id, "accept_mediation")
    with pytest.raises(Forbidden):  # the applicant cannot consent for the respondent
        act(db, services, Actor.complainant(mediation_id), mediation_id, "respondent_consent")
    act(db, services, Actor.respondent(mediation_id), mediation_id, "respondent_refuse", public_text="我方不同意调解。")
    c = case(db, mediation_id)
    assert c.state is S.mediation_failed and c.mediation.outcome is Outcome.refused


def test_the_60_days_run_from_acceptance_not_consent(db, services, mediation_id, make_staff):
    """市场监督管理投诉举报处理办法 (2026) 第二十三条第一款第五项: 自投诉受理之日起六十日内 … 未能达成
    调解协议 ends mediation, counted as 第四十五条 says (from the next day; a last day in a holiday
    moves to the first day after it): the clock starts when the body accepts, and the respondent's
    consent does not restart it. (The 暂行办法 it replaced on 2026-04-15 gave 45 working days.)"""
    from casework.deadlines.calendar import WorkingCalendar, china_date

    coordinator = make_staff("caam-mediation", Role.unit_lead)
    act(db, services, coordinator, mediation_id, "accept_mediation")
    accepted = case(db, mediation_id)
    start = china_date(accepted.stage_started_at)
    assert china_date(accepted.due_at) == WorkingCalendar().compute(start, 60, working_days=False).end
    assert (china_date(accepted.due_at) - start).days >= 60
    later = Services(settings=services.settings, cipher=services.cipher, files=services.files,
                     clock=lambda: accepted.stage_started_at + timedelta(days=3))
    act(db, later, Actor.respondent(mediation_id), mediation_id, "respondent_consent")
    c = case(db, mediation_id)
    assert c.state is S.mediating and c.stage is Stage.mediation and c.mediation.respondent_consented_at
    assert c.due_at == accepted.due_at and c.stage_started_at == accepted.stage_started_at


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
    with pytest.raises(InvalidMove) as both:  # a time in the past and no place: said together
        act(db, services, coordinator, mediation_id, "schedule_session", scheduled_at="2020-01-01 10:00", place="")
    assert set(both.value.errors) == {"scheduled_at", "place"}
    act(db, services, coordinator, mediation_id, "schedule_session", scheduled_at=just_now(), place="协会三楼会议室")
    with db.session_scope(write=False) as s:
        session_id = s.scalar(select(MediationSession.id).where(MediationSession.case_id == mediation_id))
    act(db, services, coordinator, mediation_id, "log_session", session_id=session_id, attendees="申请人、被申请人、调解员",
        summary="双方就付款期限交换意见。", internal_text="被申请人资金紧张")
    agree(db, services, coordinator, mediation_id)
    c = case(db, mediation_id)
    assert c.state is S.mediated and c.mediation.outcome is Outcome.agreement
    assert c.stage is None  # not in effect until signed: no 司法确认 clock yet
    with db.session_scope(write=False) as s:
        templates = sorted(m.template for m in s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == mediation_id)))
        assert templates.count("judicial_confirmation") == 0 and templates.count("mediation_ended") == 2


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


# -- 人民调解法 第十七条: the respondent's time to answer; silence is refusal -----------------------

def test_the_respondent_has_10_working_days_to_answer_and_silence_is_refusal(db, services, mediation_id, make_staff):
    """人民调解法 第十七条 (当事人一方明确拒绝调解的，不得调解): the respondent answers within the
    mediation_answer time limit (10 working days); the sweep ends a silent one as refused
    (mediation_no_answer) and the applicant is told the other routes."""
    from casework.deadlines.calendar import WorkingCalendar, china_date

    coordinator = make_staff("caam-mediation", Role.unit_lead)
    act(db, services, coordinator, mediation_id, "accept_mediation")
    c = case(db, mediation_id)
    due = c.mediation.answer_due_at
    assert china_date(due) == WorkingCalendar().add_working_days(china_date(c.stage_started_at), 10)
    with pytest.raises(MoveNotAllowed):  # not before the deadline
        act(db, services, Actor.system(), mediation_id, "mediation_no_answer")
    sweep(db, at(services, due - timedelta(hours=1)))
    assert case(db, mediation_id).state is S.accepted
    report = sweep(db, at(services, due + timedelta(hours=1)))
    c = case(db, mediation_id)
    assert c.state is S.mediation_failed and c.mediation.outcome is Outcome.refused and report.overdue == 0
    with db.session_scope(write=False) as s:
        ended = s.get(Case, mediation_id).events[-1]
        assert ended.data["move"] == "mediation_no_answer" and ended.data["silence"] is True
        assert "视为拒绝调解" in ended.public_text and "仲裁" in ended.public_text and "诉讼" in ended.public_text
        assert "投诉" in ended.public_text
        sms = [m.template for m in s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == mediation_id))]
        assert sms.count("mediation_ended") == 2


def test_the_answer_deadline_is_a_time_limit_row(db, services, mediation_id, make_staff):
    """The 10 working days are a setting (time limit mediation_answer), not a constant."""
    from casework.deadlines.calendar import WorkingCalendar, china_date
    from casework.deadlines.models import TimeLimit

    with db.session_scope() as s:
        row = s.scalar(select(TimeLimit).where(TimeLimit.stage == Stage.mediation_answer))
        if row is None:
            s.add(TimeLimit(case_type=None, stage=Stage.mediation_answer, amount=3, working_days=True, note="test"))
        else:
            row.amount = 3
    coordinator = make_staff("caam-mediation", Role.unit_lead)
    act(db, services, coordinator, mediation_id, "accept_mediation")
    c = case(db, mediation_id)
    assert china_date(c.mediation.answer_due_at) == WorkingCalendar().add_working_days(china_date(c.stage_started_at), 3)


# -- 人民调解法 第二十三条: either party may end mediation, or ask for a mediator's recusal -------

def test_either_party_may_end_mediation_at_any_time(db, services, mediation, make_staff):
    """人民调解法 第二十三条 (二) (接受调解、拒绝调解或者要求终止调解): the applicant ends it
    (even before the respondent answers), the respondent ends it once mediating; both are told
    the other routes, and a mediation ended this way may still become a complaint."""
    coordinator = make_staff("caam-mediation", Role.unit_lead)
    first = mediation.case_id
    act(db, services, coordinator, first, "accept_mediation")
    act(db, services, Actor.complainant(first), first, "end_mediation", public_text="我方决定起诉。")
    c = case(db, first)
    assert c.state is S.mediation_failed and c.mediation.outcome is Outcome.ended_by_party and c.stage is None
    with db.session_scope(write=False) as s:
        ended = s.get(Case, first).events[-1]
        assert ended.data["by"] == "applicant" and "我方决定起诉。" in ended.public_text and "仲裁" in ended.public_text


def test_the_respondent_may_end_mediation(db, services, mediation_id, make_staff):
    """人民调解法 第二十三条 (二): the respondent, too, may ask to end mediation once under way."""
    coordinator = make_staff("caam-mediation", Role.unit_lead)
    act(db, services, coordinator, mediation_id, "accept_mediation")
    with pytest.raises(MoveNotAllowed):  # before consenting it refuses instead
        act(db, services, Actor.respondent(mediation_id), mediation_id, "respondent_end_mediation")
    act(db, services, Actor.respondent(mediation_id), mediation_id, "respondent_consent")
    with pytest.raises(Forbidden):
        act(db, services, Actor.complainant(mediation_id), mediation_id, "respondent_end_mediation")
    act(db, services, Actor.respondent(mediation_id), mediation_id, "respondent_end_mediation")
    c = case(db, mediation_id)
    assert c.state is S.mediation_failed and c.mediation.outcome is Outcome.ended_by_party


def test_a_recusal_request_suspends_mediation_until_the_coordinator_decides(db, services, mediation_id, make_staff):
    """办法 第十九条 (回避申请 … 中止调解，并作出是否回避的决定) and 人民调解法 第二十三条 (一): a
    party's request pauses the clock and blocks sessions and outcomes; the coordinator's decision
    (granted: the mediator steps aside) restarts the clock with the paused days added."""
    from casework.deadlines.calendar import china_date

    coordinator = make_staff("caam-mediation", Role.unit_lead)
    mediator = make_staff("caam-mediation", Role.handler)
    act(db, services, coordinator, mediation_id, "accept_mediation")
    act(db, services, Actor.respondent(mediation_id), mediation_id, "respondent_consent")
    act(db, services, coordinator, mediation_id, "assign", handler_id=mediator.user_id)
    before = case(db, mediation_id)
    start = before.stage_started_at
    act(db, at(services, start + timedelta(days=1)), Actor.respondent(mediation_id), mediation_id,
        "respondent_request_recusal", public_text="调解员王某系申请人亲属。")
    c = case(db, mediation_id)
    assert c.paused_at is not None and c.mediation.recusal_requested_by == "respondent"
    with pytest.raises(MoveNotAllowed):  # one request at a time
        act(db, services, Actor.complainant(mediation_id), mediation_id, "request_recusal", public_text="另一请求。")
    with pytest.raises(MoveNotAllowed):  # suspended: no session, no outcome
        act(db, services, coordinator, mediation_id, "schedule_session", scheduled_at="2099-12-03 10:00", place="会议室")
    with pytest.raises(MoveNotAllowed):
        agree(db, services, coordinator, mediation_id)
    with pytest.raises(MoveNotAllowed):  # not lifted by the appraisal's restart either
        act(db, services, coordinator, mediation_id, "resume_mediation")
    # past the mediation deadline while suspended: the sweep does not end it
    sweep(db, at(services, before.due_at + timedelta(days=1)))
    assert case(db, mediation_id).state is S.mediating
    with pytest.raises(InvalidMove):  # granted needs the mediator
        act(db, at(services, start + timedelta(days=15)), coordinator, mediation_id, "decide_recusal",
            decision="granted", public_text="回避申请成立，更换调解员。")
    act(db, at(services, start + timedelta(days=15)), coordinator, mediation_id, "decide_recusal",
        decision="granted", user_id=mediator.user_id, public_text="回避申请成立，更换调解员。")
    c = case(db, mediation_id)
    assert c.paused_at is None and c.mediation.recusal_requested_at is None and c.handler_id is None
    assert china_date(c.due_at) > china_date(before.due_at)  # the suspended days are added
    with db.session_scope(write=False) as s:
        from casework.mediation.models import MediatorRecusal

        assert s.scalar(select(MediatorRecusal.user_id).where(MediatorRecusal.case_id == mediation_id)) == mediator.user_id


def test_a_refused_recusal_restarts_mediation_with_the_same_mediator(db, services, mediation_id, make_staff):
    """办法 第十九条: the coordinator may refuse; mediation goes on."""
    coordinator = make_staff("caam-mediation", Role.unit_lead)
    act(db, services, coordinator, mediation_id, "accept_mediation")
    act(db, services, Actor.respondent(mediation_id), mediation_id, "respondent_consent")
    act(db, services, Actor.complainant(mediation_id), mediation_id, "request_recusal", public_text="调解员态度偏颇。")
    act(db, services, coordinator, mediation_id, "decide_recusal", decision="refused", public_text="经审查，不存在应当回避的情形。")
    c = case(db, mediation_id)
    assert c.paused_at is None and c.handler_id == coordinator.user_id
    act(db, services, coordinator, mediation_id, "schedule_session", scheduled_at="2099-12-03 10:00", place="协会会议室")


# -- 办法 (2026) 第二十二条: appraisal and testing are not counted in the 60 days ----------------

def test_testing_or_appraisal_time_is_not_counted(db, services, mediation_id, make_staff):
    """办法 (2026) 第二十二条 (鉴定、检测所需时间不计算在调解期限内)."""
    from casework.deadlines.calendar import china_date

    coordinator = make_staff("caam-mediation", Role.unit_lead)
    act(db, services, coordinator, mediation_id, "accept_mediation")
    act(db, services, Actor.respondent(mediation_id), mediation_id, "respondent_consent")
    with pytest.raises(Forbidden):  # the complaint's pause is not for mediation
        act(db, services, coordinator, mediation_id, "suspend", public_text="送检")
    before = case(db, mediation_id)
    act(db, services, coordinator, mediation_id, "suspend_mediation", public_text="委托检测机构鉴定零部件质量。")
    assert case(db, mediation_id).paused_at is not None
    act(db, at(services, before.stage_started_at + timedelta(days=14)), coordinator, mediation_id, "resume_mediation",
        public_text="鉴定结论已出。")
    c = case(db, mediation_id)
    assert c.paused_at is None and china_date(c.due_at) > china_date(before.due_at)


# -- 第二十九、三十三条: the agreement takes effect when signed; 司法确认 30 days from then ---------

def test_an_agreement_follows_a_held_session(db, services, mediation_id, make_staff):
    """A product rule (人民调解法 names no such step): no agreement while the only session is
    still to come; once it is logged as held, the agreement can be recorded."""
    coordinator = make_staff("caam-mediation", Role.unit_lead)
    act(db, services, coordinator, mediation_id, "accept_mediation")
    act(db, services, Actor.respondent(mediation_id), mediation_id, "respondent_consent")
    with pytest.raises(MoveNotAllowed) as exc:
        act(db, services, coordinator, mediation_id, "record_agreement", **AGREEMENT)
    assert "held session" in exc.value.message.msgid
    act(db, services, coordinator, mediation_id, "schedule_session", scheduled_at="2099-12-03 10:00", place="协会会议室")
    with pytest.raises(MoveNotAllowed):
        act(db, services, coordinator, mediation_id, "record_agreement", **AGREEMENT)
    with db.session_scope(write=False) as s:
        future = s.scalar(select(MediationSession.id).where(MediationSession.case_id == mediation_id))
    # a session still to come cannot be recorded as held: with no other, the move is not offered at all
    assert "log_session" not in offered(db, coordinator, mediation_id)
    with pytest.raises(MoveNotAllowed) as exc:
        act(db, services, coordinator, mediation_id, "log_session", session_id=future, attendees="申请人、被申请人",
            summary="双方达成一致。")
    assert "once it has taken place" in exc.value.message.msgid
    # nor can one be set for a past day (a typo), while one earlier today (set after the fact) can
    with pytest.raises(InvalidMove) as exc:
        act(db, services, coordinator, mediation_id, "schedule_session", scheduled_at="2026-11-01 10:00", place="会议室")
    assert "scheduled_at" in exc.value.errors
    act(db, services, coordinator, mediation_id, "schedule_session", scheduled_at=just_now(), place="协会会议室")
    with db.session_scope(write=False) as s:
        session_id = s.scalar(select(MediationSession.id).where(MediationSession.case_id == mediation_id,
                                                                MediationSession.id != future))
    # once one's time has come the move is offered; the one still to come is still refused, by its field
    assert "log_session" in offered(db, coordinator, mediation_id)
    with pytest.raises(InvalidMove) as exc:
        act(db, services, coordinator, mediation_id, "log_session", session_id=future, attendees="申请人、被申请人",
            summary="双方达成一致。")
    assert "session_id" in exc.value.errors
    act(db, services, coordinator, mediation_id, "log_session", session_id=session_id, attendees="申请人、被申请人",
        summary="双方达成一致。")
    act(db, services, coordinator, mediation_id, "record_agreement", **AGREEMENT)
    assert case(db, mediation_id).state is S.mediated


def test_the_agreement_needs_its_article_29_contents(db, services, mediation_id, make_staff):
    """人民调解法 第二十九条: the particulars, the dispute items and responsibility, and the
    performance method and deadline are required; the particulars are stored encrypted."""
    from casework.mediation.moves import particulars

    coordinator = make_staff("caam-mediation", Role.unit_lead)
    act(db, services, coordinator, mediation_id, "accept_mediation")
    act(db, services, Actor.respondent(mediation_id), mediation_id, "respondent_consent")
    with pytest.raises(InvalidMove) as exc:
        agree(db, services, coordinator, mediation_id, applicant_id="", respondent_address="", issues="",
              liability="", performance_method="", performance_due="")
    assert {"applicant_id", "respondent_address", "issues", "liability", "performance_method"} <= set(exc.value.errors)
    with pytest.raises(InvalidMove) as exc:
        agree(db, services, coordinator, mediation_id, performance_due="下个月")
    assert "performance_due" in exc.value.errors
    # the parties' numbers go into a binding agreement: an 18-character one must check out (GB 11643
    # resident ID, GB 32100 credit code), anything else must look like a document's number; every
    # problem is said at once
    with pytest.raises(InvalidMove) as exc:
        agree(db, services, coordinator, mediation_id, applicant_id="110101199001011234", respondent_id="abcdef",
              performance_due="下个月")
    assert set(exc.value.errors) == {"applicant_id", "respondent_id", "performance_due"}
    # and with the fields' own errors, not a send later (a missing address came first, the checksum next)
    with pytest.raises(InvalidMove) as exc:
        agree(db, services, coordinator, mediation_id, applicant_id="110101199001011234", respondent_address="",
              performance_due="2020-01-01")
    assert {"applicant_id", "respondent_address", "performance_due"} <= set(exc.value.errors)
    from casework.mediation.moves import party_id_problem
    for passport in ("E12345678", "A123456(7)"):  # a passport, a Hong Kong identity card
        assert party_id_problem(passport) is None
    agree(db, services, coordinator, mediation_id)
    with db.session_scope(write=False) as s:
        med = s.get(Case, mediation_id).mediation
        assert b"110101199001011237" not in med.particulars_enc
        assert particulars(services, med)["respondent_id"] == "91110000100000000R"
        assert med.performance_due == date(2099, 12, 31) and med.issues and med.liability


def test_judicial_confirmation_runs_from_the_signing_date(db, services, mediation_id, make_staff):
    """人民调解法 第二十九条 (生效: the parties sign, seal or fingerprint, the mediator signs and the
    body seals) and 第三十三条 (自调解协议生效之日起三十日内 … 申请司法确认): a staff move records
    the signing date, and the 30 days count from it, not from recording the agreement."""
    from casework.cases.numbers import CHINA
    from casework.deadlines.calendar import china_date

    coordinator = make_staff("caam-mediation", Role.unit_lead)
    act(db, services, coordinator, mediation_id, "accept_mediation")
    act(db, services, Actor.respondent(mediation_id), mediation_id, "respondent_consent")
    agree(db, services, coordinator, mediation_id)
    today = china_date(services.clock())
    with pytest.raises(InvalidMove):  # the signatures and seal must be confirmed
        act(db, services, coordinator, mediation_id, "record_signing", signed_on=today.isoformat())
    with pytest.raises(InvalidMove) as both:  # a date before the agreement and no confirmation: together
        act(db, services, coordinator, mediation_id, "record_signing", signed_on=(today - timedelta(days=30)).isoformat())
    assert set(both.value.errors) == {"signed_on", "confirmed"}
    with pytest.raises(InvalidMove):  # not in the future
        act(db, services, coordinator, mediation_id, "record_signing", signed_on=(today + timedelta(days=2)).isoformat(),
            confirmed="1")
    act(db, at(services, services.clock() + timedelta(days=3)), coordinator, mediation_id, "record_signing",
        signed_on=today.isoformat(), confirmed="1")
    c = case(db, mediation_id)
    assert c.mediation.signed_on == today and c.stage is Stage.judicial_confirmation
    assert c.stage_started_at.astimezone(CHINA).date() == today
    assert china_date(c.due_at) == today + timedelta(days=30)
    with pytest.raises(MoveNotAllowed):  # once
        act(db, services, coordinator, mediation_id, "record_signing", signed_on=today.isoformat(), confirmed="1")
    with db.session_scope(write=False) as s:
        templates = [m.template for m in s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == mediation_id))]
        assert templates.count("judicial_confirmation") == 2


def test_an_oral_agreement_before_a_peoples_mediation_committee_takes_effect_when_reached(
        db, services, mediation_id, make_staff):
    """人民调解法 第二十八条 (当事人认为无需制作调解协议书的，可以采取口头协议方式，人民调解员应当记录协议内容)
    and 第三十条 (口头调解协议自各方当事人达成协议之日起生效): before a 人民调解委员会 the mediator records
    what was agreed; no 调解协议书 is made and nothing waits for signatures; the 30 days for 司法确认
    (第三十三条) run from the day it was reached. Any other mediation body records a written one."""
    from casework.deadlines.calendar import china_date
    from casework.registry.models import Unit

    coordinator = make_staff("caam-mediation", Role.unit_lead)
    act(db, services, coordinator, mediation_id, "accept_mediation")
    act(db, services, Actor.respondent(mediation_id), mediation_id, "respondent_consent")
    hold_session(db, services, coordinator, mediation_id)
    oral = dict(terms="一、被申请人于本月底前支付货款三十万元。", performance_method="银行转账。", confirmed="1")
    with pytest.raises(MoveNotAllowed):  # not a 人民调解委员会: a written agreement only
        act(db, services, coordinator, mediation_id, "record_oral_agreement", **oral)
    with db.session_scope() as s:
        s.scalar(select(Unit).where(Unit.code == "caam-mediation")).people_mediation_committee = True
    with pytest.raises(InvalidMove) as refused:  # the parties' choice of the oral form is confirmed
        act(db, services, coordinator, mediation_id, "record_oral_agreement", **{**oral, "confirmed": ""})
    assert set(refused.value.errors) == {"confirmed"}
    act(db, services, coordinator, mediation_id, "record_oral_agreement", **oral, performance_due="2099-12-31")
    c = case(db, mediation_id)
    today = china_date(services.clock())
    assert c.state is S.mediated and c.mediation.outcome is Outcome.agreement and c.mediation.oral_agreement
    assert c.mediation.terms == oral["terms"] and c.mediation.agreement_key is None  # no 调解协议书
    assert c.mediation.signed_on == today and c.stage is Stage.judicial_confirmation
    assert china_date(c.due_at) == today + timedelta(days=30)
    assert c.mediation.followup_due is not None and c.mediation.followup_due > date(2099, 12, 31)
    with pytest.raises(MoveNotAllowed):  # nothing to sign
        act(db, services, coordinator, mediation_id, "record_signing", signed_on=today.isoformat(), confirmed="1")
    with db.session_scope(write=False) as s:
        templates = [m.template for m in s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == mediation_id))]
    assert templates.count("judicial_confirmation") == 2 and templates.count("mediation_ended") == 2


# -- 第三十一条: the follow-up on performance (回访) ---------------------------------------------

def test_a_followup_is_scheduled_after_the_performance_deadline_and_recorded(db, services, mediation_id, make_staff):
    """人民调解法 第三十一条 (人民调解委员会应当对调解协议的履行情况进行监督): the follow-up falls
    due 5 working days (time limit performance_followup) after the performance deadline; the sweep
    reminds the body once; the outcome is recorded by a staff move."""
    from casework.deadlines.calendar import WorkingCalendar, china_date
    from casework.cases.numbers import CHINA
    from datetime import datetime, time

    coordinator = make_staff("caam-mediation", Role.unit_lead)
    act(db, services, coordinator, mediation_id, "accept_mediation")
    act(db, services, Actor.respondent(mediation_id), mediation_id, "respondent_consent")
    perform_by = china_date(services.clock()) + timedelta(days=20)
    agree(db, services, coordinator, mediation_id, performance_due=perform_by.isoformat())
    with pytest.raises(MoveNotAllowed):  # not before the agreement is in effect
        act(db, services, coordinator, mediation_id, "record_followup", performance="performed")
    act(db, services, coordinator, mediation_id, "record_signing", signed_on=china_date(services.clock()).isoformat(),
        confirmed="1")
    due = case(db, mediation_id).mediation.followup_due
    assert due == WorkingCalendar().add_working_days(perform_by, 5)
    sweep(db, at(services, datetime.combine(due - timedelta(days=1), time(12), tzinfo=CHINA)))
    assert not case(db, mediation_id).mediation.followup_reminded
    when = datetime.combine(due, time(12), tzinfo=CHINA)
    sweep(db, at(services, when))
    sweep(db, at(services, when + timedelta(hours=1)))  # once
    with db.session_scope(write=False) as s:
        reminders = [e for e in s.get(Case, mediation_id).events if (e.data or {}).get("stage") == "performance_followup"]
        assert len(reminders) == 1
    with pytest.raises(InvalidMove):
        act(db, services, coordinator, mediation_id, "record_followup", performance="maybe")
    act(db, services, coordinator, mediation_id, "record_followup", performance="partly",
        internal_text="被申请人已付二十万元，余款承诺月底付清。")
    med = case(db, mediation_id).mediation
    assert med.performance.value == "partly" and med.followed_up_at is not None


# -- the parties are told of a session -----------------------------------------------------------

def _sent_sms(db, services, tmp_path, template):
    """Dispatches the case notices of ``template`` through a file sink: their delivered texts."""
    from casework.notify.channels import FileSink
    from casework.notify.dispatch import send_message
    from casework.notify.models import OutboxChannel

    with db.session_scope(write=False) as s:
        ids = list(s.scalars(select(OutboxMessage.id).where(OutboxMessage.template == template)))
    sms = FileSink(tmp_path / f"sms-{template}", services.cipher)
    for mid in ids:
        assert send_message(db, services, mid, {OutboxChannel.sms: sms}) == "sent"
    return sms.delivered()


def test_both_parties_are_told_the_date_time_and_place_of_a_mediation_session(
        db, services, mediation_id, make_staff, tmp_path, caplog):
    """schedule_session puts one SMS per party into the outbox in the move's transaction: the case
    number, the date and time in Beijing time as the mediator set it, the place, and where to look
    (人民调解法 sets no notice period for a session; the platform tells the parties at once). Nothing of
    the parties is logged."""
    import logging

    coordinator = make_staff("caam-mediation", Role.unit_lead)
    act(db, services, coordinator, mediation_id, "accept_mediation")
    act(db, services, Actor.respondent(mediation_id), mediation_id, "respondent_consent")
    with pytest.raises(InvalidMove):  # a refused move queues nothing
        act(db, services, coordinator, mediation_id, "schedule_session", scheduled_at="下周三", place="协会会议室")
    with db.session_scope(write=False) as s:
        assert s.scalar(select(OutboxMessage.id).where(OutboxMessage.template == "mediation_session")) is None
    caplog.set_level(logging.DEBUG)
    act(db, services, coordinator, mediation_id, "schedule_session", scheduled_at="2099-12-03 09:30", place="协会三楼第二会议室")
    c = case(db, mediation_id)
    with db.session_scope(write=False) as s:
        queued = list(s.scalars(select(OutboxMessage).where(OutboxMessage.template == "mediation_session")))
        recipients = sorted(services.cipher.decrypt_text(m.recipient_enc, "outbox.recipient") for m in queued)
        assert recipients == ["13800138000", "13900139000"]  # the applicant's proved number, the respondent's
        assert {m.locale for m in queued} == {c.locale} and {m.case_id for m in queued} == {mediation_id}
    texts = [n["body"] for n in _sent_sms(db, services, tmp_path, "mediation_session")]
    assert len(texts) == 2
    for text in texts:
        # 09:30 in Beijing is 01:30 UTC: the text says the time the mediator set, in Beijing time
        assert f"调解案件 {c.number} 的调解会议定于 2099-12-03 09:30（北京时间）举行，地点：协会三楼第二会议室。" in text
        assert f"{services.settings.base_url}/track" in text and f"{services.settings.base_url}/respond" in text
        assert "$" not in text
    for personal in ("13800138000", "13900139000", "张三", "协会三楼第二会议室"):
        assert personal not in caplog.text
    # each session is its own notice; the same session is not announced twice
    act(db, services, coordinator, mediation_id, "schedule_session", scheduled_at="2099-12-10 14:00", place="线上", online=True)
    with db.session_scope(write=False) as s:
        assert len(list(s.scalars(select(OutboxMessage.id).where(OutboxMessage.template == "mediation_session")))) == 4


def test_the_respondent_is_told_in_chinese_when_the_applicant_filed_in_english(db, services, mediation_id, make_staff):
    """The applicant chose English by filing in it; the respondent, a company in China that never
    chose a language, got its invitation and the session notice in English too. The respondent is
    told in the platform's language, the applicant in the case's."""
    from sqlalchemy import update

    with db.session_scope() as s:
        s.execute(update(Case).where(Case.id == mediation_id).values(locale="en"))
    coordinator = make_staff("caam-mediation", Role.unit_lead)
    act(db, services, coordinator, mediation_id, "accept_mediation")
    act(db, services, Actor.respondent(mediation_id), mediation_id, "respondent_consent")
    act(db, services, coordinator, mediation_id, "schedule_session", scheduled_at="2099-12-03 09:30", place="协会会议室")
    with db.session_scope(write=False) as s:
        told = {(m.template, services.cipher.decrypt_text(m.recipient_enc, "outbox.recipient"), m.locale)
                for m in s.scalars(select(OutboxMessage).where(OutboxMessage.channel == OutboxChannel.sms,
                                                               OutboxMessage.case_id == mediation_id))}
    assert ("respondent_invite", "13900139000", "zh_CN") in told
    assert {("mediation_session", "13800138000", "en"), ("mediation_session", "13900139000", "zh_CN")} <= told


def test_a_session_notice_reads_in_english_for_an_english_case():
    from casework.notify.templates import render

    subject, body = render("mediation_session", "en", {"case_number": "TJ1", "session_time": "2099-12-03 09:30",
                                                       "place": "Room 2"}, site="https://ct.example.org")
    assert subject == "Mediation session scheduled"
    assert "case TJ1 is set for 2099-12-03 09:30 (Beijing time), place: Room 2." in body
    assert "https://ct.example.org/track" in body and "https://ct.example.org/respond" in body


def test_an_invitation_text_saved_without_the_site_address_is_not_sent(db, services, mediation_id, make_staff,
                                                                         tmp_path):
    """An administrator's invitation saved before the address was required (without $site) is set
    aside: the respondent, who has never seen the site, gets the default text with the address."""
    from casework.notify.templates import NoticeTemplate

    with db.session_scope() as s:  # as it was saved before the rule
        s.add(NoticeTemplate(template="respondent_invite", locale="zh_CN", subject="调解邀请",
                             body="【调解中心】案件 $case_number，答复码 $respondent_code，请答复。"))
    code = act(db, services, make_staff("caam-mediation", Role.unit_lead), mediation_id, "accept_mediation")
    [text] = [n["body"] for n in _sent_sms(db, services, tmp_path, "respondent_invite")]
    assert "【调解中心】" not in text and code in text
    assert f"请访问 {services.settings.base_url}/respond " in text
