"""Mediation through the Flask test client: the coordinator's desk, the respondent's page
(its own code), the applicant's status page, the agreement PDF and the mediator's list."""
import io
import json
import logging
import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from casework.accounts.models import Role, User
from casework.cases.models import Case, CaseState as S
from casework.cases.numbers import CHINA
from casework.intake.drafts import IntakeDraft
from casework.mediation.models import MediationSession
from tests.web.test_admin_routing import login_as
from tests.refused_moves import followed

pytestmark = pytest.mark.usefixtures("cjk_pdf")

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')
CODE = re.compile(r'id="respondent-code">([0-9A-Z-]+)<')
TERMS = "一、被申请人于2026年12月31日前向申请人支付货款三十万元。\n二、申请人放弃其他请求。"
FACTS = "申请人向被申请人供应汽车零部件，被申请人尚欠货款三十万元未付。"
AGREEMENT = dict(
    applicant_id="110101199001011237", applicant_address="北京市东城区示例路1号", applicant_agent="",
    respondent_id="91110000100000000R", respondent_address="上海市浦东新区示例大道8号", respondent_agent="",
    facts=FACTS, issues="被申请人应否支付所欠货款。", liability="被申请人应承担付款责任。", terms=TERMS,
    performance_method="银行转账至申请人账户。", performance_due="2099-12-31")


# -- helpers ------------------------------------------------------------------------------

def sign_in(client, db, actor):
    login_as(client, db, actor)
    return client


def desk_move(client, number, move, **fields):
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    data = {"csrf_token": CSRF.search(page).group(1), "version": VERSION.search(page).group(1), **fields}
    return client.post(f"/desk/cases/{number}/moves/{move}", data=data)


def session_cookie(app, set_cookies) -> dict:
    """What the signed cookie session the answer sets holds, decoded."""
    name = app.config["SESSION_COOKIE_NAME"]
    value = next(c.split(";", 1)[0].split("=", 1)[1] for c in set_cookies if c.startswith(f"{name}="))
    return app.session_interface.get_signing_serializer(app).loads(value)


def open_as_respondent(client, number, code):
    page = client.get("/respond").get_data(as_text=True)
    return client.post("/respond", data={"csrf_token": CSRF.search(page).group(1), "number": number, "code": code})


def open_as_applicant(client, receipt):
    page = client.get("/track").get_data(as_text=True)
    resp = client.post("/track", data={"csrf_token": CSRF.search(page).group(1), "number": receipt.case_number,
                                       "code": receipt.query_code})
    assert resp.status_code == 303


def case_state(db, case_id):
    with db.session_scope(write=False) as s:
        return s.get(Case, case_id).state


def accept(client, receipt) -> str:
    """The respondent's answer code, as the case page the move's 303 leads to shows it."""
    resp = desk_move(client, receipt.case_number, "accept_mediation", public_text="调解中心已受理您的申请。")
    return CODE.search(followed(client, resp).get_data(as_text=True)).group(1)


def consent(app, receipt, code):
    respondent = app.test_client()
    assert open_as_respondent(respondent, receipt.case_number, code).status_code == 303
    page = respondent.get(f"/respond/{receipt.case_number}").get_data(as_text=True)
    # the respondent is told by when to answer, and what silence means (the no_answer move: silence
    # counts as refusal, 人民调解法 第十七条 不得调解 a party that refuses)
    assert re.search(r'id="answer-by">请于\d{4}-\d{2}-\d{2}前（含当日）答复。逾期未答复的，视为不同意调解。', page)
    # the state in the words the desk and the applicant read (it said 办理中), and the reason field
    # says whose it is (it sat under "agree" as a bare 理由)
    assert 'id="case-state">待被申请人答复</p>' in page and "不同意的理由（可选）" in page
    resp = respondent.post(f"/respond/{receipt.case_number}/moves/respondent_consent",
                           data={"csrf_token": CSRF.search(page).group(1), "version": VERSION.search(page).group(1)})
    assert resp.status_code == 303
    assert 'id="answer-by"' not in respondent.get(f"/respond/{receipt.case_number}").get_data(as_text=True)
    return respondent


def in_days(days: int, hour: int = 10) -> str:
    """A session's time ``days`` from now at ``hour``; 0: this minute (a session that can be
    recorded as held at once: one still to come cannot be)."""
    when = datetime.now(CHINA) + timedelta(days=days)
    return when.strftime("%Y-%m-%dT%H:%M") if days == 0 else when.strftime(f"%Y-%m-%dT{hour:02d}:00")


@pytest.fixture
def coordinator(client, db, make_staff):
    actor = make_staff("caam-mediation", Role.unit_lead)
    sign_in(client, db, actor)
    return actor


# -- tests --------------------------------------------------------------------------------

