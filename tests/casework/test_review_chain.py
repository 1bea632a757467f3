"""Review (复查) and re-review (复核) up the chain, their windows, and reports handled as
reports. Each test names the article it follows."""
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from casework.accounts.actor import Actor
from casework.accounts.models import Role
from casework.cases.models import Case, CaseState as S, EventKind, Stage
from casework.context import Services
from casework.notify.models import OutboxMessage
from casework.registry.models import Association, Unit
from casework.workflow import machine
from casework.workflow.machine import Forbidden, InvalidMove, MoveNotAllowed
from tests.conftest import BASIS

REPLY = "经核查，协会已退还多收的会费，并停止强制入会的做法。"
SICHUAN_FOOD = "四川省食品工业协会"  # its main industry department: 四川省经济和信息化厅 (sc-economy-it)


def at(services, days):
    return Services(settings=services.settings, cipher=services.cipher, files=services.files,
                    clock=lambda: services.clock() + timedelta(days=days))


@pytest.fixture
def do(db, services):
    def run(actor, case_id, move, svc=None, **fields):
        with db.session_scope() as s:
            machine.perform(s, svc or services, actor, s.get(Case, case_id), move, **fields)
            c = s.get(Case, case_id)
            return c.state, c.unit.code if c.unit else None
    return run


def moves(db, actor, case_id, now=None):
    with db.session_scope(write=False) as s:
        return {m.name for m in machine.available_moves(actor, s.get(Case, case_id), now)}


@pytest.fixture
def sichuan_complaint(db, file_case):
    with db.session_scope(write=False) as s:
        code = s.scalar(select(Association.credit_code).where(Association.name == SICHUAN_FOOD))
    return file_case(association=code).case_id


def test_a_review_decides_the_request_again_and_a_request_it_supports_is_carried_out(
        db, services, sichuan_complaint, make_staff, do):
    """信访工作条例（2022）第三十五条: the review body gives its own 复查意见; 第三十二条: an opinion is one
    of the three (支持, 解释说明, 不予支持) with the laws it rests on, and a supported request is carried
    out (第三十二条第二款). A review that supports what the reply did not makes the request
    supported: the status shows it, the 复查意见书 says it, and the unit reports on carrying it out."""
    from casework.documents.kinds import Document
    from tests.casework.test_documents import last

    case = sichuan_complaint
    province, ministry = make_staff("sc-economy-it", Role.handler), make_staff("miit", Role.handler)
    complainant = Actor.complainant(case)
    do(province, case, "accept")
    do(province, case, "reply", opinion="not_supported", legal_basis=BASIS, public_text=REPLY, finding="not_substantiated")
    assert "record_execution" not in moves(db, province, case)  # nothing to carry out
    do(complainant, case, "request_review", public_text="答复没有解决问题，请复查。")
    with pytest.raises(InvalidMove) as refused:  # the review must say what it decides, and on what
        do(ministry, case, "decide_review", public_text="经复查，原处理意见认定事实不清。")
    assert set(refused.value.errors) == {"opinion", "legal_basis"}
    do(ministry, case, "decide_review", opinion="supported", legal_basis="《社会团体登记管理条例》第三十条",
       public_text="经复查，原处理意见认定事实不清，现予以纠正。")
    with db.session_scope(write=False) as s:
        c = s.get(Case, case)
        assert c.opinion.value == "supported"
        assert c.finding is None  # the reply's 不属实 does not stand beside the review's support
        decided = [e for e in c.events if e.kind is EventKind.review_decided][-1]
        assert (decided.data["opinion"], decided.data["previous_opinion"]) == ("supported", "not_supported")
    text = last(db, services, case, Document.review_opinion)
    assert "复查意见书" in text and "一、复查意见" in text
    assert "经审查，您的请求事实清楚，符合法律、法规、规章或者其他有关规定，予以支持。" in text
    assert "《社会团体登记管理条例》第三十条" in text and "本意见书依照《信访工作条例》第三十五条、第三十六条作出" in text
    assert "record_execution" in moves(db, ministry, case)


