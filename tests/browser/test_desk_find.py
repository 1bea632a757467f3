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
    box = page.get_by_role("searchbox", name="按编号查找")
    box.fill(f"{mine[:2].lower()} {mine[2:10]} {mine[10:]}")
    box.press("Enter")
    page.wait_for_url(re.compile(rf".*/desk/cases/{mine}$"))
    page.get_by_role("searchbox", name="按编号查找").fill(theirs)
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


def test_on_a_phone_the_queues_filters_fold_under_their_summary_until_one_is_used(
        pages, live_server, db, file_case, make_staff, request):
    """Seven filter fields stood between the tabs and the first case on a phone; folded, the
    first case is on the first screen. A filter in use keeps them open and counted; on a
    desktop they are always open, with no summary."""
    number = file_case().case_number
    user, _ = staff(db, make_staff, "miit")
    page = pages("filters_phone", phone=True)
    sign_in(page, live_server, user, landing=r".*/desk/units/\d+$")
    assert not page.get_by_label("类型").is_visible()
    assert page.locator(f"#row-{number}").bounding_box()["y"] < 844
    shot(page, request, "folded")
    page.locator(".filter-box > summary").click()
    page.get_by_label("仅看已超期").check()
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(r".*overdue=1.*"))
    assert page.get_by_label("仅看已超期").is_checked()  # in use: open, and counted on the summary
    assert page.locator(".filter-box > summary .count").inner_text() == "1"
    shot(page, request, "in_use")
    desk = pages("filters_desktop")
    sign_in(desk, live_server, user, landing=r".*/desk/units/\d+$")
    assert desk.get_by_label("类型").is_visible() and not desk.locator(".filter-box > summary").is_visible()


def _ring(page, selector) -> tuple[str, str]:
    """The outline colour and box shadow of ``selector`` while focused from the keyboard."""
    page.focus(selector)
    return page.locator(selector).evaluate("e => [getComputedStyle(e).outlineColor, getComputedStyle(e).boxShadow]")


def test_the_focus_ring_shows_on_the_coloured_headers(pages, live_server, db, make_staff):
    """WCAG 2.4.7 / 1.4.11: the blue ring was 1.04:1 on the public red header and 1.96:1 on the
    desk's navy bar; there it is white, edged dark."""
    page = pages("ring_public", phone=True)
    page.goto(live_server + "/")
    colour, shadow = _ring(page, "nav.lang a")
    assert colour == "rgb(255, 255, 255)" and "rgb(27, 27, 27)" in shadow
    user, _ = staff(db, make_staff, "miit")
    desk = pages("ring_desk")
    sign_in(desk, live_server, user, landing=r".*/desk/units/\d+$")
    colour, shadow = _ring(desk, ".desk-bar a[href*='/lang/']")
    assert colour == "rgb(255, 255, 255)" and "rgb(0, 0, 0)" in shadow