def test_accept_shows_the_code_once_and_the_respondent_consents(app, client, db, coordinator, mediation):
    number = mediation.case_number
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert 'id="move-accept_mediation"' in page and 'id="mediation-claim"' in page
    resp = desk_move(client, number, "accept_mediation", public_text="调解中心已受理您的申请。")
    shown = followed(client, resp).get_data(as_text=True)
    assert "短信发送到被申请人的手机" in shown
    code = CODE.search(shown).group(1)
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", code)
    assert case_state(db, mediation.case_id) is S.accepted
    again = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert code not in again and 'id="respondent-code"' not in again  # shown once

    respondent = app.test_client()
    resp = open_as_respondent(respondent, number.lower(), code.replace("-", ""))
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/respond/{number}")
    page = respondent.get(f"/respond/{number}").get_data(as_text=True)
    assert "同意调解" in page and "不同意调解" in page
    assert "中国汽车工业协会调解中心（示例）" in page  # the body handling it
    assert "张*" in page and "张三" not in page  # the applicant, masked
    assert "请求对方支付货款三十万元。" in page and "300,000.00" in page
    assert "13800138000" not in page and mediation.query_code not in page
    resp = respondent.post(f"/respond/{number}/moves/respondent_consent",
                           data={"csrf_token": CSRF.search(page).group(1), "version": VERSION.search(page).group(1)})
    assert resp.status_code == 303
    assert case_state(db, mediation.case_id) is S.mediating
    page = respondent.get(f"/respond/{number}").get_data(as_text=True)
    assert "调解中" in page and 'id="consent-form"' not in page

    # the applicant's query code does not open the respondent's page, nor the other way round
    other = app.test_client()
    assert open_as_respondent(other, number, mediation.query_code).status_code == 404
    page = other.get("/track").get_data(as_text=True)
    assert other.post("/track", data={"csrf_token": CSRF.search(page).group(1), "number": number,
                                      "code": code}).status_code == 404
    # and without opening it, the respondent's pages send you to the form
    assert other.get(f"/respond/{number}").status_code == 302


