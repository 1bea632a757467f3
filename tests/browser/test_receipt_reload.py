"""After filing on a phone (390x844, Chinese), reloading the receipt and going back never ask to send
the form again (Post/Redirect/Get, web.public.intake): the filing answers 303 See Other to the
receipt's GET address. Chromium shows a resubmission as a dialog or, going back to the answer to
a POST that may not be kept (no-store), as a net::ERR_CACHE_MISS page; neither happens, and the
database holds one case. A form sent back with errors is still the answer to its POST: reloading
it asks, which shows the test would see it."""
import os
import re

import pytest
from sqlalchemy import func, select

from casework.cases.models import Case
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_intake_phone import read_receipt

pytestmark = [pytest.mark.browser, pytest.mark.commits]


def cases(db) -> int:
    with db.session_scope(write=False) as s:
        return s.scalar(select(func.count()).select_from(Case))


def watched_phone(browser, javascript: bool = True):
    """(context, page, seen): a phone page (390x844, zh-CN) and what a resubmission would show:
    dialogs, pages that failed to load and the POSTs sent."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                              locale="zh-CN", java_script_enabled=javascript)
    page = ctx.new_page()
    seen = {"dialogs": [], "failed": [], "posts": 0}
    page.on("dialog", lambda d: (seen["dialogs"].append(d.type), d.dismiss()))
    # a page that failed to load (a resubmission refused shows as ERR_CACHE_MISS); a type-ahead's
    # fetch the navigation cut short (ERR_ABORTED) is not one
    page.on("requestfailed", lambda r: r.resource_type == "document" and seen["failed"].append(f"{r.url} {r.failure}"))
    page.on("request", lambda r: seen.__setitem__("posts", seen["posts"] + (r.method == "POST")))
    return ctx, page, seen


@pytest.fixture
def watched(browser):
    ctx, page, seen = watched_phone(browser)
    yield page, seen
    ctx.close()


def cache_miss(page) -> bool:
    return "ERR_CACHE_MISS" in page.content() or page.url.startswith("chrome-error://")


def fill_complaint(page, base, title="强制入会并收取会费"):
    page.goto(base + "/file/complaint")
    page.get_by_label("按名称、简称或拼音首字母查找").fill("zgfh")
    page.get_by_text("中国复合材料工业协会").first.click()
    page.get_by_label("事项分类").select_option(label="强制入会/强制摊派")
    page.get_by_label("标题").fill(title)
    page.get_by_label("具体情况").fill("协会要求我公司必须入会，并收取会费两万元，否则不予出具证明。")
    page.locator("#complainant-name").fill("张三")
    page.locator("#complainant-phone").fill("13800138000")
    page.get_by_label(re.compile("我已阅读隐私说明")).check()


def test_reload_and_back_after_filing_never_ask_to_send_the_form_again(watched, live_server, db, sms_step):
    page, seen = watched
    fill_complaint(page, live_server)
    page.get_by_role("button", name="提交").click()
    sms_step(page)  # the code sent to the phone (issue 19)
    number, code = read_receipt(page)
    assert re.fullmatch(rf"{re.escape(live_server)}/file/complaint/receipt/{number}", page.url)
    assert code not in page.url
    posts = seen["posts"]

    page.reload()
    assert read_receipt(page) == (number, code)  # the same receipt, in this browser
    page.go_back()
    page.wait_for_load_state()
    assert not cache_miss(page), page.url
    assert seen["dialogs"] == [] and seen["failed"] == [], seen
    assert seen["posts"] == posts  # nothing was sent again
    # back past the receipt: the form again, empty (the SMS code's step became its GET address,
    # and what was typed is dropped once the case is filed), nothing that would file it twice
    assert page.url.startswith(live_server + "/file/complaint")
    assert page.locator("#verify_code").count() == 0 and page.get_by_label("标题").input_value() == ""
    page.go_forward()
    page.wait_for_load_state()
    assert read_receipt(page) == (number, code) and seen["dialogs"] == []
    assert cases(db) == 1


def test_reloading_the_sms_codes_step_asks_nothing_and_loses_nothing(watched, live_server, db, app, tmp_path):
    """The code's step answers the form's POST; reloading it asked to send the form again. With
    JavaScript its entry becomes the form's address: the reload opens the form with the code's
    box, the text typed and the file staged, and the code then files one case with its file."""
    from PIL import Image

    from tests.phone_codes import app_code

    photo = tmp_path / "收费凭证.png"
    Image.new("RGB", (40, 30), (160, 40, 40)).save(photo, format="PNG")
    page, seen = watched
    fill_complaint(page, live_server)
    page.locator("#attachments").set_input_files(str(photo))
    page.get_by_role("button", name="提交").click()
    page.wait_for_selector("#verify_code")
    page.reload()
    page.wait_for_selector("#verify_code")
    assert seen["dialogs"] == [] and not cache_miss(page)
    assert page.get_by_label("标题").input_value() == "强制入会并收取会费"
    assert page.get_by_label("具体情况").input_value().startswith("协会要求我公司必须入会")
    assert page.locator("#complainant-name").input_value() == "张三"
    assert page.locator("#complainant-phone").input_value() == "13800138000"
    assert page.locator("#association-chosen").is_checked()
    assert "附件1" in page.content() or "收费凭证.png" in page.content()  # the file staged is still there
    page.locator("#verify_code").fill(app_code(app))
    page.locator("button[name=action][value=submit]").click()
    number, _ = read_receipt(page)
    with db.session_scope(write=False) as s:
        [case] = s.scalars(select(Case)).all()
        assert case.number == number and len(case.attachments) == 1 and case.title == "强制入会并收取会费"


def test_the_receipt_in_another_browser_shows_the_number_only(watched, browser, live_server, db, sms_step):
    page, _ = watched
    fill_complaint(page, live_server)
    page.get_by_role("button", name="提交").click()
    sms_step(page)
    number, code = read_receipt(page)
    other = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN")
    try:
        stranger = other.new_page()
        stranger.goto(page.url)
        text = stranger.locator("main").inner_text()
        assert number in text and code not in text and "仅在提交案件的浏览器中显示" in text
        assert stranger.get_by_role("link", name="我的诉求").is_visible()
        os.makedirs(ARTIFACTS, exist_ok=True)
        stranger.screenshot(path=os.path.join(ARTIFACTS, "receipt_number_only.png"), full_page=True)
        page.screenshot(path=os.path.join(ARTIFACTS, "receipt_with_code.png"), full_page=True)
    finally:
        other.close()


def test_the_check_sees_a_resubmission_where_a_post_is_answered_with_a_page(watched, live_server, db):
    """The form sent back with its errors answers the POST itself (everything typed kept, as it
    should): reloading it is what the phone asked about before; the watch above would see it."""
    page, seen = watched
    fill_complaint(page, live_server, title="短")
    page.get_by_role("button", name="提交").click()
    page.wait_for_selector("#title-error")
    posts = seen["posts"]
    try:
        page.reload(timeout=5000)
    except Exception:  # noqa: BLE001 - a dismissed resubmission leaves the reload unfinished
        pass
    assert seen["dialogs"] or seen["posts"] > posts or cache_miss(page), seen
    assert cases(db) == 0
