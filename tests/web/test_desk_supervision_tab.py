"""The queue's 超期与督办 tab: a unit's cases past their deadline or carrying a 督办单 that awaits the
unit's report, the report's date first, then the deadline; the unit lead sees the unit's, a handler
only the cases they hold; no other unit's case, ever."""
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from casework.accounts.models import Role
from casework.cases.models import Case
from casework.cases.numbers import CHINA
from casework.registry.models import Unit
from tests.web.test_admin_routing import login_as

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def rows(html):
    return re.findall(r'id="row-([A-Z]{2}\d{14})"', html)


def row(html, number):
    return html.split(f'id="row-{number}"')[1].split("</tr>")[0]


def tab_count(html):
    return int(re.search(r'id="tab-supervision"[^>]*>[^<]*<span class="count">(\d+)</span>', html).group(1))


def signed_in(client, db, actor):
    login_as(client, db, actor)
    return client


def _world(db, file_case, make_staff):
    """Seven cases at 工业和信息化部 and one at 国家市场监督管理总局, set as the sweep and the
    supervisors would leave them."""
    now = datetime.now(timezone.utc)
    today = now.astimezone(CHINA).date()
    numbers = {k: file_case().case_number for k in "abcdefg"}
    numbers["other"] = file_case().case_number
    handler = make_staff("miit", Role.handler)
    with db.session_scope() as s:
        samr = s.scalar(select(Unit.id).where(Unit.code == "samr"))
        by = {k: s.scalar(select(Case.id).where(Case.number == n)) for k, n in numbers.items()}
        set_ = lambda k, **v: s.execute(update(Case).where(Case.id == by[k]).values(**v))  # noqa: E731
        # a: a 督办单 to report on in 5 days, its deadline in 10
        set_("a", notice_report_due=today + timedelta(days=5), due_at=now + timedelta(days=10), handler_id=handler.user_id)
        # b: a 督办单 whose date passed 2 days ago without a report (not overdue itself)
        set_("b", notice_report_due=today - timedelta(days=2), due_at=now + timedelta(days=20))
        # c: overdue by 3 days (the sweep's flag), no notice
        set_("c", overdue=True, supervision_level=1, due_at=now - timedelta(days=3), handler_id=handler.user_id)
        # d: the same report date as a, an earlier deadline (overdue since yesterday, not yet swept)
        set_("d", notice_report_due=today + timedelta(days=5), due_at=now - timedelta(days=1))
        # e: nothing to see: in time, no notice
        set_("e", due_at=now + timedelta(days=3))
        # f: its deadline passed while it waits for material: the clock is paused, not overdue
        set_("f", due_at=now - timedelta(days=4), paused_at=now - timedelta(days=6))
        # g: replied with a notice still unanswered: the report is owed whatever the state
        set_("g", notice_report_due=today + timedelta(days=1), due_at=None)
        # another unit's case, overdue and under a notice: never on miit's tab
        set_("other", unit_id=samr, notice_report_due=today - timedelta(days=9), overdue=True,
             due_at=now - timedelta(days=9))
    return numbers, handler


def test_the_lead_sees_the_units_overdue_and_supervised_cases_by_report_date(client, db, file_case, make_staff):
    numbers, _handler = _world(db, file_case, make_staff)
    lead = signed_in(client, db, make_staff("miit", Role.unit_lead))
    with db.session_scope(write=False) as s:
        miit = s.scalar(select(Unit.id).where(Unit.code == "miit"))
    html = lead.get(f"/desk/units/{miit}?tab=supervision").get_data(as_text=True)
    n = numbers
    # the report overdue first, then by report date (the deadline breaks the tie), then the overdue without a notice
    assert rows(html) == [n["b"], n["g"], n["d"], n["a"], n["c"]]
    assert n["other"] not in html and n["e"] not in html and n["f"] not in html
    assert tab_count(html) == 5
    # the tab's count shows on every tab of the queue, the current one included
    assert tab_count(lead.get(f"/desk/units/{miit}?tab=pending").get_data(as_text=True)) == 5
    assert 'aria-current="page">超期与督办' in html and 'id="supervision-scope"' in html and "本单位" in html
    # how late: the report two days past its date, the deadline three days past; who holds it
    assert "逾期 2 天" in row(html, n["b"]) and "还剩 5 天" in row(html, n["a"])
    assert "超期 3 天" in row(html, n["c"]) and "超期 1 天" in row(html, n["d"])
    assert "工业和信息化部 handler" in row(html, n["c"]) and "—" in row(html, n["b"])  # who holds each
    # the default order is the report date; the other sorts stay offered
    assert '<option value="notice" selected>' in html
    by_new = lead.get(f"/desk/units/{miit}?tab=supervision&sort=new").get_data(as_text=True)
    assert set(rows(by_new)) == set(rows(html)) and rows(by_new)[0] == n["g"]  # filed last of the five
    # the spreadsheet of the tab holds the same cases
    csv = lead.get(f"/desk/units/{miit}/export?format=csv&tab=supervision").get_data().decode("utf-8-sig")
    assert all(n[k] in csv for k in "abcdg") and n["e"] not in csv and n["other"] not in csv