def test_accepting_answers_303_and_the_case_page_shows_the_code_once(app, client, db, coordinator, mediation,
                                                                     caplog):
    """Post/Redirect/Get: a reload of the page with the code does not post the move again, and
    shows the plain page; the code travels neither in the address nor in the cookie, in clear."""
    caplog.set_level(logging.DEBUG)
    number = mediation.case_number
    resp = desk_move(client, number, "accept_mediation", public_text="调解中心已受理您的申请。")
    assert resp.status_code == 303
    assert urlsplit(resp.headers["Location"]).path == f"/desk/cases/{number}"
    assert case_state(db, mediation.case_id) is S.accepted
    cookies = resp.headers.getlist("Set-Cookie")
    held = session_cookie(app, cookies)

    page = client.get(f"/desk/cases/{number}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    code = CODE.search(html).group(1)
    assert "已完成：受理调解申请。" in html and "答复码也已通过短信发送到被申请人的手机。" in html
    plain = code.replace("-", "")
    for text in (resp.headers["Location"], *cookies, json.dumps(held, ensure_ascii=False)):
        assert code not in text and plain not in text
    assert "answer_code" in held  # the session holds the token, which opens nothing without the key
    with db.session_scope(write=False) as s:  # kept encrypted, for minutes
        assert all(code.encode() not in row and plain.encode() not in row
                   for row in s.scalars(select(IntakeDraft.draft_enc)))

    again = client.get(f"/desk/cases/{number}").get_data(as_text=True)  # a reload: the plain page
    assert code not in again and 'id="respondent-code"' not in again and "短信发送" not in again
    assert code not in caplog.text and plain not in caplog.text


def test_the_code_without_a_text_message_and_not_for_another_case(app, client, db, coordinator, file_case,
                                                                  mediation):
    """A respondent with no mobile number: the page says nothing of a text message. The code
    waits for its own case's page only (another case's page shows nothing and leaves it)."""
    with db.session_scope(write=False) as s:
        caam = s.get(Case, mediation.case_id).association.credit_code
    no_phone = file_case(type="mediation", category="member_contract", association=caam, claim="请求对方退还货款。",
                         amount="1000", respondent={"name": "某某贸易有限公司", "kind": "member_company"})
    resp = desk_move(client, no_phone.case_number, "accept_mediation", public_text="调解中心已受理您的申请。")
    assert resp.status_code == 303
    other = client.get(f"/desk/cases/{mediation.case_number}").get_data(as_text=True)
    assert 'id="respondent-code"' not in other
    html = followed(client, resp).get_data(as_text=True)
    assert CODE.search(html) and "短信发送" not in html
    assert 'id="respondent-code"' not in client.get(f"/desk/cases/{no_phone.case_number}").get_data(as_text=True)


def test_a_wrong_code_looks_like_an_unknown_number(app, client, db, coordinator, mediation):
    accept(client, mediation)
    anyone = app.test_client()
    wrong = open_as_respondent(anyone, mediation.case_number, "ABCD-EFGH-JKMN-PQRS")
    unknown = open_as_respondent(anyone, "TJ2099010100001", "ABCD-EFGH-JKMN-PQRS")
    assert wrong.status_code == unknown.status_code == 404

    def body(resp, number):
        return CSRF.sub("", resp.get_data(as_text=True)).replace(number, "N")

    assert body(wrong, mediation.case_number) == body(unknown, "TJ2099010100001")
    assert "没有与此案件编号和答复码相符的调解申请" in wrong.get_data(as_text=True)


def test_guessing_answer_codes_is_throttled_per_case_number(app, client, db, coordinator, mediation):
    code = accept(client, mediation)
    guesser = app.test_client()
    statuses = [open_as_respondent(guesser, mediation.case_number, f"AAAA-BBBB-CCCC-{i:04d}").status_code
                for i in range(10)]
    assert statuses == [404] * 10
    assert open_as_respondent(guesser, mediation.case_number, "AAAA-BBBB-CCCC-9999").status_code == 429
    assert open_as_respondent(app.test_client(), mediation.case_number, code).status_code == 303  # the right code opens
    assert open_as_respondent(guesser, "TJ2099010100001", "AAAA-BBBB-CCCC-0000").status_code == 404  # others not


def test_a_refusal_ends_it_and_the_applicant_is_told_the_other_routes(app, client, db, coordinator, mediation):
    code = accept(client, mediation)
    respondent = app.test_client()
    open_as_respondent(respondent, mediation.case_number, code)
    page = respondent.get(f"/respond/{mediation.case_number}").get_data(as_text=True)
    answer = {"csrf_token": CSRF.search(page).group(1), "version": VERSION.search(page).group(1),
              "public_text": "我方认为货款已结清。"}
    # 人民调解法 第十七条: a refusal ends the request and is not undone, so one tap does not send it
    untucked = followed(respondent, respondent.post(f"/respond/{mediation.case_number}/moves/respondent_refuse",
                                                    data=answer))
    html = untucked.get_data(as_text=True)
    assert untucked.status_code == 422 and "如确定不同意调解，请勾选确认框。" in html
    assert "我方认为货款已结清。" in html and case_state(db, mediation.case_id) is S.accepted
    resp = respondent.post(f"/respond/{mediation.case_number}/moves/respondent_refuse", data={**answer, "confirm": "1"})
    assert resp.status_code == 303
    assert case_state(db, mediation.case_id) is S.mediation_failed
    applicant = app.test_client()
    open_as_applicant(applicant, mediation)
    page = applicant.get(f"/track/{mediation.case_number}").get_data(as_text=True)
    assert "我方认为货款已结清。" in page and "仲裁" in page and 'id="complaint-form"' in page


def hold_session(client, db, mediation, days=0):
    """Schedules a session and logs it as held (record_agreement needs one)."""
    number = mediation.case_number
    assert desk_move(client, number, "schedule_session", scheduled_at=in_days(days), place="协会会议室").status_code == 303
    with db.session_scope(write=False) as s:
        session_id = s.scalar(select(MediationSession.id).where(MediationSession.case_id == mediation.case_id,
                                                                MediationSession.held.is_(False)))
    assert desk_move(client, number, "log_session", session_id=str(session_id), attendees="申请人、被申请人、调解员",
                     summary="双方就付款期限交换了意见。").status_code == 303


def test_an_agreement_waits_for_a_held_session_and_an_unheld_one_is_not_left_scheduled(
        app, client, db, coordinator, mediation):
    """Issue 16 (5): no agreement while the only session is still to come; the desk's session
    picker starts on the only session; after the agreement, the parties' pages say a session
    never logged did not take place instead of listing it as scheduled."""
    number = mediation.case_number
    respondent = consent(app, mediation, accept(client, mediation))
    assert desk_move(client, number, "schedule_session", scheduled_at=in_days(0), place="协会三楼会议室").status_code == 303
    resp = desk_move(client, number, "record_agreement", **AGREEMENT)
    assert resp.status_code == 422 and "先记录一次已进行的调解会议" in resp.get_data(as_text=True)
    assert case_state(db, mediation.case_id) is S.mediating
    with db.session_scope(write=False) as s:
        first = s.scalar(select(MediationSession.id).where(MediationSession.case_id == mediation.case_id))
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    picker = re.search(r'<select id="m-log_session-session_id".*?</select>', page, re.S).group(0)
    assert re.search(rf'<option value="{first}"[^>]*\bselected', picker)
    # its time has come (this minute) and nothing is recorded: the desk says so, not "not yet"
    row = re.search(rf'<tr id="session-{first}">.*?</tr>', page, re.S).group(0)
    assert "时间已过，请记录举行情况" in row and "尚未进行" not in row
    assert desk_move(client, number, "log_session", session_id=str(first), attendees="申请人、被申请人、调解员",
                     summary="双方就付款期限交换了意见。").status_code == 303
    assert desk_move(client, number, "schedule_session", scheduled_at=in_days(10), place="腾讯会议 123-456",
                     online="1").status_code == 303
    assert desk_move(client, number, "record_agreement", **AGREEMENT).status_code == 303
    applicant = app.test_client()
    open_as_applicant(applicant, mediation)
    for page in (applicant.get(f"/track/{number}").get_data(as_text=True),
                 respondent.get(f"/respond/{number}").get_data(as_text=True)):
        items = re.findall(r'<li class="session[^"]*".*?</li>', page, re.S)
        assert len(items) == 2
        assert "已进行" in items[0] and "双方就付款期限交换了意见。" in items[0]
        assert "未举行" in items[1] and "已安排" not in items[1] and "not-held" in items[1]


def test_logging_a_session_is_offered_only_with_a_session_to_log(app, client, db, coordinator, mediation):
    """Before any session is scheduled, and once every one is held, "log a session" is not
    offered: its form had no session to choose and its refusal ("check the marked fields") marked
    none. A direct post says what to do first."""
    number = mediation.case_number
    consent(app, mediation, accept(client, mediation))
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert 'id="move-schedule_session"' in page and 'id="move-log_session"' not in page
    refused = desk_move(client, number, "log_session", attendees="申请人、被申请人、调解员", summary="双方就付款期限交换了意见。")
    assert refused.status_code == 422
    assert "请先安排调解会议：只有已安排的会议才能记录为已进行。" in refused.get_data(as_text=True)
    assert desk_move(client, number, "schedule_session", scheduled_at=in_days(0), place="协会会议室").status_code == 303
    assert 'id="move-log_session"' in client.get(f"/desk/cases/{number}").get_data(as_text=True)
    with db.session_scope(write=False) as s:
        session_id = s.scalar(select(MediationSession.id).where(MediationSession.case_id == mediation.case_id))
    assert desk_move(client, number, "log_session", session_id=str(session_id), attendees="申请人、被申请人、调解员",
                     summary="双方就付款期限交换了意见。").status_code == 303
    assert 'id="move-log_session"' not in client.get(f"/desk/cases/{number}").get_data(as_text=True)


def test_a_session_set_for_a_later_day_is_not_offered_for_logging(app, client, db, coordinator, mediation):
    """"Log a session" is offered once a session's time has come (it was offered right after a
    session was set for a later day, and the send was then refused); its picker lists only the
    sessions whose time has come."""
    number = mediation.case_number
    consent(app, mediation, accept(client, mediation))
    later = in_days(10)
    assert desk_move(client, number, "schedule_session", scheduled_at=later, place="协会会议室").status_code == 303
    assert 'id="move-log_session"' not in client.get(f"/desk/cases/{number}").get_data(as_text=True)
    with db.session_scope(write=False) as s:
        future = s.scalar(select(MediationSession.id).where(MediationSession.case_id == mediation.case_id))
    refused = desk_move(client, number, "log_session", session_id=str(future), attendees="申请人、被申请人、调解员",
                        summary="双方就付款期限交换了意见。")
    assert refused.status_code == 422
    assert f"该次调解会议安排在{later.replace('T', ' ')}，会议举行后才能记录为已进行。" in refused.get_data(as_text=True)
    assert desk_move(client, number, "schedule_session", scheduled_at=in_days(0), place="腾讯会议 123-456",
                     online="1").status_code == 303
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    picker = re.search(r'<select id="m-log_session-session_id".*?</select>', page, re.S).group(0)
    assert "腾讯会议 123-456" in picker and "协会会议室" not in picker and f'value="{future}"' not in picker


def test_sessions_show_on_both_parties_pages(app, client, db, coordinator, mediation):
    number = mediation.case_number
    respondent = consent(app, mediation, accept(client, mediation))
    bad = desk_move(client, number, "schedule_session", scheduled_at="下周三", place="协会三楼会议室")
    assert bad.status_code == 422 and 'id="m-schedule_session-scheduled_at-error"' in bad.get_data(as_text=True)
    when = in_days(0)
    assert desk_move(client, number, "schedule_session", scheduled_at=when, place="协会三楼会议室").status_code == 303
    assert desk_move(client, number, "schedule_session", scheduled_at=in_days(10, 14), place="腾讯会议 123-456",
                     online="1").status_code == 303
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert 'id="sessions-table"' in page and "协会三楼会议室" in page
    with db.session_scope(write=False) as s:
        first = s.scalar(select(MediationSession.id).where(MediationSession.case_id == mediation.case_id)
                         .order_by(MediationSession.scheduled_at))
    resp = desk_move(client, number, "log_session", session_id=str(first), attendees="申请人、被申请人、调解员",
                     summary="双方就付款期限交换了意见。", internal_text="被申请人资金紧张，可分期。")
    assert resp.status_code == 303
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert "被申请人资金紧张，可分期。" in page  # staff see the internal notes
    # the timeline tells the sessions apart: when each was set, which one was entered at its time
    # (after the fact: nobody invited), and which one was held
    assert f"补录 {when.replace('T', ' ')} 的调解会议（未发送会议通知）" in page and "调解会议已进行" in page
    assert f"已安排调解会议：{in_days(10, 14).replace('T', ' ')}" in page

    applicant = app.test_client()
    open_as_applicant(applicant, mediation)
    for page in (applicant.get(f"/track/{number}").get_data(as_text=True),
                 respondent.get(f"/respond/{number}").get_data(as_text=True)):
        assert 'id="sessions"' in page
        assert when.replace("T", " ") in page and "协会三楼会议室" in page
        assert "腾讯会议 123-456" in page and "线上" in page
        assert "双方就付款期限交换了意见。" in page
        assert "被申请人资金紧张" not in page  # never the internal notes


def test_a_recused_mediator_cannot_be_assigned(app, client, db, coordinator, mediation, make_staff):
    number = mediation.case_number
    mediator = make_staff("caam-mediation", Role.handler)
    accept(client, mediation)
    resp = desk_move(client, number, "recuse", user_id=str(mediator.user_id), internal_text="系被申请人股东的亲属")
    assert resp.status_code == 303
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert 'id="recusals"' in page and "系被申请人股东的亲属" in page and "已回避" in page
    resp = desk_move(client, number, "assign", handler_id=str(mediator.user_id))
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert 'id="m-assign-handler_id-error"' in page and "回避" in page
    with db.session_scope(write=False) as s:
        assert s.get(Case, mediation.case_id).handler_id != mediator.user_id


def test_the_agreement_pdf_goes_to_the_parties_and_staff_only(app, client, db, coordinator, mediation, make_staff):
    number = mediation.case_number
    respondent = consent(app, mediation, accept(client, mediation))
    hold_session(client, db, mediation)
    short = desk_move(client, number, "record_agreement", **{**AGREEMENT, "terms": "", "performance_method": ""})
    assert short.status_code == 422 and 'id="m-record_agreement-terms-error"' in short.get_data(as_text=True)
    assert 'id="m-record_agreement-performance_method-error"' in short.get_data(as_text=True)
    resp = desk_move(client, number, "record_agreement", **AGREEMENT)
    assert resp.status_code == 303
    assert case_state(db, mediation.case_id) is S.mediated
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert f"/desk/cases/{number}/agreement.pdf" in page
    # recorded, not yet signed: neither party is told a 30-day window runs (人民调解法 第二十九条: the
    # agreement takes effect when signed and sealed; 第三十三条: 司法确认 within 30 days of that day)
    unsigned = "调解已达成协议。协议经双方当事人签名、盖章或者按指印，人民调解员签名并加盖调解组织印章后生效；双方可自协议生效之日起30日内共同向人民法院申请司法确认。"
    assert respondent.get(f"/respond/{number}").get_data(as_text=True).count(unsigned) == 1
    early = app.test_client()
    open_as_applicant(early, mediation)
    assert unsigned in early.get(f"/track/{number}").get_data(as_text=True)
    # 人民调解法 第二十九、三十三条: the signing date is recorded at the desk; 司法确认 runs from it
    today = datetime.now(CHINA).date()
    resp = desk_move(client, number, "record_signing", signed_on=today.isoformat(), confirmed="1")
    assert resp.status_code == 303
    with db.session_scope(write=False) as s:
        c = s.get(Case, mediation.case_id)
        assert c.mediation.signed_on == today and c.stage.value == "judicial_confirmation"

    applicant = app.test_client()
    open_as_applicant(applicant, mediation)
    status = applicant.get(f"/track/{number}").get_data(as_text=True)
    assert f"/track/{number}/agreement.pdf" in status and "一、被申请人于2026年12月31日前" in status
    with db.session_scope(write=False) as s:  # 30 days, moved to the next working day if a rest day ends them
        due = s.get(Case, mediation.case_id).due_at.astimezone(CHINA).date()
    assert (today + timedelta(days=30)) <= due <= today + timedelta(days=40)
    due = due.isoformat()
    signed = f"调解协议已于 {today.isoformat()} 生效。双方可在 {due} 前（含当日）共同向人民法院申请司法确认。"
    assert signed in status and unsigned not in status
    assert signed in respondent.get(f"/respond/{number}").get_data(as_text=True)
    respondent_page = respondent.get(f"/respond/{number}").get_data(as_text=True)
    assert f"/respond/{number}/agreement.pdf" in respondent_page and 'id="agreement-terms"' in respondent_page

    for who, url in ((client, f"/desk/cases/{number}/agreement.pdf"),
                     (applicant, f"/track/{number}/agreement.pdf"),
                     (respondent, f"/respond/{number}/agreement.pdf")):
        resp = who.get(url)
        assert resp.status_code == 200, url
        assert resp.mimetype == "application/pdf"
        assert resp.headers["Content-Disposition"].startswith("attachment")
        assert "no-store" in resp.headers["Cache-Control"]
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.data)).pages)
        assert "调解协议书" in text and "某某零部件有限公司" in text and "张三" in text

    anonymous = app.test_client()
    for url in (f"/desk/cases/{number}/agreement.pdf", f"/track/{number}/agreement.pdf",
                f"/respond/{number}/agreement.pdf"):
        resp = anonymous.get(url)
        assert resp.status_code in (302, 404) and not resp.data.startswith(b"%PDF"), url
    outsider = sign_in(app.test_client(), db, make_staff("miit", Role.handler))
    assert outsider.get(f"/desk/cases/{number}/agreement.pdf").status_code == 404


