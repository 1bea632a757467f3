"""The complainant's journey on a phone (390x844), in Chinese and in English (issue 16): file a
complaint, keep the receipt through a language switch, track the case with its number and code,
add evidence (a statement and a photo), and once the handling deadline has passed urge (催办) the
unit; both show on the timeline. Without JavaScript: file, track, add evidence."""
import os
import re

import pytest
from PIL import Image
from sqlalchemy import update

from casework.cases.models import Case
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_intake_phone import check_status, read_receipt

# the live server answers from threads of its own: the test commits its rows
pytestmark = [pytest.mark.browser, pytest.mark.commits]

TEXT = {
    "zh": {"lang": "English", "back": "中文", "lookup": "按名称、简称或拼音首字母查找",
           "privacy": "我已阅读隐私说明", "submit": "提交", "find": "查找",
           "added": "您补充的材料已加入案件", "urged": "已催促办理单位", "evidence": "补充证据", "urge": "催办"},
    "en": {"lang": "中文", "back": "English", "lookup": "Search by name, short name or pinyin initials",
           "privacy": "I have read the privacy notice", "submit": "Submit", "find": "Find",
           "added": "Your evidence has been added to the case", "urged": "The unit has been urged",
           "evidence": "Evidence added", "urge": "Urged (催办)"},
}


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "催缴通知.png"
    Image.new("RGB", (40, 30), (30, 90, 160)).save(path, format="PNG")
    return path


def file_complaint(page, base, t, sms_step, *, js=True):
    page.goto(base + "/file/complaint")
    page.get_by_label(t["lookup"]).fill("zgfh")
    if not js:
        page.get_by_role("button", name=t["find"]).click()
    page.locator("#association-results label.option, .matches label.option").first.click()
    page.locator("#category").select_option(index=1)
    page.locator("#title").fill("强制入会并收取会费")
    page.locator("#description").fill("协会要求我公司必须入会，并收取会费两万元，否则不予出具证明。")
    page.locator("#complainant-name").fill("张三")
    page.locator("#complainant-phone").fill("13800138000")
    page.get_by_label(re.compile(t["privacy"])).check()
    page.get_by_role("button", name=t["submit"]).click()
    sms_step(page)  # the code sent to the phone (issue 19)
    return read_receipt(page)


def add_evidence(page, photo, t):
    form = page.locator("#evidence-form")
    form.locator("#add_evidence-public_text").fill("协会又发来了催缴会费的通知，见附件照片。")
    form.locator("#add_evidence-files").set_input_files(str(photo))
    form.locator("button[type=submit]").click()
    page.wait_for_selector("[role=status]")
    assert t["added"] in page.locator("[role=status]").inner_text()


def timeline(page) -> str:
    return page.locator("ol.timeline").inner_text()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_file_track_add_evidence_and_urge(pages, live_server, db, services, photo, lang, sms_step):
    t = TEXT[lang]
    page = pages(f"journey_{lang}", phone=True)  # 390 x 844
    if lang == "en":
        page.goto(live_server + "/")
        page.get_by_role("link", name="English").click()
    number, code = file_complaint(page, live_server, t, sms_step)
    # the receipt in the other language still shows the number and the code
    page.get_by_role("link", name=t["lang"]).click()
    page.wait_for_url(re.compile(rf".*/file/complaint/receipt/{number}$"))
    assert read_receipt(page) == (number, code)
    page.get_by_role("link", name=t["back"]).click()
    assert read_receipt(page) == (number, code)

    check_status(page, live_server, number, code)
    assert page.locator("#urge-form").count() == 0  # the deadline has not passed
    add_evidence(page, photo, t)
    text = timeline(page)
    assert t["evidence"] in text and "协会又发来了催缴会费的通知" in text and "催缴通知.png" in text

    # the handling deadline passes: the case can be urged, once
    with db.session_scope() as s:
        s.execute(update(Case).where(Case.number == number).values(due_at=services.clock().replace(year=2020)))
    page.reload()
    page.locator("#urge-form button[type=submit]").click()
    page.wait_for_selector("[role=status]")
    assert t["urged"] in page.locator("[role=status]").inner_text()
    assert t["urge"] in timeline(page) and t["evidence"] in timeline(page)
    assert page.locator("#urge-form").count() == 0
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the status page scrolls sideways on a phone: {width}px"


def test_without_javascript_file_track_and_add_evidence(browser, live_server, request, photo, sms_step):
    t = TEXT["zh"]
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                              locale="zh-CN", java_script_enabled=False)
    page = ctx.new_page()
    external = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:")) else None)
    try:
        number, code = file_complaint(page, live_server, t, sms_step, js=False)
        # a button that needs JavaScript is not shown without it (it would do nothing)
        assert page.locator("#copy-codes").count() == 1 and page.locator("#copy-codes").is_hidden()
        page.goto(live_server + f"/file/complaint/receipt/{number}/print")
        assert number in page.locator("main").inner_text()
        assert page.locator("#print-receipt").count() == 1 and page.locator("#print-receipt").is_hidden()
        check_status(page, live_server, number, code)
        add_evidence(page, photo, t)
        text = timeline(page)
        assert t["evidence"] in text and "催缴通知.png" in text
    finally:
        os.makedirs(ARTIFACTS, exist_ok=True)
        page.screenshot(path=os.path.join(ARTIFACTS, f"{request.node.name}.png"), full_page=True)
        ctx.close()
    assert external == [], f"page loaded from another host: {external}"
