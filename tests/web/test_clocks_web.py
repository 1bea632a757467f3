"""The clocks on the pages: the material deadline on the status page (办法 第十五条), the
discipline inspection unit kind on the admin unit form (纪检监察)."""
import re

from sqlalchemy import select

from casework.accounts.models import Role
from casework.cases.models import Case
from casework.deadlines.calendar import china_date
from casework.registry.models import Unit, UnitKind
from tests.web.test_admin_users import admin, csrf  # noqa: F401  (fixture)
from tests.web.test_public_moves import opened, staff_move  # noqa: F401  (fixture)


def test_the_status_page_shows_the_material_deadline(db, services, make_staff, opened):  # noqa: F811
    """While material is asked for (补正, 办法 第十五条第一款第五项) the complainant sees by when,
    and what happens if it does not come."""
    receipt, csrf_token, get = opened
    staff_move(db, services, make_staff("miit", Role.handler), receipt.case_id, "request_info",
               public_text="请补充缴费凭证的照片。")
    with db.session_scope(write=False) as s:
        due = china_date(s.get(Case, receipt.case_id).info_due_at).isoformat()
    page = get()
    assert re.search(rf'id="material-deadline">请于{due}前（含当日）提交所需补正材料。逾期未补正的，本案将不予受理', page)
    # said once, with its stage, not also in the sentence above it
    assert '<p id="next-step">办理单位需要您补充材料。</p>' in page
    assert page.count("暂停") == 1 and "计时暂停：受理决定。" in page


def test_an_administrator_adds_a_discipline_inspection_unit(client, db, admin):  # noqa: F811
    """The unit kind 纪检监察 (leaders' misconduct goes there) is offered and accepted by the form."""
    form = client.get("/admin/units/new").get_data(as_text=True)
    assert 'value="discipline_inspection"' in form and "纪检监察机构" in form
    resp = client.post("/admin/units/new", data={
        "csrf_token": csrf(client), "code": "gd-discipline-test", "name": "广东省纪检监察测试组",
        "kind": "discipline_inspection", "region_code": "440000", "active": "1"})
    assert resp.status_code == 303
    with db.session_scope() as s:
        unit = s.scalar(select(Unit).where(Unit.code == "gd-discipline-test"))
        assert unit.kind is UnitKind.discipline_inspection
        s.delete(unit)


def test_try_it_says_why_a_decoupled_association_skips_the_supervisory_unit(client, db, admin):  # noqa: F811
    """未脱钩 associations go to their business supervisory unit first (the 2025 opinion, 一 and 八);
    for a decoupled one the page says why that rule was skipped, and where the case goes."""
    from casework.registry.models import Association

    with db.session_scope(write=False) as s:
        decoupled = s.scalar(select(Association.credit_code).where(Association.name == "中国复合材料工业协会"))
        catering = s.scalar(select(Association.credit_code).where(Association.name == "成都市餐饮同业公会"))
    html = client.get(f"/admin/routing?case_type=complaint&category=forced_membership&association={decoupled}"
                      ).get_data(as_text=True)
    assert "跳过：该协会已脱钩（没有业务主管单位）" in html
    html = client.get(f"/admin/routing?case_type=complaint&category=forced_membership&association={catering}"
                      ).get_data(as_text=True)
    assert "成都市商务局（业务主管单位）" in html
