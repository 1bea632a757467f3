"""A complaint through two units' desks in a real browser, then back to the complainant's phone.

工业和信息化部 accepts it and transfers it to 国家市场监督管理总局, whose handler accepts it,
replies (starting from a canned reply) and leaves an internal note. The complainant sees the
public reply, and neither the internal note nor any handler's name.
"""
import re

import pytest
from sqlalchemy import select

from casework.accounts.models import Role, User
from casework.cases.models import CannedReply
from casework.registry.models import Unit
from tests.browser.conftest import shot, sign_in
from tests.conftest import BASIS

# the live server answers from threads of its own: the test commits its rows
pytestmark = [pytest.mark.browser, pytest.mark.commits]

REPLY = "经核查，该协会已停止强制入会做法，并已退还贵公司缴纳的会费两万元。"
NOTE = "内部：已与协会秘书长电话核实，退费凭证存档。"
TRANSFER_NOTE = "收费属于市场监管职责，转总局处理。"


def staff(db, make_staff, unit_code):
    actor = make_staff(unit_code, Role.handler)
    with db.session_scope(write=False) as s:
        user = s.get(User, actor.user_id)
        return user.username, user.display_name


def open_case(page, number):
    page.get_by_role("link", name=number).click()
    page.wait_for_url(re.compile(rf".*/desk/cases/{number}$"))


def test_complaint_through_two_desks_and_back_to_the_complainant(
        pages, phone, live_server, db, file_case, make_staff, request):
    receipt = file_case()
    number, code = receipt.case_number, receipt.query_code
    miit_user, miit_name = staff(db, make_staff, "miit")
    samr_user, samr_name = staff(db, make_staff, "samr")
    with db.session_scope() as s:
        samr = s.scalar(select(Unit.id).where(Unit.code == "samr"))
        s.add(CannedReply(unit_id=samr, title="停止强制入会并退费", body=REPLY, legal_basis=BASIS))

    # 工业和信息化部: accept, then transfer to 国家市场监督管理总局
    page = pages("miit")
    sign_in(page, live_server, miit_user, landing=r".*/desk/units/\d+$")
    assert page.locator("#staff-name").inner_text() == miit_name
    assert page.locator("#tab-pending .count").inner_text() == "1"
    shot(page, request, "miit_queue")
    open_case(page, number)
    assert "138****8000" in page.content() and "13800138000" not in page.content()
    page.locator("#m-accept-public_text").fill("您的投诉已受理，我们将尽快核查。")
    page.locator("#move-accept button[type=submit]").click()
    page.wait_for_url(re.compile(rf".*/desk/cases/{number}$"))
    assert page.locator("#case-state").inner_text() == "办理中"
    assert "已完成：受理" in page.locator(".flashes").inner_text()
    page.locator("#move-transfer summary").click()
    page.locator("#m-transfer-unit_id").select_option(label="国家市场监督管理总局")
    page.locator("#m-transfer-reason").select_option(label="其他单位有管辖权")
    page.locator("#m-transfer-public_text").fill("您的投诉涉及收费问题，已转国家市场监督管理总局办理。")
    page.locator("#m-transfer-internal_text").fill(TRANSFER_NOTE)
    shot(page, request, "miit_transfer")
    page.locator("#move-transfer button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/desk/units/\d+$"))
    assert "已不在您的队列中" in page.locator(".flashes").inner_text()
    assert page.locator(f"#row-{number}").count() == 0

    # 国家市场监督管理总局: accept, reply from a canned reply, add an internal note
    page = pages("samr")
    sign_in(page, live_server, samr_user, landing=r".*/desk/units/\d+$")
    assert page.locator(f"#row-{number}").count() == 1
    open_case(page, number)
    page.locator("#move-accept button[type=submit]").click()
    page.wait_for_url(re.compile(rf".*/desk/cases/{number}$"))
    page.locator("#m-reply-canned").select_option(label="停止强制入会并退费")
    assert page.locator("#m-reply-public_text").input_value() == ""  # choosing alone changes nothing (WCAG 3.2.2)
    page.locator("#m-reply-canned-fill").click()  # "填入": desk.js fills the box
    assert page.locator("#m-reply-public_text").input_value() == REPLY
    # a complaint's reply states its opinion and the laws it rests on (信访工作条例 第三十二条): the
    # canned reply fills in its laws, the handler chooses the opinion
    assert page.locator("#m-reply-legal_basis").input_value() == BASIS
    page.locator("#m-reply-opinion").select_option(value="supported")
    page.locator("#move-reply button[type=submit]").click()
    page.wait_for_url(re.compile(rf".*/desk/cases/{number}$"))
    assert page.locator("#case-state").inner_text() == "已答复"
    page.locator("#move-note summary").click()
    page.locator("#m-note-internal_text").fill(NOTE)
    page.locator("#move-note button[type=submit]").click()
    page.wait_for_url(re.compile(rf".*/desk/cases/{number}$"))
    timeline = page.locator("#timeline")
    assert timeline.locator(".entry-internal", has_text=NOTE).count() == 1
    assert timeline.locator(".entry-public", has_text=REPLY).count() == 1
    assert timeline.locator(".entry", has_text=TRANSFER_NOTE).count() == 1
    shot(page, request, "samr_case")

    # the complainant, on a phone
    phone.goto(f"{live_server}/track")
    phone.locator("#number").fill(number)
    phone.locator("#code").fill(code)
    phone.locator("form.card button[type=submit]").click()
    phone.wait_for_url(re.compile(rf".*/track/{number}$"))
    assert phone.locator("#case-state").inner_text() == "已答复"
    body = phone.content()
    assert REPLY in body and "已转国家市场监督管理总局办理" in body
    for secret in (NOTE, TRANSFER_NOTE, miit_name, samr_name, miit_user, samr_user):
        assert secret not in body, secret
