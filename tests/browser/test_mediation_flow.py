"""A mediation from request to agreement in a real browser.

An applicant files a mediation request on a phone through the real form and keeps the
number and query code; the mediation body's coordinator accepts it at the desk and reads
the respondent's answer code off the page; the respondent, on another phone, opens its
page with that code and agrees; a mediator, on a phone, finds the case in its list,
schedules and logs a session and records the agreement; the applicant downloads the
调解协议书, whose extracted text is Chinese and holds the terms.
"""
import io
import re
from datetime import datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from casework.accounts.models import Role, User
from casework.cases.numbers import CHINA
from tests.browser.conftest import shot, sign_in

# the live server answers from threads of its own: the test commits its rows
pytestmark = [pytest.mark.browser, pytest.mark.commits, pytest.mark.usefixtures("cjk_pdf")]

CLAIM = "请求对方支付拖欠的货款三十万元。"
FACTS = "申请人向被申请人供应汽车零部件，被申请人尚欠货款三十万元未付。"
TERMS = "一、被申请人于2026年12月31日前向申请人支付货款三十万元。\n二、申请人放弃其他请求。"
SUMMARY = "双方就付款期限交换了意见，被申请人同意年底前付清。"
NOTE = "被申请人资金紧张，内部记录。"


def username(db, actor):
    with db.session_scope(write=False) as s:
        return s.scalar(select(User.username).where(User.id == actor.user_id))


