"""Reusable reads of cases."""
from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import bindparam, event, inspect as sa_inspect, select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from casework.cases.models import Attachment, Case, Event
from casework.cases.numbers import normalize_number
from casework.db import driver_execute
from casework.privacy.codes import check_code


def case_by_number(session: Session, number: str) -> Case | None:
    return session.scalar(select(Case).where(Case.number == normalize_number(number)))


def lookup_row(session: Session, pepper: bytes, number: str, code: str):
    """The code's row of the case (``CodeRow``: its id, hash, whether it has files, its stamps) if
    number and code match, else None; the same work either way, so that a wrong code and a
    number never issued cannot be told apart. Nothing of the case is loaded: the case API's
    answer kept per process (web.api.answers) is found by the row's hash and stamps.

    A request asks more than once (the rate limit's exemption of a right code, then the view):
    the row read for a number is kept in the session until its next flush, commit or rollback,
    and a later ask checks the code against it with the same keyed hash, without a query, for a
    number never issued as for a wrong code."""
    number = normalize_number(number)[:20]
    if session.new or session.dirty or session.deleted:  # a change not flushed yet: ask the database
        _forget_lookups(session)
    rows = session.info.setdefault(_ROWS, {})
    try:
        row = rows[number]
    except KeyError:
        # one small query and one keyed hash on every failure; the case and its timeline are
        # loaded only after the code matched (loading them first made a wrong code on an
        # existing case measurably slower than a number never issued)
        row = rows[number] = _code_row(session, number)
    stored = row[1] if row is not None else None  # a hash under a retired pepper is renewed at this use
    if not check_code(pepper, number, code or "", stored, session=session, column=Case.query_code_hash):
        return None
    return row


def case_for_lookup(session: Session, pepper: bytes, number: str, code: str) -> Case | None:
    """The case if number and code match (``lookup_row``), else None.

    The case is loaded once per transaction, with its timeline, files, category, association and
    unit (what every caller shows): ``_load_shown``. The code's row also says whether the case
    has any file, so that a case without one is loaded in one statement."""
    row = lookup_row(session, pepper, number, code)
    if row is None:
        return None
    loaded = session.info.setdefault(_LOADED, {})  # held here: the identity map holds objects weakly
    case = loaded.get(row[0])
    if case is None:
        case = loaded[row[0]] = _load_shown(session, row[0], has_files=row[2])
    return case


def _load_shown(session: Session, case_id: int, *, has_files: bool = True) -> Case | None:
    """The case with what a lookup's page shows, in two statements: the case with its category,
    association, unit and events (joined: a row per event), then its files, which are also its
    events' files (a move's files belong to the case and to the move's event). selectinload
    took a third of the case API's time for two statements that return a handful of rows.
    A case known to have no file (most are filed without one) is not asked for its files:
    that statement was a third of the loading's time."""
    case = session.execute(_LOOKED_UP, {"id": case_id}).unique().scalar_one_or_none()
    if case is None or "attachments" not in sa_inspect(case).unloaded:
        return case
    files = list(session.scalars(_FILES, {"id": case_id})) if has_files else []
    set_committed_value(case, "attachments", files)
    for ev in case.events:
        if "files" in sa_inspect(ev).unloaded:
            set_committed_value(ev, "files", [f for f in files if f.event_id == ev.id])
    return case


class CodeRow(NamedTuple):
    id: int
    query_code_hash: str
    has_files: bool
    version: int  # the mapper's counter: every write of the row through the ORM
    updated_at: object  # every write of the row but raw SQL (a Core UPDATE too: its onupdate), as the driver gives it


def _code_row(session: Session, number: str) -> CodeRow | None:
    """``_CODE_OF`` for ``number``, sent to the driver as SQL compiled once per dialect
    (casework.db.driver_execute): Session.execute's own steps around this one-row SELECT cost
    more than SQLite took to run it (issue 18). The session's pending changes are flushed
    first, as Session.execute would."""
    if session.autoflush:
        session.flush()
    conn = session.connection()
    found = _CODE_SQL.get(conn.dialect.name)
    if found is None:
        compiled = _CODE_OF.compile(dialect=conn.dialect)
        found = _CODE_SQL[conn.dialect.name] = (compiled.string, compiled.positional)
    sql, positional = found
    rows = driver_execute(conn, sql, (number,) if positional else {"number": number})
    return CodeRow(*rows[0]) if rows else None


_CODE_SQL: dict[str, tuple[str, bool]] = {}  # dialect name -> _CODE_OF's SQL, positional or named
_ROWS, _LOADED = "case_for_lookup.rows", "case_for_lookup.loaded"
# built once: a statement object keeps its cache key, so each use skips building and keying it
_CODE_OF = (select(Case.id, Case.query_code_hash,
                   select(Attachment.id).where(Attachment.case_id == Case.id).exists().label("has_files"),
                   Case.version, Case.updated_at)
            .where(Case.number == bindparam("number")))
_LOOKED_UP = (select(Case).where(Case.id == bindparam("id"))
              .options(joinedload(Case.events), joinedload(Case.category), joinedload(Case.association),
                       joinedload(Case.unit)))
_FILES = select(Attachment).where(Attachment.case_id == bindparam("id")).order_by(Attachment.id)


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_transaction_end")
def _forget_lookups(session: Session, *_args) -> None:
    """What a lookup read is not kept past a change of the session's state."""
    session.info.pop(_ROWS, None)
    session.info.pop(_LOADED, None)


@event.listens_for(Session, "do_orm_execute")
def _forget_at_a_write(state) -> None:
    if not state.is_select:  # an UPDATE, INSERT or DELETE through the session, not flushed ORM changes
        _forget_lookups(state.session)


def public_events(case: Case) -> list[Event]:
    return [ev for ev in case.events if ev.is_public]
