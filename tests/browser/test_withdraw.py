"""Withdrawing a case on the status page takes a ticked confirmation (issue 16): one tap on
“撤回” withdraws nothing, with JavaScript on or off, and the page says why in its own language
(the form is checked by the server, not by the browser's bubble in the browser's language) and
keeps the reason typed; the box's own label ticks it, and then the case is withdrawn. The
rating's and the review's boxes have ids of their own."""
import re

import pytest

from casework.cases.models import Case, CaseState as S

# the live server answers from threads of its own: the test commits its rows
pytestmark = [pytest.mark.browser, pytest.mark.commits]


def open_status(page, base, receipt):
    page.goto(base + "/track")
    page.locator("#number").fill(receipt.case_number)
    page.locator("#code").fill(receipt.query_code)
    page.locator("form.card button[type=submit]").click()
    page.wait_for_url(re.compile(rf".*/track/{receipt.case_number}$"))


@pytest.mark.parametrize("phone", [True, False], indirect=True, ids=["js", "no_js"])
def test_withdrawing_takes_a_ticked_confirmation(phone, live_server, db, file_case):
    receipt = file_case()
    open_status(phone, live_server, receipt)
    form = phone.locator("#withdraw-form")
    form.locator("#withdraw-public_text").fill("已与协会协商解决。")
    form.locator("button[type=submit]").click()  # not ticked: refused, with the page's message
    phone.wait_for_selector("#withdraw-confirm-error")
    assert "勾选" in phone.locator("#withdraw-confirm-error").inner_text()
    assert phone.locator("#case-state").inner_text() == "待受理"
    assert phone.locator("#withdraw-public_text").input_value() == "已与协会协商解决。"  # kept
    with db.session_scope(write=False) as s:
        assert s.get(Case, receipt.case_id).state is S.pending_acceptance
    form = phone.locator("#withdraw-form")
    form.get_by_text("确认撤回本案件").click()  # the label ticks its own box
    assert phone.locator("#withdraw-confirm").is_checked()
    form.locator("button[type=submit]").click()
    phone.wait_for_selector("[role=status]")
    assert "您的案件已撤回" in phone.locator("[role=status]").inner_text()
    assert phone.locator("#case-state").inner_text() == "已撤回"
