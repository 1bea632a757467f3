"""What the staff API says about a case: a queue row (summary) and the full case.

Times are ISO 8601 in UTC (``iso``: a time the request itself set, e.g. a deadline, is
converted too). Identity is masked, and a report's identity is never shown here at all
(``can_see_identity``); internal texts are included, since only staff of a unit that may see
the case get this far. State titles are the desk's and the public API's (``state_name``).
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.accounts.actor import Actor
from casework.accounts.models import User
from casework.accounts.permissions import can_see_identity
from casework.cases.models import Case, CaseType, Event
from casework.cases.queue import is_overdue
from casework.db import as_utc
from casework.mediation.models import MediationSession, MediatorRecusal, never_held
from casework.privacy import masking
from casework.privacy.crypto import Cipher
from casework.registry.models import Unit
from casework.workflow.machine import available_moves
from casework.workflow.spec import Kind, Move
from web.desk.choices import field_choices, move_options
from web.i18n import current_locale, filer, for_filer, title
from web.presenters import association_name, event_title, state_name



def iso(dt: datetime | None) -> str | None:
    """A time in UTC, whatever zone the value carries (a deadline set by this request's move
    is still in Beijing time until it is read back)."""
    return as_utc(dt).astimezone(timezone.utc).isoformat() if dt is not None else None


def unit_ref(unit: Unit | None) -> dict | None:
    if unit is None:
        return None
    en = current_locale().startswith("en") and unit.name_en
    return {"id": unit.id, "code": unit.code, "name": unit.name_en if en else unit.name}


def handler_names(session: Session, cases: list[Case]) -> dict[int, str]:
    """Display names of the cases' handlers, in one query."""
    ids = {c.handler_id for c in cases if c.handler_id}
    if not ids:
        return {}
    return {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(ids)))}


def case_summary(case: Case, names: dict[int, str], now: datetime) -> dict:
    locale = current_locale()
    return {
        "number": case.number,
        "type": case.type.value,
        "state": case.state.value,
        "state_title": state_name(case.type, case.state),  # 待答复 for a suggestion, as on the desk
        "title": case.title,
        "category": case.category.code,
        "category_title": case.category.display_name(locale),
        "association": ({"credit_code": case.association.credit_code, "name": association_name(case)}
                        if case.association is not None else None),
        "unit": unit_ref(case.unit),
        "handler": ({"id": case.handler_id, "name": names.get(case.handler_id, "")}
                    if case.handler_id else None),
        "submitted_at": iso(case.submitted_at),
        "due_at": iso(case.due_at),
        "overdue": is_overdue(case, now),
        "version": case.version,
    }


def _masked(cipher: Cipher, case: Case, party: str) -> dict[str, str]:
    return masking.masked_party(cipher, case, party, unreadable=_("(cannot be read)"))


def _event(ev: Event) -> dict:
    return {
        "at": iso(ev.created_at),
        "kind": ev.kind.value,
        "title": event_title(ev),
        "actor_kind": ev.actor_kind.value,
        "actor_id": ev.actor_id,
        "from_state": ev.from_state.value if ev.from_state else None,
        "to_state": ev.to_state.value if ev.to_state else None,
        "public_text": ev.public_text,
        "internal_text": ev.internal_text,
        "public": ev.is_public,
    }


def _field(f, case: Case, options: dict, now: datetime) -> dict:
    out = {"name": f.name, "kind": f.kind.value, "label": for_filer(_(f.label), case.type),
           "required": f.is_required(case)}
    if f.kind in (Kind.text, Kind.line):
        out.update(min_length=f.lo, max_length=f.hi)
    if f.kind in (Kind.choice, Kind.ref):
        out["choices"] = [{"value": value, "title": label} for value, label in field_choices(f, options, case, now)]
    start = f.starting_value(case)
    if start is not None:
        out["value"] = start
    return out


def move_offers(session: Session, actor: Actor, case: Case, moves: list[Move], now: datetime,
                sessions: list[MediationSession]) -> list[dict]:
    """The moves the caller may make now, each with the fields it takes on this case and what
    each choice or id offers (the units a transfer may go to, the handlers, the sessions to log,
    the listed reasons), from the lists the desk's forms offer (web.desk.choices)."""
    recused = ({r for (r,) in session.execute(select(MediatorRecusal.user_id).where(MediatorRecusal.case_id == case.id))}
               if case.type is CaseType.mediation else set())
    options = move_options(session, actor, case, moves, now, sessions=sessions, recused_ids=recused)
    return [{"name": m.name, "title": _(m.title),
             "fields": [_field(f, case, options, now) for f in m.fields if f.applies(case)]} for m in moves]


