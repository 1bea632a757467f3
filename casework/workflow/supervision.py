"""A supervision notice (督办单) issued by a supervisor to the unit holding a case
(``issue_supervision`` in the workflow table).

It does not change the case's state: it is a ``supervised`` event (staff only) naming the date
by which the unit must act and report, with the supervisor's instructions, and an e-mail to the
unit's notice mailbox that carries only the case number and the date (no case content). The
deadline sweep's automatic escalation of overdue cases is separate (casework.deadlines.sweep);
statistics count both as supervised.

Who: a supervisor, on any case a unit holds while the unit has the next step.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from casework.accounts.models import Role
from casework.cases.numbers import CHINA
from casework.i18n import N_
from casework.workflow.spec import Ctx, invalid

NAME = "issue_supervision"
MAX_DAYS = 90


def _respond_by(ctx: Ctx) -> date:
    raw = str(ctx.values.get("respond_by") or "").strip()
    if not raw:
        raise invalid("respond_by", N_("This field is required."))
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise invalid("respond_by", N_("Enter a date as YYYY-MM-DD.")) from None
    today = ctx.now.astimezone(CHINA).date() if isinstance(ctx.now, datetime) else ctx.now
    if day <= today or day > today + timedelta(days=MAX_DAYS):
        raise invalid("respond_by", N_("Choose a date after today and within %(days)d days."), days=MAX_DAYS)
    return day


def issue(ctx: Ctx) -> dict:
    if ctx.case.unit_id is None:
        raise invalid("respond_by", N_("This case is not held by a unit yet."))
    day = _respond_by(ctx)
    by_units = sorted(u for u, r in ctx.actor.roles if r is Role.supervisor)
    return {"manual": True, "respond_by": day.isoformat(), "unit_id": ctx.case.unit_id,
            "supervisor_unit_ids": by_units}

