"""Moves on many cases at once (the desk's "assign the ticked cases"): each case in a
savepoint of its own, so one refused or stale case leaves the others done; the caller's
boundary commits them together."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from casework.accounts.actor import Actor
from casework.cases.models import Case
from casework.context import Services
from casework.i18n import Message
from casework.workflow.machine import StaleCase, WorkflowError, perform

BULK_MAX = 100


@dataclass
class BulkResult:
    done: list[str] = field(default_factory=list)  # case numbers
    stale: list[str] = field(default_factory=list)  # someone changed them meanwhile
    refused: list[tuple[str, WorkflowError]] = field(default_factory=list)
    elsewhere: int = 0  # no longer in this unit's queue (or gone)

    def reasons(self) -> list[tuple[list[Message], list[str]]]:
        """The refused case numbers grouped by what was wrong (a field's errors, else the message)."""
        groups: dict[str, tuple[list[Message], list[str]]] = {}
        for number, err in self.refused:
            messages = [m for msgs in err.errors.values() for m in msgs] or [err.message]
            key = repr([(m.msgid, sorted(m.params.items())) for m in messages])
            groups.setdefault(key, (messages, []))[1].append(number)
        return list(groups.values())


def perform_many(session: Session, services: Services, actor: Actor, unit_id: int,
                 versions: dict[int, str], move: str, **fields) -> BulkResult:
    """``move`` with the same fields on each case (id -> the version the actor saw) that the
    unit still holds."""
    result = BulkResult()
    for case_id, version in list(versions.items())[:BULK_MAX]:
        case = session.get(Case, case_id)
        if case is None or case.unit_id != unit_id:
            result.elsewhere += 1
            continue
        number = case.number
        try:
            with session.begin_nested():
                perform(session, services, actor, case, move, version=version, **fields)
            result.done.append(number)
        except StaleCase:
            result.stale.append(number)
        except WorkflowError as err:
            result.refused.append((number, err))
    return result
