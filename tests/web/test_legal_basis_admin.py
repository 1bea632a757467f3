"""The administrator sees the legal basis of every time limit (in both languages), and marks a
mediation body as a 人民调解委员会 (its 调解协议书 then cites 人民调解法, not 民事诉讼法), audited."""
import re
from html import unescape

import pytest
from sqlalchemy import select

from casework.accounts.models import Role
from casework.audit.models import AuditEntry
from casework.deadlines.limits import basis
from casework.deadlines.models import TimeLimit
from casework.registry.models import Unit
from tests.web.test_admin_routing import login_as

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def admin(client, db, make_staff):
    login_as(client, db, make_staff("mca", Role.administrator))
    return client


def _basis_cells(html: str) -> dict[int, str]:
    return {int(i): unescape(text).strip() for i, text in re.findall(r'<td id="basis-(\d+)"[^>]*>([^<]*)</td>', html)}


def test_the_time_limits_page_shows_each_limits_legal_basis_in_both_languages(admin, db):
    with db.session_scope(write=False) as s:
        rows = {t.id: (t.case_type, t.stage) for t in s.scalars(select(TimeLimit))}
    assert rows
    zh = admin.get("/admin/time-limits").get_data(as_text=True)
    assert "法律依据" in zh
    cells = _basis_cells(zh)
    assert set(cells) == set(rows)
    for limit_id, (case_type, stage) in rows.items():
        assert cells[limit_id] and cells[limit_id] != "—", stage
    by_stage = {rows[i][1].value: text for i, text in cells.items() if rows[i][0] is None}
    assert by_stage["transfer_objection"].startswith("《信访工作条例》第二十三条第三款")
    assert by_stage["review"].startswith("《信访工作条例》第三十五条")
    assert by_stage["material"].startswith("设计默认值")
    assert by_stage["rating"] == "设计默认值（法规未规定满意度评价期限）"

    admin.set_cookie("lang", "en")
    en = admin.get("/admin/time-limits").get_data(as_text=True)
    assert "Legal basis" in en
    cells = _basis_cells(en)
    for limit_id, (case_type, stage) in rows.items():
        assert cells[limit_id] == basis(case_type, stage), stage


def _last_unit_entry(db, code) -> AuditEntry:
    with db.session_scope(write=False) as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.kind == "unit", AuditEntry.object_id == code)
                          .order_by(AuditEntry.id.desc())).first()
        s.expunge_all()
        return entry


def test_a_mediation_body_is_marked_as_a_peoples_mediation_committee_and_audited(admin, db):
    code = "sz-people-mediation-test"
    form = admin.get("/admin/units/new").get_data(as_text=True)
    assert 'name="people_mediation_committee"' in form and "人民调解委员会" in form
    token = CSRF.search(form).group(1)
    fields = {"csrf_token": token, "name": "深圳市某行业人民调解委员会", "region_code": "440300", "active": "1"}
    try:
        refused = admin.post("/admin/units/new", data={**fields, "code": code, "kind": "industry_department",
                                                        "people_mediation_committee": "1"})
        assert refused.status_code == 422
        assert 'id="people_mediation_committee-error"' in refused.get_data(as_text=True)

        made = admin.post("/admin/units/new", data={**fields, "code": code, "kind": "mediation_body",
                                                     "people_mediation_committee": "1"})
        assert made.status_code == 303
        entry = _last_unit_entry(db, code)
        assert entry.action.value == "created" and entry.after["people_mediation_committee"] is True
        with db.session_scope(write=False) as s:
            assert s.scalar(select(Unit).where(Unit.code == code)).people_mediation_committee is True
        page = admin.get(f"/admin/units/{code}").get_data(as_text=True)
        assert re.search(r'id="people_mediation_committee" name="people_mediation_committee" type="checkbox" '
                         r'value="1" checked', page)

        edited = admin.post(f"/admin/units/{code}", data={**fields, "kind": "mediation_body"})  # box unticked
        assert edited.status_code == 303
        entry = _last_unit_entry(db, code)
        assert entry.action.value == "updated" and entry.changed == ["people_mediation_committee"]
        assert entry.before["people_mediation_committee"] is True and entry.after["people_mediation_committee"] is False
        with db.session_scope(write=False) as s:
            assert s.scalar(select(Unit).where(Unit.code == code)).people_mediation_committee is False
    finally:
        with db.session_scope() as s:
            unit = s.scalar(select(Unit).where(Unit.code == code))
            if unit is not None:
                s.delete(unit)
