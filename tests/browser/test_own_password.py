"""A new handler, given a password by an administrator, signs in on a phone: the desk sends them to
choose their own first; a wrong current password is said beside its field; once changed, the
page they asked for opens and says the password has changed."""
import re

import pytest
from sqlalchemy import update

from casework.accounts.models import Role, User
from tests.browser.conftest import STAFF_PASSWORD, shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.commits]


def test_a_new_handler_chooses_their_own_password_before_the_desk(phone, live_server, db, make_staff, request):
    actor = make_staff("miit", Role.handler)
    with db.session_scope() as s:  # as the administration page leaves a new account
        s.execute(update(User).where(User.id == actor.user_id).values(password_change_required=True))
        username = s.get(User, actor.user_id).username
    page = phone  # its refusal is a 422 page, which the pages fixture would count as a failed load
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, live_server, username, then="/desk/search", landing=r".*/staff/password\?next=/desk/search")
    assert page.locator("#password-required").inner_text().startswith("您的密码由管理员设置")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, request, "asked")

    page.locator("#current_password").fill("not my password")
    page.locator("#new_password").fill("我自己的新密码2026")
    page.locator("#new_password_again").fill("我自己的新密码2026")
    page.get_by_role("button", name="更改密码").click()
    page.wait_for_load_state()
    assert page.locator("#current_password-error").inner_text() == "当前密码不正确。"
    assert page.locator("#new_password").input_value() == ""  # no password comes back in a page
    shot(page, request, "wrong")

    page.locator("#current_password").fill(STAFF_PASSWORD)
    page.locator("#new_password").fill("我自己的新密码2026")
    page.locator("#new_password_again").fill("我自己的新密码2026")
    page.get_by_role("button", name="更改密码").click()
    page.wait_for_url(re.compile(r".*/desk/search$"))
    assert "密码已更改" in page.locator(".flashes").inner_text()
    shot(page, request, "changed")
    assert errors == []
