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
from casework.accounts.models import Role, User
from casework.cases.models import (
    ActorKind, Case, CaseState as S, CaseType, Event, EventKind, Finding, Rating, Stage,
)
from casework.context import Services
from casework.deadlines.calendar import WorkingCalendar, china_date
from casework.deadlines.limits import Deadlines
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
    system: bool = False  # the workers make it (deadline sweep)
    respondent: bool = False  # the other party of a mediation (its consent link)
    # roles that may make it on a case no unit holds yet (triage), whatever their unit
    unrouted_roles: frozenset = frozenset()
    # roles that may make it on any case, whatever its unit (supervision, 督办)
    anywhere_roles: frozenset = frozenset()
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
    _deadlines: Deadlines | None = None

    @property
    def deadlines(self) -> Deadlines:
        if self._deadlines is None:
            self._deadlines = Deadlines.load(self.session)
        return self._deadlines

    @property
    def now(self):
        return self.services.clock()

    def start_stage(self, stage: Stage | None, start=None) -> None:
        """Open a stage's clock at ``start`` (default: now)."""
        case = self.case
        case.stage, case.paused_at, case.overdue, case.supervision_level = stage, None, False, 0
        if stage is None:
            case.stage_started_at = case.due_at = None
            return
        case.stage_started_at = start or self.now
        case.due_at = self.deadlines.due(case.type, stage, case.stage_started_at)


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
    ctx.start_stage(Stage.acceptance, ctx.case.submitted_at)
    return {"unit_id": unit.id, "unit": unit.code}


def _accept(ctx: Ctx) -> dict:
    ctx.event.public_text = _text(ctx, "public_text", required=False)
    ctx.case.state = S.accepted
    ctx.case.transferred_from_unit_id = None
    ctx.start_stage(Stage.handling)
    if ctx.case.handler_id is None and ctx.actor.user_id is not None:
        ctx.case.handler_id = ctx.actor.user_id
    return {}


def _not_accept(ctx: Ctx) -> dict:
    reason = _enum(ctx, "reason", NotAcceptReason)
    unit = ctx.case.unit
    if unit is not None and unit.lead_approves_not_accept and not ctx.actor.has(Role.unit_lead, unit.id):
        raise Forbidden(Message(N_("In this unit only the unit lead may decide not to accept a case.")))
    ctx.event.public_text = _text(ctx, "public_text", required=True, lo=5)
    ctx.case.state = S.not_accepted
    ctx.start_stage(None)
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


def _pause(ctx: Ctx) -> None:
    if ctx.case.paused_at is None:
        ctx.case.paused_at = ctx.now


def _unpause(ctx: Ctx) -> dict:
    """The working days the clock stood still are added to the stage's deadline."""
    case = ctx.case
    if case.paused_at is None or case.due_at is None:
        case.paused_at = None
        return {}
    before = case.due_at
    case.due_at = ctx.deadlines.extend_by_pause(case.due_at, case.paused_at, ctx.now)
    case.paused_at = None
    if case.due_at > ctx.now:
        case.overdue = False
    return {"due_before": before.isoformat(), "due_after": case.due_at.isoformat()}


def _request_info(ctx: Ctx) -> dict:
    ctx.event.public_text = _text(ctx, "public_text", required=True, lo=5)
    ctx.case.resume_state = ctx.case.state
    ctx.case.state = S.need_info
    _pause(ctx)
    return {"resume_state": ctx.case.resume_state.value}


def _supply_info(ctx: Ctx) -> dict:
    ctx.event.public_text = _text(ctx, "public_text", required=True, lo=2)
    ctx.case.state, ctx.case.resume_state = ctx.case.resume_state, None
    return {"resumed": ctx.case.state.value, **_unpause(ctx)}


