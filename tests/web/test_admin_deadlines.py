"""Administrators keep the working-day calendar and the time limits."""
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select, text

from casework.accounts.models import Role
from casework.cases.models import Case, CaseType, Stage
from casework.deadlines.models import CalendarOverride, CalendarYear, TimeLimit
from tests.web.test_admin_routing import login_as

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def admin(client, db, make_staff):
    login_as(client, db, make_staff("mca", Role.administrator))
    return client


def csrf(client, path="/admin/calendar"):
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def test_an_override_needs_a_reason_and_changes_deadlines(admin, db):
    token = csrf(admin)
    bad = admin.post("/admin/calendar/overrides", data={"csrf_token": token, "day": "2026-10-12", "working": "0", "note": ""})
    assert bad.status_code == 422 and 'value="2026-10-12"' in bad.get_data(as_text=True)
    both = admin.post("/admin/calendar/overrides", data={"csrf_token": token, "day": "12/10", "working": "0", "note": ""})
    assert both.status_code == 422 and 'id="day-error"' in both.get_data(as_text=True) and \
        'id="note-error"' in both.get_data(as_text=True)  # together (a bad date hid the missing reason)
    before = admin.get("/admin/calendar?start=2026-10-09&days=2").get_data(as_text=True)
    assert "届满日 2026-10-12 周一" in before and "计入 2026-10-10 周六：调休上班日" in before  # in the page's language
    ok = admin.post("/admin/calendar/overrides", data={"csrf_token": token, "day": "2026-10-12", "working": "0",
                                                      "note": "演练：临时调整"})
    assert ok.status_code == 303
    after = admin.get("/admin/calendar?start=2026-10-09&days=2").get_data(as_text=True)
    assert "届满日 2026-10-13" in after and "管理员设置：演练：临时调整" in after
    admin.set_cookie("lang", "en")
    english = admin.get("/admin/calendar?start=2026-10-09&days=2").get_data(as_text=True)
    assert "Ends 2026-10-13 Tue" in english and "set by an administrator: 演练：临时调整" in english
    bad = admin.get("/admin/calendar?start=2026-13-01&days=abc")  # said nothing at all
    assert bad.status_code == 422 and 'id="start-error"' in bad.get_data(as_text=True) and \
        'id="days-error"' in bad.get_data(as_text=True)
    with db.session_scope(write=False) as s:
        assert s.get(CalendarOverride, datetime(2026, 10, 12).date()).working is False
    # a second override of the day replaces the first, and the page says what it replaced
    admin.set_cookie("lang", "zh_CN")
    again = admin.post("/admin/calendar/overrides", data={"csrf_token": token, "day": "2026-10-12", "working": "1",
                                                         "note": "恢复上班"}, follow_redirects=True)
    assert "2026-10-12 原已设置（休息日：演练：临时调整），已被本次设置替换。" in again.get_data(as_text=True)


def test_unconfirmed_year_is_flagged_until_confirmed(admin, db, file_case):
    assert 'id="unconfirmed-2028"' not in admin.get("/admin").get_data(as_text=True)  # no deadline there: no alarm
    filed = file_case().case_id
    with db.session_scope() as s:  # a deadline that falls in 2027 (no confirmed schedule yet)
        s.execute(text('UPDATE "case" SET due_at = :d WHERE id = :id'),
                  {"d": datetime(2027, 1, 6, tzinfo=timezone.utc), "id": filed})
    page = admin.get("/admin").get_data(as_text=True)
    assert 'id="unconfirmed-2027"' in page and "2027" in page
    admin.set_cookie("lang", "en")  # one case is one case ("1 open cases have deadlines" before)
    home = admin.get("/admin").get_data(as_text=True)
    assert "not confirmed: 1 open case has its deadline in 2027." in home
    assert "on the calendar page" in home and "enter its dates below" not in home  # nothing is below on /admin
    admin.set_cookie("lang", "zh_CN")
    admin.post("/admin/calendar/years/2027", data={"csrf_token": csrf(admin), "confirmed": "1", "note": "国办通知"})
    assert 'id="unconfirmed-2027"' not in admin.get("/admin").get_data(as_text=True)


def test_time_limits_are_edited_and_used_for_new_stages(admin, db, file_case):
    with db.session_scope(write=False) as s:
        limit = s.scalar(select(TimeLimit).where(TimeLimit.case_type == CaseType.complaint,
                                                  TimeLimit.stage == Stage.acceptance))
        limit_id, old = limit.id, limit.amount
    token = csrf(admin, "/admin/time-limits")
    bad = admin.post(f"/admin/time-limits/{limit_id}", data={"csrf_token": token, "amount": "0", "working_days": "1"})
    assert bad.status_code == 422 and f'id="amount-{limit_id}-error"' in bad.get_data(as_text=True)
    # the value typed stays in its box beside the message (not the saved one it replaced)
    assert re.search(rf'id="amount-{limit_id}" name="amount" value="0"', bad.get_data(as_text=True))
    try:
        assert admin.post(f"/admin/time-limits/{limit_id}",
                          data={"csrf_token": token, "amount": "3", "working_days": "1"}).status_code == 303
        receipt = file_case()
        with db.session_scope(write=False) as s:
            case = s.get(Case, receipt.case_id)
            from casework.deadlines.calendar import WorkingCalendar, china_date

            assert china_date(case.due_at) == WorkingCalendar().add_working_days(china_date(case.submitted_at), 3)
    finally:
        with db.session_scope() as s:
            s.get(TimeLimit, limit_id).amount = old


