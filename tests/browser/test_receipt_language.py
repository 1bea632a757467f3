"""On a phone, the receipt of an anonymous report without a phone number (its query code shown
nowhere else) survives switching the language and a reload."""
import re

import pytest
from playwright.sync_api import expect

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
    # issue 16: the copy button (JavaScript shows it) puts both on the clipboard, and the
    # print view has the number, the code and its print button
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page.get_by_role("button", name="复制编号和查询码").click()
    expect(page.locator("#copy-status")).to_have_text("已复制，请粘贴到安全的地方保存。")
    assert page.evaluate("navigator.clipboard.readText()") == f"案件编号: {number}\n查询码: {code}"
    page.get_by_role("link", name="打印或保存为图片").click()
    page.wait_for_url(re.compile(rf".*/file/report/receipt/{number}/print$"))
    assert read_receipt(page) == (number, code) and page.locator("#case-type").inner_text() == "举报"
    assert page.get_by_role("button", name="打印/保存").is_visible()
    page.get_by_role("link", name="返回回执").click()
    page.wait_for_url(re.compile(rf".*/file/report/receipt/{number}$"))

    page.get_by_role("link", name="English").click()
    page.wait_for_url(re.compile(rf".*/file/report/receipt/{number}$"))
    assert read_receipt(page) == (number, code)
    assert "shown only in this browser, for 10 minutes after filing" in page.content()
    page.reload()
    assert read_receipt(page) == (number, code)
    page.get_by_role("link", name="中文").click()
    assert read_receipt(page) == (number, code) and "仅在本浏览器中显示" in page.content()

    check_status(page, live_server, number, code)
    assert page.locator("#case-state").inner_text() == "待受理"


@pytest.mark.parametrize("phone, js", [(True, True), (False, False)], indirect=["phone"], ids=["js", "no-js"])
def test_a_language_switch_in_the_middle_of_the_form_keeps_what_was_typed_and_the_file(phone, js, live_server, tmp_path):
    """It came back empty, with no warning; without JavaScript (and a file with it too) nothing
    could keep it. The switch now sends the form: everything comes back in English, the file
    staged, with JavaScript on or off, and Enter in a field still does what it did."""
    from tests.web.test_public_pages import png_bytes

    page = phone
    page.goto(live_server + "/file/complaint")
    page.get_by_label("按名称、简称或拼音首字母查找").fill("中国钢铁")
    if not js:
        page.get_by_role("button", name="查找").click()
    page.get_by_text("中国钢铁工业协会").first.click()
    page.get_by_label("事项分类").select_option(index=2)
    chosen = page.locator("#category").input_value()
    page.get_by_label("标题").fill("强制入会并收取会费")
    page.get_by_label("标题").press("Enter")  # the form's first button: a search, not the switch
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    expect(page.get_by_label("标题")).to_have_value("强制入会并收取会费")
    page.get_by_label("具体情况").fill("协会要求我公司必须入会，并收取会费两万元，否则不予出具证明。")
    photo = tmp_path / "现场照片.png"
    photo.write_bytes(png_bytes())
    page.locator("#attachments").set_input_files(str(photo))
    page.get_by_role("button", name="English").click()
    expect(page.get_by_label("Title")).to_have_value("强制入会并收取会费")
    expect(page.get_by_label("Description")).to_have_value("协会要求我公司必须入会，并收取会费两万元，否则不予出具证明。")
    assert page.locator("#category").input_value() == chosen
    expect(page.locator('label.option:has(input[name="association"]:checked)')).to_contain_text("China Iron and Steel")
    expect(page.locator("ul.files")).to_contain_text("现场照片.png")
    assert "Everything you entered is still here." in page.locator("main").inner_text()
    # and back, with the same kind of button; the next page opened is in the language chosen
    page.get_by_role("button", name="中文").click()
    expect(page.get_by_label("标题")).to_have_value("强制入会并收取会费")
    expect(page.locator("ul.files")).to_contain_text("现场照片.png")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_the_status_pages_language_link_keeps_what_was_typed_but_never_a_code(pages, live_server, file_case):
    """The status page's 中文 / English is a link: what was typed into its forms (a statement, the
    number on the look-up page) was gone in the other language. With JavaScript the page keeps
    it for the tab and puts it back; the query code is never kept."""
    receipt = file_case()
    page = pages("status_switch", phone=True)
    page.goto(live_server + "/track")
    page.locator("#number").fill(receipt.case_number)
    page.locator("#code").fill("AAAA-BBBB-CCCC-DDDD")
    page.get_by_role("link", name="English").click()
    page.wait_for_url(re.compile(r".*/track$"))
    assert page.locator("#number").input_value() == receipt.case_number
    assert page.locator("#code").input_value() == ""  # never kept
    check_status(page, live_server, receipt.case_number, receipt.query_code)
    statement = "The association sent another demand for the fee; the letter is attached."
    page.locator("#add_evidence-public_text").fill(statement)
    page.get_by_role("link", name="中文").click()
    page.wait_for_url(re.compile(rf".*/track/{receipt.case_number}$"))
    assert "补充" in page.content()
    assert page.locator("#add_evidence-public_text").input_value() == statement
    page.reload()  # kept once: not put back again
    assert page.locator("#add_evidence-public_text").input_value() == ""
