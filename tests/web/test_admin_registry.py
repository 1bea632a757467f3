"""Administrators keep the association registry: search, edit, deregister, import a CSV file;
every change lands in the audit log with its before and after."""
from __future__ import annotations

import csv
import io
import itertools
import re

import pytest
from sqlalchemy import func, select

from casework.accounts.models import Role
from casework.audit.models import AuditEntry
from casework.registry.demo import sample_credit_code
from casework.registry.importer import REQUIRED_COLUMNS
from casework.registry.models import Association, AssociationStatus
from tests.web.test_admin_routing import login_as
from tests.web.test_public_pages import open_form

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_numbers = itertools.count(1)


def new_code() -> str:
    """A valid credit code no other test uses (the registry is shared by the whole run)."""
    return sample_credit_code(f"51440300MJ77{next(_numbers):05d}")


def csv_file(*rows: dict) -> bytes:
    columns = REQUIRED_COLUMNS + ("member_count",)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for r in rows:
        cells = {"level": "municipal", "region_code": "440300", "status": "active", "decoupled": "true",
                 "registration_authority": "sz-civil-affairs", "main_industry_department": "gd-commerce",
                 "is_sample": "true", **r}
        writer.writerow([cells.get(c, "") for c in columns])
    return out.getvalue().encode("utf-8-sig")


def csrf(client, path="/admin/associations/import") -> str:
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


@pytest.fixture
def admin(client, db, make_staff):
    actor = make_staff("mca", Role.administrator)
    login_as(client, db, actor)
    return actor