def test_review_goes_one_level_up_and_re_review_one_more_never_back_to_the_unit_that_decided(
        db, services, sichuan_complaint, make_staff, do):
    """信访工作条例（2022）第三十五条: 复查 by the body one level above the unit that replied;
    第三十六条: 复核 by the level above the reviewing body, final."""
    case = sichuan_complaint
    province, ministry, top = (make_staff(code, Role.handler) for code in ("sc-economy-it", "miit", "swd-central"))
    complainant = Actor.complainant(case)
    do(province, case, "accept")
    assert do(province, case, "reply", opinion="supported", legal_basis=BASIS, public_text=REPLY) == (S.replied, "sc-economy-it")
    assert do(complainant, case, "request_review", public_text="答复没有解决问题，请复查。") == (S.under_review, "miit")
    with pytest.raises(Forbidden):  # the unit that replied no longer decides anything on it
        do(province, case, "decide_review", opinion="supported", legal_basis=BASIS, public_text="维持原处理意见。经复查，事实清楚。")
    assert do(ministry, case, "decide_review", opinion="supported", legal_basis=BASIS, public_text="经复查，维持原处理意见，理由如下。") == (S.replied, "miit")
    with db.session_scope(write=False) as s:
        c = s.get(Case, case)
        assert c.stage is Stage.review_request  # 30 days to ask for 复核
    assert do(complainant, case, "request_review", public_text="对复查意见不服，请求复核。") == (S.under_re_review, "swd-central")
    assert do(top, case, "decide_review", opinion="supported", legal_basis=BASIS, public_text="经复核，维持复查意见。本意见为最终意见。") == (S.closed, "swd-central")
    assert "request_review" not in moves(db, complainant, case)


class Mailbox:
    """A channel that keeps what it is given."""

    def __init__(self):
        self.sent = []

    def send(self, notice) -> None:
        self.sent.append(notice)


def unit_mail(db, services, template="review_decided_unit") -> dict[str, tuple[str, str]]:
    """The outbox's messages due now sent, and those of ``template``: mailbox -> (subject, body)."""
    from casework.notify import dispatch
    from casework.notify.models import OutboxChannel

    box = Mailbox()
    for mid in dispatch.due_ids(db, services.clock()):
        dispatch.send_message(db, services, mid, {OutboxChannel.email: box, OutboxChannel.sms: Mailbox()})
    return {n.recipient: (n.subject, n.body) for n in box.sent if n.template == template}


def mailbox(db, code) -> str:
    with db.session_scope(write=False) as s:
        return s.scalar(select(Unit.notice_email).where(Unit.code == code))


def decide_both_rounds(db, services, case, make_staff, do):
    """The province replies, the ministry decides the 复查, 中央社会工作部 the 复核: the units' mail after each."""
    province, ministry, top = (make_staff(code, Role.handler) for code in ("sc-economy-it", "miit", "swd-central"))
    complainant = Actor.complainant(case)
    do(province, case, "accept")
    do(province, case, "reply", opinion="not_supported", legal_basis=BASIS, public_text=REPLY)
    unit_mail(db, services)  # the complainant's and the digests' notices so far
    do(complainant, case, "request_review", public_text="答复没有解决问题，请复查。")
    do(ministry, case, "decide_review", opinion="not_supported", legal_basis=BASIS, public_text="经复查，维持原处理意见，理由如下。")
    review = unit_mail(db, services)
    do(complainant, case, "request_review", public_text="对复查意见不服，请求复核。")
    do(top, case, "decide_review", opinion="not_supported", legal_basis=BASIS, public_text="经复核，维持复查意见。本意见为最终意见。")
    return review, unit_mail(db, services)


