"""Deadlines checked against the State Council's published holiday schedules."""
from datetime import date, datetime, timezone

import pytest

from casework.cases.models import CaseType, Stage
from casework.deadlines.calendar import WorkingCalendar
from casework.deadlines.limits import Deadlines

cal = WorkingCalendar()


@pytest.mark.parametrize("start, n, end", [
    # 2026 National Day: 1-7 Oct off, Sun 20 Sep and Sat 10 Oct worked (国办发明电〔2025〕7号)
    (date(2026, 9, 29), 7, date(2026, 10, 14)),
    # 2025 National Day and Mid-Autumn: 1-8 Oct off, Sun 28 Sep and Sat 11 Oct worked
    (date(2025, 9, 26), 7, date(2025, 10, 13)),
    # received on a make-up Saturday before the 2026 Spring Festival (15-23 Feb off; 14 and 28 Feb worked)
    (date(2026, 2, 14), 7, date(2026, 3, 3)),
    # an ordinary week
    (date(2026, 11, 23), 5, date(2026, 11, 30)),
])
def test_working_days_follow_the_official_schedule(start, n, end):
    assert cal.add_working_days(start, n) == end


def test_the_explanation_names_every_skipped_and_make_up_day():
    comp = cal.compute(date(2026, 9, 29), 7)
    text = "\n".join(comp.lines())
    assert "skip 2026-10-01" in text and "国庆节" in text
    assert "count 2026-10-10 Sat: make-up working day" in text
    assert comp.end == date(2026, 10, 14) and not comp.unconfirmed_years


def test_a_calendar_day_period_ending_on_a_rest_day_moves_to_the_next_working_day():
    comp = cal.compute(date(2026, 9, 20), 11, working_days=False)  # would end on 1 Oct
    assert comp.end == date(2026, 10, 8)
    assert comp.rolled_forward[0].day == date(2026, 10, 1)


def test_a_year_without_a_confirmed_schedule_is_flagged_and_overrides_win():
    comp = cal.compute(date(2026, 12, 28), 5)
    assert comp.unconfirmed_years == {2027}
    # the administrator enters a late-announced make-up day and confirms the year
    fixed = WorkingCalendar({date(2027, 1, 2): (True, "2027 元旦调休（国务院通知）")}, {2027: True})
    comp = fixed.compute(date(2026, 12, 28), 5)
    assert comp.end == date(2027, 1, 4) and not comp.unconfirmed_years
    assert any("override" in d.reason for d in comp.makeup_days)


def test_stage_deadlines_use_the_limits():
    d = Deadlines.defaults()
    received = datetime(2026, 9, 29, 2, 0, tzinfo=timezone.utc)  # 10:00 Beijing
    assert d.due(CaseType.complaint, Stage.acceptance, received).date() == date(2026, 10, 14)
    assert d.due(CaseType.report, Stage.acceptance, received).date() == date(2026, 10, 26)
    # handling: 60 calendar days; 28 Nov 2026 is a Saturday, so it moves to Monday 30 Nov
    assert d.due(CaseType.complaint, Stage.handling, received).date() == date(2026, 11, 30)