def test_an_oral_agreement_is_recorded_at_the_desk_and_shown_to_both_parties(app, client, db, coordinator, mediation):
    """人民调解法 第二十八条 (口头协议方式，人民调解员应当记录协议内容) and 第三十条 (自达成协议之日起生效):
    offered only once the body is marked as a 人民调解委员会; both parties see the terms and that the
    agreement took effect the day it was reached, with the 30 days for 司法确认; there is no PDF."""
    from casework.registry.models import Unit

    number = mediation.case_number
    respondent = consent(app, mediation, accept(client, mediation))
    hold_session(client, db, mediation)
    assert 'id="move-record_oral_agreement"' not in client.get(f"/desk/cases/{number}").get_data(as_text=True)
    with db.session_scope() as s:
        s.scalar(select(Unit).where(Unit.code == "caam-mediation")).people_mediation_committee = True
    assert 'id="move-record_oral_agreement"' in client.get(f"/desk/cases/{number}").get_data(as_text=True)
    unticked = desk_move(client, number, "record_oral_agreement", terms="一、被申请人当场支付货款三十万元。",
                         performance_method="当场转账。")
    assert unticked.status_code == 422
    page = unticked.get_data(as_text=True)
    assert 'id="m-record_oral_agreement-confirmed-error"' in page and "一、被申请人当场支付货款三十万元。" in page
    resp = desk_move(client, number, "record_oral_agreement", terms="一、被申请人当场支付货款三十万元。",
                     performance_method="当场转账。", confirmed="1")
    assert resp.status_code == 303
    today = datetime.now(CHINA).date().isoformat()
    desk = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert f"口头协议，由调解员记录（人民调解法第二十八条）；自 {today} 起生效" in desk
    assert "agreement.pdf" not in desk and 'id="move-record_signing"' not in desk
    applicant = app.test_client()
    open_as_applicant(applicant, mediation)
    for page in (applicant.get(f"/track/{number}").get_data(as_text=True),
                 respondent.get(f"/respond/{number}").get_data(as_text=True)):
        assert "一、被申请人当场支付货款三十万元。" in page and "agreement.pdf" not in page
        assert "本协议为口头协议，由调解员记录协议内容（人民调解法第二十八条），不制作调解协议书。" in page
        assert f"调解达成口头协议，已由调解员记录；协议自达成之日（{today}）起生效。双方可在" in page


