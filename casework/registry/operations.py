"""What an administrator changes in the association registry: edit an association,
deregister (or reinstate) it, and import a CSV file of associations.

The rules an association keeps are casework.registry.validation's, the same for the edit
form and the import. The operations apply a change, flush, record it in the audit trail
(casework.audit) and return the ``Change``. The caller commits. The import is audited as
one entry with its counts; a file with any bad row imports nothing and writes no entry.

A deregistered association stays in the registry: old cases and statistics point to it,
but it is no longer offered to someone filing a case (casework.registry.lookup).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.accounts.actor import Actor
from casework.audit.operations import Change, record, record_created, record_edit
from casework.text import clean_text
from casework.registry.importer import ImportResult, Source, import_associations
from casework.registry.models import Association, AssociationStatus, Unit
from casework.registry.lookup import match_associations
from casework.registry.validation import AssociationValues

PAGE_SIZE = 50


def association_snapshot(assoc: Association) -> dict[str, Any]:
    """An association as the audit trail shows it: codes of its units, no ids."""
    def code(unit: Unit | None) -> str | None:
        return unit.code if unit is not None else None

    return {
        "credit_code": assoc.credit_code,
        "name": assoc.name,
        "abbreviation": assoc.abbreviation,
        "name_en": assoc.name_en,
        "level": assoc.level.value,
        "region_code": assoc.region_code,
        "status": assoc.status.value,
        "decoupled": assoc.decoupled,
        "registration_authority": code(assoc.registration_authority),
        "main_industry_department": code(assoc.main_industry_department),
        "other_industry_departments": "; ".join(sorted(u.code for u in assoc.other_industry_departments)) or None,
        "supervisory_unit": code(assoc.supervisory_unit),
        "mediation_body": code(assoc.mediation_body),
        "party_work_department": code(assoc.party_work_department),
        "member_count": assoc.member_count,
    }


# --- listing ---------------------------------------------------------------------------------

@dataclass
class Page:
    rows: list[Association]
    page: int
    has_next: bool
    total: int


def list_associations(session: Session, q: str = "", status: str = "", page: int = 1) -> Page:
    """The registry page by page, by name: a search by name, abbreviation, credit code or
    pinyin initials (as the intake type-ahead matches), deregistered ones included unless
    ``status`` says otherwise."""
    query = select(Association)
    where = match_associations(q)
    if where is not None:
        query = query.where(where)
    if status in AssociationStatus._value2member_map_:
        query = query.where(Association.status == AssociationStatus(status))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(1, page)
    rows = list(session.scalars(query.order_by(Association.name, Association.id)
                                .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    return Page(rows[:PAGE_SIZE], page, len(rows) > PAGE_SIZE, total)


def by_credit_code(session: Session, credit_code: str) -> Association | None:
    return session.scalar(select(Association).where(Association.credit_code == clean_text(credit_code).upper()))


# --- editing -----------------------------------------------------------------------------------

def form_values(assoc: Association) -> dict[str, Any]:
    """The edit form filled from the association."""
    snap = association_snapshot(assoc)
    values = {k: ("" if v is None else v) for k, v in snap.items()}
    values["decoupled"] = "1" if assoc.decoupled else ""
    values["member_count"] = "" if assoc.member_count is None else str(assoc.member_count)
    values["other_industry_departments"] = sorted(u.code for u in assoc.other_industry_departments)
    return values


def update_association(session: Session, actor: Actor, assoc: Association, values: AssociationValues) -> Change:
    """Apply values that casework.registry.validation.check_association returned for ``assoc``."""
    return record_edit(session, actor, "association", assoc, assoc.credit_code, association_snapshot,
                       values.apply_to)


def create_association(session: Session, actor: Actor, values: AssociationValues) -> Change:
    """One new association from the values check_association returned for no current one (the
    caller has made sure its credit code is not registered yet)."""
    assoc = Association(credit_code=values.credit_code)
    values.apply_to(assoc)
    return record_created(session, actor, "association", assoc, assoc.credit_code, association_snapshot)


def _set_status(session: Session, actor: Actor, assoc: Association, status: AssociationStatus,
                action: str) -> Change:
    # nothing is recorded when it already had that status
    return record_edit(session, actor, "association", assoc, assoc.credit_code, association_snapshot,
                       lambda a: setattr(a, "status", status), action)


def deregister_association(session: Session, actor: Actor, assoc: Association) -> Change:
    """Status → deregistered (注销): kept for old cases and statistics, no longer offered
    to someone filing a case."""
    return _set_status(session, actor, assoc, AssociationStatus.deregistered, "deregistered")


def reinstate_association(session: Session, actor: Actor, assoc: Association) -> Change:
    """Undo a deregistration made in error."""
    return _set_status(session, actor, assoc, AssociationStatus.active, "reinstated")


# --- import ------------------------------------------------------------------------------------

def import_audited(session: Session, actor: Actor, source: Source, *, filename: str = "",
                   progress: Callable[[int], None] | None = None) -> ImportResult:
    """``import_associations`` plus one audit entry with the counts when the file was good.
    A bad file leaves the session as it was (nothing written, nothing recorded)."""
    result = import_associations(session, source, progress=progress)
    if result.ok:
        record(session, actor, Change("association", "imported", None, None, {
            "file": clean_text(filename)[:100] or None, "created": result.created, "updated": result.updated}))
    return result
