"""A mediator on a phone sees the parties' contact details after giving a reason (issue 16,
defect 4): the reason is asked first, the numbers are tap-to-call links, and reloading hides them."""
import re

import pytest

from casework.accounts.models import Role, User
from tests.browser.conftest import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.commits]


def test_a_mediator_on_a_phone_gives_a_reason_then_calls_the_parties(browser, live_server, db, mediation,
                                                                    make_staff, request):
    number = mediation.case_number
    actor = make_staff("caam-mediation", Role.handler)
    with db.session_scope(write=False) as s:
        username = s.get(User, actor.user_id).username
    # a phone of its own (the pages fixture fails on any 4xx: the refusal without a reason is a 422)
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN")
    page = ctx.new_page()
    elsewhere = []
    page.on("request", lambda r: elsewhere.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:")) else None)
    page.on("pageerror", lambda e: elsewhere.append(str(e)))
    sign_in(page, live_server, username, then=f"/desk/cases/{number}")
    assert "13800138000" not in page.content() and "138****8000" in page.content()

    page.locator("#move-reveal_contact summary").click()
    page.locator("#move-reveal_contact button[type=submit]").click()  # no reason
    assert page.locator("#m-reveal_contact-reason-error").is_visible()
    assert "13800138000" not in page.content()

    page.locator("#m-reveal_contact-reason").fill("电话联系双方当事人安排调解")
    page.locator("#move-reveal_contact button[type=submit]").click()
    page.wait_for_selector("#contact-details")
    applicant = page.locator("#contact-complainant-phone a")
    assert applicant.inner_text() == "13800138000" and applicant.get_attribute("href") == "tel:13800138000"
    assert page.locator("#contact-respondent-phone a").inner_text() == "13900139000"
    assert applicant.is_visible()
    # fits the phone: nothing wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, request, "shown")

    page.goto(f"{live_server}/desk/cases/{number}")
    assert page.locator("#contact-details").count() == 0 and "13800138000" not in page.content()
    assert re.search(r"已查看联系方式", page.locator("#timeline").inner_text())
    ctx.close()
    assert elsewhere == []