def test_a_failed_mediation_turns_into_a_complaint(app, client, db, coordinator, mediation):
    number = mediation.case_number
    consent(app, mediation, accept(client, mediation))
    resp = desk_move(client, number, "record_no_agreement", public_text="双方分歧较大，建议通过仲裁或向人民法院起诉解决。")
    assert resp.status_code == 303
    applicant = app.test_client()
    open_as_applicant(applicant, mediation)
    page = applicant.get(f"/track/{number}").get_data(as_text=True)
    assert "双方分歧较大" in page and 'id="complaint-form"' in page and "转为投诉" in page
    token = CSRF.search(page).group(1)
    missing = followed(applicant, applicant.post(f"/track/{number}/complaint", data={"csrf_token": token, "category": ""}))
    assert missing.status_code == 422 and 'id="category-error"' in missing.get_data(as_text=True)
    resp = applicant.post(f"/track/{number}/complaint", data={"csrf_token": token, "category": "forced_membership"})
    # answered as a filing is: 303 See Other to the receipt's address, the number in it, never the code
    assert resp.status_code == 303 and re.search(r"/file/complaint/receipt/TS\d{14}$", resp.headers["Location"])
    receipt = applicant.get(resp.headers["Location"]).get_data(as_text=True)
    new_number = re.search(r'id="case-number" class="code">([A-Z]{2}\d{14})<', receipt).group(1)
    new_code = re.search(r'id="query-code" class="code">([0-9A-Z-]+)<', receipt).group(1)
    assert new_number.startswith("TS") and "仅在本浏览器中显示" in receipt
    page = applicant.get(f"/track/{number}").get_data(as_text=True)
    assert 'id="followup"' in page and new_number in page and 'id="complaint-form"' not in page
    assert new_code not in page
    again = followed(applicant, applicant.post(f"/track/{number}/complaint",
                                               data={"csrf_token": token, "category": "forced_membership"}))
    assert again.status_code == 422 and new_number in again.get_data(as_text=True)
    desk_page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert 'id="mediation-followup"' in desk_page and new_number in desk_page
    # the new complaint opens with its own number and code
    other = app.test_client()
    form = other.get("/track").get_data(as_text=True)
    assert other.post("/track", data={"csrf_token": CSRF.search(form).group(1), "number": new_number,
                                      "code": new_code}).status_code == 303


