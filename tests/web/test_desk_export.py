"""A unit's case list (台账) as a spreadsheet: the queue's tab and filters, every page, no
complainant's name or contact; a title a spreadsheet would run as a formula stays text; each
export is an audit entry; only the unit's handlers and leads may."""
from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from datetime import timedelta

from sqlalchemy import select, update

from casework.accounts.models import Role
from casework.audit.models import AuditEntry
from casework.cases.models import Case
from casework.registry.models import Unit
from tests.web.test_admin_routing import login_as

FORMULA = '=HYPERLINK("http://example.invalid","点此查看")'


def _unit_id(db, code="miit") -> int:
    with db.session_scope(write=False) as s:
        return s.scalar(select(Unit.id).where(Unit.code == code))


def test_a_handler_exports_the_tab_as_excel_without_identities(client, db, services, file_case, make_staff):
    plain = file_case()
    tricky = file_case(title=FORMULA, complainant={"name": "赵敏", "phone": "13900139001"})
    with db.session_scope() as s:  # its deadline passed before the sweep marked it: overdue, as the queue shows it
        s.execute(update(Case).where(Case.id == plain.case_id).values(due_at=services.clock() - timedelta(hours=1)))
    login_as(client, db, make_staff("miit", Role.handler))
    queue = client.get(f"/desk/units/{_unit_id(db)}?tab=pending").get_data(as_text=True)
    assert 'id="export"' in queue and "format=xlsx" in queue
    resp = client.get(f"/desk/units/{_unit_id(db)}/export?format=xlsx&tab=pending")
    assert resp.status_code == 200 and resp.headers["Cache-Control"].startswith("no-store")
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="miit-pending-')
    sheet = load_workbook(io.BytesIO(resp.data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:6] == ["案件编号", "类型", "事项分类", "所涉协会", "标题", "状态"]
    by_number = {row[0]: row for row in rows[1:]}
    assert {plain.case_number, tricky.case_number} <= set(by_number)
    assert by_number[plain.case_number][1] == "投诉" and by_number[plain.case_number][5] == "待受理"
    assert by_number[plain.case_number][7] == "是" and by_number[tricky.case_number][7] == "否"
    cell = next(c for row in sheet.iter_rows() for c in row if c.value == FORMULA)
    assert cell.data_type == "s"  # the title as typed, never a formula
    flat = repr(rows)
    for secret in ("张三", "赵敏", "13800138000", "13900139001", "138****8000"):
        assert secret not in flat  # no identity, no contact, not even masked
    with db.session_scope(write=False) as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.kind == "case_list").order_by(AuditEntry.id.desc())).first()
        assert entry.action.value == "downloaded" and entry.object_id == "miit"
        assert entry.after["rows"] == len(rows) - 1 and entry.after["tab"] == "pending" and entry.after["format"] == "xlsx"


def test_the_csv_keeps_the_filters_and_makes_formulas_text(client, db, file_case, make_staff):
    complaint = file_case(title=FORMULA)
    suggestion = file_case(type="suggestion", category="policy", title="公开会费标准",
                           description="建议协会在网站上公开会费标准和收支情况。")
    login_as(client, db, make_staff("miit", Role.handler))
    unfiltered = client.get(f"/desk/units/{_unit_id(db)}/export?format=csv&tab=pending").data.decode("utf-8-sig")
    assert suggestion.case_number in unfiltered and complaint.case_number in unfiltered
    resp = client.get(f"/desk/units/{_unit_id(db)}/export?format=csv&tab=pending&type=complaint&sort=new&page=3")
    assert resp.status_code == 200 and resp.data.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert rows[0][0] == "案件编号" and len(rows) > 1
    assert {row[1] for row in rows[1:]} == {"投诉"}  # the type filter, and every page (page=3 ignored)
    assert suggestion.case_number not in resp.data.decode("utf-8-sig")
    mine = next(row for row in rows if row[0] == complaint.case_number)
    assert mine[4] == "'" + FORMULA


def test_only_the_units_own_staff_export_it(client, app, db, make_staff):
    path = f"/desk/units/{_unit_id(db)}/export?format=xlsx"
    assert client.get(path).status_code == 302  # signed out: to the sign-in page
    for unit, role in (("samr", Role.handler), ("swd-central", Role.supervisor), ("mca", Role.administrator)):
        other = app.test_client()
        login_as(other, db, make_staff(unit, role))
        assert other.get(path).status_code == 403, (unit, role)
    lead = app.test_client()
    login_as(lead, db, make_staff("miit", Role.unit_lead))
    assert lead.get(path).status_code == 200
    assert lead.get(f"/desk/units/{_unit_id(db)}/export?format=pdf").status_code == 404