@pytest.mark.parametrize("locale, review, re_review", [
    ("zh_CN", ("复查意见已作出", "上一级已作出复查意见。"), ("复核意见已作出", "上一级已作出复核意见。")),
    ("en", ("A review of your unit's decision", "has decided the review of case"),
     ("A re-review of your unit's decision", "has decided the re-review of case")),
])
def test_xinfang_35_36_the_units_whose_decision_was_reviewed_are_told_which_round_decided_it(
        db, services, sichuan_complaint, make_staff, do, monkeypatch, locale, review, re_review):
    """信访工作条例（2022）第三十五条: the body one level above gives a 复查意见; 第三十六条: the level above
    it a 复核意见, final. The mail to the units whose decision it decided said "上一级已作出复查（复核）意见"
    ("decided the review") whatever the round: after a 复查 it names the 复查意见, after a 复核 the
    复核意见 (in English: the review, the re-review), in its subject and its text."""
    from casework.workflow import notices

    monkeypatch.setattr(notices, "UNIT_LOCALE", locale, raising=False)  # a unit's mailbox is written to in Chinese
    after_review, after_re_review = decide_both_rounds(db, services, sichuan_complaint, make_staff, do)
    province, ministry = mailbox(db, "sc-economy-it"), mailbox(db, "miit")
    assert province and ministry and set(after_review) == {province}
    subject, body = after_review[province]
    assert subject == review[0] and review[1] in body and "复核" not in subject + body and "re-review" not in body
    assert set(after_re_review) == {province, ministry}  # both decided before it
    for subject, body in after_re_review.values():
        assert subject == re_review[0] and re_review[1] in body and "复查（复核）" not in body
        assert "$" not in subject + body


def test_a_units_mail_text_saved_without_the_round_is_still_sent_as_written(
        db, services, sichuan_complaint, make_staff, do):
    """An administrator's text of the units' mail saved before it named the round ($review_round)
    keeps being sent as written, on both rounds (the placeholder is known, not required); and a
    message queued before the round was filled names either round, as the text did then."""
    from casework.notify.templates import check_text, render, save_override

    subject, body = "复查（复核）意见已作出", "【畅通】本单位的案件 $case_number，上一级已作出复查（复核）意见，请登录办理平台查看。"
    assert check_text("review_decided_unit", subject, body) == ((subject, body), {})
    admin = make_staff("miit", Role.administrator)
    with db.session_scope() as s:
        save_override(s, admin, "review_decided_unit", "zh_CN", subject, body)
    after_review, after_re_review = decide_both_rounds(db, services, sichuan_complaint, make_staff, do)
    with db.session_scope(write=False) as s:
        number = s.get(Case, sichuan_complaint).number
    sent = [*after_review.values(), *after_re_review.values()]
    assert len(sent) == 3 and set(sent) == {(subject, body.replace("$case_number", number))}

    old = render("review_decided_unit", "zh_CN", {"case_number": "TJ1"})  # queued before $review_round
    assert old == ("复查（复核）意见已作出", "【畅通】本单位答复或复查过的案件 TJ1，上一级已作出复查（复核）意见。"
                                      "请登录办理平台查看；意见支持投诉请求的，请予执行。")
    assert "decided the review of case TJ1" in render("review_decided_unit", "en", {"case_number": "TJ1"})[1]


