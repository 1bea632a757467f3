"""A person on a phone files a case with evidence, keeps the number and code, checks it."""
import re

import pytest
from PIL import Image

# the live server answers from threads of its own: the test commits its rows
pytestmark = [pytest.mark.browser, pytest.mark.commits]


@pytest.fixture
def evidence(tmp_path):
    path = tmp_path / "收费凭证.jpg"
    img = Image.new("RGB", (120, 80), (180, 40, 40))
    exif = Image.Exif()
    exif[0x0110] = "SecretPhone"
    img.save(path, format="JPEG", exif=exif)
    return path


def read_receipt(page):
    number = page.locator("#case-number").inner_text().strip()
    code = page.locator("#query-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z]{2}\d{14}", number) and re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", code)
    return number, code


def check_status(page, base, number, code):
    page.goto(f"{base}/track")
    page.locator("#number").fill(number)
    page.locator("#code").fill(code)
    page.locator("form.card button[type=submit]").click()
    page.wait_for_url(re.compile(rf".*/track/{number}$"))


def test_complaint_in_chinese_with_attachment(phone, live_server, evidence, sms_step):
    page = phone
    page.goto(live_server + "/")
    page.get_by_role("link", name=re.compile("我要投诉")).click()
    page.get_by_label("按名称、简称或拼音首字母查找").fill("zgfh")
    page.get_by_text("中国复合材料工业协会").first.click()  # type-ahead result
    page.get_by_label("事项分类").select_option(label="强制入会/强制摊派")
    page.get_by_label("标题").fill("强制入会并收取会费")
    page.get_by_label("具体情况").fill("协会要求我公司必须入会，并收取会费两万元，否则不予出具证明。")
    page.locator("#attachments").set_input_files(str(evidence))
    page.locator("#complainant-name").fill("张三")
    page.locator("#complainant-phone").fill("138 0013 8000")
    page.get_by_label(re.compile("我已阅读隐私说明")).check()
    page.get_by_role("button", name="提交").click()
    sms_step(page)  # the code sent to the phone (issue 19)
    number, code = read_receipt(page)
    assert number.startswith("TS")
    assert "仅在本浏览器中显示" in page.content()

    check_status(page, live_server, number, code)
    assert page.locator("#case-state").inner_text() == "待受理"
    body = page.content()
    assert "中国复合材料工业协会" in body and "收费凭证.jpg" in body and "已提交" in body
    assert "13800138000" not in body


def test_form_errors_keep_everything_on_a_phone(phone, live_server):
    page = phone
    page.goto(live_server + "/file/complaint")
    page.get_by_label("标题").fill("短")
    page.get_by_label("具体情况").fill("<script>alert('x')</script> 协会强制收费两万元。")
    page.locator("#complainant-name").fill("李四")
    page.locator("#complainant-phone").fill("010-12345678")
    page.get_by_role("button", name="提交").click()
    assert page.locator("#title-error").is_visible()
    assert "中国大陆手机号码" in page.locator("#complainant-phone-error").inner_text()
    assert page.locator("#complainant-name").input_value() == "李四"
    assert page.get_by_label("具体情况").input_value().startswith("<script>")
    # no horizontal scrolling at 360 px
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_anonymous_report_in_english(phone, live_server):
    page = phone
    page.goto(live_server + "/")
    page.get_by_role("link", name="English").click()
    page.get_by_role("link", name=re.compile("Report wrongdoing")).click()
    page.get_by_label("Search by name, short name or pinyin initials").fill("中国钢铁")
    page.get_by_text("中国钢铁工业协会").first.click()
    page.get_by_label("Category").select_option(label="Illegal fees / arbitrary charges on businesses")
    page.get_by_label("Title").fill("Unlawful fees charged to members")
    page.get_by_label("Description").fill("The association charges every member an extra 'assessment fee' without approval.")
    # named, the report asks for a name and a phone as a complaint does (the server requires them)
    assert page.locator("#complainant-name").get_attribute("required") is not None
    page.get_by_label(re.compile("File this report anonymously")).check()
    # anonymous: the contact fields go (their hint promised to send the case number there)
    assert not page.locator("#complainant-name").is_visible() and not page.locator("#complainant-phone").is_visible()
    page.get_by_label(re.compile("I have read the privacy notice")).check()
    page.get_by_role("button", name="Submit").click()
    number, code = read_receipt(page)
    assert number.startswith("JB")
    assert "shown only in this browser, for 10 minutes after filing" in page.content()
    check_status(page, live_server, number, code)
    assert page.locator("#case-state").inner_text() == "Awaiting acceptance"
    assert "Submitted" in page.content()


@pytest.mark.parametrize("phone", [False], indirect=True)
def test_works_without_javascript(phone, live_server, sms_step):
    page = phone
    page.goto(live_server + "/file/mediation")
    page.get_by_label("按名称、简称或拼音首字母查找").fill("中汽协")
    page.get_by_role("button", name="查找").click()
    page.get_by_text("中国汽车工业协会").first.click()
    page.get_by_label("事项分类").select_option(label="会员间合同纠纷")
    page.get_by_label("标题").fill("货款拖欠纠纷申请调解")
    page.get_by_label("具体情况").fill("对方拖欠货款三十万元，希望通过协会调解解决。")
    page.get_by_role("radio", name="会员企业", exact=True).check()
    page.get_by_label("对方名称（企业、协会或个人）").fill("某某汽车零部件有限公司")
    page.get_by_label("争议金额（元，可选）").fill("300000")
    page.get_by_label("调解请求").fill("请求对方支付拖欠的货款三十万元。")
    page.locator("#complainant-name").fill("王五")
    page.locator("#complainant-phone").fill("13900139000")
    page.get_by_label(re.compile("我已阅读隐私说明")).check()
    page.get_by_role("button", name="提交").click()
    sms_step(page, "13900139000")
    number, code = read_receipt(page)
    assert number.startswith("TJ")
    check_status(page, live_server, number, code)
    assert page.locator("#case-state").inner_text() == "待受理"
