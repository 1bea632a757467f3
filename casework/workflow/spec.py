"""The words the workflow table (casework.workflow.table) is written in: a move, its fields,
who may make it, when it is possible, its clock, its notices and its follow-up; and the
errors a refused move raises. Nothing here knows a particular move.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from sqlalchemy.orm import Session

from casework.accounts.actor import Actor, ActorKind
from casework.accounts.models import Role
from casework.cases.models import Case, CaseState, CaseType, Event, EventKind, Stage
from casework.context import Services
from casework.deadlines.limits import Deadlines
from casework.documents.kinds import Document
from casework.i18n import Message, N_

ALL_TYPES = frozenset(CaseType)
HANDLERS = frozenset({Role.handler, Role.unit_lead})
CHECK_FIELDS = N_("Please check the marked fields.")
REQUIRED = N_("This field is required.")


# -- errors: a refused move raises one of these and changes nothing -----------------------

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


class FollowUpFailed(WorkflowError):
    """The move's follow-up work failed (e.g. the agreement PDF): the move is not kept."""
    status = 500


def invalid(name: str, msgid: str, **params) -> InvalidMove:
    """One field's error, in the machine's usual form."""
    return InvalidMove(Message(CHECK_FIELDS), {name: [Message(msgid, params)]})


# -- fields -------------------------------------------------------------------------------

class Kind(str, enum.Enum):
    text = "text"          # several lines (a textarea)
    line = "line"          # one line
    choice = "choice"      # one of an enum's values
    ref = "ref"            # the id of a row offered by the page (a unit, a handler, a session ...)
    date = "date"          # YYYY-MM-DD
    datetime = "datetime"  # YYYY-MM-DD HH:MM, Beijing time
    flag = "flag"          # a tick box
    files = "files"        # uploaded files (casework.intake.files.Upload), cleaned like the filing form's


@dataclass(frozen=True)
class Field:
    """One value a move takes. The machine checks ``text``/``line`` lengths and ``choice``
    values before the step runs; a ``ref``, ``date`` or ``datetime`` is resolved by the step
    (it needs the database or the calendar), which reports its own error."""

    name: str
    kind: Kind
    label: str  # a msgid: the desk's label for this move's field
    required: bool | Callable[[Case, dict], bool] = False  # a function of the case and the values sent
    lo: int = 1
    hi: int = 5000
    choices: type[enum.Enum] | str | None = None  # an enum, or the name of the page's list for a ref
    hint: str | None = None
    rows: int = 3
    only: Callable[[Case], bool] | None = None  # the field applies to this case at all
    # a ``choice`` offered to some case types only: (member, case type) -> offered
    offered: Callable[[enum.Enum, Any], bool] | None = None
    missing: str = REQUIRED
    wrong: str = N_("Choose one of the listed reasons.")
    # a value's own rule (a date's range, a number's checksum) said with the other fields' errors, not
    # a send later by the step: (the value as checked, the case, now) -> the problem, or None
    check: Callable[[Any, Case, datetime], "Message | None"] | None = None
    # the value the form starts with, from the case (the lead's extension starts from what the handler
    # asked for); the form's user may change it. Not for a decision another body made: a review
    # decision's form starts empty (its finding, opinion and laws are the deciding body's own).
    # (the case) -> the value as the form sends it, or None
    start: Callable[[Case], str | None] | None = None

    def starting_value(self, case: Case) -> str | None:
        return self.start(case) if self.start is not None and self.applies(case) else None

    def applies(self, case: Case) -> bool:
        return self.only is None or self.only(case)

    def offers(self, member: enum.Enum, case_type) -> bool:
        """Whether a ``choice`` field offers ``member`` for a case of ``case_type``."""
        return self.offered is None or self.offered(member, case_type)

    def is_required(self, case: Case, values: dict | None = None) -> bool:
        return self.required(case, values or {}) if callable(self.required) else bool(self.required)


# -- who may make a move ------------------------------------------------------------------

@dataclass(frozen=True)
class Staff:
    """Staff with one of ``roles`` in the unit holding the case; or, while no unit holds it,
    with one of ``unrouted`` anywhere; or with one of ``anywhere`` whatever the unit.
    ``lead_when``: the unit requires its lead for this move (a unit setting)."""

    roles: frozenset = HANDLERS
    unrouted: frozenset = frozenset()
    anywhere: frozenset = frozenset()
    lead_when: Callable[[Any], bool] | None = None

    def allows(self, actor: Actor, case: Case) -> bool:
        if not actor.is_staff:
            return False
        if any(actor.has(r) for r in self.anywhere):
            return True
        if case.unit_id is None:
            return any(actor.has(r) for r in self.unrouted)
        mine = actor.roles_in(case.unit_id)
        if not mine & self.roles:
            return False
        if self.lead_when is not None and case.unit is not None and self.lead_when(case.unit):
            return Role.unit_lead in mine
        return True

    def describe(self) -> str:
        parts = [" / ".join(sorted(r.value for r in self.roles))] if self.roles else []
        if self.unrouted:
            parts.append(" / ".join(sorted(r.value for r in self.unrouted)) + " (unrouted cases)")
        if self.anywhere:
            parts.append(" / ".join(sorted(r.value for r in self.anywhere)) + " (any unit)")
        return " or ".join(parts) + (" (lead only where the unit says so)" if self.lead_when else "")