def test_the_mediators_list(app, client, db, coordinator, mediation, make_staff):
    number = mediation.case_number
    mediator = make_staff("caam-mediation", Role.handler)
    applicant = app.test_client()
    open_as_applicant(applicant, mediation)
    assert '<dd id="mediator">尚未指定</dd>' in applicant.get(f"/track/{number}").get_data(as_text=True)
    respondent = consent(app, mediation, accept(client, mediation))
    assert desk_move(client, number, "assign", handler_id=str(mediator.user_id)).status_code == 303
    # the parties may choose or accept the mediator and ask for a recusal (人民调解法 第二十三条):
    # both see who it is, as the agreement will name them (第二十九条)
    with db.session_scope(write=False) as s:
        name = s.get(User, mediator.user_id).display_name
    for page in (applicant.get(f"/track/{number}").get_data(as_text=True),
                 respondent.get(f"/respond/{number}").get_data(as_text=True)):
        assert f'<dt>调解员</dt><dd id="mediator">{name}</dd>' in page
    assert desk_move(client, number, "schedule_session", scheduled_at=in_days(2), place="协会三楼会议室").status_code == 303
    assert desk_move(client, number, "schedule_session", scheduled_at=in_days(45), place="很久以后").status_code == 303
    phone = sign_in(app.test_client(), db, mediator)
    resp = phone.get("/desk/mediation")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert f'id="mcase-{number}"' in page and f'href="/desk/cases/{number}"' in page
    assert "协会三楼会议室" in page and "很久以后" not in page.split('id="my-cases"')[0]  # next 30 days only
    assert 'href="/desk/mediation"' in phone.get(f"/desk/cases/{number}").get_data(as_text=True)
    # the coordinator has nothing assigned; someone outside a mediation body may not look
    assert f'id="mcase-{number}"' not in client.get("/desk/mediation").get_data(as_text=True)
    outsider = sign_in(app.test_client(), db, make_staff("miit", Role.handler))
    assert outsider.get("/desk/mediation").status_code == 403


