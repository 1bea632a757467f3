"""A case not accepted, on the complainant's phone: the state is not written in the colour the
page uses for an accepted or answered case, and the reason is given in the notice's words
(信访工作条例 第二十三条; 市场监督管理投诉举报处理办法 (2026) 第十五条: the decision and its reason
are told)."""
import pytest

from casework.accounts.models import Role
from tests.browser.test_withdraw import open_status
from tests.web.test_public_moves import staff_move

pytestmark = [pytest.mark.browser, pytest.mark.commits]

COLOUR = "getComputedStyle(document.querySelector('#case-state')).color"


@pytest.mark.parametrize("phone", [False], indirect=True, ids=["no_js"])
def test_a_refusal_is_not_shown_as_a_success_and_says_why(phone, live_server, db, services, file_case, make_staff):
    accepted, refused = file_case(), file_case()
    handler = make_staff("miit", Role.handler)
    staff_move(db, services, handler, accepted.case_id, "accept")
    staff_move(db, services, handler, refused.case_id, "not_accept", reason="outside_remit",
               public_text="该协会的收费事项由当地发展改革部门管理。")
    open_status(phone, live_server, accepted)
    success = phone.evaluate(COLOUR)
    open_status(phone, live_server, refused)
    assert phone.locator("#case-state").inner_text() == "不予受理"
    assert phone.evaluate(COLOUR) != success
    assert phone.locator("#not-accepted-reason").inner_text() == "该事项不属于本单位职权范围。"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
