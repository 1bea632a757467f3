"""Without JavaScript, on a phone (390x844, Chinese): a wrong SMS code on the filing form is
Post/Redirect/Get as sending the code is (web.public.intake). The wrong code answers 303 See Other
to the form's GET address, which shows the error beside the code's box (once), the form filled in
and the code's box; the right code then files the case and answers 303 to the receipt. Going back
from the receipt, through the wrong code's page, never shows Chromium's "Confirm Form
Resubmission" dialog nor its net::ERR_CACHE_MISS page, sends no POST, and the database holds
exactly one case."""
import os
import re

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.browser.test_intake_phone import read_receipt
from tests.browser.test_receipt_reload import cache_miss, cases, watched_phone
from tests.phone_codes import app_code

pytestmark = [pytest.mark.browser, pytest.mark.commits]


@pytest.fixture
def no_js(browser):
    ctx, page, seen = watched_phone(browser, javascript=False)
    yield page, seen
    ctx.close()


def test_a_wrong_code_then_the_right_one_and_back_from_the_receipt_never_asks_to_send_again(no_js, live_server, db, app):
    page, seen = no_js
    base = live_server
    # the association chosen from its page's link (no type-ahead without JavaScript)
    page.goto(base + "/file/complaint?association=51100000500009247D")
    page.get_by_label("事项分类").select_option(label="强制入会/强制摊派")
    page.get_by_label("标题").fill("强制入会并收取会费")
    page.get_by_label("具体情况").fill("协会要求我公司必须入会，并收取会费两万元，否则不予出具证明。")
    page.locator("#complainant-name").fill("张三")
    page.locator("#complainant-phone").fill("13800138000")
    page.get_by_label(re.compile("我已阅读隐私说明")).check()
    page.get_by_role("button", name="提交").click()
    page.wait_for_selector("#verify_code")
    assert re.fullmatch(rf"{re.escape(base)}/file/complaint\?draft=[A-Za-z0-9_-]+", page.url), page.url
    step_url = page.url

    right = app_code(app)
    page.get_by_label("标题").fill("强制入会并收取高额会费")  # changed with the wrong code: kept too
    page.locator("#verify_code").fill("000000" if right != "000000" else "111111")
    page.locator("button[name=action][value=submit]").click()
    page.wait_for_selector("#verify_code-error")
    # the form's own address, not the answer to a POST: the error beside the box and in the summary
    assert page.url == step_url, page.url
    assert "验证码错误，还可以再试 4 次。" in page.locator("#verify_code-error").inner_text()
    assert "短信验证码：验证码错误，还可以再试 4 次。" in page.locator(".error-summary").inner_text()
    assert page.evaluate("document.activeElement && document.activeElement.id") == "verify_code"
    assert page.locator("#verify_code").input_value() == ""  # a code is never filled in again
    assert page.get_by_label("标题").input_value() == "强制入会并收取高额会费"
    assert page.locator("#complainant-name").input_value() == "张三"
    assert page.locator("#complainant-phone").input_value() == "13800138000"
    assert page.locator("#association-chosen").is_checked()
    assert seen["dialogs"] == [] and seen["failed"] == [], seen
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, "wrong_code_nojs.png"), full_page=True)

    page.locator("#verify_code").fill(right)
    page.locator("button[name=action][value=submit]").click()
    page.wait_for_load_state()
    number, code = read_receipt(page)
    assert re.fullmatch(rf"{re.escape(base)}/file/complaint/receipt/{number}", page.url)
    posts = seen["posts"]

    page.go_back()  # the wrong code's page was the form's address: nothing to send again
    page.wait_for_load_state()
    assert page.url == step_url and not cache_miss(page), page.url
    assert seen["dialogs"] == [] and seen["failed"] == [] and seen["posts"] == posts, seen
    assert f"您的诉求 {number} 已提交" in page.locator("main").inner_text()
    assert page.locator("#verify_code").count() == 0 and page.get_by_label("标题").input_value() == ""
    page.go_back()  # and the entry before it, whichever it is, asks nothing either
    page.wait_for_load_state()
    assert page.url.startswith(base + "/file/complaint") and not cache_miss(page), page.url
    page.go_forward()
    page.go_forward()
    page.wait_for_load_state()
    assert read_receipt(page) == (number, code)
    assert seen["dialogs"] == [] and seen["failed"] == [] and seen["posts"] == posts, seen
    assert cases(db) == 1
