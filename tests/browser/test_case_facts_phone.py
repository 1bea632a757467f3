"""A handler on a phone, in English, reads a closed and rated complaint: the facts' longest label
("Rating by the complainant") and longest value (an association's credit code) wrap, and every
value stays inside its card; nothing scrolls sideways."""
import pytest
from sqlalchemy import select

from casework.accounts.actor import Actor
from casework.cases.models import Case
from casework.workflow import machine
from tests.browser.conftest import sign_in
from tests.browser.test_desk_flow import staff
from tests.conftest import BASIS

pytestmark = [pytest.mark.browser, pytest.mark.commits]


def test_a_rated_complaints_facts_stay_inside_the_card_on_a_phone(pages, live_server, db, services, file_case,
                                                                  make_staff, request):
    receipt = file_case()
    user, _ = staff(db, make_staff, "miit")
    with db.session_scope() as s:
        from casework.accounts.models import User

        handler = Actor.staff(s.scalar(select(User).where(User.username == user)))
        machine.perform(s, services, handler, s.get(Case, receipt.case_id), "accept")
        machine.perform(s, services, handler, s.get(Case, receipt.case_id), "reply", opinion="supported", legal_basis=BASIS, finding="substantiated",
                        public_text="经核查，协会已退还会费并停止强制入会。")
        machine.perform(s, services, Actor.complainant(receipt.case_id), s.get(Case, receipt.case_id), "rate",
                        rating="satisfied")
    page = pages("facts_en", phone=True)
    sign_in(page, live_server, user, then=f"/desk/cases/{receipt.case_number}")
    page.goto(live_server + f"/lang/en?next=/desk/cases/{receipt.case_number}")
    assert "Rating by the complainant" in page.locator(".facts").first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    outside = page.evaluate("""() => [...document.querySelectorAll('.facts dd')].filter(dd => {
        const card = dd.closest('.card') || document.body;
        return dd.getBoundingClientRect().right > card.getBoundingClientRect().right + 0.5;
      }).map(dd => dd.id || dd.textContent.trim().slice(0, 20))""")
    assert outside == []
