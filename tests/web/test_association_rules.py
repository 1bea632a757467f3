"""One table of bad association values, put through both ways an administrator changes an
association: the edit form and the CSV import. Each must refuse the same fields, because
both call casework.registry.validation.check_association."""
from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from casework.accounts.models import Role
from casework.registry.importer import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, import_associations
from casework.registry.models import Association, Unit, UnitKind
from casework.registry.validation import check_association, units_by_code
from tests.web.test_admin_registry import csrf, new_code
from tests.web.test_admin_routing import login_as

FORM_ERROR = re.compile(r'<p class="error" id="([a-z_]+)-error">')
REPORT_ROW = re.compile(r"<tr><td[^>]*>(\d+)</td><td[^>]*>(?:<code>([a-z_]+)</code>|—)</td>")
RETIRED, OFF = "sz-test-retired-ind", "sz-test-off-ind"  # industry departments out of use

# good values: each case changes a few
BASE = {
    "name": "深圳市规则测试协会", "abbreviation": "", "name_en": "", "level": "municipal", "region_code": "440300",
    "member_count": "", "decoupled": True, "registration_authority": "sz-civil-affairs",
    "main_industry_department": "gd-commerce", "other_industry_departments": [], "supervisory_unit": "",
    "mediation_body": "", "party_work_department": "",
}

CASES = [
    ({"name": "会"}, {"name"}),
    ({"name": ""}, {"name"}),
    ({"name": "会" * 201}, {"name"}),
    ({"abbreviation": "简" * 101}, {"abbreviation"}),
    ({"name_en": "x" * 301}, {"name_en"}),
    ({"level": ""}, {"level"}),
    ({"level": "district"}, {"level"}),
    ({"region_code": ""}, {"region_code"}),
    ({"region_code": "44030"}, {"region_code"}),
    ({"region_code": "990000"}, {"region_code"}),                    # no such province
    ({"region_code": "100000"}, {"region_code"}),                    # national, for a municipal one
    ({"level": "provincial"}, {"region_code"}),                      # 440300 is not a province's code
    ({"member_count": "-3"}, {"member_count"}),
    ({"member_count": "很多"}, {"member_count"}),
    ({"member_count": "10000001"}, {"member_count"}),
    ({"registration_authority": ""}, {"registration_authority"}),
    ({"registration_authority": "gd-commerce"}, {"registration_authority"}),  # an industry department
    ({"main_industry_department": ""}, {"main_industry_department"}),
    ({"main_industry_department": "no-such-unit"}, {"main_industry_department"}),
    ({"main_industry_department": "sz-civil-affairs"}, {"main_industry_department"}),
    # the unit the association names already, since taken out of use (the form used to keep it)
    ({"main_industry_department": RETIRED}, {"main_industry_department"}),
    ({"other_industry_departments": ["gd-industry-it", "mca"]}, {"other_industry_departments"}),
    ({"other_industry_departments": [OFF]}, {"other_industry_departments"}),  # out of use (the form took it)
    ({"supervisory_unit": "cd-commerce-supervisor"}, {"supervisory_unit"}),   # but it is decoupled
    ({"supervisory_unit": "mca"}, {"supervisory_unit"}),
    ({"decoupled": False, "supervisory_unit": "cd-commerce-supervisor", "name": "会"}, {"name"}),
    ({"mediation_body": "caam-mediation"}, {"mediation_body"}),     # another association's
    ({"mediation_body": "gd-commerce"}, {"mediation_body"}),
    ({"party_work_department": "miit"}, {"party_work_department"}),
    ({"name": "", "level": "county", "region_code": "100000", "registration_authority": "",
      "other_industry_departments": ["nope"], "member_count": "x"},
     {"name", "region_code", "registration_authority", "other_industry_departments", "member_count"}),
]


@pytest.fixture
def target(db) -> str:
    """An association whose main industry department has since been taken out of use."""
    with db.session_scope() as s:
        s.add_all([Unit(code=code, name=f"停用测试部门{code[-7:]}", kind=UnitKind.industry_department,
                        region_code="440300", active=True) for code in (RETIRED, OFF)])
        s.flush()
        code = new_code()
        result = import_associations(s, csv_text({**BASE, "credit_code": code, "main_industry_department": RETIRED}))
        assert result.ok, result.errors
        for unit in s.scalars(select(Unit).where(Unit.code.in_((RETIRED, OFF)))):
            unit.active = False
    return code


def csv_text(values: dict) -> str:
    columns = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    cells = {"status": "active", "is_sample": "true", **values,
             "decoupled": "true" if values["decoupled"] else "false",
             "other_industry_departments": ";".join(values["other_industry_departments"])}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerow([cells.get(c, "") for c in columns])
    return out.getvalue()


@pytest.fixture
def admin(client, db, make_staff):
    login_as(client, db, make_staff("mca", Role.administrator))
    return client


def test_the_base_values_pass(db, target):
    with db.session_scope(write=False) as s:
        assoc = s.scalar(select(Association).where(Association.credit_code == target))
        values, problems = check_association({**BASE, "credit_code": target}, units_by_code(s), assoc)
        assert problems == [] and values.main_industry_department.code == "gd-commerce"


def test_form_and_import_refuse_the_same_fields(admin, target):
    token = csrf(admin, f"/admin/associations/{target}/edit")
    wrong = []
    for changes, fields in CASES:  # one signed-in client for the whole table
        values = {**BASE, **changes}
        form = {k: v for k, v in values.items() if k != "decoupled"}
        if values["decoupled"]:
            form["decoupled"] = "1"
        resp = admin.post(f"/admin/associations/{target}/edit", data={"csrf_token": token, **form})
        by_form = set(FORM_ERROR.findall(resp.get_data(as_text=True))) if resp.status_code == 422 else None

        data = csv_text({**values, "credit_code": target}).encode("utf-8")
        resp = admin.post("/admin/associations/import", content_type="multipart/form-data",
                          data={"csrf_token": token, "file": (io.BytesIO(data), "rules.csv")})
        report = REPORT_ROW.findall(resp.get_data(as_text=True)) if resp.status_code == 422 else []
        by_import = {field for line, field in report if line == "2"} if report else None

        if not by_form == by_import == fields:
            wrong.append((changes, {"expected": fields, "form": by_form, "import": by_import}))
    assert wrong == []
