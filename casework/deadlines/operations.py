"""What an administrator changes about deadlines: calendar overrides, confirmed years,
time limits; and the list of deadlines that fall in a year without a confirmed schedule.

Every change is recorded in the audit trail (casework.audit) in the caller's transaction;
an import of overrides is one entry with its count."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Callable, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.accounts.actor import Actor
from casework.audit.operations import Change, record
from casework.cases.models import Case, Stage
from casework.cases.queue import OPEN_STATES
from casework.deadlines.calendar import library_confirms
from casework.deadlines.models import CalendarOverride, CalendarYear, TimeLimit
from casework.i18n import Message, N_

R = TypeVar("R")


class DeadlineAdminError(ValueError):
    def __init__(self, errors: dict[str, list[Message]]):
        super().__init__("; ".join(m.msgid for ms in errors.values() for m in ms))
        self.errors = errors


def parse_day(raw: str) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


def _put(session: Session, actor: Actor, model: type[R], key: dict[str, Any], values: dict[str, Any],
         snapshot: Callable[[R], dict], kind: str, row_id: int | str, *, audit: bool = True) -> R:
    """The row with this primary key, updated with ``values`` or added; audited as updated
    or created (unless ``audit`` is False)."""
    row = session.get(model, key)
    before = None if row is None else snapshot(row)
    if row is None:
        row = model(**key, **values)
        session.add(row)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    session.flush()
    if audit:
        record(session, actor, Change(kind, "updated" if before else "created", row_id, before, snapshot(row)))
    return row


def _override_snapshot(row: CalendarOverride) -> dict:
    return {"day": row.day.isoformat(), "working": row.working, "note": row.note}


def override_problems(day: date | None, note: str) -> dict[str, list[Message]]:
    """Every problem of an override at once (a bad date hid the missing reason until the next send)."""
    errors: dict[str, list[Message]] = {}
    if day is None:
        errors["day"] = [Message(N_("A date as YYYY-MM-DD, please."))]
    note = (note or "").strip()
    if not note or len(note) > 200:
        errors["note"] = [Message(N_("Say why (for example the State Council notice), in at most 200 characters."))]
    return errors


def set_override(session: Session, day: date, working: bool, note: str, *, actor: Actor,
                 audit: bool = True) -> CalendarOverride:
    errors = override_problems(day, note)
    if errors:
        raise DeadlineAdminError(errors)
    note = note.strip()
    return _put(session, actor, CalendarOverride, {"day": day}, {"working": working, "note": note},
                _override_snapshot, "calendar_override", day.isoformat(), audit=audit)


def remove_override(session: Session, day: date, *, actor: Actor) -> None:
    row = session.get(CalendarOverride, day)
    if row is not None:
        before = _override_snapshot(row)
        session.delete(row)
        session.flush()
        record(session, actor, Change("calendar_override", "removed", day.isoformat(), before, None))


def _year_snapshot(row: CalendarYear) -> dict:
    return {"year": row.year, "confirmed": row.confirmed, "note": row.note or ""}


def set_year(session: Session, year: int, confirmed: bool, note: str = "", *, actor: Actor) -> CalendarYear:
    """Mark a year's holiday schedule confirmed (or not). Confirming names the State Council notice
    it was checked against: a stray click silenced the warning on every deadline in that year."""
    note = (note or "").strip()
    if confirmed and not note:
        raise DeadlineAdminError({"note": [Message(N_(
            "Name the State Council notice you checked the year against (e.g. 国办发明电〔2026〕7号), "
            "after entering its dates as overrides."))]})
    return _put(session, actor, CalendarYear, {"year": year}, {"confirmed": confirmed, "note": note},
                _year_snapshot, "calendar_year", year)


def _limit_snapshot(row: TimeLimit) -> dict:
    return {"case_type": row.case_type.value if row.case_type else None, "stage": row.stage.value,
            "amount": row.amount, "working_days": row.working_days}


def update_limit(session: Session, limit_id: int, amount_raw: str, working_days: bool, *,
                 actor: Actor) -> TimeLimit:
    row = session.get(TimeLimit, limit_id)
    if row is None:
        raise DeadlineAdminError({"amount": [Message(N_("No such time limit."))]})
    try:
        amount = int(str(amount_raw).strip())
    except ValueError:
        amount = 0
    if not 1 <= amount <= 366:
        raise DeadlineAdminError({"amount": [Message(N_("A whole number of days from 1 to 366."))]})
    before = _limit_snapshot(row)
    row.amount, row.working_days = amount, working_days
    session.flush()
    record(session, actor, Change("time_limit", "updated", row.id, before, _limit_snapshot(row)))
    return row


@dataclass
class ImportResult:
    imported: int
    errors: list[tuple[int, str]]


def import_overrides(session: Session, text: str, *, actor: Actor) -> ImportResult:
    """CSV ``date,working,note`` (working: 1/0, true/false, 上班/休息); all or nothing.
    Audited as one entry with the count and the first and last date."""
    rows, errors = [], []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    for line, rec in enumerate(reader, start=1):
        if not rec or (line == 1 and rec[0].strip().lower() == "date"):
            continue
        if len(rec) < 3:
            errors.append((line, "expected date,working,note"))
            continue
        day = parse_day(rec[0])
        flag = rec[1].strip().lower()
        if day is None:
            errors.append((line, "date must be YYYY-MM-DD"))
        elif flag not in {"1", "0", "true", "false", "上班", "休息", "working", "rest"}:
            errors.append((line, "working must be 1/0, true/false, working/rest or 上班/休息"))
        elif not rec[2].strip():
            errors.append((line, "a note is required"))
        else:
            rows.append((day, flag in {"1", "true", "上班", "working"}, rec[2].strip()[:200]))
    if errors:
        return ImportResult(0, errors)
    for day, working, note in rows:
        set_override(session, day, working, note, actor=actor, audit=False)
    if rows:
        days = sorted(day for day, _, _ in rows)
        record(session, actor, Change("calendar_override", "imported", None, None,
                                      {"count": len(rows), "first": days[0].isoformat(), "last": days[-1].isoformat()}))
    return ImportResult(len(rows), [])


def unconfirmed_deadlines(session: Session, today: date | None = None) -> list[tuple[int, int]]:
    """(year, open cases whose deadline falls in it) for years without a confirmed schedule, when
    there are such cases: a year no deadline reaches yet is nothing to act on (its schedule is
    usually published in the November before; the calendar page lists every year's status)."""
    today = today or date.today()
    confirmed = {y.year: y.confirmed for y in session.scalars(select(CalendarYear))}
    out = []
    for year in range(today.year, today.year + 3):
        if confirmed.get(year, library_confirms(year)):
            continue
        start = datetime(year, 1, 1, tzinfo=timezone.utc)
        end = datetime(year + 1, 1, 1, tzinfo=timezone.utc)
        n = session.scalar(select(func.count()).select_from(Case).where(
            Case.state.in_(OPEN_STATES), Case.due_at >= start, Case.due_at < end)) or 0
        if n:
            out.append((year, n))
    return out


def limit_rows(session: Session) -> list[TimeLimit]:
    order = {s: i for i, s in enumerate(Stage)}
    rows = list(session.scalars(select(TimeLimit)))
    return sorted(rows, key=lambda t: (order[t.stage], t.case_type is not None, t.case_type.value if t.case_type else ""))

