"""Applying a routing decision to a case, as an event."""
from __future__ import annotations

from sqlalchemy.orm import Session

from casework.cases.models import ActorKind, Case, CaseState, Event, EventKind
from casework.context import Services
from casework.routing.engine import Decision, decide


def route_new_case(session: Session, services: Services, case: Case) -> Decision:
    """Route a case just filed: to a unit (pending acceptance) or to triage (received)."""
    from casework.cases.models import Stage
    from casework.deadlines.limits import Deadlines

    deadlines = Deadlines.load(session)
    decision = decide(session, case)
    event = Event(case=case, created_at=services.clock(), actor_kind=ActorKind.system,
                  kind=EventKind.routed, from_state=case.state)
    stage = Stage.acceptance if decision.unit is not None else Stage.triage
    case.stage, case.stage_started_at = stage, case.submitted_at
    case.due_at = deadlines.due(case.type, stage, case.submitted_at)
    if decision.unit is not None:
        case.unit_id = decision.unit.id
        case.state = CaseState.pending_acceptance
        event.to_state = CaseState.pending_acceptance
        event.summary = f"routed to {decision.unit.code}: {decision.reason}"[:300]
        event.data = {"unit_id": decision.unit.id, "unit": decision.unit.code,
                      "rule_id": decision.rule.id, "skipped": decision.skipped}
    else:
        event.to_state = None
        event.summary = f"to triage: {decision.reason}"[:300]
        event.data = {"triage": True, "reason": decision.reason, "skipped": decision.skipped}
    session.add(event)
    return decision
