"""The steps of the mediation moves (declared in casework.workflow.table).

pending_acceptance --accept_mediation--> accepted (awaiting the respondent's consent)
accepted --record_consent / respondent_consent--> mediating (45 working days)
accepted --record_refusal / respondent_refuse--> mediation_failed (refused)
mediating --record_agreement--> mediated · --record_no_agreement--> mediation_failed
mediating --mediation_timeout (the sweep)--> mediation_failed (timed out)
sessions, recusals: no state change.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from casework.accounts.models import User
from casework.i18n import Message, N_
from casework.mediation.models import MediationSession, MediatorRecusal, Outcome
from casework.privacy.codes import hash_code, new_query_code
from casework.workflow.spec import Ctx, MoveNotAllowed, invalid

CHINA_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M")
RESPONDENT_PREFIX = "R:"  # keeps a respondent code from ever matching as a query code


def respondent_code_hash(pepper: bytes, case_number: str, code: str) -> str:
    return hash_code(pepper, RESPONDENT_PREFIX + case_number, code)


def _mediation(ctx: Ctx):
    med = ctx.case.mediation
    if med is None:
        raise MoveNotAllowed(Message(N_("This case has no mediation particulars.")))
    return med


def accept_mediation(ctx: Ctx) -> dict:
    med = _mediation(ctx)
    code = new_query_code()
    med.respondent_code_hash = respondent_code_hash(ctx.services.settings.query_pepper, ctx.case.number, code)
    if ctx.case.handler_id is None and ctx.actor.user_id is not None:
        ctx.case.handler_id = ctx.actor.user_id
    ctx.event.respondent_code = code  # shown once to the coordinator, sent by SMS; never stored
    return {}


def consent(ctx: Ctx) -> dict:
    _mediation(ctx).respondent_consented_at = ctx.now
    return {"consent": "respondent"}


def refuse(ctx: Ctx) -> dict:
    return _end(ctx, _mediation(ctx), Outcome.refused)


def _end(ctx: Ctx, med, outcome: Outcome) -> dict:
    """The outcome; the table sets the state, the clock and the notices."""
    med.outcome, med.ended_at = outcome, ctx.now
    return {"outcome": outcome.value}


def agreement(ctx: Ctx) -> dict:
    med = _mediation(ctx)
    med.facts, med.terms = ctx.values["facts"], ctx.values["terms"]
    ctx.event.public_text = med.terms
    return _end(ctx, med, Outcome.agreement)


def no_agreement(ctx: Ctx) -> dict:
    return _end(ctx, _mediation(ctx), Outcome.no_agreement)


def timed_out(case, now) -> Message | None:
    if case.due_at is None or now <= case.due_at:
        return Message(N_("The mediation time limit has not passed."))
    return None


def timeout(ctx: Ctx) -> dict:
    return _end(ctx, _mediation(ctx), Outcome.timed_out)


def _parse_when(raw: str) -> datetime | None:
    from casework.cases.numbers import CHINA

    for fmt in CHINA_FORMATS:
        try:
            return datetime.strptime((raw or "").strip(), fmt).replace(tzinfo=CHINA)
        except ValueError:
            continue
    return None


def schedule(ctx: Ctx) -> dict:
    when = _parse_when(ctx.values.get("scheduled_at"))
    if when is None:
        raise invalid("scheduled_at", N_("Give the date and time as YYYY-MM-DD HH:MM (Beijing time)."))
    place, online = ctx.values["place"], ctx.values["online"]
    ctx.session.add(MediationSession(case_id=ctx.case.id, scheduled_at=when, place=place, online=online))
    return {"action": "scheduled", "scheduled_at": when.isoformat(), "place": place, "online": online}


def log_session(ctx: Ctx) -> dict:
    raw = str(ctx.values.get("session_id") or "")
    session = ctx.session.get(MediationSession, int(raw)) if raw.isdigit() else None
    if session is None or session.case_id != ctx.case.id:
        raise invalid("session_id", N_("Choose one of this case's sessions."))
    session.attendees, session.summary = ctx.values["attendees"], ctx.values["summary"]
    session.internal_notes = ctx.values.get("internal_text")
    session.held = True
    return {"action": "held", "session_id": session.id}


def recuse(ctx: Ctx) -> dict:
    raw = str(ctx.values.get("user_id") or "")
    user = ctx.session.get(User, int(raw)) if raw.isdigit() else None
    if user is None or not any(mm.unit_id == ctx.case.unit_id for mm in user.memberships):
        raise invalid("user_id", N_("Choose a mediator of this body."))
    reason = ctx.values["internal_text"]
    if ctx.session.scalar(select(MediatorRecusal.id).where(MediatorRecusal.case_id == ctx.case.id,
                                                           MediatorRecusal.user_id == user.id)) is None:
        ctx.session.add(MediatorRecusal(case_id=ctx.case.id, user_id=user.id, reason=reason))
    if ctx.case.handler_id == user.id:
        ctx.case.handler_id = None
    return {"recused_user_id": user.id}
