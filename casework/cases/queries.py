"""Reusable reads of cases."""
from __future__ import annotations

from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session, joinedload, selectinload

from casework.cases.models import Case, Event
from casework.cases.numbers import normalize_number
from casework.privacy.codes import check_code


def case_by_number(session: Session, number: str) -> Case | None:
    return session.scalar(select(Case).where(Case.number == normalize_number(number)))


def case_for_lookup(session: Session, pepper: bytes, number: str, code: str) -> Case | None:
    """The case if number and code match, else None; the same work either way, so that
    a wrong code and a number never issued cannot be told apart.

    A request asks twice (the rate limit's exemption of a right code, then the view): the row
    read for a number is kept in the session until its next flush, commit or rollback, and the
    second ask checks the code against it with the same keyed hash, without a query, for a
    number never issued as for a wrong code. The case is loaded once, with its timeline, files,
    category, association and unit (what every caller shows)."""
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
        row = rows[number] = session.execute(_CODE_OF, {"number": number}).first()
    if not check_code(pepper, number, code or "", row[1] if row is not None else None):
        return None
    loaded = session.info.setdefault(_LOADED, {})  # held here: the identity map holds objects weakly
    case = loaded.get(row[0])
    if case is None:
        case = loaded[row[0]] = session.scalar(_LOOKED_UP, {"id": row[0]})
    return case


_ROWS, _LOADED = "case_for_lookup.rows", "case_for_lookup.loaded"
# built once: a statement object keeps its cache key, so each use skips building and keying it
_CODE_OF = select(Case.id, Case.query_code_hash).where(Case.number == bindparam("number"))
_LOOKED_UP = (select(Case).where(Case.id == bindparam("id"))
              .options(selectinload(Case.events), selectinload(Case.attachments),
                       joinedload(Case.category), joinedload(Case.association), joinedload(Case.unit)))


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
