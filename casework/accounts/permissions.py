"""Permissions as domain predicates. Each view calls exactly one of these (or
casework.workflow.machine.may for a move)."""
from __future__ import annotations

from casework.accounts.actor import Actor
from casework.accounts.models import Role
from casework.cases.models import Case, CaseType
from casework.workflow.states import TRIAGE

DESK_ROLES = (Role.handler, Role.unit_lead, Role.triage_operator, Role.supervisor)


def can_use_desk(actor: Actor) -> bool:
    return actor.is_staff and any(actor.has(r) for r in DESK_ROLES)


def can_work_unit(actor: Actor, unit_id: int) -> bool:
    """See and work a unit's queue."""
    return bool(actor.roles_in(unit_id) & {Role.handler, Role.unit_lead})


def can_oversee_unit(actor: Actor, unit_id: int) -> bool:
    """See every overdue or supervised case of the unit (its queue's 超期·督办 tab): the unit
    lead; a handler sees there only the cases they hold."""
    return Role.unit_lead in actor.roles_in(unit_id)


def can_triage(actor: Actor) -> bool:
    return actor.has(Role.triage_operator)


def can_supervise(actor: Actor) -> bool:
    return actor.has(Role.supervisor)


def can_administer(actor: Actor) -> bool:
    return actor.has(Role.administrator)


def can_view_case(actor: Actor, case: Case) -> bool:
    """Case content: the holding unit's handlers and lead, triage operators while the case
    waits for routing (a new case, or a review with no upper level), supervisors (read only),
    and the handlers and lead of a unit whose decision on it is or was reviewed (read only,
    ``decided_it``). Administrators are not given case content."""
    if not actor.is_staff:
        return False
    if case.unit_id is not None and can_work_unit(actor, case.unit_id):
        return True
    if case.unit_id is None and case.state in TRIAGE and can_triage(actor):
        return True
    return can_supervise(actor) or decided_it(actor, case)


def decided_it(actor: Actor, case: Case) -> bool:
    """A handler or lead of a unit that replied to the case or decided a review of it, now held
    by another unit (the body one level up that reviews it): reads how its decision fared and
    what the review asks to be carried out (信访工作条例 第三十二条第二款, 第三十五、三十六条).
    Read only: the workflow table lets only the holding unit move it."""
    from casework.workflow.handling import deciding_units

    return actor.is_staff and any(can_work_unit(actor, unit_id) for unit_id in deciding_units(case)
                                  if unit_id != case.unit_id)


def reads_only_as_decider(actor: Actor, case: Case) -> bool:
    """The actor sees the case only through ``decided_it``: not the holding unit's, no
    supervisor (the case page says so, and leads back to the actor's own queue)."""
    return (not (case.unit_id is not None and can_work_unit(actor, case.unit_id)) and not can_supervise(actor)
            and decided_it(actor, case))


def can_see_identity(actor: Actor, case: Case) -> bool:
    """Masked identity on the case page; a report's identity is hidden altogether
    (revealing it is an audited request, see the safety issue)."""
    return can_view_case(actor, case) and case.type is not CaseType.report


def can_request_reveal(actor: Actor, case: Case) -> bool:
    """Ask to see a report's identity: a handler or lead of the unit holding it."""
    return (case.type is CaseType.report and case.unit_id is not None and actor.is_staff
            and can_work_unit(actor, case.unit_id))


def can_decide_reveals(actor: Actor) -> bool:
    """The custodian's list of requests (each decision is checked against the case's unit
    by the state machine: a custodian of the unit holding the report)."""
    return actor.is_staff and actor.has(Role.custodian)
