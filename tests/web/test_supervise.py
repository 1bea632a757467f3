"""The supervisor's pages through the test client: the dashboard's figures against the
hand-counted cases, exports that open in a spreadsheet, the overdue list, the risk list,
issuing a supervision notice from the case page, and who may see any of it."""
import csv
import io
import re
from datetime import date, datetime, timedelta, timezone

from openpyxl import load_workbook
from sqlalchemy import select, update

from casework.accounts.models import Role
from casework.cases.models import Case, Event, EventKind
from casework.cases.numbers import CHINA
from casework.stats.risk import grade_all
from casework.stats.rollup import refresh
from tests.web.test_admin_routing import login_as

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def utcnow():
    return datetime.now(timezone.utc)


def sign_in(client, db, actor):
    login_as(client, db, actor)
    return client


def tile(html, name):
    return re.search(rf'id="tile-{name}"><span class="n">([^<]+)</span>', html).group(1)


def test_the_dashboard_shows_the_hand_counted_figures(client, db, make_staff, hand_counted):
    refresh(db, utcnow)
    sign_in(client, db, make_staff("mca", Role.supervisor))
    html = client.get("/supervise?lang=zh_CN").get_data(as_text=True)
    assert tile(html, "received") == "5"
    assert tile(html, "acceptance") == "75.0%"  # 3 accepted of 4 decided
    assert tile(html, "on-time") == "100.0%" and tile(html, "overdue") == "1"
    assert tile(html, "satisfaction") == "50.0%" and tile(html, "review") == "33.3%"
    assert tile(html, "supported") == "50.0%"  # of the two complaints replied with an opinion (信访工作条例 第三十二条)
    assert tile(html, "mediation") == "—"  # no mediation ended: no rate, not 0%
    assert 'id="freshness"' in html and "Figures have not been computed" not in html
    # each chart sits with its table; the charting library comes from this site
    assert 'data-chart="line"' in html and 'id="table-monthly"' in html and 'id="table-units"' in html
    assert "/static/vendor/chartjs/chart.umd.min.js" in html
    assert all(src.startswith("/") for src in re.findall(r'src="([^"]+)"', html))  # nothing from another host
    # a filter by type narrows every figure
    report_only = client.get("/supervise?type=report").get_data(as_text=True)
    assert tile(report_only, "received") == "1"


def test_filtering_to_a_unit_and_exports(client, db, make_staff, hand_counted):
    refresh(db, utcnow)
    with db.session_scope(write=False) as s:
        unit_id = s.get(Case, hand_counted["a"]).unit_id
    sign_in(client, db, make_staff("mca", Role.supervisor))
    html = client.get(f"/supervise?unit={unit_id}").get_data(as_text=True)
    # case c, under review, is held by the level above (信访工作条例 第三十五条), but this unit received,
    # accepted and replied to it, and its rating and review request are this unit's: all 5 here
    assert tile(html, "received") == "5" and 'id="table-units"' not in html
    assert tile(html, "satisfaction") == "50.0%" and tile(html, "review") == "33.3%"
    both = client.get(f"/supervise?unit={unit_id}&type=complaint").get_data(as_text=True)
    assert tile(both, "received") == "4" and 'id="unit-type-note"' in both and 'id="table-categories"' not in both
    resp = client.get(f"/supervise/export/categories.csv?unit={unit_id}")
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "text/csv; charset=utf-8"  # once
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    assert rows[0][0] in ("Category", "事项分类") and len(rows) == 2 and rows[1][1] == "5"
    resp = client.get("/supervise/export/monthly.xlsx")
    assert resp.status_code == 200
    sheet = load_workbook(io.BytesIO(resp.get_data())).active
    values = [row for row in sheet.iter_rows(values_only=True)]
    this_month = utcnow().astimezone(CHINA).strftime("%Y-%m")
    assert any(r and r[0] == this_month and r[1] == 5 for r in values)
    assert client.get("/supervise/export/nothing.csv").status_code == 404
    assert client.get("/supervise/export/monthly.pdf").status_code == 404


