"""Issue 16: a handler types a case number, as read out over the phone, into the desk header's
按编号查找 box and lands on the case; another unit's number says only that no case was found."""
import re

import pytest

from tests.browser.conftest import shot, sign_in
from tests.browser.test_desk_flow import staff

pytestmark = [pytest.mark.browser, pytest.mark.commits]


def test_a_handler_opens_a_case_by_its_number_from_the_header(pages, live_server, db, file_case, make_staff, request):
    mine = file_case().case_number
    theirs = file_case(association="unknown", association_hint="某某商会").case_number  # waits for triage
    user, _ = staff(db, make_staff, "miit")
    page = pages("find")
    sign_in(page, live_server, user, landing=r".*/desk/units/\d+$")
    box = page.get_by_label("按编号查找")
    box.fill(f"{mine[:2].lower()} {mine[2:10]} {mine[10:]}")
    box.press("Enter")
    page.wait_for_url(re.compile(rf".*/desk/cases/{mine}$"))
    page.get_by_label("按编号查找").fill(theirs)
    page.get_by_role("button", name="打开").click()
    page.wait_for_url(re.compile(r".*/desk/find\?number="))
    assert page.locator("#find-result").inner_text() == f"未找到编号为 {theirs} 的案件。"
    shot(page, request, "not_found")


def test_the_queue_on_a_phone_shows_each_case_as_a_card_with_its_state_and_deadline(
        pages, live_server, db, file_case, make_staff, request):
    """A handler on a phone (390 px) reads the queue without scrolling sideways: each case is a
    card with its number, title, state and deadline in view, each value named (状态：, 期限：)."""
    number = file_case().case_number
    user, _ = staff(db, make_staff, "miit")
    page = pages("queue_phone", phone=True)
    sign_in(page, live_server, user, landing=r".*/desk/units/\d+$")
    row = page.locator(f"#row-{number}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for cell in ("td.number", "td.title", "td.case-state", "td.due", "td.handler"):
        box = row.locator(cell).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, (cell, box)
    state_label = row.locator("td.case-state").evaluate("td => getComputedStyle(td, '::before').content")
    assert state_label == '"状态："', state_label
    assert row.locator("td.case-state").inner_text().endswith("待受理")
    # the title comes before the state and the deadline, as a handler reads a case
    assert row.locator("td.title").bounding_box()["y"] < row.locator("td.case-state").bounding_box()["y"]
    shot(page, request, "card")
    # in English the unit's long name shrinks in its select: the Go button stays on the screen
    page.get_by_role("link", name="English").click()
    page.wait_for_url(re.compile(r".*/desk/units/\d+$"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    go = page.get_by_role("button", name="Go").bounding_box()
    assert go["x"] + go["width"] <= 390, go
    assert re.fullmatch(r"Page 1 of 1, \d+ cases?", page.locator("#page-info").inner_text())
