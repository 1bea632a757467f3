"""The mediation moves, registered into the one state machine.

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
from casework.cases.models import CaseState as S, CaseType, EventKind, Stage
from casework.i18n import Message, N_
from casework.mediation.models import MediationSession, MediatorRecusal, Outcome
from casework.notify.models import OutboxChannel
from casework.notify.queue import queue_message
from casework.privacy.codes import hash_code, new_query_code
from casework.workflow import machine as m
from casework.workflow.machine import Ctx, InvalidMove, Move, MoveNotAllowed, register

MED = frozenset({CaseType.mediation})
CHINA_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M")


RESPONDENT_PREFIX = "R:"  # keeps a respondent code from ever matching as a query code


def respondent_code_hash(pepper: bytes, case_number: str, code: str) -> str:
    return hash_code(pepper, RESPONDENT_PREFIX + case_number, code)


def _mediation(ctx: Ctx):
    med = ctx.case.mediation
    if med is None:
        raise MoveNotAllowed(Message(N_("This case has no mediation particulars.")))
    return med


def _invalid(field: str, msgid: str, **params) -> InvalidMove:
    return InvalidMove(Message(N_("Please check the marked fields.")), {field: [Message(msgid, params)]})


def _respondent_phone(ctx: Ctx) -> str | None:
    return ctx.services.cipher.decrypt_text(ctx.case.respondent_phone_enc, "case.respondent.phone")


def _accept_mediation(ctx: Ctx) -> dict:
    med = _mediation(ctx)
    ctx.event.public_text = m._text(ctx, "public_text", required=False)
    code = new_query_code()
    med.respondent_code_hash = respondent_code_hash(ctx.services.settings.query_pepper, ctx.case.number, code)
    ctx.case.state = S.accepted
    ctx.start_stage(None)  # the mediation clock starts with the respondent's consent
    if ctx.case.handler_id is None and ctx.actor.user_id is not None:
        ctx.case.handler_id = ctx.actor.user_id
    phone = _respondent_phone(ctx)
    mobile = bool(phone and len(phone) == 11 and phone.startswith("1"))
    if mobile:
        queue_message(ctx.session, ctx.services, dedupe_key=f"case:{ctx.case.id}:respondent_invite:sms",
                      case=ctx.case, channel=OutboxChannel.sms, template="respondent_invite",
                      locale=ctx.case.locale, recipient=phone,
                      payload={"case_number": ctx.case.number, "respondent_code": code})
    ctx.event.respondent_code = code  # shown once to the coordinator; never stored
    return {"respondent_invited_by_sms": mobile}


def _consent(ctx: Ctx) -> dict:
    med = _mediation(ctx)
    ctx.event.public_text = m._text(ctx, "public_text", required=False, hi=1000)
    med.respondent_consented_at = ctx.now
    ctx.case.state = S.mediating
    ctx.start_stage(Stage.mediation)
    return {"consent": "respondent"}


def _refuse(ctx: Ctx) -> dict:
    med = _mediation(ctx)
    ctx.event.public_text = m._text(ctx, "public_text", required=False, hi=1000)
    return _end(ctx, med, Outcome.refused)


def _end(ctx: Ctx, med, outcome: Outcome) -> dict:
    med.outcome, med.ended_at = outcome, ctx.now
    ctx.case.state = S.mediated if outcome is Outcome.agreement else S.mediation_failed
    ctx.start_stage(Stage.judicial_confirmation if outcome is Outcome.agreement else None)
    _notify_parties(ctx, "mediation_ended")
    return {"outcome": outcome.value}


def _notify_parties(ctx: Ctx, template: str) -> None:
    """The notice that mediation ended (and, after an agreement, the reminder to seek
    judicial confirmation) to both parties' phones; no case content."""
    c = ctx.services.cipher
    applicant = None if ctx.case.anonymous else c.decrypt_text(ctx.case.complainant_phone_enc, "case.complainant.phone")
    for who, phone in (("applicant", applicant), ("respondent", _respondent_phone(ctx))):
        if phone and len(phone) == 11 and phone.startswith("1"):
            queue_message(ctx.session, ctx.services, dedupe_key=f"case:{ctx.case.id}:{template}:{who}",
                          case=ctx.case, channel=OutboxChannel.sms, template=template, locale=ctx.case.locale,
                          recipient=phone, payload={"case_number": ctx.case.number})


def _agreement(ctx: Ctx) -> dict:
    med = _mediation(ctx)
    facts = m._text(ctx, "facts", required=True, lo=10, hi=5000)
    terms = m._text(ctx, "terms", required=True, lo=10, hi=5000)
    med.facts, med.terms = facts, terms
    ctx.event.public_text = terms
    data = _end(ctx, med, Outcome.agreement)
    _notify_parties(ctx, "judicial_confirmation")
    return data


