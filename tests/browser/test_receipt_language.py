"""On a phone, the receipt of an anonymous report without a phone number (its query code shown
nowhere else) survives switching the language and a reload."""
import re

import pytest

from tests.browser.test_intake_phone import check_status, read_receipt

pytestmark = [pytest.mark.browser, pytest.mark.commits]


def test_the_receipt_survives_a_language_switch_and_a_reload(pages, live_server):
    page = pages("receipt", phone=True)  # 390 x 844
    page.goto(live_server + "/file/report")
    page.get_by_label("按名称、简称或拼音首字母查找").fill("中国钢铁")
    page.get_by_text("中国钢铁工业协会").first.click()
    page.get_by_label("事项分类").select_option(index=1)
    page.get_by_label("标题").fill("违规向会员收取评估费")
    page.get_by_label("具体情况").fill("协会未经批准向每个会员加收评估费，不交就不出具证明。")
    page.get_by_label(re.compile("匿名举报")).check()
    page.get_by_label(re.compile("我已阅读隐私说明")).check()
    page.get_by_role("button", name="提交").click()
    number, code = read_receipt(page)

    page.get_by_role("link", name="English").click()
    page.wait_for_url(re.compile(r".*/file/report/receipt$"))
    assert read_receipt(page) == (number, code)
    assert "shown only this once" in page.content()
    page.reload()
    assert read_receipt(page) == (number, code)
    page.get_by_role("link", name="中文").click()
    assert read_receipt(page) == (number, code) and "只显示这一次" in page.content()

    check_status(page, live_server, number, code)
    assert page.locator("#case-state").inner_text() == "待受理"
