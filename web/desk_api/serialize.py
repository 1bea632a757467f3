"""What the staff API says about a case: a queue row (summary) and the full case.

Times are ISO 8601 in UTC. Identity is masked, and a report's identity is never shown
here at all (``can_see_identity``); internal texts are included, since only staff of a
unit that may see the case get this far.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.accounts.actor import Actor
from casework.accounts.models import User
from casework.accounts.permissions import can_see_identity
from casework.cases.models import Case, Event
from casework.cases.queue import is_overdue
from casework.db import as_utc
from casework.privacy import masking
from casework.privacy.crypto import Cipher
from casework.registry.models import Unit
from casework.workflow.machine import available_moves
from web.i18n import current_locale, filer, title
from web.presenters import association_name, event_title



def iso(dt: datetime | None) -> str | None:
    return as_utc(dt).isoformat() if dt is not None else None


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
        "state_title": title(case.state),
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
        "allowed_moves": [m.name for m in available_moves(actor, case, now)],
    })
    return body
