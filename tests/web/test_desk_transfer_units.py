"""The transfer form's unit list, usable with hundreds of units: grouped by kind, and narrowed by
the words typed — without a script by the form's Filter button (the form comes back narrowed, all
typed kept, nothing done) or a ?unit_filter= link; and a case never goes to the body it complains
about, whatever is typed (DESIGN: conflicts of interest are part of routing)."""
import re

from sqlalchemy import select, update

from casework.accounts.models import Role
from casework.cases.models import Case, CaseState
from casework.registry.models import Unit
from tests.web.test_admin_routing import login_as

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')


def transfer_form(html):
    return html.split('id="move-transfer"')[1].split("</form>")[0]


def unit_select(html):
    return transfer_form(html).split('id="m-transfer-unit_id"')[1].split("</select>")[0]


def groups(select_html):
    """[(group label, [option texts])] in the list's order."""
    return [(label, re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', body))
            for label, body in re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select_html, re.S)]


def _setup(client, db, file_case, make_staff):
    number = file_case().case_number
    login_as(client, db, make_staff("miit", Role.handler))
    return number


def test_the_units_are_grouped_by_kind_and_never_the_holder(client, db, file_case, make_staff):
    number = _setup(client, db, file_case, make_staff)
    html = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    listed = groups(unit_select(html))
    labels = [g for g, _ in listed]
    assert labels[:3] == ["行业管理部门", "登记管理机关", "业务主管单位"]
    assert "调解组织" not in labels  # a complaint never goes to a mediation body
    names = [n for _, items in listed for n in items]
    assert "民政部" in dict(listed)["登记管理机关"] and "国家市场监督管理总局" in dict(listed)["行业管理部门"]
    assert "工业和信息化部" not in names  # it holds the case
    # the filter box and its button (which the script hides) are in the form, before the move's own button
    form = transfer_form(html)
    assert form.index('name="unit_filter"') < form.index('name="unit_filter_go"') < form.index('name="go"')


def test_filtering_without_a_script_keeps_what_was_typed_and_does_nothing(client, db, file_case, make_staff):
    number = _setup(client, db, file_case, make_staff)
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    version = VERSION.search(page).group(1)
    text = "经核实，该事项属于民政部门职责，已转交办理。"
    resp = client.post(f"/desk/cases/{number}/moves/transfer", data={
        "csrf_token": CSRF.search(page).group(1), "version": version, "unit_id": "", "reason": "other_unit_competent",
        "public_text": text, "internal_text": "内部说明", "unit_filter": " 民政 ", "unit_filter_go": "1"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    listed = groups(unit_select(html))
    names = [n for _, items in listed for n in items]
    assert names and all("民政" in n for n in names) and "民政部" in names and "国家市场监督管理总局" not in names
    assert [g for g, _ in listed] == ["登记管理机关"]
    form = transfer_form(html)
    assert text in form and "内部说明" in form and 'value="other_unit_competent" selected' in form
    assert 'name="unit_filter" type="search" value="民政"' in form
    assert re.search(r'id="m-transfer-unit_id-count"[^>]*>显示 \d+ / \d+ 个单位。', form)
    assert re.search(r'<details class="move move-transfer" id="move-transfer" open>', html)
    assert 'id="m-transfer-unit_id" name="unit_id" required autofocus' in form  # the narrowed list, next
    with db.session_scope(write=False) as s:
        case = s.scalar(select(Case).where(Case.number == number))
        assert case.state is CaseState.pending_acceptance and case.unit.code == "miit" and str(case.version) == version
    # two words must both match (a name and a region code); English names and codes match too
    both = client.get(f"/desk/cases/{number}?open=transfer&unit_filter=民政 510000").get_data(as_text=True)
    assert [n for _, items in groups(unit_select(both)) for n in items] == ["四川省民政厅"]
    by_code = client.get(f"/desk/cases/{number}?open=transfer&unit_filter=SAMR").get_data(as_text=True)
    assert [n for _, items in groups(unit_select(by_code)) for n in items] == ["国家市场监督管理总局"]
    # then the transfer itself, to a unit of the narrowed list
    with db.session_scope(write=False) as s:
        mca = s.scalar(select(Unit.id).where(Unit.code == "mca"))
    done = client.post(f"/desk/cases/{number}/moves/transfer", data={
        "csrf_token": CSRF.search(html).group(1), "version": version, "unit_id": str(mca),
        "reason": "other_unit_competent", "public_text": text, "unit_filter": "民政"})
    assert done.status_code == 303
    with db.session_scope(write=False) as s:
        assert s.scalar(select(Case).where(Case.number == number)).unit.code == "mca"


def test_the_body_complained_about_is_never_offered_whatever_is_typed(client, db, file_case, make_staff):
    number = _setup(client, db, file_case, make_staff)
    with db.session_scope() as s:  # make samr a body of the association the complaint is about
        assoc = s.scalar(select(Case.association_id).where(Case.number == number))
        s.execute(update(Unit).where(Unit.code == "samr").values(association_id=assoc))
        samr = s.scalar(select(Unit.id).where(Unit.code == "samr"))
    html = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert "国家市场监督管理总局" not in unit_select(html)
    narrowed = client.get(f"/desk/cases/{number}?open=transfer&unit_filter=samr").get_data(as_text=True)
    assert groups(unit_select(narrowed)) == []
    assert "没有匹配的单位" in transfer_form(narrowed)
    # nor does naming it in the form's value make it chosen: the list leaves it out, the machine refuses it
    chosen = client.get(f"/desk/cases/{number}?open=transfer&unit_id={samr}&unit_filter=samr").get_data(as_text=True)
    assert "国家市场监督管理总局" not in unit_select(chosen)
    refused = client.post(f"/desk/cases/{number}/moves/transfer", data={
        "csrf_token": CSRF.search(html).group(1), "version": VERSION.search(html).group(1), "unit_id": str(samr),
        "reason": "other_unit_competent", "public_text": "已转交国家市场监督管理总局。"})
    assert refused.status_code == 422
    with db.session_scope(write=False) as s:
        assert s.scalar(select(Case).where(Case.number == number)).unit.code == "miit"


def test_english_groups_and_filter(client, db, file_case, make_staff):
    number = _setup(client, db, file_case, make_staff)
    client.set_cookie("lang", "en")
    html = client.get(f"/desk/cases/{number}?open=transfer&unit_filter=civil affairs").get_data(as_text=True)
    listed = groups(unit_select(html))
    assert [g for g, _ in listed] == ["Registration authority"]
    assert "Find a unit (name, code or region code)" in html and "Filter the list" in html
    assert re.search(r'\d+ of \d+ units shown\.', transfer_form(html))