def test_a_handler_sees_only_the_cases_they_hold(client, db, file_case, make_staff):
    numbers, handler = _world(db, file_case, make_staff)
    signed_in(client, db, handler)
    with db.session_scope(write=False) as s:
        miit = s.scalar(select(Unit.id).where(Unit.code == "miit"))
    html = client.get(f"/desk/units/{miit}?tab=supervision").get_data(as_text=True)
    assert rows(html) == [numbers["a"], numbers["c"]] and tab_count(html) == 2
    assert "分配给您的" in html
    # no parameter widens it: "mine" unticked is still one's own
    assert rows(client.get(f"/desk/units/{miit}?tab=supervision&mine=").get_data(as_text=True)) == rows(html)
    # and another unit's tab is not theirs to open
    with db.session_scope(write=False) as s:
        samr = s.scalar(select(Unit.id).where(Unit.code == "samr"))
    assert client.get(f"/desk/units/{samr}?tab=supervision").status_code == 403


def test_english_tab_and_lateness(client, db, file_case, make_staff):
    numbers, _handler = _world(db, file_case, make_staff)
    lead = signed_in(client, db, make_staff("miit", Role.unit_lead))
    client.set_cookie("lang", "en")
    with db.session_scope(write=False) as s:
        miit = s.scalar(select(Unit.id).where(Unit.code == "miit"))
    html = lead.get(f"/desk/units/{miit}?tab=supervision").get_data(as_text=True)
    assert "Overdue and supervised" in html and "2 days late" in row(html, numbers["b"])
    assert "Overdue by 3 days" in row(html, numbers["c"]) and "Supervision report due" in html


def test_the_staff_api_lists_the_same_tab_in_the_same_order_and_scope(client, db, file_case, make_staff):
    """A unit's own system reads the tab as the desk shows it: the lead the unit's, a handler
    their own, the report's date first, with the tab's count."""
    from tests.web.test_desk_api import get, token_for

    numbers, handler = _world(db, file_case, make_staff)
    with db.session_scope(write=False) as s:
        miit = s.scalar(select(Unit.id).where(Unit.code == "miit"))
    n = numbers
    lead = token_for(db, make_staff("miit", Role.unit_lead))
    body = get(client, lead, f"/cases?unit={miit}&tab=supervision").get_json()
    assert body["tab"] == "supervision" and body["counts"]["supervision"] == 5
    assert [c["number"] for c in body["items"]] == [n["b"], n["g"], n["d"], n["a"], n["c"]]
    mine = get(client, token_for(db, handler), f"/cases?unit={miit}&tab=supervision").get_json()
    assert [c["number"] for c in mine["items"]] == [n["a"], n["c"]] and mine["counts"]["supervision"] == 2
    refused = get(client, lead, f"/cases?unit={miit}&tab=pending&sort=notice")
    assert refused.status_code == 422 and "sort" in refused.get_json()["errors"]


def test_the_tab_and_its_count_read_two_indexes_not_every_case_of_the_unit(db):
    """The count shows on every queue page: for a unit of 40,000 cases it read every one of them
    (9 ms at 4,335). The flagged cases come from ix_case_unit_attention, the deadlines passed
    since the sweep from ix_case_unit_state_due_id, on SQLite and on PostgreSQL."""
    from sqlalchemy import func

    from casework.cases.queue import QueueFilter, attention, queue_select
    from tests.plans import plan

    now = datetime.now(timezone.utc)
    queries = [select(func.count()).select_from(attention(1, now).subquery()),
               queue_select(QueueFilter(unit_id=1, tab="supervision", now=now))]
    with db.session_scope(write=False) as s:
        conn = s.connection()
        for query in queries:  # as the app sends it: with its bound parameters
            shown = plan(db, conn, query)
            assert "ix_case_unit_attention" in shown and "ix_case_unit_state_due_id" in shown, shown


def test_both_overdue_pages_count_the_same_days_late(client, app, db, services, file_case, make_staff, monkeypatch):
    """Due 2026-12-07 23:59 Beijing, on 12-08 the supervisor's overdue list said 超期天数 0 (whole 24-hour
    periods) while the handler's 超期与督办 tab said 超期 1 天 (China calendar dates). Checked at 00:10
    Beijing, a case due yesterday 23:59 is 1 day late on both; one flagged overdue at 00:05 today
    is 1 day late too, never 0."""
    from dataclasses import replace

    today = datetime.now(timezone.utc).astimezone(CHINA).date()
    midnight = datetime(today.year, today.month, today.day, tzinfo=CHINA)
    now = midnight + timedelta(minutes=10)
    monkeypatch.setitem(app.extensions, "changtong.services", replace(services, clock=lambda: now))
    yesterday, this_morning = file_case().case_number, file_case().case_number
    handler = make_staff("miit", Role.handler)
    with db.session_scope() as s:
        for number, due in ((yesterday, midnight - timedelta(minutes=1)), (this_morning, midnight + timedelta(minutes=5))):
            s.execute(update(Case).where(Case.number == number).values(
                overdue=True, supervision_level=1, due_at=due, handler_id=handler.user_id))
        miit = s.scalar(select(Unit.id).where(Unit.code == "miit"))

    signed_in(client, db, handler)
    desk = client.get(f"/desk/units/{miit}?tab=supervision").get_data(as_text=True)
    assert "超期 1 天" in row(desk, yesterday) and "超期 1 天" in row(desk, this_morning)

    signed_in(client, db, make_staff("mca", Role.supervisor))
    listed = client.get("/supervise/overdue").get_data(as_text=True)
    for number in (yesterday, this_morning):
        days = re.search(rf'>{number}</a>.*?<td class="num days"[^>]*>(\d+)</td>', listed, re.S).group(1)
        assert days == "1"