def no_sideways_scroll(page):
    width = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_mediation_from_request_to_agreement(pages, live_server, db, make_staff, request, sms_step):
    base = live_server

    # the applicant files on a phone
    applicant = pages("applicant", phone=True)
    applicant.goto(base + "/")
    applicant.get_by_role("link", name=re.compile("申请调解")).click()
    applicant.wait_for_url(re.compile(r".*/file/mediation$"))
    applicant.get_by_label("按名称、简称或拼音首字母查找").fill("中汽协")
    applicant.get_by_text("中国汽车工业协会").first.click()  # type-ahead result
    applicant.get_by_label("事项分类").select_option(label="会员间合同纠纷")
    applicant.get_by_label("标题").fill("会员企业拖欠货款")
    applicant.get_by_label("具体情况").fill("我公司向某某零部件有限公司供应零部件，对方拖欠货款三十万元至今未付。")
    applicant.get_by_role("radio", name="会员企业", exact=True).check()
    applicant.locator("#respondent-name").fill("某某零部件有限公司")
    applicant.locator("#respondent-phone").fill("13900139000")
    applicant.locator("#amount").fill("300000")
    applicant.locator("#claim").fill(CLAIM)
    applicant.locator("#complainant-name").fill("张三")
    applicant.locator("#complainant-phone").fill("13800138000")
    applicant.get_by_label(re.compile("我已阅读隐私说明")).check()
    no_sideways_scroll(applicant)
    applicant.get_by_role("button", name="提交").click()
    sms_step(applicant)  # the code sent to the phone (issue 19)
    number = applicant.locator("#case-number").inner_text().strip()
    code = applicant.locator("#query-code").inner_text().strip()
    assert re.fullmatch(r"TJ\d{14}", number) and re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", code)
    shot(applicant, request, "receipt")

    # the coordinator of 中国汽车工业协会调解中心 accepts it at the desk
    coordinator_actor = make_staff("caam-mediation", Role.unit_lead)
    mediator_actor = make_staff("caam-mediation", Role.handler)
    desk = pages("coordinator")
    sign_in(desk, base, username(db, coordinator_actor), f"/desk/cases/{number}")
    assert desk.locator("#case-state").inner_text() == "待受理"
    assert desk.locator("#mediation-claim").inner_text() == CLAIM
    assert "139****9000" in desk.content() and "13900139000" not in desk.content()
    desk.locator("#m-accept_mediation-public_text").fill("调解中心已受理您的调解申请，正在征询对方意见。")
    desk.locator("#move-accept_mediation button[type=submit]").click()
    desk.wait_for_selector("#respondent-code")
    answer_code = desk.locator("#respondent-code").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", answer_code)
    assert desk.locator("#case-state").inner_text() == "待被申请人答复"  # accepted: the respondent is asked next
    shot(desk, request, "coordinator_code")
    desk.goto(f"{base}/desk/cases/{number}")
    assert desk.locator("#respondent-code").count() == 0  # shown once
    desk.locator("#move-assign summary").click()
    desk.locator("#m-assign-handler_id").select_option(value=str(mediator_actor.user_id))
    desk.locator("#move-assign button[type=submit]").click()
    desk.wait_for_url(re.compile(rf".*/desk/cases/{number}$"))

    # the respondent opens its page on its own phone and agrees
    respondent = pages("respondent", phone=True)
    respondent.goto(base + "/respond")
    respondent.get_by_label("案件编号").fill(number)
    respondent.get_by_label("答复码").fill(answer_code)
    respondent.get_by_role("button", name="打开").click()
    respondent.wait_for_url(re.compile(rf".*/respond/{number}$"))
    assert respondent.locator("#claim").inner_text() == CLAIM
    assert respondent.locator("#applicant").inner_text() == "张*"
    assert "中国汽车工业协会调解中心" in respondent.locator("#mediation-body").inner_text()
    no_sideways_scroll(respondent)
    shot(respondent, request, "respondent_answer")
    respondent.get_by_role("button", name="同意调解", exact=True).click()
    respondent.wait_for_url(re.compile(rf".*/respond/{number}$"))
    assert respondent.locator("#case-state").inner_text() == "调解中"

    # the mediator, on a phone: its list, then the case: a session scheduled and logged, the agreement
    mediator = pages("mediator", phone=True)
    sign_in(mediator, base, username(db, mediator_actor), "/desk/mediation")
    mediator.locator(f"#mcase-{number} a.number").click()
    mediator.wait_for_url(re.compile(rf".*/desk/cases/{number}$"))
    when = datetime.now(CHINA).strftime("%Y-%m-%dT%H:%M")  # held now: one still to come cannot be logged
    mediator.locator("#move-schedule_session summary").click()
    mediator.locator("#m-schedule_session-scheduled_at").fill(when)
    mediator.locator("#m-schedule_session-place").fill("中汽协调解中心第二调解室")
    mediator.locator("#move-schedule_session button[type=submit]").click()
    mediator.wait_for_url(re.compile(rf".*/desk/cases/{number}$"))
    assert "中汽协调解中心第二调解室" in mediator.locator("#sessions-table").inner_text()
    mediator.goto(base + "/desk/mediation")
    assert "中汽协调解中心第二调解室" in mediator.locator("#upcoming").inner_text()
    no_sideways_scroll(mediator)
    shot(mediator, request, "mediator_list")
    mediator.locator(f"#mcase-{number} a.number").click()
    mediator.locator("#move-log_session summary").click()
    picker = mediator.locator("#m-log_session-session_id")  # the only session is already chosen
    assert picker.input_value() and picker.input_value() == picker.locator("option").nth(1).get_attribute("value")
    mediator.locator("#m-log_session-attendees").fill("申请人张三、被申请人代表、调解员")
    mediator.locator("#m-log_session-summary").fill(SUMMARY)
    mediator.locator("#m-log_session-internal_text").fill(NOTE)
    mediator.locator("#move-log_session button[type=submit]").click()
    mediator.wait_for_url(re.compile(rf".*/desk/cases/{number}$"))
    mediator.locator("#move-record_agreement summary").click()
    # the parties' particulars, the dispute and the performance (人民调解法 第二十九条)
    for name, value in (("applicant_id", "110101199001011237"), ("applicant_address", "北京市东城区示例路1号"),
                        ("respondent_id", "91110000100000000R"), ("respondent_address", "天津市滨海新区示例大道8号"),
                        ("facts", FACTS), ("issues", "货款三十万元是否应当支付"),
                        ("liability", "被申请人逾期付款，应承担主要责任"), ("terms", TERMS),
                        ("performance_method", "银行转账至申请人账户"), ("performance_due", "2099-12-31")):
        mediator.locator(f"#m-record_agreement-{name}").fill(value)
    mediator.locator("#move-record_agreement button[type=submit]").click()
    mediator.wait_for_url(re.compile(rf".*/desk/cases/{number}$"))
    assert mediator.locator("#case-state").inner_text() == "调解成功"
    assert mediator.locator("#agreement-pdf").count() == 1

    # the applicant sees the schedule and the outcome, and downloads the 调解协议书
    applicant.goto(base + "/track")
    applicant.locator("#number").fill(number)
    applicant.locator("#code").fill(code)
    applicant.locator("form.card button[type=submit]").click()
    applicant.wait_for_url(re.compile(rf".*/track/{number}$"))
    assert applicant.locator("#case-state").inner_text() == "调解成功"
    sessions = applicant.locator("#sessions").inner_text()
    assert "中汽协调解中心第二调解室" in sessions and SUMMARY in sessions and NOTE not in applicant.content()
    assert "二、申请人放弃其他请求。" in applicant.locator("#agreement-terms").inner_text()
    assert "司法确认" in applicant.locator("#next-step").inner_text()
    no_sideways_scroll(applicant)
    with applicant.expect_download() as info:
        applicant.locator("#agreement-pdf").click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    data = open(download.path(), "rb").read()
    assert data.startswith(b"%PDF-")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    for expected in ("调解协议书", number, "张三", "某某零部件有限公司", FACTS,
                     "一、被申请人于2026年12月31日前向申请人支付货款三十万元。", "二、申请人放弃其他请求。",
                     "司法确认", "中国汽车工业协会调解中心"):
        assert expected in text, expected

    # the respondent sees the same outcome and can fetch the same document
    respondent.reload()
    assert "二、申请人放弃其他请求。" in respondent.locator("#agreement-terms").inner_text()
    resp = respondent.request.get(f"{base}/respond/{number}/agreement.pdf")
    assert resp.status == 200 and resp.body().startswith(b"%PDF-")