def test_a_re_reviews_hearing_is_not_counted_in_its_30_days(db, services, sichuan_complaint, make_staff, do):
    """信访工作条例 第三十六条第二款: 复核机关、单位可以…举行听证…听证所需时间不计算在前款规定的期限内. The
    re-reviewing unit pauses its clock for the hearing and restarts it after: the deadline moves by
    the days it stood. Only a re-review: 第三十五条's 复查 and the handling have no such rule."""
    from casework.deadlines.calendar import WorkingCalendar, china_date

    case = sichuan_complaint
    province, ministry, top = (make_staff(code, Role.handler) for code in ("sc-economy-it", "miit", "swd-central"))
    complainant = Actor.complainant(case)
    do(province, case, "accept")
    do(province, case, "reply", opinion="not_supported", legal_basis=BASIS, public_text=REPLY)
    do(complainant, case, "request_review", public_text="答复没有解决问题，请复查。")
    assert "hold_hearing" not in moves(db, ministry, case)  # 复查: no hearing pause
    do(ministry, case, "decide_review", opinion="not_supported", legal_basis=BASIS, public_text="经复查，维持原处理意见，理由如下。")
    do(complainant, case, "request_review", public_text="对复查意见不服，请求复核。")
    with db.session_scope(write=False) as s:
        due = s.get(Case, case).due_at
    with pytest.raises(InvalidMove):  # the complainant is told when and where
        do(top, case, "hold_hearing", public_text="")
    do(top, case, "hold_hearing", public_text="定于下周三上午在本单位会议室举行听证，请信访人及协会代表参加。")
    with db.session_scope(write=False) as s:
        c = s.get(Case, case)
        assert c.state is S.under_re_review and c.paused_at is not None
        told = s.scalars(select(OutboxMessage.template).where(
            OutboxMessage.dedupe_key.like(f"case:{case}:event:{c.events[-1].id}:%"))).all()
    assert told and set(told) == {"case_update"}  # the complainant is told when and where
    assert "hold_hearing" not in moves(db, top, case) and "resume" in moves(db, top, case)
    do(top, case, "resume", svc=at(services, 9), public_text="听证已举行，复核继续。")
    moved = china_date(due + timedelta(days=9))  # nine days more, to a working day (民法典 第二百零三条)
    while not WorkingCalendar().is_working_day(moved):
        moved += timedelta(days=1)
    with db.session_scope(write=False) as s:
        c = s.get(Case, case)
        assert c.paused_at is None and china_date(c.due_at) == moved
        titles = [ev.kind for ev in c.events][-2:]
    assert titles == [EventKind.suspended, EventKind.resumed]
    assert do(top, case, "decide_review", opinion="supported", legal_basis=BASIS, public_text="经复核，维持复查意见。本意见为最终意见。") == (S.closed, "swd-central")


def test_the_complainant_is_told_of_an_extension_and_why(db, services, sichuan_complaint, make_staff, do):
    """信访工作条例 第三十四条: 经本机关、单位负责人批准，可以适当延长办理期限，但延长期限不得超过30日，并告知信访人
    延期理由: the lead extends once, by 30 days, and the reason goes to the complainant."""
    case = sichuan_complaint
    handler, lead = make_staff("sc-economy-it", Role.handler), make_staff("sc-economy-it", Role.unit_lead)
    do(handler, case, "accept")
    with db.session_scope(write=False) as s:
        due = s.get(Case, case).due_at
    do(lead, case, "extend", public_text="需要调取协会近三年的财务资料，延长办理期限30日。")
    with db.session_scope(write=False) as s:
        c = s.get(Case, case)
        assert c.extended and (c.due_at - due).days >= 30
        told = s.scalars(select(OutboxMessage.template).where(
            OutboxMessage.dedupe_key.like(f"case:{case}:event:{c.events[-1].id}:%"))).all()
    assert told and set(told) == {"case_update"}


def test_with_no_upper_level_the_review_goes_to_triage_and_never_to_a_unit_that_decided(
        db, services, file_case, make_staff, do):
    """信访工作条例 第三十五、三十六条: the deciding body is never the one that decided; where no
    upper level is configured the platform's triage names one (a clear internal note says why)."""
    case = file_case().case_id  # 中国复合材料工业协会: 工业和信息化部, whose upper level is 中央社会工作部
    miit, top = make_staff("miit", Role.handler), make_staff("swd-central", Role.handler)
    triage = make_staff("triage", Role.triage_operator)
    complainant = Actor.complainant(case)
    do(miit, case, "accept")
    do(miit, case, "reply", opinion="supported", legal_basis=BASIS, public_text=REPLY)
    do(complainant, case, "request_review", public_text="答复没有解决问题，请复查。")
    do(top, case, "decide_review", opinion="supported", legal_basis=BASIS, public_text="经复查，维持原处理意见，理由如下。")
    assert do(complainant, case, "request_review", public_text="请求复核。理由如下。") == (S.under_re_review, None)
    with db.session_scope(write=False) as s:
        c = s.get(Case, case)
        note = [e for e in c.events if e.kind is EventKind.review_requested][-1].internal_text
        assert "no upper level" in note
    assert "route_review" in moves(db, triage, case)
    with db.session_scope(write=False) as s:
        ids = {u.code: u.id for u in s.scalars(select(Unit))}
    for decided in ("miit", "swd-central"):
        with pytest.raises(InvalidMove) as err:
            do(triage, case, "route_review", unit_id=str(ids[decided]))
        assert "unit_id" in err.value.errors
    assert do(triage, case, "route_review", unit_id=str(ids["ndrc"])) == (S.under_re_review, "ndrc")


