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
    case = session.scalar(
        select(Case).where(Case.number == number)
        .options(selectinload(Case.events), selectinload(Case.attachments))
    )
    ok = check_code(pepper, number, code or "", case.query_code_hash if case else None)
    return case if ok else None


def public_events(case: Case) -> list[Event]:
    return [ev for ev in case.events if ev.is_public]
