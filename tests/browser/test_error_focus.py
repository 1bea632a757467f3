"""A page answering a refused send arrives focused on its error summary (the GOV.UK pattern), with
JavaScript and without, on a phone (390x844, Chinese): a keyboard or screen-reader user starts at
the summary and its links, not at the header. The summary shows where the focus is. When the SMS
code is what was wrong, its box keeps the focus instead (one autofocus a page)."""
import re

import pytest

from tests.browser.test_intake_draft_nojs import send_filled_form
from tests.browser.test_public_a11y import open_status, replied  # noqa: F401 (a fixture)
from tests.browser.test_receipt_reload import watched_phone
from tests.phone_codes import app_code

pytestmark = [pytest.mark.browser, pytest.mark.commits]

IN_SUMMARY = "() => !!document.activeElement && !!document.activeElement.closest('.error-summary')"


@pytest.fixture(params=[False, True], ids=["nojs", "js"])
def page(browser, request):
    ctx, page, _seen = watched_phone(browser, javascript=request.param)
    yield page
    ctx.close()


def focused_summary(page) -> bool:
    """The focus is on the error summary or in it (autofocus is applied as the page is first
    drawn: a moment is allowed); and it shows, a ring around the box."""
    for _ in range(20):
        if page.evaluate(IN_SUMMARY):
            break
        page.wait_for_timeout(100)
    else:
        return False
    ring = page.evaluate("() => { const s = getComputedStyle(document.activeElement);"
                         " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }")
    assert ring[0] != "none" and ring[1] >= 2, ring
    return True


def test_the_complaint_form_sent_empty_is_answered_focused_on_its_summary(page, live_server):
    page.goto(live_server + "/file/complaint")
    page.locator("button[name=action][value=submit]").click()
    page.wait_for_selector(".error-summary")
    assert focused_summary(page)
    assert page.evaluate("document.activeElement.id") != "verify_code"


def test_a_wrong_query_code_is_answered_focused_on_its_summary_with_no_empty_band(page, live_server):
    page.goto(live_server + "/track")
    page.locator("#number").fill("TS20261208025233")
    page.locator("#code").fill("AAAA-BBBB-CCCC-DDDD")
    page.locator("form.card button[type=submit]").click()
    page.wait_for_selector("#lookup-error")
    assert "没有与此案件编号和查询码匹配的案件" in page.locator(".error-summary").inner_text()
    assert focused_summary(page)
    # the message starts at the box's padding (border 2 px, padding 12 px), not an empty line below it
    gap = page.evaluate("() => { const box = document.querySelector('.error-summary');"
                        " return [box.querySelector('#lookup-error').getBoundingClientRect().top - box.getBoundingClientRect().top,"
                        " box.getBoundingClientRect().bottom - box.querySelector('#lookup-error').getBoundingClientRect().bottom]; }")
    assert gap[0] <= 16 and gap[1] <= 16, gap


def test_a_rating_sent_empty_is_answered_focused_on_its_summary(page, live_server, replied):  # noqa: F811
    open_status(page, live_server, replied)
    page.locator("#rate-form button[type=submit]").click()
    page.wait_for_selector("#move-error")
    assert focused_summary(page)


def test_a_wrong_sms_code_keeps_the_focus_in_the_codes_box(page, live_server, app):
    send_filled_form(page, live_server)
    right = app_code(app)
    page.locator("#verify_code").fill("000000" if right != "000000" else "111111")
    page.locator("button[name=action][value=submit]").click()
    page.wait_for_selector("#verify_code-error")
    assert re.search(r"/file/complaint\?draft=", page.url)
    assert page.locator(".error-summary").count() == 1  # the summary is there, and does not take the focus
    page.wait_for_timeout(300)
    assert page.evaluate("document.activeElement && document.activeElement.id") == "verify_code"
