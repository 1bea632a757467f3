"""Applying a routing decision to a case just filed: what it sets on the case, and its event."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from casework.cases.models import CaseState, CaseType, Stage
from casework.deadlines.limits import Deadlines
from casework.routing.engine import Route


@dataclass(frozen=True)
class Routed:
    """A new case's routing: to a unit (pending acceptance) or to triage (received), the clock
    of that stage, and the ``routed`` event's words."""
    route: Route
    state: CaseState
    unit_id: int | None
    stage: Stage
    due_at: datetime
    to_state: CaseState | None
    summary: str
    data: dict[str, Any]


def routed(decision: Route, deadlines: Deadlines, case_type: CaseType, submitted_at: datetime) -> Routed:
    unit = decision.unit
    stage = Stage.acceptance if unit is not None else Stage.triage
    due = deadlines.due(case_type, stage, submitted_at)
    if unit is not None:
        return Routed(decision, CaseState.pending_acceptance, unit.id, stage, due, CaseState.pending_acceptance,
                      f"routed to {unit.code}: {decision.reason}"[:300],
                      {"unit_id": unit.id, "unit": unit.code, "rule_id": decision.rule.id,
                       "skipped": list(decision.skipped)})
    return Routed(decision, CaseState.received, None, stage, due, None, f"to triage: {decision.reason}"[:300],
                  {"triage": True, "reason": decision.reason, "skipped": list(decision.skipped)})