def _no_agreement(ctx: Ctx) -> dict:
    med = _mediation(ctx)
    ctx.event.public_text = m._text(ctx, "public_text", required=True, lo=10, hi=5000)
    return _end(ctx, med, Outcome.no_agreement)


def _timeout(ctx: Ctx) -> dict:
    med = _mediation(ctx)
    if ctx.case.due_at is None or ctx.now <= ctx.case.due_at:
        raise MoveNotAllowed(Message(N_("The mediation time limit has not passed.")))
    return _end(ctx, med, Outcome.timed_out)


def _parse_when(raw: str) -> datetime | None:
    from casework.cases.numbers import CHINA

    for fmt in CHINA_FORMATS:
        try:
            return datetime.strptime((raw or "").strip(), fmt).replace(tzinfo=CHINA)
        except ValueError:
            continue
    return None


def _schedule(ctx: Ctx) -> dict:
    when = _parse_when(ctx.fields.get("scheduled_at"))
    if when is None:
        raise _invalid("scheduled_at", N_("Give the date and time as YYYY-MM-DD HH:MM (Beijing time)."))
    place = m._text(ctx, "place", required=True, lo=2, hi=200)
    online = str(ctx.fields.get("online") or "").lower() in ("1", "true", "on", "yes")
    ctx.session.add(MediationSession(case_id=ctx.case.id, scheduled_at=when, place=place, online=online))
    return {"action": "scheduled", "scheduled_at": when.isoformat(), "place": place, "online": online}


def _log_session(ctx: Ctx) -> dict:
    raw = str(ctx.fields.get("session_id") or "")
    session = ctx.session.get(MediationSession, int(raw)) if raw.isdigit() else None
    if session is None or session.case_id != ctx.case.id:
        raise _invalid("session_id", N_("Choose one of this case's sessions."))
    session.attendees = m._text(ctx, "attendees", required=True, lo=2, hi=500)
    session.summary = m._text(ctx, "summary", required=True, lo=5, hi=5000)
    session.internal_notes = m._text(ctx, "internal_text", required=False)
    session.held = True
    ctx.event.internal_text = session.internal_notes
    return {"action": "held", "session_id": session.id}


def _recuse(ctx: Ctx) -> dict:
    raw = str(ctx.fields.get("user_id") or "")
    user = ctx.session.get(User, int(raw)) if raw.isdigit() else None
    if user is None or not any(mm.unit_id == ctx.case.unit_id for mm in user.memberships):
        raise _invalid("user_id", N_("Choose a mediator of this body."))
    reason = m._text(ctx, "internal_text", required=True, lo=2, hi=300)
    if ctx.session.scalar(select(MediatorRecusal.id).where(MediatorRecusal.case_id == ctx.case.id,
                                                           MediatorRecusal.user_id == user.id)) is None:
        ctx.session.add(MediatorRecusal(case_id=ctx.case.id, user_id=user.id, reason=reason))
    ctx.event.internal_text = reason
    if ctx.case.handler_id == user.id:
        ctx.case.handler_id = None
    return {"recused_user_id": user.id}


for move in [
    Move("accept_mediation", N_("Accept the mediation request"), frozenset({S.pending_acceptance}),
         EventKind.accepted, types=MED, apply=_accept_mediation),
    Move("record_consent", N_("Record the respondent's consent"), frozenset({S.accepted}),
         EventKind.mediation_started, types=MED, apply=_consent),
    Move("respondent_consent", N_("Agree to mediation"), frozenset({S.accepted}), EventKind.mediation_started,
         roles=frozenset(), respondent=True, types=MED, apply=_consent),
    Move("record_refusal", N_("Record that the respondent refused"), frozenset({S.accepted}),
         EventKind.mediation_ended, types=MED, apply=_refuse),
    Move("respondent_refuse", N_("Refuse mediation"), frozenset({S.accepted}), EventKind.mediation_ended,
         roles=frozenset(), respondent=True, types=MED, apply=_refuse),
    Move("schedule_session", N_("Schedule a session"), frozenset({S.mediating}), EventKind.session_logged,
         types=MED, changes_state=False, apply=_schedule),
    Move("log_session", N_("Log a session"), frozenset({S.mediating}), EventKind.session_logged,
         types=MED, changes_state=False, apply=_log_session),
    Move("recuse", N_("Mark a mediator as conflicted (回避)"), frozenset({S.pending_acceptance, S.accepted, S.mediating}),
         EventKind.note, types=MED, changes_state=False, apply=_recuse),
    Move("record_agreement", N_("Record the agreement"), frozenset({S.mediating}), EventKind.mediation_ended,
         types=MED, apply=_agreement),
    Move("record_no_agreement", N_("Record that no agreement was reached"), frozenset({S.mediating}),
         EventKind.mediation_ended, types=MED, apply=_no_agreement),
    Move("mediation_timeout", N_("End: mediation time limit passed"), frozenset({S.mediating}),
         EventKind.mediation_ended, roles=frozenset(), system=True, types=MED, apply=_timeout),
]:
    register(move)
