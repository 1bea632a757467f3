"""Working days on China's official calendar: python-holidays' China calendar (public
holidays and the State Council's make-up working days, 调休) plus administrator overrides."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Mapping

import holidays

from casework.cases.numbers import CHINA


@lru_cache(maxsize=64)
def _china(year: int) -> holidays.HolidayBase:
    return holidays.China(years=[year])


class WorkingCalendar:
    def __init__(self, overrides: Mapping[date, bool] | None = None):
        # date -> True (working day) / False (rest day), set by an administrator
        self.overrides = dict(overrides or {})

    def is_working_day(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        return _china(day.year).is_working_day(day)

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (start itself not counted)."""
        day, left = start, n
        while left > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_after(self, start: date, end: date) -> int:
        """Working days in (start, end]."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


def china_date(moment: datetime) -> date:
    from casework.db import as_utc

    return as_utc(moment).astimezone(CHINA).date()