def public_post(client, base, number, move, **fields):
    page = client.get(f"{base}/{number}").get_data(as_text=True)
    data = {"csrf_token": CSRF.search(page).group(1), "version": VERSION.search(page).group(1), **fields}
    return client.post(f"{base}/{number}/moves/{move}", data=data)


def test_the_applicant_ends_mediation_on_the_status_page(app, client, db, coordinator, mediation):
    """人民调解法 第二十三条: the applicant may end mediation at any time, from its status page, and
    is told the other routes."""
    number = mediation.case_number
    consent(app, mediation, accept(client, mediation))
    applicant = app.test_client()
    open_as_applicant(applicant, mediation)
    page = applicant.get(f"/track/{number}").get_data(as_text=True)
    assert 'id="end-mediation-form"' in page and 'id="recusal-form"' in page
    # not undone: one tap does not end it (the box is ticked, as for a withdrawal), and the withdraw
    # form says how withdrawing differs from ending the mediation
    assert "撤回是收回您的申请" in page
    unticked = followed(applicant, public_post(applicant, "/track", number, "end_mediation", public_text="我方决定向法院起诉。"))
    assert unticked.status_code == 422 and "请勾选确认框，确认您要终止调解。" in unticked.get_data(as_text=True)
    assert "我方决定向法院起诉。" in unticked.get_data(as_text=True)  # what was typed is kept
    assert case_state(db, mediation.case_id) is S.mediating
    resp = public_post(applicant, "/track", number, "end_mediation", public_text="我方决定向法院起诉。", confirm="1")
    assert resp.status_code == 303
    assert case_state(db, mediation.case_id) is S.mediation_failed
    page = applicant.get(f"/track/{number}").get_data(as_text=True)
    assert "您已终止调解" in page and "仲裁" in page and 'id="complaint-form"' in page
    assert "<h2>结果：" in page  # a full-width colon in Chinese


def test_the_respondent_ends_mediation_only_with_the_box_ticked(app, client, db, coordinator, mediation):
    """人民调解法 第二十三条 (二): either party may end mediation; not by one tap, as it is not undone."""
    number = mediation.case_number
    respondent = consent(app, mediation, accept(client, mediation))
    # the server checks the forms, so its message is in the page's language (as on the status page)
    page = respondent.get(f"/respond/{number}").get_data(as_text=True)
    assert re.search(r'<form method="post" novalidate action="[^"]*/respondent_end_mediation"', page)
    assert re.search(r'<form method="post" novalidate action="[^"]*/respondent_request_recusal"', page)
    unticked = followed(respondent, public_post(respondent, "/respond", number, "respondent_end_mediation"))
    assert unticked.status_code == 422 and "请勾选确认框，确认您要终止调解。" in unticked.get_data(as_text=True)
    assert case_state(db, mediation.case_id) is S.mediating
    assert public_post(respondent, "/respond", number, "respondent_end_mediation", confirm="1").status_code == 303
    assert case_state(db, mediation.case_id) is S.mediation_failed


def test_the_respondent_asks_for_recusal_and_the_coordinator_decides(app, client, db, coordinator, mediation):
    """办法 第十九条, 人民调解法 第二十三条: the respondent asks on its page; mediation is suspended
    (no session can be scheduled) until the coordinator decides at the desk."""
    number = mediation.case_number
    respondent = consent(app, mediation, accept(client, mediation))
    page = respondent.get(f"/respond/{number}").get_data(as_text=True)
    assert 'id="respondent-recusal-form"' in page and 'id="respondent-end-form"' in page
    short = followed(respondent, public_post(respondent, "/respond", number, "respondent_request_recusal", public_text=""))
    assert short.status_code == 422
    resp = public_post(respondent, "/respond", number, "respondent_request_recusal", public_text="调解员与申请人系同学关系。")
    assert resp.status_code == 303
    assert "中止" in respondent.get(f"/respond/{number}").get_data(as_text=True)
    desk = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert 'move-decide_recusal' in desk and 'move-schedule_session' not in desk
    resp = desk_move(client, number, "decide_recusal", decision="refused", public_text="经审查，不存在应当回避的情形。")
    assert resp.status_code == 303
    with db.session_scope(write=False) as s:
        c = s.get(Case, mediation.case_id)
        assert c.paused_at is None and c.mediation.recusal_requested_at is None
    assert 'move-schedule_session' in client.get(f"/desk/cases/{number}").get_data(as_text=True)


