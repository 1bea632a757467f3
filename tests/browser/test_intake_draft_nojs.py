"""Without JavaScript, on a phone (390x844, Chinese): the SMS code's step is Post/Redirect/Get
(web.public.intake, casework.intake.drafts). Sending the form answers 303 See Other to the form's
GET address, filled in from its encrypted draft with the code's box; the code files the case and
answers 303 to the receipt. Reloading the code's step, going back from the receipt and forward
and back again never show Chromium's "Confirm Form Resubmission" dialog nor its
net::ERR_CACHE_MISS page, send no POST, and the database holds exactly one case. A wrong code, and
a new code refused (a second browser within the minute), are Post/Redirect/Get as well: back
through their pages asks nothing either."""
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


def send_filled_form(page, base: str) -> str:
    """The complaint form filled in without JavaScript (the association chosen from its page's
    link: no type-ahead) and sent: the code's step, the form's GET address (?draft=), filled in
    from the draft, with the code's box. Its address."""
    page.goto(base + "/file/complaint?association=51100000500009247D")
    assert page.locator("#association-chosen").is_checked()
    page.get_by_label("事项分类").select_option(label="强制入会/强制摊派")
    page.get_by_label("标题").fill("强制入会并收取会费")
    page.get_by_label("具体情况").fill("协会要求我公司必须入会，并收取会费两万元，否则不予出具证明。")
    page.locator("#complainant-name").fill("张三")
    page.locator("#complainant-phone").fill("13800138000")
    page.get_by_label(re.compile("我已阅读隐私说明")).check()
    page.get_by_role("button", name="提交").click()
    page.wait_for_selector("#verify_code")
    assert re.fullmatch(rf"{re.escape(base)}/file/complaint\?draft=[A-Za-z0-9_-]+", page.url), page.url
    return page.url


def away_and_back(page, seen, base: str, url: str, said_once) -> None:
    """From ``url`` (a refusal's page) to /track, back and forward again: no dialog, no page that
    failed to load (ERR_CACHE_MISS), no POST sent; back at ``url``, ``said_once()`` checks the page
    (the refusal not said again)."""
    posts = seen["posts"]
    page.goto(base + "/track")
    page.go_back()  # the refusal's page was the form's own address: nothing to send again
    page.wait_for_load_state()
    assert page.url == url and not cache_miss(page), page.url
    assert seen["dialogs"] == [] and seen["failed"] == [] and seen["posts"] == posts, seen
    said_once()
    page.go_forward()
    page.wait_for_load_state()
    assert page.url == base + "/track"
    assert seen["dialogs"] == [] and seen["failed"] == [] and seen["posts"] == posts, seen


def test_back_from_the_receipt_without_javascript_never_asks_to_send_the_form_again(no_js, live_server, db, app):
    page, seen = no_js
    base = live_server
    step_url = send_filled_form(page, base)
    assert page.get_by_label("标题").input_value() == "强制入会并收取会费"
    assert page.locator("#complainant-name").input_value() == "张三"
    assert "138****8000" in page.locator("main").inner_text()
    page.reload()  # a reload of the code's step asks nothing and keeps everything
    page.wait_for_selector("#verify_code")
    assert page.get_by_label("具体情况").input_value().startswith("协会要求我公司必须入会")
    assert seen["dialogs"] == [] and not cache_miss(page)
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, "sms_step_nojs.png"), full_page=True)

    page.locator("#verify_code").fill(app_code(app))
    page.locator("button[name=action][value=submit]").click()
    page.wait_for_load_state()
    number, code = read_receipt(page)
    assert re.fullmatch(rf"{re.escape(base)}/file/complaint/receipt/{number}", page.url)
    posts = seen["posts"]

    page.go_back()
    page.wait_for_load_state()
    assert page.url == step_url and not cache_miss(page), page.url
    assert seen["dialogs"] == [] and seen["failed"] == [] and seen["posts"] == posts, seen
    # the form's page: empty now, saying the case was filed; no code's box, nothing to file twice
    assert f"您的诉求 {number} 已提交" in page.locator("main").inner_text()
    assert page.locator("#verify_code").count() == 0 and page.get_by_label("标题").input_value() == ""
    page.screenshot(path=os.path.join(ARTIFACTS, "back_from_receipt_nojs.png"), full_page=True)

    page.go_forward()
    page.wait_for_load_state()
    assert read_receipt(page) == (number, code)
    page.go_back()
    page.wait_for_load_state()
    assert page.url == step_url and not cache_miss(page)
    assert seen["dialogs"] == [] and seen["failed"] == [] and seen["posts"] == posts, seen
    assert cases(db) == 1


def test_a_wrong_code_then_the_right_one_and_back_from_the_receipt_never_asks_to_send_again(no_js, live_server, db, app):
    """A wrong code is Post/Redirect/Get too: its answer is 303 to the form's address, which shows
    the error beside the code's box (once), everything typed, and the code's box; back from the
    receipt, through it, asks nothing and sends nothing."""
    page, seen = no_js
    base = live_server
    step_url = send_filled_form(page, base)

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