def test_only_administrators(client, db, make_staff):
    login_as(client, db, make_staff("miit", Role.handler))
    assert client.get("/admin/calendar").status_code == 403
    assert client.get("/admin/time-limits").status_code == 403


def test_the_suggestions_first_limit_is_named_as_its_answer(admin, db):
    """A suggestion is answered, not accepted: its first time limit reads 答复建议, as on the case
    pages, while a complaint's reads 受理决定."""
    with db.session_scope(write=False) as s:
        ids = {t.case_type: t.id for t in s.scalars(select(TimeLimit).where(TimeLimit.stage == Stage.acceptance))}
    page = admin.get("/admin/time-limits").get_data(as_text=True)
    names = {int(i): name for name, i in re.findall(r'<tr>\s*<td[^>]*>([^<]*)</td>.*?id="amount-(\d+)"', page, re.S)}
    assert names[ids[CaseType.suggestion]] == "答复建议"
    assert names[ids[CaseType.complaint]] == "受理决定"


def test_the_report_notice_limit_says_only_older_reports_wait_in_it(admin, db):
    """办法 第三十一条's 5 working days: a report's 立案 decision tells a named reporter itself now,
    so the administrator reads that only reports accepted before that wait in this stage."""
    with db.session_scope(write=False) as s:
        limit_id = s.scalar(select(TimeLimit.id).where(TimeLimit.stage == Stage.report_notice))
    page = admin.get("/admin/time-limits").get_data(as_text=True)
    basis = re.search(rf'<td id="basis-{limit_id}"[^>]*>([^<]*)</td>', page).group(1)
    assert "第三十一条" in basis and "只有此前受理的举报仍处于此阶段" in basis


def test_a_holiday_is_named_in_the_pages_language(admin, db):
    """The calendar's check named every holiday in Chinese on the English page ("(农历除夕)")."""
    admin.set_cookie("lang", "en")
    english = admin.get("/admin/calendar?start=2027-02-03&days=3").get_data(as_text=True)
    assert "public holiday: Chinese New Year&#39;s Eve" in english and "农历除夕" not in english
    admin.set_cookie("lang", "zh_CN")
    assert "农历除夕" in admin.get("/admin/calendar?start=2027-02-03&days=3").get_data(as_text=True)


def test_confirming_a_year_names_the_notice_and_says_it_was_done(admin, db):
    """A stray click on "mark confirmed" silenced the year's warning with no word on the page: confirming
    now names the State Council notice it was checked against, and each change is said."""
    bare = admin.post("/admin/calendar/years/2028", data={"csrf_token": csrf(admin), "confirmed": "1", "note": " "})
    html = bare.get_data(as_text=True)
    assert bare.status_code == 422 and 'id="year-2028-note-error"' in html and "国务院办公厅通知" in html
    with db.session_scope(write=False) as s:
        assert s.get(CalendarYear, 2028) is None
    done = admin.post("/admin/calendar/years/2028", data={"csrf_token": csrf(admin), "confirmed": "1",
                                                         "note": "国办发明电〔2027〕1号"}, follow_redirects=True)
    assert "已将 2028 年标记为已确认（国办发明电〔2027〕1号）。" in done.get_data(as_text=True)
    undone = admin.post("/admin/calendar/years/2028", data={"csrf_token": csrf(admin), "confirmed": "0"},
                        follow_redirects=True)
    assert "已将 2028 年标记为未确认" in undone.get_data(as_text=True)


def test_a_year_with_holidays_by_rule_only_says_so(admin, db):
    """2027's festivals are in the maintained calendar by rule, with no make-up working days yet: the
    years table said "no" while the period check skipped 2027's Spring Festival."""
    from casework.deadlines.calendar import library_confirms, library_has_holidays

    page = admin.get("/admin/calendar").get_data(as_text=True)
    years = [y for y in range(2025, 2031) if library_has_holidays(y) and not library_confirms(y)]
    shown = [y for y in years if f'<tr><td data-label="年份">{y}</td>' in page]
    assert shown, "the years table shows a year known by rule only"
    row = page[page.index(f'<tr><td data-label="年份">{shown[0]}</td>'):]
    assert "仅按规则收录节假日，尚无调休上班日" in row[:row.index("</tr>")]
