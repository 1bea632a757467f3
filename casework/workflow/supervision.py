"""A supervision notice (督办单) issued by a supervisor to the unit holding a case, registered
into the one state machine as ``issue_supervision``.

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
from casework.cases.models import CaseState as S, EventKind
from casework.cases.numbers import CHINA
from casework.i18n import Message, N_
from casework.notify.models import OutboxChannel
from casework.notify.queue import queue_message
from casework.registry.models import Unit
from casework.workflow import machine as m
from casework.workflow.machine import Ctx, InvalidMove, Move, register

NAME = "issue_supervision"
SOURCES = frozenset({S.pending_acceptance, S.accepted, S.need_info, S.under_review, S.under_re_review,
                     S.mediating})
MAX_DAYS = 90
TEMPLATE = "supervision_notice"


def _invalid(field: str, msgid: str, **params) -> InvalidMove:
    return InvalidMove(Message(N_("Please check the marked fields.")), {field: [Message(msgid, params)]})


def _respond_by(ctx: Ctx) -> date:
    raw = str(ctx.fields.get("respond_by") or "").strip()
    if not raw:
        raise _invalid("respond_by", N_("This field is required."))
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise _invalid("respond_by", N_("Enter a date as YYYY-MM-DD.")) from None
    today = ctx.now.astimezone(CHINA).date() if isinstance(ctx.now, datetime) else ctx.now
    if day <= today or day > today + timedelta(days=MAX_DAYS):
        raise _invalid("respond_by", N_("Choose a date after today and within %(days)d days."), days=MAX_DAYS)
    return day


def _issue(ctx: Ctx) -> dict:
    if ctx.case.unit_id is None:
        raise _invalid("respond_by", N_("This case is not held by a unit yet."))
    day = _respond_by(ctx)
    ctx.event.internal_text = m._text(ctx, "internal_text", required=True, lo=5, hi=2000)
    unit = ctx.session.get(Unit, ctx.case.unit_id)
    if unit is not None and unit.notice_email:
        queue_message(ctx.session, ctx.services, dedupe_key=f"supervise:{ctx.case.id}:{ctx.now.isoformat()}",
                      case=ctx.case, channel=OutboxChannel.email, template=TEMPLATE, locale="zh_CN",
                      recipient=unit.notice_email,
                      payload={"case_number": ctx.case.number, "respond_by": day.isoformat()})
    by_units = sorted(u for u, r in ctx.actor.roles if r is Role.supervisor)
    return {"manual": True, "respond_by": day.isoformat(), "unit_id": ctx.case.unit_id,
            "supervisor_unit_ids": by_units}


MOVE = Move(NAME, N_("Issue a supervision notice (督办单)"), SOURCES, EventKind.supervised,
            roles=frozenset(), anywhere_roles=frozenset({Role.supervisor}), changes_state=False, apply=_issue)
register(MOVE)