@dataclass(frozen=True)
class Party:
    """The complainant (proved by the query code) or the mediation respondent (by its own
    code), on their one case; or the system (the workers)."""

    kind: ActorKind

    def allows(self, actor: Actor, case: Case) -> bool:
        if self.kind is ActorKind.system:
            return actor.kind is ActorKind.system
        return actor.kind is self.kind and actor.case_id == case.id

    def describe(self) -> str:
        return self.kind.value


COMPLAINANT = Party(ActorKind.public)
RESPONDENT = Party(ActorKind.respondent)
SYSTEM = Party(ActorKind.system)


# -- the clock and the notices ------------------------------------------------------------

@dataclass(frozen=True)
class Clock:
    """What a move does to the stage clock: ``start`` a stage (from now, or from submission),
    ``stop`` it, ``keep`` it, or ``step`` (the step decides; the table's comment says how)."""

    effect: str
    stage: Stage | None = None
    from_submission: bool = False

    def describe(self) -> str:
        if self.effect == "start":
            return f"start {self.stage.value}" + (" (from submission)" if self.from_submission else "")
        return self.effect


KEEP, STOP, BY_STEP = Clock("keep"), Clock("stop"), Clock("step")


def start(stage: Stage, *, from_submission: bool = False) -> Clock:
    return Clock("start", stage, from_submission)


class Notice(str, enum.Enum):
    """Notices a move sends (casework.workflow.notices writes them into the outbox)."""

    complainant = "complainant"              # "there is news on your case" by SMS and e-mail
    respondent_invite = "respondent_invite"  # the respondent's answer code by SMS
    mediation_ended = "mediation_ended"      # both parties, by SMS
    mediation_session = "mediation_session"  # both parties, by SMS: a session's date, time and place
    judicial_confirmation = "judicial_confirmation"  # both parties: seek 司法确认 within 30 days
    unit_supervision = "unit_supervision"    # the unit's mailbox: a 督办单 with its date
    unit_urged = "unit_urged"                # the unit's mailbox: the complainant urged (催办) an overdue case
    unit_extension_asked = "unit_extension_asked"  # the unit's mailbox: a handler asks its lead to extend
    unit_respondent_statement = "unit_respondent_statement"  # the mediation body's mailbox: the respondent wrote
    supervisor_report = "supervisor_report"  # the supervisors' mailboxes: the unit reported on a 督办单
    supervision_follows = "supervision_follows"  # a transfer under a 督办单: the new unit, and the supervisors
    deciding_units = "deciding_units"        # the mailboxes of the units whose decision a review decided


# -- a move -------------------------------------------------------------------------------

Guard = Callable[[Case, datetime], "Message | None"]
# a guard that depends on who makes the move as well (their own request already waiting): the
# reason (refused 422), or an error to refuse with its own status (403: one's own request), or None
ActorGuard = Callable[[Actor, Case, datetime], "Message | WorkflowError | None"]


@dataclass(frozen=True)
class Move:
    name: str
    title: str  # a msgid
    sources: frozenset
    to: frozenset  # the states the case can be in after it (empty: the state does not change)
    event: EventKind
    who: Staff | Party
    step: Callable[["Ctx"], dict] = field(compare=False)
    fields: tuple[Field, ...] = ()
    types: frozenset = ALL_TYPES
    # a further condition on the case and the time (a window, a count): the reason it is
    # not possible now, or None; the desk offers only moves whose guard passes
    when: Guard | None = field(default=None, compare=False)
    # the same for the one who makes it (checked after ``when``): why this actor cannot make it
    # now, or None; the desk and the staff API offer it only to those it lets through
    when_actor: ActorGuard | None = field(default=None, compare=False)
    clock: Clock = KEEP
    notices: tuple[Notice, ...] = ()
    # work that belongs to the move, in the same transaction (e.g. the 调解协议书 PDF)
    followup: Callable[[Session, Services, Case], Any] | None = field(default=None, compare=False)
    followup_error: str | None = None
    # the written notice (书面告知) the move gives the complainant, made and stored by the machine:
    # a kind, or a function of the case and the move's event choosing one (None: no document)
    document: Document | Callable[[Case, Event], Document | None] | None = field(default=None, compare=False)
    hint: str | None = None  # a msgid shown above the move's form
    primary: bool = False  # the desk opens its form by default
    own_page: bool = False  # made from its own page, not the case page's move list

    @property
    def changes_state(self) -> bool:
        return bool(self.to)

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def document_for(self, case: Case, event: Event) -> Document | None:
        """The kind of written notice this move makes on this case (its event says from where)."""
        return self.document(case, event) if callable(self.document) else self.document


@dataclass
class Ctx:
    """What a step sees: the session, the services, the actor, the case, the checked
    values of the move's fields, and the event being written."""

    session: Session
    services: Services
    actor: Actor
    case: Case
    values: dict[str, Any]
    event: Event
    _deadlines: Deadlines | None = None

    @property
    def deadlines(self) -> Deadlines:
        if self._deadlines is None:
            self._deadlines = Deadlines.load(self.session)
        return self._deadlines

    @property
    def now(self) -> datetime:
        return self.services.clock()

    def start_stage(self, stage: Stage | None, start_at: datetime | None = None) -> None:
        """Open a stage's clock at ``start_at`` (default: now); None stops the clock."""
        case = self.case
        case.stage, case.paused_at, case.overdue, case.supervision_level = stage, None, False, 0
        if stage is None:
            case.stage_started_at = case.due_at = None
            return
        case.stage_started_at = start_at or self.now
        case.due_at = self.deadlines.due(case.type, stage, case.stage_started_at)


def reached(*states: CaseState) -> frozenset:
    return frozenset(states)