def upload(client, data: bytes, name="associations.csv"):
    return client.post("/admin/associations/import", data={"csrf_token": csrf(client), "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def imported(client, **cells) -> str:
    code = new_code()
    resp = upload(client, csv_file({"credit_code": code, "name": f"深圳市审计测试协会{code[-6:]}", **cells}))
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return code


def association(db, code) -> Association:
    with db.session_scope(write=False) as s:
        a = s.scalar(select(Association).where(Association.credit_code == code))
        s.expunge_all()
        return a


def entries(db, **where) -> list[AuditEntry]:
    with db.session_scope(write=False) as s:
        q = select(AuditEntry).order_by(AuditEntry.id)
        for k, v in where.items():
            q = q.where(getattr(AuditEntry, k) == v)
        rows = list(s.scalars(q))
        s.expunge_all()
        return rows


def test_an_import_with_one_bad_row_imports_nothing_and_names_the_line(client, db, admin):
    good, other = new_code(), new_code()
    bad = other[:-1] + ("1" if other.endswith("0") else "0")  # a wrong check digit (never the right one by chance)
    with db.session_scope(write=False) as s:
        before = s.scalar(select(func.count()).select_from(Association))
    audits_before = len(entries(db, kind="association"))
    resp = upload(client, csv_file({"credit_code": good, "name": "深圳市好行协会"},
                                   {"credit_code": bad, "name": "深圳市坏行协会"},
                                   {"credit_code": new_code(), "name": "深圳市另一协会", "member_count": "很多"}))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    report = html[html.index('id="import-report"'):]
    # each problem in the page's language (they were the command line's English)
    assert '<td data-label="行">3</td>' in report and "统一社会信用代码无效" in report and "check digit" not in report
    assert '<td data-label="行">4</td>' in report and "member_count" in report
    with db.session_scope(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Association)) == before
    assert len(entries(db, kind="association")) == audits_before  # a refused file leaves no entry


def test_a_good_import_is_one_audit_entry_with_counts(client, db, admin):
    codes = [new_code(), new_code()]
    resp = upload(client, csv_file({"credit_code": codes[0], "name": "深圳市甲协会", "member_count": "1,200"},
                                   {"credit_code": codes[1], "name": "深圳市乙协会"}), name="乙.csv")
    assert resp.status_code == 303
    listed = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'class="notice" role="status"' in listed  # the counts, once
    assert association(db, codes[0]).member_count == 1200
    assert association(db, codes[1]).member_count is None
    last = entries(db, kind="association", action="imported")[-1]
    assert last.after == {"file": "乙.csv", "created": 2, "updated": 0} and last.actor_user_id == admin.user_id
    page = client.get("/admin/audit?kind=association").get_data(as_text=True)
    assert f'id="audit-{last.id}"' in page and "乙.csv" in page


def test_search_by_name_code_and_pinyin_with_pages(client, db, admin):
    code = imported(client, name="深圳市翡翠玉石行业协会")
    for q in ("翡翠玉石", code[:10], "fcys", code.lower()):
        html = client.get("/admin/associations", query_string={"q": q}).get_data(as_text=True)
        assert f'id="assoc-{code}"' in html, q
    everyone = client.get("/admin/associations").get_data(as_text=True)
    with db.session_scope(write=False) as s:
        total = s.scalar(select(func.count()).select_from(Association))
    if total > 50:
        assert 'rel="next"' in everyone
        assert client.get("/admin/associations?page=2").status_code == 200


def test_the_chinese_name_column_holds_the_chinese_name_in_english_too(client, admin):
    """The registry's name is the Chinese one; an English page adds the English name under it
    (the column headed "Name (Chinese)" held the English name)."""
    client.set_cookie("lang", "en")
    html = client.get("/admin/associations", query_string={"q": "中国钢铁工业协会"}).get_data(as_text=True)
    row = re.search(r'<tr id="assoc-[^"]+"[^>]*>\s*<td[^>]*>(.*?)</td>', html, re.S).group(1)
    assert row.startswith("中国钢铁工业协会<br><small lang=\"en\">China Iron and Steel Association</small>"), row


def test_an_edit_shows_up_in_the_audit_log_with_before_and_after(client, db, admin):
    code = imported(client, name="深圳市旧名协会")
    token = csrf(client, f"/admin/associations/{code}/edit")
    form = client.get(f"/admin/associations/{code}/edit").get_data(as_text=True)
    assert 'value="深圳市旧名协会"' in form
    resp = client.post(f"/admin/associations/{code}/edit", data={
        "csrf_token": token, "name": "深圳市新名协会", "abbreviation": "新协", "level": "municipal",
        "region_code": "440300", "decoupled": "1", "registration_authority": "sz-civil-affairs",
        "main_industry_department": "gd-commerce", "other_industry_departments": ["gd-industry-it"],
        "member_count": "340"})
    assert resp.status_code == 303
    after_edit = client.get(resp.headers["Location"]).get_data(as_text=True)
    change = after_edit[after_edit.index('id="change"'):]
    assert "深圳市旧名协会" in change and "<strong>深圳市新名协会</strong>" in change
    a = association(db, code)
    assert (a.name, a.abbreviation, a.member_count) == ("深圳市新名协会", "新协", 340)
    assert "xx" in a.pinyin_initials.split()  # 新协: the type-ahead finds the new abbreviation

    entry = entries(db, kind="association", action="updated", object_id=code)[-1]
    assert entry.before["name"] == "深圳市旧名协会" and entry.after["name"] == "深圳市新名协会"
    assert entry.after["other_industry_departments"] == "gd-industry-it"
    assert set(entry.changed) == {"name", "abbreviation", "other_industry_departments", "member_count"}
    log = client.get("/admin/audit", query_string={"object_id": code}).get_data(as_text=True)
    item = log[log.index(f'id="audit-{entry.id}"'):]
    item = item[:item.index("</li>")]
    assert "深圳市旧名协会" in item and "<strong>深圳市新名协会</strong>" in item and "<strong>340</strong>" in item
    # a unit by its name (and code), not by its code alone ("gd-industry-it" meant little)
    assert re.search(r"<strong>广东省[^<]*\(gd-industry-it\)</strong>", item)


def test_bad_edits_are_refused_next_to_the_field_and_keep_what_was_typed(client, db, admin):
    code = imported(client)
    token = csrf(client, f"/admin/associations/{code}/edit")
    resp = client.post(f"/admin/associations/{code}/edit", data={
        "csrf_token": token, "name": "深圳市改了名字的协会", "level": "provincial", "region_code": "440300",
        "decoupled": "1", "registration_authority": "gd-commerce", "main_industry_department": "gd-commerce",
        "supervisory_unit": "cd-commerce-supervisor", "member_count": "-3"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert 'value="深圳市改了名字的协会"' in html
    for field in ("region_code", "registration_authority", "supervisory_unit", "member_count"):
        assert f'id="{field}-error"' in html, field
    assert association(db, code).name != "深圳市改了名字的协会"


def test_a_deregistered_association_is_no_longer_offered_when_filing(client, db, admin):
    code = imported(client, name="深圳市将注销的协会")
    assert [i["credit_code"] for i in client.get("/api/v1/associations", query_string={"q": "将注销"}).get_json()["items"]] == [code]
    token = csrf(client, "/admin/associations")
    resp = client.post(f"/admin/associations/{code}/deregister", data={"csrf_token": token})
    assert resp.status_code == 303
    assert association(db, code).status is AssociationStatus.deregistered
    entry = entries(db, kind="association", action="deregistered", object_id=code)[-1]
    assert (entry.before["status"], entry.after["status"]) == ("active", "deregistered")

    # the public type-ahead (API and the no-JavaScript form) no longer offers it
    assert client.get("/api/v1/associations", query_string={"q": "将注销"}).get_json()["items"] == []
    client.post("/staff/logout", data={"csrf_token": token})
    csrf_public, form_token, _ = open_form(client)
    page = client.post("/file/complaint", data={"csrf_token": csrf_public, "form_token": form_token,
                                                "action": "find", "association_q": "将注销"}).get_data(as_text=True)
    assert "深圳市将注销的协会" not in page
    # but the registry keeps it, for old cases and the statistics
    login_as(client, db, admin)
    listed = client.get("/admin/associations", query_string={"q": "将注销"}).get_data(as_text=True)
    assert f'id="assoc-{code}"' in listed and f'action="/admin/associations/{code}/reinstate"' in listed

    client.post(f"/admin/associations/{code}/reinstate", data={"csrf_token": csrf(client, "/admin/associations")})
    assert association(db, code).status is AssociationStatus.active
    assert entries(db, kind="association", action="reinstated", object_id=code)


def test_an_association_registered_by_hand_is_offered_when_filing_at_once(client, db, admin):
    """Between two imports of the registry, an administrator registers one new association on a
    form (the edit form's rules and its credit code): a mistake is said beside its field with
    what was typed kept, a credit code already registered is refused, and the public type-ahead
    offers the association as soon as it is saved. The audit log has it as created."""
    code = new_code()
    path = "/admin/associations/new"
    page = client.get(path).get_data(as_text=True)
    assert "<h1>登记协会</h1>" in page and 'name="credit_code"' in page
    assert 'href="/admin/associations/new"' in client.get("/admin/associations").get_data(as_text=True)
    form = {"csrf_token": csrf(client, path), "credit_code": code, "name": "深圳市手工登记测试协会", "level": "municipal",
            "region_code": "440300", "decoupled": "1", "registration_authority": "sz-civil-affairs",
            "main_industry_department": "gd-commerce"}
    bad = client.post(path, data={**form, "credit_code": code[:-1] + ("0" if code[-1] != "0" else "1"), "region_code": "44"})
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "统一社会信用代码无效" in body and "6位数字" in body
    assert 'value="深圳市手工登记测试协会"' in body  # nothing typed is lost
    assert client.post(path, data=form).status_code == 303
    created = association(db, code)
    assert created.name == "深圳市手工登记测试协会" and created.status is AssociationStatus.active
    [entry] = entries(db, kind="association", action="created", object_id=code)
    assert entry.before is None and entry.after["name"] == "深圳市手工登记测试协会"
    offered = client.get("/api/v1/associations", query_string={"q": "手工登记"}).get_json()["items"]
    assert [i["credit_code"] for i in offered] == [code]
    again = client.post(path, data={**form, "csrf_token": csrf(client, path), "name": "另一个名字的协会"})
    assert again.status_code == 422 and "该统一社会信用代码的协会已登记" in again.get_data(as_text=True)
    assert association(db, code).name == "深圳市手工登记测试协会"


def test_unknown_association_is_404(client, admin):
    assert client.get("/admin/associations/51440300MJ7799999X/edit").status_code == 404
    token = csrf(client, "/admin/associations")
    assert client.post("/admin/associations/nothing/deregister", data={"csrf_token": token}).status_code == 404


def test_an_upload_without_a_file_asks_for_one(client, admin):
    resp = client.post("/admin/associations/import", data={"csrf_token": csrf(client)},
                       content_type="multipart/form-data")
    assert resp.status_code == 422 and 'id="file-error"' in resp.get_data(as_text=True)


def test_a_file_not_in_utf8_is_said_once_in_the_pages_language(client, admin):
    """A GBK file had one English line per row plus a "missing column" for every column."""
    data = csv_file({"credit_code": new_code(), "name": "深圳市好行协会"}).decode("utf-8-sig").encode("gbk")
    resp = upload(client, data, "gbk.csv")
    report = resp.get_data(as_text=True).split('id="import-report"')[1].split("</table>")[0]
    assert resp.status_code == 422 and "CSV UTF-8" in report and "表头缺少" not in report
    assert report.count("CSV UTF-8") == 1, report
