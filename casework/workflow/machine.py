"""The one state machine. Every caller (web, API, workers, CLI) goes through ``perform``.

The moves are rows of one table (casework.workflow.table). ``perform`` checks a move
against its row — who, which case types, the case's version and state, the row's guard,
the fields — runs its step, sets the state and the clock the row declares, writes exactly
one event (the ORM guard refuses a case change without one), flushes, queues the row's
notices and runs its follow-up. A refused move raises and changes nothing; the caller's
boundary (the request, the task, the CLI command) commits or rolls back.
"""
from __future__ import annotations

import functools
import logging
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from casework.accounts.actor import Actor
from casework.cases.models import Case, Event
from casework.context import Services
from casework.deadlines.limits import Deadlines
from casework.documents.operations import produce
from casework.i18n import Message, N_
from casework.intake.validation import as_bool, clean_text
from casework.workflow import notices
from casework.workflow.spec import (  # noqa: F401  (the machine's public names)
    CHECK_FIELDS, HANDLERS, REQUIRED, Ctx, Field, Forbidden, FollowUpFailed, InvalidMove, Kind, Move, MoveNotAllowed,
    StaleCase, WorkflowError,
)
from casework.workflow.table import MOVES

log = logging.getLogger("changtong.workflow")
STALE = N_("Someone else changed this case a moment ago. Here is its current state; please check before acting again.")


def may(actor: Actor, case: Case, move: Move, now: datetime | None = None) -> bool:
    """Whether this actor may make this move on this case now (whatever its state): its
    types, who may make it, and its guard."""
    if case.type not in move.types or not move.who.allows(actor, case):
        return False
    return why_not(actor, case, move, now or datetime.now(timezone.utc)) is None


def why_not(actor: Actor, case: Case, move: Move, now: datetime) -> Message | WorkflowError | None:
    """The row's guards: why the move is not possible now, for this actor (or None); an error
    when the actor's guard refuses with a status of its own."""
    if move.when is not None and (why := move.when(case, now)) is not None:
        return why
    return move.when_actor(actor, case, now) if move.when_actor is not None else None


def available_moves(actor: Actor, case: Case, now: datetime | None = None) -> list[Move]:
    """The moves this actor can make on this case now, in the table's order."""
    return [m for m in _from_state().get(case.state, ()) if may(actor, case, m, now)]


@functools.cache
def _from_state() -> dict:
    """State -> the moves that start from it, in the table's order: a status page asked each of
    the table's moves whether it starts from the case's state (issue 18)."""
    by_state: dict = {}
    for m in MOVES.values():
        for state in m.sources:
            by_state.setdefault(state, []).append(m)
    return {state: tuple(moves) for state, moves in by_state.items()}


def check_fields(move: Move, case: Case, raw: dict[str, Any], *, max_files: int = 5,
                 max_file_bytes: int = 10 * 1024 * 1024, now: datetime | None = None) -> dict[str, Any]:
    """The move's values, cleaned and checked against its fields; a value for a field the
    move does not have is ignored. Raises InvalidMove with every field's error at once.
    Files go through the filing form's checks (casework.intake.files.inspect_upload)."""
    values: dict[str, Any] = {}
    errors: dict[str, list[Message]] = {}
    for f in move.fields:
        if not f.applies(case):
            continue
        value = raw.get(f.name)
        try:
            if f.kind is Kind.files:
                values[f.name] = _check_files(f, case, value, raw, max_files, max_file_bytes)
            else:
                values[f.name] = _check(f, case, value, raw)
        except _FieldError as err:
            errors[f.name] = err.messages
            continue
        if f.check is not None and values[f.name] not in (None, ""):
            problem = f.check(values[f.name], case, now or datetime.now(timezone.utc))
            if problem is not None:
                errors[f.name] = [problem]
    if errors:
        raise InvalidMove(Message(CHECK_FIELDS), errors)
    return values


class _FieldError(Exception):
    def __init__(self, message: Message, *more: Message):
        self.message = message
        self.messages = [message, *more]


def _check_files(f: Field, case: Case, value: Any, raw: dict[str, Any], max_files: int, max_bytes: int) -> list:
    """Uploads (casework.intake.files.Upload) checked by content, re-encoded without metadata:
    the cleaned files (CleanFile) for the step to store."""
    from casework.intake.files import Upload, UploadBudget, UploadRejected, inspect_upload

    uploads = [u for u in value if u is not None] if isinstance(value, (list, tuple)) else []
    if value not in (None, "", [], ()) and not isinstance(value, (list, tuple)):
        raise _FieldError(Message(N_("Attach the files as files.")))
    if not uploads:
        if f.is_required(case, raw):
            raise _FieldError(Message(f.missing))
        return []
    if len(uploads) > max_files:
        raise _FieldError(Message(N_("At most %(n)d files can be attached at once."), {"n": max_files}))
    cleaned, problems = [], []
    budget = UploadBudget()  # the pixels and the wall time all files of this move may cost together
    for u in uploads:
        if not isinstance(u, Upload):
            problems.append(Message(N_("Attach the files as files.")))
            continue
        try:
            cleaned.append(inspect_upload(u.filename, u.data, max_bytes=max_bytes, budget=budget))
        except UploadRejected as rej:
            problems.append(rej.message)
    if problems:
        raise _FieldError(*problems)
    return cleaned