def test_the_rating_window_is_shorter_than_the_review_window_and_the_case_stays_open_while_review_may_be_asked(
        db, services, file_case, make_staff, do):
    """信访工作条例 第三十五条: 30 days to ask for 复查, whatever the 15-day satisfaction rating."""
    case = file_case().case_id
    miit = make_staff("miit", Role.handler)
    complainant = Actor.complainant(case)
    do(miit, case, "accept")
    do(miit, case, "reply", opinion="supported", legal_basis=BASIS, public_text=REPLY)
    day = lambda n: at(services, n).clock()  # noqa: E731
    assert {"rate", "request_review"} <= moves(db, complainant, case, day(10))
    assert "rate" not in moves(db, complainant, case, day(17))
    assert "request_review" in moves(db, complainant, case, day(25))
    system = Actor.system("sweep")
    with pytest.raises(MoveNotAllowed):
        do(system, case, "close_unrated", svc=at(services, 25))
    assert do(system, case, "close_unrated", svc=at(services, 32))[0] is S.closed


def test_a_report_is_neither_rated_nor_reviewed_its_reply_closes_it(db, services, file_case, make_staff, do):
    """市场监督管理投诉举报处理暂行办法 第三十一、三十二条; 信访工作条例 第三十一条."""
    case = file_case(type="report", category="illegal_fees", title="协会违规收费",
                     description="协会以评比为名违规收取费用，要求企业缴纳赞助费。").case_id
    miit = make_staff("miit", Role.handler)
    do(miit, case, "accept", public_text="你举报的事项已立案调查。")
    assert do(miit, case, "reply", opinion="supported", legal_basis=BASIS, public_text="经调查，举报情况属实，已责令协会退还费用。", finding="substantiated")[0] is S.closed
    reporter = Actor.complainant(case)
    assert not {"rate", "request_review"} & moves(db, reporter, case)


def test_a_named_reporter_is_told_with_the_decision_and_handling_starts(db, services, file_case, make_staff, do):
    """办法 第三十一条: a named reporter is told within 5 working days of the decision to open a
    case (立案). The decision tells them itself (its 受理告知书 and the notice), so handling starts at
    once and the notice promises the handling deadline. Before, a decision without a note waited in
    report_notice for a second telling, and its notice promised a reply by that 5-day stage's end."""
    from casework.documents.operations import case_documents, document_bytes
    from casework.deadlines.calendar import china_date
    from tests.casework.test_documents import pdf_text

    case = file_case(type="report", category="illegal_fees", title="协会违规收费",
                     description="协会以评比为名违规收取费用，要求企业缴纳赞助费。").case_id
    miit = make_staff("miit", Role.handler)
    do(miit, case, "accept")  # no note to the reporter
    with db.session_scope(write=False) as s:
        c = s.get(Case, case)
        assert c.stage is Stage.handling
        due = china_date(c.due_at)
        assert (due - china_date(c.stage_started_at)).days > 30  # handling, not the 5 working days
        (notice,) = case_documents(s, c)
        text = pdf_text(document_bytes(services, notice))
    assert "举报人" in text and f"{due.year}年{due.month}月{due.day}日前" in text
    assert "notify_reporter" not in moves(db, miit, case)


def test_a_report_accepted_before_waits_in_report_notice_until_the_reporter_is_told(
        db, services, file_case, make_staff, do):
    """A report accepted before the decision told the reporter itself still waits in report_notice:
    the move that tells them is there for it, and handling runs from the decision."""
    case = file_case(type="report", category="illegal_fees", title="协会违规收费",
                     description="协会以评比为名违规收取费用，要求企业缴纳赞助费。").case_id
    miit = make_staff("miit", Role.handler)
    do(miit, case, "accept")
    with db.session_scope() as s:  # as the old accept left it (a statement: no move made it)
        decided = s.get(Case, case).stage_started_at
        s.execute(update(Case).where(Case.id == case).values(stage=Stage.report_notice))
    assert "notify_reporter" in moves(db, miit, case)
    do(miit, case, "notify_reporter", public_text="你举报的事项已于今日立案调查。")
    with db.session_scope(write=False) as s:
        c = s.get(Case, case)
        assert c.stage is Stage.handling and c.stage_started_at == decided
    assert "notify_reporter" not in moves(db, miit, case) and machine.MOVES["notify_reporter"].notices


