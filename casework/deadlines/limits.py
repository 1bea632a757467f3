"""Time limits per (case type, stage), from the statutory anchors in the design.

These are the defaults; the deadlines issue makes them rows an administrator edits. The
clock of a stage starts at the event that opens it; a transfer does not reset it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from casework.cases.models import CaseType
from casework.cases.numbers import CHINA
from casework.deadlines.calendar import WorkingCalendar, china_date


@dataclass(frozen=True)
class Limit:
    amount: int
    working_days: bool


DEFAULTS: dict[tuple[str, str], Limit] = {
    ("*", "triage"): Limit(1, True),
    ("complaint", "acceptance"): Limit(7, True),
    ("report", "acceptance"): Limit(15, True),
    ("mediation", "acceptance"): Limit(7, True),
    ("suggestion", "acceptance"): Limit(60, False),  # a suggestion is answered, not accepted
    ("*", "handling"): Limit(60, False),
    ("mediation", "handling"): Limit(45, True),
    ("*", "rating"): Limit(15, False),
}


def limit_for(case_type: CaseType, stage: str) -> Limit:
    return DEFAULTS.get((case_type.value, stage)) or DEFAULTS[("*", stage)]


def due_at(case_type: CaseType, stage: str, start: datetime, calendar: WorkingCalendar | None = None) -> datetime:
    """End of the last day of the period (Beijing time). A calendar-day period that ends on
    a rest day ends on the next working day (Civil Code art. 203)."""
    cal = calendar or WorkingCalendar()
    lim = limit_for(case_type, stage)
    start_day = china_date(start)
    if lim.working_days:
        end = cal.add_working_days(start_day, lim.amount)
    else:
        end = start_day + timedelta(days=lim.amount)
        while not cal.is_working_day(end):
            end += timedelta(days=1)
    return datetime.combine(end, time(23, 59, 59), tzinfo=CHINA)
