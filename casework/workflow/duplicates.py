"""Linking a case as a duplicate of another (``link_duplicate`` in the workflow table).

The duplicate leaves the queue by a state change (-> closed) with a ``linked`` event whose
data is ``{"duplicate_of": <number>}`` and whose public text tells the complainant where the
matter is handled (the web layer writes the default text in the complainant's language; the
domain stores what it is given). The original case gets an internal note naming the
duplicate. No table of its own: the link lives in the event data.

Who: the handlers and lead of the case's unit (pending_acceptance, accepted), or a triage
operator while the case waits for routing (received). A received case has no unit, and a
closed case must have one, so it takes the original's unit (where the matter is handled).
"""
from __future__ import annotations

from sqlalchemy import select

from casework.accounts.permissions import can_view_case
from casework.cases.models import Case, Event, EventKind
from casework.cases.numbers import normalize_number
from casework.i18n import N_
from casework.workflow.spec import Ctx, invalid
from casework.workflow.states import LINK_TARGETS

NAME = "link_duplicate"


def _invalid(msgid: str, **params):
    return invalid("duplicate_of", msgid, **params)


def duplicate_of(event: Event) -> str | None:
    """The number a ``linked`` event points to, if any."""
    if event.kind is not EventKind.linked:
        return None
    value = (event.data or {}).get("duplicate_of")
    return value if isinstance(value, str) else None


def is_duplicate(session, case: Case) -> bool:
    return session.scalar(select(Event.id).where(
        Event.case_id == case.id, Event.kind == EventKind.linked, Event.to_state.is_not(None)).limit(1)) is not None


def link(ctx: Ctx) -> dict:
    number = normalize_number(ctx.values["duplicate_of"])[:20]
    if number == ctx.case.number:
        raise _invalid(N_("A case cannot be a duplicate of itself."))
    original = ctx.session.scalar(select(Case).where(Case.number == number))
    # a number the actor may not see is answered like one that does not exist
    if original is None or not can_view_case(ctx.actor, original):
        raise _invalid(N_("There is no case with this number that you may see."))
    if original.state not in LINK_TARGETS or is_duplicate(ctx.session, original):
        raise _invalid(N_("That case is closed or is itself a duplicate; link to the case where the matter is handled."))
    if ctx.case.unit_id is None and original.unit_id is None:
        raise _invalid(N_("That case has not been routed yet; route it first, then link this one to it."))
    if ctx.case.unit_id is None:
        ctx.case.unit_id = original.unit_id
    ctx.case.resume_state = None
    # the original's timeline names the duplicate (staff only); it does not change its state
    ctx.session.add(Event(
        case=original, created_at=ctx.now, actor_kind=ctx.actor.kind, actor_id=ctx.actor.user_id,
        kind=EventKind.note, summary=f"duplicate {ctx.case.number} linked by {ctx.actor.kind}:{ctx.actor.user_id or '-'}",
        internal_text=f"{ctx.case.number} → {original.number}",  # numbers only: the page titles it
        data={"move": "note", "duplicate": ctx.case.number}))
    return {"duplicate_of": original.number}