def _date(d) -> str | None:
    return d.isoformat() if d is not None else None


def mediation_detail(session: Session, case: Case, sessions: list[MediationSession], now: datetime) -> dict | None:
    """A mediation's particulars, sessions and outcome, as the desk's case page shows them."""
    med = case.mediation if case.type is CaseType.mediation else None
    if med is None:
        return None
    recusals = list(session.scalars(select(MediatorRecusal).where(MediatorRecusal.case_id == case.id)
                                    .order_by(MediatorRecusal.id)))
    names = ({u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_({r.user_id for r in recusals})))}
             if recusals else {})
    followup = session.get(Case, med.followup_case_id) if med.followup_case_id else None
    return {
        "respondent_kind": med.respondent_kind.value,
        "respondent_kind_title": title(med.respondent_kind),
        "amount": f"{med.amount:.2f}" if med.amount is not None else None,
        "claim": med.claim,
        "respondent_consented_at": iso(med.respondent_consented_at),
        "answer_due_at": iso(med.answer_due_at),
        "recusal_requested": med.recusal_requested_at is not None,
        "outcome": med.outcome.value if med.outcome is not None else None,
        "outcome_title": title(med.outcome) if med.outcome is not None else None,
        "ended_at": iso(med.ended_at),
        "oral_agreement": med.oral_agreement,
        "facts": med.facts,
        "terms": med.terms,
        "performance_due": _date(med.performance_due),
        "signed_on": _date(med.signed_on),
        "followup_due": _date(med.followup_due),
        "performance": med.performance.value if med.performance is not None else None,
        "performance_title": title(med.performance) if med.performance is not None else None,
        "agreement_document": med.agreement_key is not None,
        "followup_case": followup.number if followup is not None else None,
        "sessions": [{
            "id": x.id, "scheduled_at": iso(x.scheduled_at), "place": x.place, "online": x.online,
            "held": x.held,
            # the parties were sent an invitation; one recorded after its time was not
            "invited": x.invited,
            "not_held": never_held(med, x),  # the mediation ended with it never logged: it did not take place
            # its time came and went with nothing recorded: log_session takes it now
            "to_log": not x.held and x.stands and not never_held(med, x) and as_utc(x.scheduled_at) <= now,
            # moved (to the session moved_to names) or cancelled, with the reason the parties read
            "status": x.status.value, "status_reason": x.status_reason, "moved_to": x.moved_to_id,
            "attendees": x.attendees, "summary": x.summary, "internal_notes": x.internal_notes,
        } for x in sessions],
        "recusals": [{"user_id": r.user_id, "name": names.get(r.user_id, ""), "reason": r.reason,
                      "at": iso(r.created_at)} for r in recusals],
    }


def case_detail(session: Session, cipher: Cipher, actor: Actor, case: Case, now: datetime) -> dict:
    """The whole case as a member of staff who may see it gets it."""
    names = handler_names(session, [case])
    body = case_summary(case, names, now)
    if can_see_identity(actor, case):
        complainant: dict = _masked(cipher, case, "complainant")
        respondent = _masked(cipher, case, "respondent") or None
        # who acts for whom (issue 19): the organisation in full, the agent masked
        if case.organisation_name:
            complainant["kind"] = "organisation"
            complainant["organisation"] = {"name": case.organisation_name,
                                           "credit_code": case.organisation_credit_code}
        if case.agent_name_enc is not None:
            complainant["agent"] = _masked(cipher, case, "agent")
    else:
        complainant, respondent = {"hidden": True}, None
    body.update({
        "description": case.description,
        "association_hint": case.association_hint,
        "anonymous": case.anonymous,
        "filer": filer(case.type),  # what the desk calls them: 投诉人, 举报人, 申请人, 建议人 (issue 16, 10)
        "complainant": complainant,
        "respondent": respondent,
        "timeline": [_event(ev) for ev in case.events],
        "attachments": [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size,
             "from_staff": a.from_staff, "uploaded_at": iso(a.uploaded_at),
             "role": a.role}  # "power_of_attorney": an agent's 授权委托书
            for a in case.attachments
        ],
    })
    sessions = (list(session.scalars(select(MediationSession).where(MediationSession.case_id == case.id)
                                     .order_by(MediationSession.scheduled_at, MediationSession.id)))
                if case.type is CaseType.mediation else [])
    moves = available_moves(actor, case, now)
    body["allowed_moves"] = [m.name for m in moves]
    body["moves"] = move_offers(session, actor, case, moves, now, sessions)
    if (mediation := mediation_detail(session, case, sessions, now)) is not None:
        body["mediation"] = mediation  # a mediation request's particulars, sessions and outcome
    return body
