"""Working days on China's official calendar: python-holidays' China calendar (public
holidays and the State Council's make-up working days, 调休) plus administrator overrides.

Every computation can explain itself: which days were counted and which were skipped and
why, so a handler, a complainant or an administrator checking a State Council notice can
follow it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Mapping

import holidays

from casework.cases.numbers import CHINA


@lru_cache(maxsize=64)
def _china(year: int, language: str = "zh_CN") -> holidays.HolidayBase:
    return holidays.China(years=[year], language=language)


def warm(years: int = 3) -> None:
    """Build the calendars of this year and the next ones now (a server's master process, before
    it forks its workers), not in the middle of the first request that counts a deadline."""
    this_year = date.today().year
    for year in range(this_year, this_year + years):
        _china(year)
        library_confirms(year)


def holiday_name(day: date, locale: str) -> str | None:
    """The public holiday's name in a page's language, from the calendar library's own
    translations ("Chinese New Year's Eve" for 农历除夕), or None on a day that is no holiday."""
    return _china(day.year, "en_US" if (locale or "").startswith("en") else "zh_CN").get(day)


def library_has_holidays(year: int) -> bool:
    """The maintained calendar names that year's public holidays, if only by rule (the festivals'
    dates and their observed days) before the State Council's notice gives the make-up days."""
    return len(_china(year)) > 0


@lru_cache(maxsize=64)
def library_confirms(year: int) -> bool:
    """The maintained calendar knows that year's make-up working days (it has been
    announced); for later years it only has rule-based holidays."""
    return any(d.year == year for d in _china(year).weekend_workdays)


@dataclass(frozen=True)
class DayNote:
    day: date
    working: bool
    reason: str  # untranslated: "weekend", "holiday:国庆节", "make-up working day", "override:<note>"


@dataclass
class Computation:
    start: date
    amount: int
    working_days: bool
    end: date
    counted: list[date] = field(default_factory=list)
    skipped: list[DayNote] = field(default_factory=list)
    makeup_days: list[DayNote] = field(default_factory=list)
    rolled_forward: list[DayNote] = field(default_factory=list)  # calendar-day period ending on a rest day
    unconfirmed_years: set[int] = field(default_factory=set)

    def lines(self) -> list[str]:
        unit = "working days" if self.working_days else "days"
        out = [f"start {self.start.isoformat()} (not counted), {self.amount} {unit}"]
        notes = [("skip", d) for d in self.skipped] + [("count", d) for d in self.makeup_days]
        for verb, d in sorted(notes, key=lambda p: p[1].day):
            out.append(f"  {verb} {d.day.isoformat()} {d.day.strftime('%a')}: {d.reason}")
        for d in self.rolled_forward:
            out.append(f"  period ended on a rest day {d.day.isoformat()} ({d.reason}): moves to the next working day")
        out.append(f"ends {self.end.isoformat()} {self.end.strftime('%a')}")
        for y in sorted(self.unconfirmed_years):
            out.append(f"  WARNING: the {y} schedule is not confirmed; check it against the State Council notice")
        return out


class WorkingCalendar:
    def __init__(self, overrides: Mapping[date, tuple[bool, str]] | None = None,
                 confirmed_years: Mapping[int, bool] | None = None):
        # date -> (working?, note), set by an administrator; read-only (a calendar is shared by the
        # requests of a process, casework.reference)
        self.overrides = MappingProxyType(dict(overrides or {}))
        self.confirmed = MappingProxyType(dict(confirmed_years or {}))

    def is_confirmed(self, year: int) -> bool:
        if year in self.confirmed:
            return self.confirmed[year]
        return library_confirms(year)

    def day_note(self, day: date) -> DayNote:
        if day in self.overrides:
            working, note = self.overrides[day]
            return DayNote(day, working, f"override: {note}")
        cal = _china(day.year)
        if day in cal.weekend_workdays:
            return DayNote(day, True, "make-up working day (调休)")
        name = cal.get(day)
        if name:
            return DayNote(day, False, f"holiday: {name}")
        if day.weekday() >= 5:
            return DayNote(day, False, "weekend")
        return DayNote(day, True, "working day")

    def is_working_day(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day][0]
        return _china(day.year).is_working_day(day)

    def compute(self, start: date, amount: int, *, working_days: bool = True) -> Computation:
        """The end of a period of ``amount`` working (or calendar) days after ``start``."""
        comp = Computation(start=start, amount=amount, working_days=working_days, end=start)
        day, left = start, amount
        while left > 0:
            day += timedelta(days=1)
            if not self.is_confirmed(day.year):
                comp.unconfirmed_years.add(day.year)
            note = self.day_note(day)
            if working_days:
                if note.working:
                    left -= 1
                    comp.counted.append(day)
                    if day.weekday() >= 5 or note.reason.startswith("override"):
                        comp.makeup_days.append(note)
                else:
                    comp.skipped.append(note)
            else:
                left -= 1
                comp.counted.append(day)
        if not working_days:
            # Civil Code art. 203: a period whose last day is a rest day ends on the next working day
            while not self.is_working_day(day):
                comp.rolled_forward.append(self.day_note(day))
                day += timedelta(days=1)
                if not self.is_confirmed(day.year):
                    comp.unconfirmed_years.add(day.year)
        comp.end = day
        return comp

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (start itself not counted)."""
        return self.compute(start, n, working_days=True).end

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
