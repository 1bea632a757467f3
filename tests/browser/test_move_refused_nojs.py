"""Without JavaScript, on a phone (390x844, Chinese): a move refused on the status page is
Post/Redirect/Get (web.public.refused). The rating sent without a rating answered its POST with
the page (422), and a reload asked to send the form again (net::ERR_CACHE_MISS in headless
Chromium). It answers 303 to the status page at the rating's form, which says why once, focused
on its error summary, with the comment typed; a reload shows the plain page and sends nothing."""
import os

import pytest

from casework.accounts.models import Role
from casework.cases.models import Case, CaseState as S
from casework.workflow.machine import perform
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_intake_draft_nojs import away_and_back, no_js  # noqa: F401 (the no_js fixture)
from tests.browser.test_receipt_reload import cache_miss
from tests.browser.test_withdraw import open_status
from tests.conftest import BASIS

pytestmark = [pytest.mark.browser, pytest.mark.commits]

COMMENT = "答复没有说明退还会费的时间。"


def test_a_rating_sent_empty_is_said_once_and_a_reload_sends_nothing(no_js, live_server, db, services, file_case,
                                                                     make_staff):
    page, seen = no_js
    receipt = file_case()
    handler = make_staff("miit", Role.handler)
    with db.session_scope() as s:
        perform(s, services, handler, s.get(Case, receipt.case_id), "accept")
        perform(s, services, handler, s.get(Case, receipt.case_id), "reply", opinion="supported", legal_basis=BASIS,
                public_text="经核查，协会已停止强制入会。")
    open_status(page, live_server, receipt)
    status_url = f"{live_server}/track/{receipt.case_number}"

    form = page.locator("#rate-form")
    form.locator("#rate-public_text").fill(COMMENT)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()  # no rating chosen
    page.wait_for_selector("#move-error")
    # the status page's own address, at the rating's form: not the answer to a POST
    assert page.url == status_url, page.url
    assert "满意" in page.locator("#move-error").inner_text()
    assert page.locator("#rating-error").count() == 1
    assert page.locator("#rate-public_text").input_value() == COMMENT
    assert page.evaluate("document.activeElement && document.activeElement.id") == "move-error"
    assert seen["dialogs"] == [] and seen["failed"] == [], seen
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, "move_refused_nojs.png"), full_page=True)

    posts = seen["posts"]
    page.reload()  # no dialog, no ERR_CACHE_MISS, nothing sent again: the plain page
    page.wait_for_load_state()
    assert page.url == status_url and not cache_miss(page), page.url
    assert seen["dialogs"] == [] and seen["failed"] == [] and seen["posts"] == posts, seen
    assert page.locator("#move-error").count() == 0 and page.locator("#rating-error").count() == 0
    assert page.locator("#rate-form").count() == 1

    def said_once():
        assert page.locator("#move-error").count() == 0

    away_and_back(page, seen, live_server, status_url, said_once)
    with db.session_scope(write=False) as s:
        assert s.get(Case, receipt.case_id).state is S.replied