def test_overdue_list_and_risk_list(client, db, services, make_staff, hand_counted):
    refresh(db, utcnow)
    grade_all(db, services.settings, utcnow)
    sign_in(client, db, make_staff("mca", Role.supervisor))
    with db.session_scope(write=False) as s:
        overdue_number = s.get(Case, hand_counted["d"]).number
        others = [s.get(Case, hand_counted[k]).number for k in "abce"]
    html = client.get("/supervise/overdue").get_data(as_text=True)
    assert overdue_number in html and not any(n in html for n in others)
    assert "超期天数（自然日）" in html  # which days a "2" counts
    assert overdue_number not in client.get("/supervise/overdue?level=2").get_data(as_text=True)
    risk = client.get("/supervise/risk?authority=").get_data(as_text=True)
    assert 'id="risk-list"' in risk and 'id="risk-method"' in risk
    # the count above the list is of every association graded: the list says it holds the high and medium
    assert re.search(r'id="risk-list-note">下表列出评为高、中风险的 \d+ 家协会；其余协会评为低风险。', risk)
    resp = client.get("/supervise/export/risk.csv?authority=")
    assert resp.status_code == 200 and len(list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig"))))) >= 1


def test_a_supervision_notice_from_the_case_page(client, db, make_staff, file_case):
    number = file_case().case_number
    sign_in(client, db, make_staff("mca", Role.supervisor))
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert 'id="move-issue_supervision"' in page
    # a supervisor is led back to supervision, not to a "queue" that was the dashboard
    # (to its figures: this case is not overdue, and "back to the overdue cases" read oddly on it)
    assert '<a href="/supervise">返回督办统计</a>' in page and "返回超期案件" not in page and "返回队列" not in page
    # the overdue list's link arrives with the form unfolded (no script needed)
    unfolded = client.get(f"/desk/cases/{number}?open=issue_supervision").get_data(as_text=True)
    assert re.search(r'<details class="move move-issue_supervision" id="move-issue_supervision" open>', unfolded)
    assert not re.search(r'id="move-issue_supervision" open>', page)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    respond_by = (utcnow().astimezone(CHINA).date() + timedelta(days=7)).isoformat()
    resp = client.post(f"/desk/cases/{number}/moves/issue_supervision", data={
        "csrf_token": CSRF.search(page).group(1), "version": version, "respond_by": respond_by,
        "internal_text": "请于七日内核实并报告。"})
    assert resp.status_code == 303
    with db.session_scope(write=False) as s:
        case = s.scalar(select(Case).where(Case.number == number))
        event = s.scalar(select(Event).where(Event.case_id == case.id, Event.kind == EventKind.supervised))
    assert event.data["respond_by"] == respond_by and event.internal_text == "请于七日内核实并报告。"
    # the date to act by is on the case page's timeline, for the supervisor and the unit alike
    unit = sign_in(client.application.test_client(), db, make_staff("miit", Role.handler))
    for reader in (client, unit):
        assert f"请于{respond_by}前（含当日）办理并报告" in reader.get(f"/desk/cases/{number}").get_data(as_text=True)


def test_the_unit_reports_on_the_notice_and_the_supervisor_sees_it_listed(client, db, make_staff, file_case):
    """The 督办单 asks the unit to act and report by a date (信访工作条例 第四十条: 书面反馈): the
    unit's handler finds the report's form on the case page; the supervisor's list of notices
    shows it waiting, then reported, and the report's text is on the case page for both."""
    number = file_case().case_number
    supervisor = sign_in(client, db, make_staff("mca", Role.supervisor))
    page = supervisor.get(f"/desk/cases/{number}").get_data(as_text=True)
    respond_by = (utcnow().astimezone(CHINA).date() + timedelta(days=7)).isoformat()
    assert supervisor.post(f"/desk/cases/{number}/moves/issue_supervision", data={
        "csrf_token": CSRF.search(page).group(1), "version": re.search(r'name="version" value="(\d+)"', page).group(1),
        "respond_by": respond_by, "internal_text": "请于七日内核实并报告。"}).status_code == 303
    listed = supervisor.get("/supervise/notices").get_data(as_text=True)
    row = listed.split('id="notice-list"')[1].split("</table>")[0]
    assert number in row and respond_by in row and "等待报告" in row and "民政部" in row
    assert '<a href="/supervise/notices" aria-current="page">督办单</a>' in listed
    waiting = supervisor.get("/supervise/notices?show=waiting").get_data(as_text=True)
    assert "尚未报告 (1)" in waiting and "逾期未报告 (0)" in waiting and number in waiting
    # its date passes without a report: the dashboard says how many, and links to them
    with db.session_scope() as s:
        s.execute(update(Case).where(Case.number == number)
                  .values(notice_report_due=utcnow().astimezone(CHINA).date() - timedelta(days=1)))
    dashboard = supervisor.get("/supervise").get_data(as_text=True)
    summary = dashboard.split('id="notices-summary"')[1].split("</p>")[0]
    assert "逾期未报告的督办单" in summary and 'href="/supervise/notices?show=overdue"' in summary
    assert number in supervisor.get("/supervise/notices?show=overdue").get_data(as_text=True).split('id="notice-list"')[1]
    with db.session_scope() as s:
        s.execute(update(Case).where(Case.number == number).values(notice_report_due=date.fromisoformat(respond_by)))
    assert number not in supervisor.get("/supervise/notices?show=overdue").get_data(as_text=True).split(
        'id="notice-list"')[1]

    unit = sign_in(client.application.test_client(), db, make_staff("miit", Role.handler))
    page = unit.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert 'id="move-report_supervision"' in page
    assert f'id="open-notice">督办单：请于 {respond_by} 前（含当日）报告<' in page  # beside the deadline
    queue = unit.get("/desk", follow_redirects=True).get_data(as_text=True)
    assert "督办待反馈" in queue.split(f'id="row-{number}"')[1].split("</tr>")[0]  # the queue marks it
    form = dict(csrf_token=CSRF.search(page).group(1), version=re.search(r'name="version" value="(\d+)"', page).group(1))
    empty = unit.post(f"/desk/cases/{number}/moves/report_supervision", data={**form, "internal_text": ""})
    assert empty.status_code == 422 and "督办" in empty.get_data(as_text=True)
    done = unit.post(f"/desk/cases/{number}/moves/report_supervision",
                     data={**form, "internal_text": "已约谈协会负责人，责令限期退还会费。"})
    assert done.status_code == 303
    after = unit.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert 'id="move-report_supervision"' not in after and 'id="open-notice"' not in after  # one report per notice
    queue = unit.get("/desk", follow_redirects=True).get_data(as_text=True)
    assert "督办待反馈" not in queue.split(f'id="row-{number}"')[1].split("</tr>")[0]
    assert "督办反馈" in after and "已约谈协会负责人" in after
    listed = supervisor.get("/supervise/notices").get_data(as_text=True)
    row = listed.split('id="notice-list"')[1].split("</table>")[0]
    assert "已报告" in row and "等待报告" not in row
    waiting = supervisor.get("/supervise/notices?show=waiting").get_data(as_text=True)
    assert "尚未报告 (0)" in waiting and number not in waiting.split('id="notice-list"')[1]
    assert "已约谈协会负责人" in supervisor.get(f"/desk/cases/{number}").get_data(as_text=True)
    supervisor.set_cookie("lang", "en")
    english = supervisor.get("/supervise/notices").get_data(as_text=True)
    assert "<h1>Supervision notices</h1>" in english and ">Reported · " in english


def test_only_supervisors(client, db, make_staff):
    for role, unit in ((Role.handler, "miit"), (Role.administrator, "mca"), (Role.unit_lead, "miit")):
        c = client.application.test_client()
        sign_in(c, db, make_staff(unit, role))
        for path in ("/supervise", "/supervise/overdue", "/supervise/notices", "/supervise/risk",
                     "/supervise/export/monthly.csv"):
            assert c.get(path).status_code == 403, (role, path)
    anonymous = client.application.test_client()
    assert anonymous.get("/supervise").status_code == 302  # to the sign-in page


def test_no_association_graded_is_said_in_a_sentence_a_phone_shows(client, db, make_staff):
    """A unit whose associations have no high or medium grade: one sentence under the heading
    (as a table row it was centred in a table wider than a phone, off the screen), and no
    command line told to a supervisor."""
    sign_in(client, db, make_staff("mca", Role.supervisor))
    page = client.get("/supervise/risk?authority=none-such").get_data(as_text=True)
    assert '<p class="empty" id="risk-list">没有高风险或中风险的协会。</p>' in page
    assert "<table" not in page.split('id="risk-method"')[1].split("</main>")[0]
    assert "changtong stats" not in page


def test_the_live_lines_and_the_period_follow_the_filters(client, db, make_staff, hand_counted):
    """A unit's dashboard said "overdue now: 0" in its tile and "level 1: 1" in the line under it (the
    line counted every unit); a link with its months showed "last 3 months" in the period list."""
    from casework.registry.models import Unit

    refresh(db, utcnow)
    sign_in(client, db, make_staff("mca", Role.supervisor))
    with db.session_scope(write=False) as s:
        late_unit = s.get(Case, hand_counted["d"]).unit_id
        other = s.scalar(select(Unit.id).where(Unit.id != late_unit).limit(1))
    mine = client.get(f"/supervise?unit={late_unit}&lang=zh_CN").get_data(as_text=True)
    assert 'id="overdue-summary"' in mine and f"/supervise/overdue?level=1&amp;unit={late_unit}" in mine
    assert 'id="overdue-summary"' not in client.get(f"/supervise?unit={other}").get_data(as_text=True)
    linked = client.get("/supervise?from=2026-01&to=2026-12").get_data(as_text=True)
    assert '<option value="" selected>2026-01 至 2026-12</option>' in linked
    assert '<input type="hidden" name="from" value="2026-01">' in linked
    chosen = client.get("/supervise?months=3&from=2026-01&to=2026-12").get_data(as_text=True)
    assert "2026-01 至 2026-12" not in chosen and re.search(r'<option value="3" selected>', chosen)