def test_an_accepted_request_awaits_the_respondents_answer(app, client, db, coordinator, mediation):
    """Accepted is not yet handled for a mediation request: the mediation starts only when the
    respondent agrees (人民调解法 第十七条: 当事人一方明确拒绝调解的，不得调解). The applicant's page,
    the API and the desk say what it waits for."""
    accept(client, mediation)
    page = client.get(f"/desk/cases/{mediation.case_number}").get_data(as_text=True)
    assert 'id="case-state">待被申请人答复</span>' in page
    applicant = app.test_client()
    open_as_applicant(applicant, mediation)
    assert 'id="case-state">待被申请人答复</p>' in applicant.get(f"/track/{mediation.case_number}").get_data(as_text=True)
    got = applicant.get(f"/api/v1/cases/{mediation.case_number}", headers={"X-Query-Code": mediation.query_code})
    assert got.get_json()["state"] == "accepted" and got.get_json()["state_title"] == "待被申请人答复"


def test_a_mediation_bodys_queue_offers_mediations_own_tabs_and_filters(client, db, coordinator, mediation):
    """A mediation body's queue looked like a complaints desk: 待补正 and 已答复 tabs, every case type
    and every category in its filters."""
    from casework.registry.models import Unit

    with db.session_scope(write=False) as s:
        unit_id = s.scalar(select(Unit.id).where(Unit.code == "caam-mediation"))
    page = client.get(f"/desk/units/{unit_id}?tab=pending").get_data(as_text=True)
    tabs = re.search(r'<nav class="tabs".*?</nav>', page, re.S)
    assert tabs and "待受理" in tabs.group(0) and "待补正" not in tabs.group(0) and "已答复" not in tabs.group(0)
    kinds = re.search(r'<select id="f-type".*?</select>', page, re.S).group(0)
    assert "调解申请" in kinds and "投诉" not in kinds


@pytest.mark.parametrize("kind, name, shown", [
    ("member_company", "成都某某贸易有限公司", "成都某某贸易有限公司"),
    ("association", "中国汽车工业协会", "中国汽车工业协会"),
    ("consumer", "王小明", "王**"),
    ("other", "李四", "李*"),  # a person or a body: kept masked
])
def test_the_desk_names_an_organisation_respondent_in_full_and_masks_a_person(client, db, coordinator, file_case,
                                                                               make_staff, mediation, kind, name, shown):
    """The mediator needs the company the request is against (the agreement prints it): a member
    company's or the association's name is no personal data. A consumer's name is, and "another
    party" may be a person: masked. The phone stays masked whoever it is."""
    from tests.web.test_desk_api import auth, token_for

    with db.session_scope(write=False) as s:
        caam = s.get(Case, mediation.case_id).association.credit_code
    receipt = file_case(type="mediation", category="member_contract", association=caam, claim="请求对方退还货款。",
                        respondent={"name": name, "kind": kind, "phone": "13900139000"})
    viewer = coordinator
    with db.session_scope(write=False) as s:
        if s.get(Case, receipt.case_id).unit_id is None:  # against the association itself: not its own body's
            viewer = make_staff("triage", Role.triage_operator)  # (no joint body here: it waits in triage)
            sign_in(client, db, viewer)
    html = client.get(f"/desk/cases/{receipt.case_number}").get_data(as_text=True)
    assert re.search(r'<dd id="respondent-name"[^>]*>([^<]*)</dd>', html).group(1) == shown
    assert "13900139000" not in html and "139****9000" in html
    if shown != name:
        assert name not in html
    body = client.get(f"/api/v1/desk/cases/{receipt.case_number}", headers=auth(token_for(db, viewer))).get_json()
    assert body["respondent"] == {"name": shown, "phone": "139****9000"}  # the staff API as the desk


@pytest.mark.parametrize("lang, words", [("zh_CN", "12,000.50 元"), ("en", "12,000.50 yuan")])
def test_an_amount_in_yuan_shows_its_two_decimals(app, client, db, coordinator, file_case, mediation, lang, words):
    """Money is written with its fen: 12,000.50, never 12,000.5; on the desk, the applicant's status
    page and the respondent's page alike (one helper, the agreement's too)."""
    with db.session_scope(write=False) as s:
        caam = s.get(Case, mediation.case_id).association.credit_code
    receipt = file_case(type="mediation", category="member_contract", association=caam, claim="请求对方退还货款。",
                        amount="12000.5", respondent={"name": "成都某某贸易有限公司", "kind": "member_company",
                                                      "phone": "13900139000"})
    client.set_cookie("lang", lang)
    desk = client.get(f"/desk/cases/{receipt.case_number}").get_data(as_text=True)
    assert f'<dd id="mediation-amount">{words}</dd>' in desk
    code = accept(client, receipt)
    applicant = app.test_client()
    applicant.set_cookie("lang", lang)
    open_as_applicant(applicant, receipt)
    status = applicant.get(f"/track/{receipt.case_number}").get_data(as_text=True)
    assert f'<dd id="amount">{words}</dd>' in status
    respondent = app.test_client()
    respondent.set_cookie("lang", lang)
    open_as_respondent(respondent, receipt.case_number, code)
    answer = respondent.get(f"/respond/{receipt.case_number}").get_data(as_text=True)
    assert f'<dd id="amount">{words}</dd>' in answer