def _extend(ctx: Ctx) -> dict:
    case = ctx.case
    if case.extended:
        raise MoveNotAllowed(Message(N_("The handling time can be extended only once.")))
    if case.stage not in (Stage.handling, Stage.mediation) or case.due_at is None:
        raise MoveNotAllowed(Message(N_("Only the handling time can be extended.")))
    ctx.event.public_text = _text(ctx, "public_text", required=True, lo=5)  # the reason, told to the complainant
    before = case.due_at
    comp = ctx.deadlines.explain(case.type, Stage.extension, case.due_at)
    from casework.deadlines.limits import end_of_day

    case.due_at, case.extended, case.overdue = end_of_day(comp.end), True, False
    return {"due_before": before.isoformat(), "due_after": case.due_at.isoformat()}


def _suspend(ctx: Ctx) -> dict:
    if ctx.case.paused_at is not None:
        raise MoveNotAllowed(Message(N_("The clock of this case is already paused.")))
    ctx.event.public_text = _text(ctx, "public_text", required=True, lo=5)
    _pause(ctx)
    return {}


def _resume(ctx: Ctx) -> dict:
    if ctx.case.paused_at is None:
        raise MoveNotAllowed(Message(N_("The clock of this case is not paused.")))
    ctx.event.public_text = _text(ctx, "public_text", required=False)
    return _unpause(ctx)


def _rate(ctx: Ctx) -> dict:
    rating = _enum(ctx, "rating", Rating)
    ctx.event.public_text = _text(ctx, "public_text", required=False, hi=1000)
    ctx.case.rating = rating
    if rating is not Rating.dissatisfied or ctx.case.reviews_requested >= 2:
        ctx.case.state = S.closed
        ctx.start_stage(None)
    return {"rating": rating.value}


def _request_review(ctx: Ctx) -> dict:
    case = ctx.case
    if case.reviews_requested >= 2:
        raise MoveNotAllowed(Message(N_("A review and a re-review have already been decided; that decision is final.")))
    if case.due_at is not None and ctx.now > case.due_at:
        raise MoveNotAllowed(Message(N_("The time to ask for a review has passed.")))
    ctx.event.public_text = _text(ctx, "public_text", required=True, lo=5)
    case.rating = Rating.dissatisfied
    case.reviews_requested += 1
    first = case.reviews_requested == 1
    case.state = S.under_review if first else S.under_re_review
    ctx.start_stage(Stage.review if first else Stage.re_review)
    return {"round": case.reviews_requested}


def _decide_review(ctx: Ctx) -> dict:
    ctx.event.public_text = _text(ctx, "public_text", required=True, lo=10, hi=10000)
    final = ctx.case.state is S.under_re_review
    if final:
        ctx.case.state = S.closed
        ctx.start_stage(None)
    else:
        ctx.case.state = S.replied
        ctx.start_stage(Stage.rating)
    return {"final": final}


def _close_unrated(ctx: Ctx) -> dict:
    if ctx.case.due_at is None or ctx.now <= ctx.case.due_at:
        raise MoveNotAllowed(Message(N_("The rating window is still open.")))
    ctx.case.state = S.closed
    ctx.start_stage(None)
    return {"reason": "rating window lapsed"}


def _finding(ctx: Ctx) -> Finding | None:
    """What the handling found: a report must say (查实情况), a complaint may; other types
    have none."""
    raw = str(ctx.fields.get("finding") or "")
    if ctx.case.type not in (CaseType.complaint, CaseType.report):
        return None
    if not raw:
        if ctx.case.type is CaseType.report:
            raise InvalidMove(Message(N_("Please check the marked fields.")),
                              {"finding": [Message(N_("Say what the handling of the report found."))]})
        return None
    try:
        return Finding(raw)
    except ValueError:
        raise InvalidMove(Message(N_("Please check the marked fields.")),
                          {"finding": [Message(N_("Choose one of the listed findings."))]}) from None


