"""The one state machine. Every caller (web, API, workers, CLI) goes through ``perform``.

Each move says from which states it may be made, by whom, on which case types, and what
it must record. ``perform`` checks all of that, changes the case, writes exactly one
event (the ORM guard refuses a case change without one), queues the notice, and
flushes. A refused move raises and changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from casework.accounts.actor import Actor
from casework.accounts.models import Membership, Role, User
from casework.cases.models import (
    ActorKind, Case, CaseState as S, CaseType, Event, EventKind,
)
from casework.context import Services
from casework.deadlines.calendar import WorkingCalendar, china_date
from casework.deadlines.limits import due_at
from casework.i18n import Message, N_
from casework.registry.models import Unit
from casework.routing.engine import check_unit_allowed
from casework.workflow.reasons import NotAcceptReason, TransferReason

ALL_TYPES = frozenset(CaseType)
HANDLERS = frozenset({Role.handler, Role.unit_lead})
SEND_BACK_WORKING_DAYS = 5
OPEN_BEFORE_REPLY = frozenset({S.received, S.pending_acceptance, S.accepted, S.need_info,
                               S.mediating})


class WorkflowError(Exception):
    status = 422

    def __init__(self, message: Message, errors: dict[str, list[Message]] | None = None):
        super().__init__(message.msgid)
        self.message = message
        self.errors = errors or {}


class MoveNotAllowed(WorkflowError):
    status = 422


class Forbidden(WorkflowError):
    status = 403


class StaleCase(WorkflowError):
    status = 409


class InvalidMove(WorkflowError):
    status = 422


@dataclass(frozen=True)
class Move:
    name: str
    title: str
    sources: frozenset
    event: EventKind
    roles: frozenset = HANDLERS
    public: bool = False  # the complainant makes it (status page)
    types: frozenset = ALL_TYPES
    changes_state: bool = True
    apply: Callable[..., dict] = field(default=lambda ctx: {}, compare=False)


@dataclass
class Ctx:
    session: Session
    services: Services
    actor: Actor
    case: Case
    fields: dict[str, Any]
    event: Event


def _text(ctx: Ctx, name: str, *, required: bool, lo: int = 1, hi: int = 5000) -> str | None:
    from casework.intake.validation import clean_text

    value = clean_text(ctx.fields.get(name), multiline=True)
    if not value:
        if required:
            raise InvalidMove(Message(N_("Please check the marked fields.")),
                              {name: [Message(N_("This field is required."))]})
        return None
    if len(value) < lo or len(value) > hi:
        raise InvalidMove(Message(N_("Please check the marked fields.")),
                          {name: [Message(N_("Between %(lo)d and %(hi)d characters, please."), {"lo": lo, "hi": hi})]})
    return value


def _enum(ctx: Ctx, name: str, enum_cls):
    try:
        return enum_cls(str(ctx.fields.get(name) or ""))
    except ValueError:
        raise InvalidMove(Message(N_("Please check the marked fields.")),
                          {name: [Message(N_("Choose one of the listed reasons."))]})


def _unit(ctx: Ctx, name: str = "unit_id") -> Unit:
    raw = ctx.fields.get(name)
    unit = ctx.session.get(Unit, int(raw)) if str(raw or "").isdigit() else None
    bad = None if unit is None else check_unit_allowed(unit, ctx.case)
    if unit is None or bad:
        raise InvalidMove(Message(N_("Please check the marked fields.")),
                          {name: [Message(N_("This unit cannot receive this case."))]})
    return unit


# -- what each move does ---------------------------------------------------------------

def _route(ctx: Ctx) -> dict:
    unit = _unit(ctx)
    ctx.event.internal_text = _text(ctx, "internal_text", required=False)
    ctx.case.unit_id, ctx.case.handler_id = unit.id, None
    ctx.case.state = S.pending_acceptance
    # the acceptance clock runs from submission; routing late does not give the unit more time
    ctx.case.due_at = due_at(ctx.case.type, "acceptance", ctx.case.submitted_at)
    return {"unit_id": unit.id, "unit": unit.code}


def _accept(ctx: Ctx) -> dict:
    ctx.event.public_text = _text(ctx, "public_text", required=False)
    ctx.case.state = S.accepted
    ctx.case.transferred_from_unit_id = None
    ctx.case.due_at = due_at(ctx.case.type, "handling", ctx.services.clock())
    if ctx.case.handler_id is None and ctx.actor.user_id is not None:
        ctx.case.handler_id = ctx.actor.user_id
    return {}


def _not_accept(ctx: Ctx) -> dict:
    reason = _enum(ctx, "reason", NotAcceptReason)
    unit = ctx.case.unit
    if unit is not None and unit.lead_approves_not_accept and not ctx.actor.has(Role.unit_lead, unit.id):
        raise Forbidden(Message(N_("In this unit only the unit lead may decide not to accept a case.")))
    ctx.event.public_text = _text(ctx, "public_text", required=True, lo=5)
    ctx.case.state, ctx.case.due_at = S.not_accepted, None
    return {"reason": reason.value}


def _transfer(ctx: Ctx) -> dict:
    unit = _unit(ctx)
    if unit.id == ctx.case.unit_id:
        raise InvalidMove(Message(N_("Please check the marked fields.")),
                          {"unit_id": [Message(N_("The case is already at this unit."))]})
    reason = _enum(ctx, "reason", TransferReason)
    ctx.event.public_text = _text(ctx, "public_text", required=False)
    ctx.event.internal_text = _text(ctx, "internal_text", required=reason is TransferReason.other)
    previous = ctx.case.unit_id
    ctx.case.transferred_from_unit_id, ctx.case.transferred_at = previous, ctx.services.clock()
    ctx.case.unit_id, ctx.case.handler_id = unit.id, None
    ctx.case.state = S.pending_acceptance
    return {"from_unit_id": previous, "to_unit_id": unit.id, "unit": unit.code, "reason": reason.value}


def _send_back(ctx: Ctx) -> dict:
    case = ctx.case
    if case.transferred_from_unit_id is None or case.transferred_at is None:
        raise MoveNotAllowed(Message(N_("This case did not come to this unit by a transfer.")))
    cal = WorkingCalendar()
    used = cal.working_days_after(china_date(case.transferred_at), china_date(ctx.services.clock()))
    if used > SEND_BACK_WORKING_DAYS:
        raise MoveNotAllowed(Message(N_("The %(n)d working days to send a transfer back have passed."),
                                     {"n": SEND_BACK_WORKING_DAYS}))
    ctx.event.internal_text = _text(ctx, "internal_text", required=True, lo=5)
    back_to = case.transferred_from_unit_id
    previous = case.unit_id
    case.unit_id, case.handler_id = back_to, None
    case.transferred_from_unit_id, case.transferred_at = None, None
    case.state = S.pending_acceptance
    return {"from_unit_id": previous, "to_unit_id": back_to}


def _request_info(ctx: Ctx) -> dict:
    ctx.event.public_text = _text(ctx, "public_text", required=True, lo=5)
    ctx.case.resume_state = ctx.case.state
    ctx.case.state = S.need_info
    return {"resume_state": ctx.case.resume_state.value}


def _supply_info(ctx: Ctx) -> dict:
    ctx.event.public_text = _text(ctx, "public_text", required=True, lo=2)
    ctx.case.state, ctx.case.resume_state = ctx.case.resume_state, None
    return {"resumed": ctx.case.state.value}


def _reply(ctx: Ctx) -> dict:
    ctx.event.public_text = _text(ctx, "public_text", required=True, lo=10, hi=10000)
    ctx.case.state = S.replied
    ctx.case.due_at = due_at(ctx.case.type, "rating", ctx.services.clock())
    return {}


def _withdraw(ctx: Ctx) -> dict:
    ctx.event.public_text = _text(ctx, "public_text", required=False, hi=1000)
    ctx.case.state, ctx.case.resume_state, ctx.case.due_at = S.withdrawn, None, None
    return {}


def _assign(ctx: Ctx) -> dict:
    raw = ctx.fields.get("handler_id")
    user = ctx.session.get(User, int(raw)) if str(raw or "").isdigit() else None
    if user is None or not user.active or not any(
            m.unit_id == ctx.case.unit_id and m.role in HANDLERS for m in user.memberships):
        raise InvalidMove(Message(N_("Please check the marked fields.")),
                          {"handler_id": [Message(N_("Choose a handler of this unit."))]})
    previous = ctx.case.handler_id
    ctx.case.handler_id = user.id
    return {"from_handler_id": previous, "to_handler_id": user.id, "handler": user.username}


def _note(ctx: Ctx) -> dict:
    ctx.event.internal_text = _text(ctx, "internal_text", required=True)
    return {}


MOVES: dict[str, Move] = {m.name: m for m in [
    Move("route", N_("Route to a unit"), frozenset({S.received}), EventKind.routed,
         roles=frozenset({Role.triage_operator}), apply=_route),
    Move("accept", N_("Accept"), frozenset({S.pending_acceptance}), EventKind.accepted,
         types=ALL_TYPES - {CaseType.suggestion, CaseType.mediation}, apply=_accept),
    Move("not_accept", N_("Do not accept"), frozenset({S.pending_acceptance}), EventKind.not_accepted,
         types=ALL_TYPES - {CaseType.suggestion}, apply=_not_accept),
    Move("transfer", N_("Transfer"), frozenset({S.pending_acceptance, S.accepted}), EventKind.transferred,
         apply=_transfer),
    Move("send_back", N_("Send back to the transferring unit"), frozenset({S.pending_acceptance}),
         EventKind.sent_back, apply=_send_back),
    Move("request_info", N_("Ask for missing material"), frozenset({S.pending_acceptance, S.accepted}),
         EventKind.info_requested, apply=_request_info),
    Move("supply_info", N_("Send the material asked for"), frozenset({S.need_info}), EventKind.info_supplied,
         roles=frozenset(), public=True, apply=_supply_info),
    Move("reply", N_("Reply"), frozenset({S.accepted}), EventKind.replied, apply=_reply),
    Move("acknowledge_reply", N_("Answer the suggestion"), frozenset({S.pending_acceptance}), EventKind.replied,
         types=frozenset({CaseType.suggestion}), apply=_reply),
    Move("withdraw", N_("Withdraw"), OPEN_BEFORE_REPLY, EventKind.withdrawn, roles=frozenset(), public=True,
         apply=_withdraw),
    Move("assign", N_("Assign"), frozenset({S.pending_acceptance, S.accepted, S.need_info}), EventKind.assigned,
         changes_state=False, apply=_assign),
    Move("note", N_("Internal note"), frozenset(S), EventKind.note, changes_state=False, apply=_note),
]}


def may(actor: Actor, case: Case, move: Move) -> bool:
    """Whether this actor may make this move on this case (ignoring its state)."""
    if case.type not in move.types:
        return False
    if move.public:
        return actor.kind == "public" and actor.case_id == case.id
    if not actor.is_staff:
        return False
    if move.name == "route":
        return any(actor.has(r) for r in move.roles)
    return bool(actor.roles_in(case.unit_id) & move.roles)


def available_moves(actor: Actor, case: Case) -> list[Move]:
    return [m for m in MOVES.values() if case.state in m.sources and may(actor, case, m)]


def perform(session: Session, services: Services, actor: Actor, case: Case, name: str,
            *, version: int | None = None, **fields: Any) -> Event:
    move = MOVES.get(name)
    if move is None:
        raise MoveNotAllowed(Message(N_("There is no such action.")))
    if not may(actor, case, move):
        raise Forbidden(Message(N_("You may not do this on this case.")))
    if version is not None and str(version) != str(case.version):
        raise StaleCase(Message(N_("Someone else changed this case a moment ago. Here is its current state; please check before acting again.")))
    if case.state not in move.sources:
        raise MoveNotAllowed(Message(N_("This cannot be done while the case is \u201c%(state)s\u201d."),
                                     {"state": case.state.title}))
    before = case.state
    event = Event(
        case=case, created_at=services.clock(),
        actor_kind=ActorKind(actor.kind), actor_id=actor.user_id, kind=move.event,
        from_state=before, summary=f"{name} by {actor.kind}:{actor.user_id or '-'}",
    )
    ctx = Ctx(session, services, actor, case, fields, event)
    with session.no_autoflush:
        data = move.apply(ctx)
    event.to_state = case.state if move.changes_state else None
    event.data = {"move": name, **data}
    case.updated_at = services.clock()
    session.add(event)
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise StaleCase(Message(N_("Someone else changed this case a moment ago. Here is its current state; please check before acting again.")))
    from casework.notify.queue import queue_case_update

    queue_case_update(session, services, case, event)
    return event
