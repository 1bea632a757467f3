"""Reusable reads of cases."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from casework.cases.models import Case, Event
from casework.cases.numbers import normalize_number
from casework.privacy.codes import check_code


def case_by_number(session: Session, number: str) -> Case | None:
    return session.scalar(select(Case).where(Case.number == normalize_number(number)))


def case_for_lookup(session: Session, pepper: bytes, number: str, code: str) -> Case | None:
    """The case if number and code match, else None; the same work either way, so that
    a wrong code and a number never issued cannot be told apart."""
    number = normalize_number(number)[:20]
    # one small query and one keyed hash on every failure; the case and its timeline are
    # loaded only after the code matched (loading them first made a wrong code on an
    # existing case measurably slower than a number never issued)
    row = session.execute(select(Case.id, Case.query_code_hash).where(Case.number == number)).first()
    if not check_code(pepper, number, code or "", row[1] if row is not None else None):
        return None
    return session.scalar(
        select(Case).where(Case.id == row[0])
        .options(selectinload(Case.events), selectinload(Case.attachments))
    )


def public_events(case: Case) -> list[Event]:
    return [ev for ev in case.events if ev.is_public]
