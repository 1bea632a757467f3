"""Invariants the ORM enforces on every flush, whoever the caller is.

- Events are append-only: an Event row is never updated or deleted.
- Nothing in a case changes without an event: a flush that modifies a Case must also add
  an Event for that case.
"""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from casework.cases.models import Case, Event


class InvariantViolation(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _check(session: Session, _ctx, _instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, Event) and (obj in session.deleted or session.is_modified(obj)):
            raise InvariantViolation("events are append-only")
    changed = {
        obj for obj in session.dirty
        if isinstance(obj, Case) and session.is_modified(obj, include_collections=False)
    }
    if changed:
        with_event = {ev.case for ev in session.new if isinstance(ev, Event)}
        missing = changed - with_event
        if missing:
            raise InvariantViolation(
                "case changed without an event: " + ", ".join(c.number for c in missing)
            )