def _reply(ctx: Ctx) -> dict:
    ctx.event.public_text = _text(ctx, "public_text", required=True, lo=10, hi=10000)
    finding = _finding(ctx)
    ctx.case.finding = finding
    ctx.case.state = S.replied
    ctx.start_stage(Stage.rating)
    return {"finding": finding.value} if finding else {}


def _withdraw(ctx: Ctx) -> dict:
    ctx.event.public_text = _text(ctx, "public_text", required=False, hi=1000)
    ctx.case.state, ctx.case.resume_state = S.withdrawn, None
    ctx.start_stage(None)
    return {}


def _assign(ctx: Ctx) -> dict:
    raw = ctx.fields.get("handler_id")
    user = ctx.session.get(User, int(raw)) if str(raw or "").isdigit() else None
    if user is None or not user.active or not any(
            m.unit_id == ctx.case.unit_id and m.role in HANDLERS for m in user.memberships):
        raise InvalidMove(Message(N_("Please check the marked fields.")),
                          {"handler_id": [Message(N_("Choose a handler of this unit."))]})
    if ctx.case.type is CaseType.mediation:
        from casework.mediation.models import MediatorRecusal
        from sqlalchemy import select as _select

        if ctx.session.scalar(_select(MediatorRecusal.id).where(
                MediatorRecusal.case_id == ctx.case.id, MediatorRecusal.user_id == user.id)):
            raise InvalidMove(Message(N_("Please check the marked fields.")),
                              {"handler_id": [Message(N_("This mediator has withdrawn from this case (回避) and cannot be assigned."))]})
    previous = ctx.case.handler_id
    ctx.case.handler_id = user.id
    return {"from_handler_id": previous, "to_handler_id": user.id, "handler": user.username}


def _note(ctx: Ctx) -> dict:
    ctx.event.internal_text = _text(ctx, "internal_text", required=True)
    return {}


MOVES: dict[str, Move] = {m.name: m for m in [
    Move("route", N_("Route to a unit"), frozenset({S.received}), EventKind.routed,
         roles=frozenset(), unrouted_roles=frozenset({Role.triage_operator}), apply=_route),
    Move("accept", N_("Accept"), frozenset({S.pending_acceptance}), EventKind.accepted,
         types=ALL_TYPES - {CaseType.suggestion, CaseType.mediation}, apply=_accept),
    Move("not_accept", N_("Do not accept"), frozenset({S.pending_acceptance}), EventKind.not_accepted,
         types=ALL_TYPES - {CaseType.suggestion}, apply=_not_accept),
    Move("transfer", N_("Transfer"), frozenset({S.pending_acceptance, S.accepted}), EventKind.transferred,
         apply=_transfer),
    Move("send_back", N_("Send back to the transferring unit"), frozenset({S.pending_acceptance}),
         EventKind.sent_back, apply=_send_back),
    Move("request_info", N_("Ask for missing material"), frozenset({S.pending_acceptance, S.accepted}),
         EventKind.info_requested, types=ALL_TYPES - {CaseType.mediation}, apply=_request_info),
    Move("supply_info", N_("Send the material asked for"), frozenset({S.need_info}), EventKind.info_supplied,
         roles=frozenset(), public=True, apply=_supply_info),
    Move("reply", N_("Reply"), frozenset({S.accepted}), EventKind.replied,
         types=ALL_TYPES - {CaseType.mediation}, apply=_reply),
    Move("acknowledge_reply", N_("Answer the suggestion"), frozenset({S.pending_acceptance}), EventKind.replied,
         types=frozenset({CaseType.suggestion}), apply=_reply),
    Move("withdraw", N_("Withdraw"), OPEN_BEFORE_REPLY, EventKind.withdrawn, roles=frozenset(), public=True,
         apply=_withdraw),
    Move("assign", N_("Assign"), frozenset({S.pending_acceptance, S.accepted, S.need_info, S.mediating}), EventKind.assigned,
         changes_state=False, apply=_assign),
    Move("note", N_("Internal note"), frozenset(S), EventKind.note, changes_state=False, apply=_note),
    Move("extend", N_("Extend the handling time (unit lead)"), frozenset({S.accepted, S.mediating}), EventKind.extended,
         roles=frozenset({Role.unit_lead}), changes_state=False, apply=_extend),
    Move("suspend", N_("Pause the clock for a test or appraisal"), frozenset({S.accepted}), EventKind.suspended,
         types=ALL_TYPES - {CaseType.mediation}, changes_state=False, apply=_suspend),
    Move("resume", N_("Restart the clock"), frozenset({S.accepted}), EventKind.resumed,
         types=ALL_TYPES - {CaseType.mediation}, changes_state=False, apply=_resume),
    Move("rate", N_("Rate the reply"), frozenset({S.replied}), EventKind.rated, roles=frozenset(), public=True,
         apply=_rate),
    Move("request_review", N_("Ask for a review"), frozenset({S.replied}), EventKind.review_requested,
         roles=frozenset(), public=True, types=ALL_TYPES - {CaseType.suggestion}, apply=_request_review),
    Move("decide_review", N_("Decide the review"), frozenset({S.under_review, S.under_re_review}),
         EventKind.review_decided, apply=_decide_review),
    Move("close_unrated", N_("Close: rating window lapsed"), frozenset({S.replied}), EventKind.closed,
         roles=frozenset(), system=True, apply=_close_unrated),
]}