def _check(f: Field, case: Case, value: Any, raw: dict[str, Any]) -> Any:
    if f.kind is Kind.flag:
        ticked = as_bool(value) if value not in (None, "") else False
        if not ticked and f.is_required(case, raw):  # a confirmation the move cannot go without
            raise _FieldError(Message(f.missing))
        return ticked
    if f.kind in (Kind.text, Kind.line):
        text = clean_text(value, multiline=f.kind is Kind.text)
        if not text:
            if f.is_required(case, raw):
                raise _FieldError(Message(f.missing))
            return None
        if not f.lo <= len(text) <= f.hi:
            raise _FieldError(Message(N_("Between %(lo)d and %(hi)d characters, please."), {"lo": f.lo, "hi": f.hi}))
        return text
    if f.kind is Kind.choice:
        text = str(value or "").strip()
        if not text and not f.is_required(case, raw):
            return None
        try:
            chosen = f.choices(text)
        except ValueError:
            # an empty choice says what is missing where the row says so, else which to choose
            missing = not text and f.missing != REQUIRED
            raise _FieldError(Message(f.missing if missing else f.wrong)) from None
        if not f.offers(chosen, case.type):  # a value the form does not offer for this type
            raise _FieldError(Message(f.wrong))
        return chosen
    # ref, date, datetime: the step resolves them (it needs the database or the calendar), after
    # the field's own check (Field.check, which may read through the case's session); a required
    # one left empty is said at once, with the others
    text = str(value).strip() if value is not None else ""
    if not text and f.is_required(case, raw):
        raise _FieldError(Message(f.missing))
    return text or None


def perform(session: Session, services: Services, actor: Actor, case: Case, name: str,
            *, version: int | None = None, deadlines: Deadlines | None = None, **fields: Any) -> Event:
    move = MOVES.get(name)
    if move is None:
        raise MoveNotAllowed(Message(N_("There is no such action.")))
    now = services.clock()
    if case.type not in move.types or not move.who.allows(actor, case):
        raise Forbidden(Message(N_("You may not do this on this case.")))
    if version is not None and str(version) != str(case.version):
        raise StaleCase(Message(STALE))
    if case.state not in move.sources:
        raise MoveNotAllowed(Message(N_("This cannot be done while the case is \u201c%(state)s\u201d."),
                                     {"state": Message(case.state.title)}))
    if (why := why_not(actor, case, move, now)) is not None:
        raise why if isinstance(why, WorkflowError) else MoveNotAllowed(why)
    values = check_fields(move, case, fields, max_files=services.settings.max_files,
                          max_file_bytes=services.settings.max_file_bytes, now=now)
    before = case.state
    event = Event(
        created_at=now, actor_kind=actor.kind, actor_id=actor.user_id, kind=move.event,
        from_state=before, summary=f"{name} by {actor.kind}:{actor.user_id or '-'}",
        public_text=values.get("public_text"), internal_text=values.get("internal_text"),
    )
    ctx = Ctx(session, services, actor, case, values, event, deadlines)
    with session.no_autoflush:
        data = move.step(ctx)
        _land(ctx, move)
    event.to_state = case.state if move.changes_state else None
    event.data = {"move": name, **data}
    document = move.document_for(case, event)
    if document is not None:
        event.data["document"] = document.value  # the notice says a document is there
    case.updated_at = now
    event.case = case  # on the timeline only now: a refused step (or one that flushes) leaves none
    session.add(event)
    try:
        session.flush()
    except StaleDataError:  # another transaction changed the case first; the caller rolls back
        raise StaleCase(Message(STALE)) from None
    if document is not None:
        _document(session, services, case, event, move, document)
    notices.send(ctx, event, move.notices)
    if move.followup is not None:
        _follow_up(session, services, case, move)
    return event


def _land(ctx: Ctx, move: Move) -> None:
    """The state and the clock the row declares (a step that decides them itself is marked
    ``step`` in the table)."""
    if len(move.to) == 1:
        (ctx.case.state,) = move.to
    if move.clock.effect == "start":
        ctx.start_stage(move.clock.stage, ctx.case.submitted_at if move.clock.from_submission else None)
    elif move.clock.effect == "stop":
        ctx.start_stage(None)
    if move.to and ctx.case.state not in move.to:
        raise AssertionError(f"{move.name} left the case {ctx.case.state.value}, not one of its declared states")


def _document(session: Session, services: Services, case: Case, event: Event, move: Move, kind) -> None:
    """The written notice the row declares, made, stored and recorded within the move: a move
    whose document cannot be made is not kept (the complainant is owed it in writing)."""
    try:
        produce(session, services, case, event, kind)
    except Exception as exc:  # fonts missing, a full disk
        log.exception("document %s of %s failed for %s", kind.value, move.name, case.number)
        raise FollowUpFailed(Message(N_("The written notice to the complainant could not be produced, so this was "
                                        "not recorded. Please try again or tell the platform's administrator."))) from exc


def _follow_up(session: Session, services: Services, case: Case, move: Move) -> None:
    try:
        move.followup(session, services, case)
    except WorkflowError:
        raise
    except Exception as exc:  # fonts missing, a full disk: the move is not kept either
        log.exception("follow-up of %s failed for %s", move.name, case.number)
        raise FollowUpFailed(Message(move.followup_error or N_("The action could not be completed."))) from exc
