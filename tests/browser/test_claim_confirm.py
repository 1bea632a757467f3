"""认领 (claim) on a case a colleague handles took it over with one tap: the lead's phone, a thumb
on the wrong button, and the colleague's case was the lead's. The desk asks first; dismissed,
nothing changes; confirmed, the case is the lead's."""
import pytest
from sqlalchemy import select

from casework.accounts.actor import Actor
from casework.accounts.models import Role, User
from casework.cases.models import Case
from casework.workflow import machine
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.commits]


def test_claiming_a_colleagues_case_asks_first(pages, live_server, db, services, file_case, make_staff):
    receipt = file_case()
    handler, lead = make_staff("miit", Role.handler), make_staff("miit", Role.unit_lead)
    with db.session_scope() as s:
        machine.perform(s, services, Actor.staff(s.get(User, handler.user_id)), s.get(Case, receipt.case_id), "accept")
        handler_name = s.get(User, handler.user_id).display_name
        lead_username = s.get(User, lead.user_id).username

    def handler_id():
        with db.session_scope(write=False) as s:
            return s.scalar(select(Case.handler_id).where(Case.id == receipt.case_id))

    assert handler_id() == handler.user_id
    page = pages("claim", phone=True)
    sign_in(page, live_server, lead_username, then=f"/desk/cases/{receipt.case_number}")
    # the browser's own dialog, answered here (the pages fixture would accept every dialog)
    page.evaluate("window.confirm = (m) => { window.asked = m; return false; }")
    page.locator("#claim").click()
    page.wait_for_timeout(300)
    assert page.evaluate("window.asked") == f"本案现由{handler_name}承办。确定由您接手吗？"
    assert handler_id() == handler.user_id  # dismissed: nothing sent
    page.evaluate("window.confirm = () => true")
    page.locator("#claim").click()
    page.wait_for_load_state()
    page.wait_for_timeout(300)
    assert handler_id() == lead.user_id