def may(actor: Actor, case: Case, move: Move) -> bool:
    """Whether this actor may make this move on this case (ignoring its state)."""
    if case.type not in move.types:
        return False
    if move.public:
        return actor.kind == "public" and actor.case_id == case.id
    if move.respondent:
        return actor.kind == "respondent" and actor.case_id == case.id
    if move.system:
        return actor.kind == "system"
    if not actor.is_staff:
        return False
    if any(actor.has(r) for r in move.anywhere_roles):
        return True
    if case.unit_id is None:
        return any(actor.has(r) for r in move.unrouted_roles)
    return bool(actor.roles_in(case.unit_id) & move.roles)


def available_moves(actor: Actor, case: Case) -> list[Move]:
    return [m for m in MOVES.values() if case.state in m.sources and may(actor, case, m)]


def perform(session: Session, services: Services, actor: Actor, case: Case, name: str,
            *, version: int | None = None, deadlines: Deadlines | None = None, **fields: Any) -> Event:
    move = MOVES.get(name)
    if move is None:
        raise MoveNotAllowed(Message(N_("There is no such action.")))
    if not may(actor, case, move):
        raise Forbidden(Message(N_("You may not do this on this case.")))
    if version is not None and str(version) != str(case.version):
        raise StaleCase(Message(N_("Someone else changed this case a moment ago. Here is its current state; please check before acting again.")))
    if case.state not in move.sources:
        raise MoveNotAllowed(Message(N_("This cannot be done while the case is \u201c%(state)s\u201d."),
                                     {"state": Message(case.state.title)}))
    before = case.state
    event = Event(
        case=case, created_at=services.clock(),
        actor_kind=ActorKind(actor.kind), actor_id=actor.user_id, kind=move.event,
        from_state=before, summary=f"{name} by {actor.kind}:{actor.user_id or '-'}",
    )
    ctx = Ctx(session, services, actor, case, fields, event, deadlines)
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


def register(move: Move) -> None:
    MOVES[move.name] = move


from casework.mediation import moves as _mediation_moves  # noqa: E402,F401  (registers its moves)
from casework.workflow import duplicates as _duplicate_moves  # noqa: E402,F401  (registers link_duplicate)
from casework.workflow import supervision as _supervision_moves  # noqa: E402,F401  (registers issue_supervision)
from casework.workflow import reveal as _reveal_moves  # noqa: E402,F401  (registers request_reveal, decide_reveal)