def test_an_anonymous_report_goes_straight_to_handling(db, file_case, make_staff, do):
    case = file_case(type="report", category="illegal_fees", anonymous=True, complainant=None,
                     title="协会违规收费", description="协会以评比为名违规收取费用，要求企业缴纳赞助费。").case_id
    do(make_staff("miit", Role.handler), case, "accept")
    with db.session_scope(write=False) as s:
        assert s.get(Case, case).stage is Stage.handling


def test_the_lead_extends_a_reports_filing_decision_once(db, services, file_case, make_staff, do):
    """市场监督管理行政处罚程序规定 第十八条: the decision whether to open a case (立案) may be
    extended once by 15 working days with the lead's approval."""
    case = file_case(type="report", category="illegal_fees", title="协会违规收费",
                     description="协会以评比为名违规收取费用，要求企业缴纳赞助费。").case_id
    lead, handler = make_staff("miit", Role.unit_lead), make_staff("miit", Role.handler)
    assert "extend" not in moves(db, handler, case)
    with db.session_scope(write=False) as s:
        before = s.get(Case, case).due_at
    do(lead, case, "extend", public_text="案情复杂，需要进一步核查，延长立案审查期限。")
    with db.session_scope(write=False) as s:
        after = s.get(Case, case).due_at
    assert after - before >= timedelta(days=15 + 4)  # 15 working days: three weeks at least
    assert "extend" not in moves(db, lead, case)


def test_a_reporters_withdrawal_is_recorded_and_the_handling_goes_on(db, file_case, make_staff, do):
    """A report is a lead for the authority, not the reporter's claim: withdrawing it does not
    end the handling (信访工作条例 第三十一条; 办法 第三十一条); the unit decides."""
    case = file_case(type="report", category="illegal_fees", title="协会违规收费",
                     description="协会以评比为名违规收取费用，要求企业缴纳赞助费。").case_id
    reporter = Actor.complainant(case)
    assert "withdraw" not in moves(db, reporter, case) and "withdraw_report" in moves(db, reporter, case)
    assert do(reporter, case, "withdraw_report", public_text="不想再追究了。")[0] is S.pending_acceptance
    with db.session_scope(write=False) as s:
        assert [e.kind for e in s.get(Case, case).events].count(EventKind.withdrawn) == 1
    assert "withdraw_report" not in moves(db, reporter, case)
    assert "accept" in moves(db, make_staff("miit", Role.handler), case)


def test_a_lead_may_extend_by_fewer_days_than_the_most_allowed(db, services, sichuan_complaint, make_staff, do):
    """信访工作条例 第三十四条: 延长期限不得超过30日: at most 30, and the lead may give fewer (the form gave
    no choice and always added 30)."""
    from casework.workflow.machine import InvalidMove

    case = sichuan_complaint
    handler, lead = make_staff("sc-economy-it", Role.handler), make_staff("sc-economy-it", Role.unit_lead)
    do(handler, case, "accept")
    with db.session_scope(write=False) as s:
        due = s.get(Case, case).due_at
    for too_many in ("31", "0", "ten"):
        with pytest.raises(InvalidMove) as refused:
            do(lead, case, "extend", days=too_many, public_text="需要调取协会财务资料，延长办理期限。")
        assert "days" in refused.value.errors
    do(lead, case, "extend", days="10", public_text="需要调取协会财务资料，延长办理期限10日。")
    with db.session_scope(write=False) as s:
        c = s.get(Case, case)
        assert c.extended and 10 <= (c.due_at - due).days <= 13  # 10 days, moved on past a rest day at most
        assert c.events[-1].data["days"] == 10