def test_a_new_code_refused_in_a_second_browser_is_said_on_the_forms_address_and_back_asks_nothing(
        no_js, browser, live_server, db):
    """The same person files again from a second browser within the minute: no new code may go to
    the number yet. The refusal answered its POST with the form (429), and back through it from a
    later page asked to send the form again (ERR_CACHE_MISS). It answers 303 to the form's
    address, which says why once, beside the code's box, with everything typed."""
    page, _ = no_js
    send_filled_form(page, live_server)  # the first browser: a code sent to 13800138000
    ctx, second, seen = watched_phone(browser, javascript=False)
    try:
        step_url = send_filled_form(second, live_server)  # the same number, less than a minute later
        error = second.locator("#verify_code-error").inner_text()
        assert re.search(r"验证码发送不到一分钟。\d+ 秒后可以重新获取验证码。", error), error
        assert "短信验证码：验证码发送不到一分钟。" in second.locator(".error-summary").inner_text()
        assert second.evaluate("document.activeElement && document.activeElement.id") == "verify_code"
        assert second.get_by_label("标题").input_value() == "强制入会并收取会费"
        assert second.locator("#complainant-name").input_value() == "张三"
        assert second.locator("#complainant-phone").input_value() == "13800138000"
        assert second.locator("#association-chosen").is_checked()
        assert second.get_by_role("button", name="重新获取验证码").count() == 1
        os.makedirs(ARTIFACTS, exist_ok=True)
        second.screenshot(path=os.path.join(ARTIFACTS, "new_code_refused_nojs.png"), full_page=True)

        def said_once():  # the form without the message, everything typed kept
            assert second.locator("#verify_code-error").count() == 0
            assert second.get_by_label("标题").input_value() == "强制入会并收取会费"
            assert second.locator("#complainant-name").input_value() == "张三"

        away_and_back(second, seen, live_server, step_url, said_once)
    finally:
        ctx.close()
    assert cases(db) == 0


def test_with_javascript_a_wrong_codes_page_reloads_as_the_forms_address_with_the_text_typed_since(
        browser, live_server, db, app):
    """A wrong code answers 303 to the form's address (?draft=) as sending the code does, the text
    typed with it kept in the draft; a reload shows the form without the error, static/js/intake.js
    putting what was typed in this tab back over the draft's text."""
    from tests.browser.test_receipt_reload import fill_complaint

    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN")
    page = ctx.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.type), d.dismiss()))
    try:
        fill_complaint(page, live_server)
        page.get_by_role("button", name="提交").click()
        page.wait_for_selector("#verify_code")
        page.get_by_label("标题").fill("强制入会并收取高额会费")  # changed after the code was sent
        right = app_code(app)
        page.locator("#verify_code").fill("000000" if right != "000000" else "111111")
        page.locator("button[name=action][value=submit]").click()
        page.wait_for_selector("#verify_code-error")
        assert "?draft=" in page.url
        page.reload()
        page.wait_for_selector("#verify_code")
        assert dialogs == [] and not cache_miss(page)
        assert page.get_by_label("标题").input_value() == "强制入会并收取高额会费"
        page.locator("#verify_code").fill(right)
        page.locator("button[name=action][value=submit]").click()
        read_receipt(page)
        assert cases(db) == 1
    finally:
        ctx.close()


def test_my_cases_code_step_without_javascript_never_asks_to_send_again(no_js, live_server, db, app):
    """我的诉求: the code sent and a wrong code answer 303 to /mine (web.public.mine); back from the
    list goes through them without a resubmission dialog or ERR_CACHE_MISS."""
    page, seen = no_js
    page.goto(live_server + "/mine")
    page.locator("#phone").fill("13800138000")
    page.locator("button[name=action][value=send]").click()
    page.wait_for_selector("#verify_code")
    assert page.url == live_server + "/mine" and page.locator("#phone").input_value() == "13800138000"
    right = app_code(app)
    page.locator("#verify_code").fill("000000" if right != "000000" else "111111")
    page.locator("button[name=action][value=check]").click()
    page.wait_for_selector("#verify_code-error")
    page.locator("#verify_code").fill(right)
    page.locator("button[name=action][value=check]").click()
    page.wait_for_selector("#mine-none")
    posts = seen["posts"]
    for _ in range(2):
        page.go_back()
        page.wait_for_load_state()
        assert not cache_miss(page) and page.url == live_server + "/mine"
    page.go_forward()
    page.wait_for_load_state()
    assert seen["dialogs"] == [] and seen["failed"] == [] and seen["posts"] == posts, seen
    assert page.locator("#mine-none").count() == 1


def test_my_cases_first_code_refused_in_a_second_browser_is_said_on_mine_and_back_asks_nothing(
        no_js, browser, live_server, db, app):
    """我的诉求 from a second browser within the minute: no code may go to the number yet. The
    refusal answered its POST with the form (429), and back through it from /track showed
    ERR_CACHE_MISS. It answers 303 to /mine, which says why once, with the number and no code's box."""
    page, _ = no_js
    page.goto(live_server + "/mine")  # the first browser: a code sent to 13800138000
    page.locator("#phone").fill("13800138000")
    page.locator("button[name=action][value=send]").click()
    page.wait_for_selector("#verify_code")
    first = app_code(app)
    ctx, second, seen = watched_phone(browser, javascript=False)
    try:
        second.goto(live_server + "/mine")
        second.locator("#phone").fill("13800138000")
        second.locator("button[name=action][value=send]").click()
        second.wait_for_selector("#mine-error")
        assert second.url == live_server + "/mine", second.url
        error = second.locator("#mine-error").inner_text()
        assert re.search(r"验证码发送不到一分钟。\d+ 秒后可以重新获取验证码。", error), error
        assert second.locator("#phone").input_value() == "13800138000"
        assert second.locator("#verify_code").count() == 0 and "138****8000" not in second.locator("main").inner_text()
        os.makedirs(ARTIFACTS, exist_ok=True)
        second.screenshot(path=os.path.join(ARTIFACTS, "mine_first_code_refused_nojs.png"), full_page=True)

        def said_once():  # the number's form without the refusal, and still no code's box
            assert second.locator("#mine-error").count() == 0 and "不到一分钟" not in second.locator("main").inner_text()
            assert second.locator("#verify_code").count() == 0

        away_and_back(second, seen, live_server, live_server + "/mine", said_once)
    finally:
        ctx.close()
    assert app_code(app) == first  # no new code went out
