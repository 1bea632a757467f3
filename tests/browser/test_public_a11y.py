"""The accessibility audit's findings on the public pages, in a phone's browser (the markup itself:
tests/web/test_public_a11y.py; every page's general checks: test_accessibility.py's AUDIT):

- an error summary's link moves the focus to the field itself, a radio group's first radio button;
- a table that scrolls sideways takes the keyboard's focus, shows it, and scrolls with the arrows;
- at 200% zoom on a phone (195 CSS px) no page scrolls sideways;
- a statement typed on the status page survives the session running out before it was sent,
  with JavaScript off (the form had answered "this form has expired" and the text was gone).
"""
import re
from datetime import datetime, timezone

import pytest

from casework.accounts.models import Role
from casework.cases.models import Case, CaseState as S
from casework.stats.rollup import refresh
from casework.workflow.machine import perform
from tests.conftest import BASIS

# the live server answers from threads of its own: the test commits its rows
pytestmark = [pytest.mark.browser, pytest.mark.commits]

ACTIVE = "document.activeElement && document.activeElement.id"


def open_status(page, base, receipt):
    page.goto(base + "/track")
    page.locator("#number").fill(receipt.case_number)
    page.locator("#code").fill(receipt.query_code)
    page.locator("form.card button[type=submit]").click()
    page.wait_for_url(re.compile(rf".*/track/{receipt.case_number}$"))


@pytest.fixture
def replied(db, services, file_case, make_staff):
    receipt = file_case()
    handler = make_staff("miit", Role.handler)
    for move, fields in (("accept", {}), ("reply", {"opinion": "supported", "legal_basis": BASIS,
                                                    "public_text": "经核查，协会已停止强制入会做法并退还会费。"})):
        with db.session_scope() as s:
            perform(s, services, handler, s.get(Case, receipt.case_id), move, **fields)
    return receipt


def test_summary_links_move_the_focus_to_the_field(phone, live_server, replied):
    page = phone
    page.goto(live_server + "/file/mediation")
    page.locator("button[name=action][value=submit]").click()
    page.wait_for_selector(".error-summary")
    page.locator(".error-summary a[href='#respondent-kind-member_company']").click()
    assert page.evaluate(ACTIVE) == "respondent-kind-member_company"
    # the rating sent empty: its group's first radio button
    open_status(page, live_server, replied)
    page.locator("#rate-form button[type=submit]").click()
    page.wait_for_selector("#move-error")
    link = page.locator("#to-failed-form")
    assert link.inner_text() == "您对答复满意吗？请选择您的满意程度。"
    link.click()
    assert page.evaluate(ACTIVE) == "rate-rating-satisfied"
    # the review: its text box, named in the link
    page.locator("#review-form button[type=submit]").click()
    page.wait_for_selector("#move-error")
    assert page.locator("#to-failed-form").inner_text() == "不满意的理由：此项为必填项。"
    page.locator("#to-failed-form").click()
    assert page.evaluate(ACTIVE) == "request_review-public_text"


def test_a_scrolling_table_takes_the_keyboards_focus(phone, live_server, db, file_case):
    file_case()
    refresh(db, lambda: datetime.now(timezone.utc))
    page = phone
    page.goto(live_server + "/stats")
    trend = page.locator("#trend .table-wrap")
    assert trend.evaluate("e => e.scrollWidth > e.clientWidth")  # it does scroll on a 360 px phone
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('#trend .table-wrap')"):
            break
    else:
        pytest.fail("Tab never reached the monthly trend's table")
    assert trend.evaluate("e => getComputedStyle(e).outlineStyle") == "solid"  # the ring shows
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)  # a smooth scroll
    assert trend.evaluate("e => e.scrollLeft") > 0


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_no_page_scrolls_sideways_at_200_percent_zoom(browser, live_server, lang):
    """A 390 px phone at 200% zoom is 195 CSS px wide: /open-data scrolled by 36 px (schema_version,
    figures_as_of), /privacy by 5 px (138****1234), the English header by 2 px (the 中文 switch)."""
    wide = {}
    for path in ("/", "/privacy", "/open-data", "/stats", "/track", "/respond", "/mine", "/file/complaint"):
        ctx = browser.new_context(viewport={"width": 195, "height": 422}, is_mobile=True, has_touch=True)
        ctx.add_cookies([{"name": "lang", "value": lang, "url": live_server}])
        page = ctx.new_page()
        page.goto(live_server + path)
        width = page.evaluate("document.scrollingElement.scrollWidth")
        if width > 195:
            wide[path] = width
        ctx.close()
    assert wide == {}


@pytest.mark.parametrize("phone", [False], indirect=True, ids=["no_js"])
def test_a_statement_survives_the_session_running_out(phone, live_server, db, replied):
    page = phone
    open_status(page, live_server, replied)
    statement = "协会至今仍在收取会费。\n附上最新的缴费通知。"
    page.locator("#request_review-public_text").fill(statement)
    page.context.clear_cookies()  # 31 minutes later: the session, its token and the case's opening are gone
    page.locator("#review-form button[type=submit]").click()
    page.wait_for_selector("#expired-notice")
    assert page.locator("#resume-public_text").input_value() == statement
    assert page.locator("#number").input_value() == replied.case_number
    page.locator("#code").fill(replied.query_code)
    page.locator("form.card button[type=submit]").click()
    page.wait_for_selector("#review-form")
    assert page.locator("#request_review-public_text").input_value() == statement
    assert "此表单已过期" in page.locator("#move-error").inner_text()
    page.locator("#review-form button[type=submit]").click()
    page.wait_for_selector("[role=status]")
    with db.session_scope(write=False) as s:
        case = s.get(Case, replied.case_id)
        assert case.state is S.under_review
        assert case.events[-1].public_text.replace("\r\n", "\n") == statement


def test_the_english_type_ahead_marks_the_chinese_names(browser, live_server):
    """The type-ahead's results on an English page: the English name, and the Chinese name and
    short name marked lang="zh-CN" (a screen reader read them as English)."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="en-GB")
    ctx.add_cookies([{"name": "lang", "value": "en", "url": live_server}])
    page = ctx.new_page()
    try:
        page.goto(live_server + "/file/complaint")
        page.locator("#association_q").fill("中汽协")
        page.wait_for_selector("#association-results label.option")
        option = page.locator("#association-results label.option").first
        assert option.locator("span[lang='zh-CN']", has_text="中汽协").count() == 1
        assert option.locator("small span[lang='zh-CN']").inner_text() == "中国汽车工业协会"
        assert option.locator("input[type=radio]").get_attribute("required") is not None
    finally:
        ctx.close()
