"""A page answering a refused send arrives focused on its error summary (tabindex="-1" and
autofocus: no JavaScript needed; in a browser: tests/browser/test_error_focus.py). A standing
warning shown on a page's load takes no focus, and a page has one autofocus at most: a staff
member opening /admin is not thrown past the page's top by a warning."""
import re
from datetime import datetime, timezone

from sqlalchemy import text, update

from casework.accounts.models import Role
from casework.registry.models import Unit
from tests.web.test_admin_routing import login_as
from tests.web.test_desk import VERSION, act, post_move, signed_in

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def summary(html: str, id_: str) -> str:
    """The opening tag of the error summary with that id."""
    return re.search(rf'<div class="error-summary"[^>]*id="{id_}"[^>]*>', html).group(0)


def focused(tag: str) -> bool:
    return 'tabindex="-1"' in tag and " autofocus" in tag


def test_the_standing_warnings_on_admin_pages_take_no_focus(client, db, make_staff, file_case):
    login_as(client, db, make_staff("mca", Role.administrator))
    filed = file_case().case_id
    with db.session_scope() as s:  # a deadline in a year whose holidays are not confirmed, a unit answering to no one
        s.execute(text('UPDATE "case" SET due_at = :d WHERE id = :id'),
                  {"d": datetime(2027, 1, 6, tzinfo=timezone.utc), "id": filed})
        s.execute(update(Unit).where(Unit.code == "miit").values(supervising_unit_id=None))
    home = client.get("/admin").get_data(as_text=True)
    for warning in ("unconfirmed-2027", "units-unsupervised", "operator-unnamed"):
        assert not focused(summary(home, warning)), warning
    assert "autofocus" not in home
    calendar = client.get("/admin/calendar").get_data(as_text=True)
    assert not focused(summary(calendar, "unconfirmed-2027")) and "autofocus" not in calendar
    unit = client.get("/admin/units/miit").get_data(as_text=True)
    assert not focused(summary(unit, "unit-unsupervised")) and "autofocus" not in unit


def test_an_admin_form_sent_with_errors_is_answered_focused_on_its_summary(client, db, make_staff):
    login_as(client, db, make_staff("mca", Role.administrator))
    token = CSRF.search(client.get("/admin/categories/new").get_data(as_text=True)).group(1)
    bad = client.post("/admin/categories/new", data={"csrf_token": token, "code": "focus_cat", "group": "grievance",
                                                     "name": "", "name_en": "Test", "sort_order": "abc"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    tag = re.search(r'<div class="error-summary"[^>]*>', html).group(0)
    assert focused(tag) and html.count(" autofocus") == 1


def test_a_desk_move_refused_without_a_field_error_is_focused_on_its_message(client, db, services, file_case,
                                                                                make_staff):
    """A stale version (409): no field to correct, the message at the top takes the focus. (A move
    with a field in error focuses that field instead: tests/web/test_desk.py.)"""
    number = file_case()
    me, colleague = make_staff("miit", Role.handler), make_staff("miit", Role.handler)
    signed_in(client, db, me)
    old = VERSION.search(client.get(f"/desk/cases/{number.case_number}").get_data(as_text=True)).group(1)
    act(db, services, colleague, number.case_id, "accept")
    resp = post_move(client, number.case_number, "not_accept", version=old, reason="no_clear_request",
                     public_text="您的投诉缺少明确诉求。")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409
    assert focused(summary(html, "move-error")) and html.count(" autofocus") == 1


def test_my_cases_focuses_its_summary_or_the_codes_box_when_the_code_was_wrong(client, sms_code):
    csrf = CSRF.search(client.get("/mine").get_data(as_text=True)).group(1)
    bad = client.post("/mine", data={"csrf_token": csrf, "phone": "12345", "action": "send"}).get_data(as_text=True)
    assert focused(summary(bad, "mine-error")) and bad.count(" autofocus") == 1
    sent = client.post("/mine", follow_redirects=True, data={"csrf_token": csrf, "phone": "13800138000", "action": "send"})
    vid = re.search(r'name="verification_id" value="([^"]+)"', sent.get_data(as_text=True)).group(1)
    wrong = client.post("/mine", follow_redirects=True, data={
        "csrf_token": csrf, "phone": "13800138000", "verification_id": vid,
        "verify_code": "000000" if sms_code() != "000000" else "111111", "action": "check"}).get_data(as_text=True)
    assert not focused(summary(wrong, "mine-error"))
    assert re.search(r'<input id="verify_code"[^>]* autofocus', wrong) and wrong.count(" autofocus") == 1
