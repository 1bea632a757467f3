"""What an administrator changes in the association registry: edit an association,
deregister (or reinstate) it, and import a CSV file of associations.

As in casework.routing.operations_admin: ``check_association`` validates a form (values or
errors per field, each a ``Message`` the caller translates), the operations apply a change,
flush, record it in the audit trail (casework.audit) and return the ``Change``. The caller
commits. The import is audited as one entry with its counts; a file with any bad row
imports nothing and writes no entry.

A deregistered association stays in the registry: old cases and statistics point to it,
but it is no longer offered to someone filing a case (casework.registry.lookup).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.accounts.actor import Actor
from casework.audit.operations import Change, record
from casework.i18n import Message, N_
from casework.intake.validation import clean_text
from casework.registry.importer import (
    ABBREVIATION_MAX, MEMBER_COUNT_MAX, NAME_EN_MAX, NAME_MAX, NAME_MIN, NATIONAL_REGION, PROVINCE_CODES,
    ImportResult, Source, import_associations,
)
from casework.registry.models import Association, AssociationLevel, AssociationStatus, Unit, UnitKind
from casework.registry.lookup import index_terms, match_associations

Errors = dict[str, list[Message]]
PAGE_SIZE = 50
_REGION = re.compile(r"^[0-9]{6}$")

# form field -> the kind of unit it names
UNIT_FIELDS: dict[str, UnitKind] = {
    "registration_authority": UnitKind.registration_authority,
    "main_industry_department": UnitKind.industry_department,
    "supervisory_unit": UnitKind.supervisory_unit,
    "mediation_body": UnitKind.mediation_body,
    "party_work_department": UnitKind.party_work_department,
}
REQUIRED_UNITS = ("registration_authority", "main_industry_department")


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

@dataclass
class AssociationValues:
    name: str
    abbreviation: str | None
    name_en: str | None
    level: AssociationLevel
    region_code: str
    decoupled: bool
    registration_authority: Unit
    main_industry_department: Unit
    other_industry_departments: list[Unit]
    supervisory_unit: Unit | None
    mediation_body: Unit | None
    party_work_department: Unit | None
    member_count: int | None


def check_region(region_code: str, level: AssociationLevel | None) -> Message | None:
    """The importer's rule for a region code, as a message for a form."""
    if not _REGION.match(region_code):
        return Message(N_("A region code is 6 digits (GB/T 2260), 100000 for a national association."))
    if region_code == NATIONAL_REGION:
        if level is not None and level is not AssociationLevel.national:
            return Message(N_("100000 (national) only fits a national association."))
        return None
    if region_code[:2] not in PROVINCE_CODES:
        return Message(N_("%(code)s is not a GB/T 2260 region code (unknown province)."), {"code": region_code})
    if level is AssociationLevel.provincial and not region_code.endswith("0000"):
        return Message(N_("A provincial association needs a province's code (ending in 0000)."))
    return None


def check_association(session: Session, assoc: Association,
                      raw: Mapping[str, Any]) -> tuple[AssociationValues | None, Errors]:
    """Validate the edit form. ``raw`` maps field names to strings, except
    ``other_industry_departments``: a list of unit codes."""
    errors: Errors = {}

    def err(name: str, msgid: str, **params) -> None:
        errors.setdefault(name, []).append(Message(msgid, params))

    name = clean_text(raw.get("name"))
    if not NAME_MIN <= len(name) <= NAME_MAX:
        err("name", N_("A name of %(min)d to %(max)d characters is required."), min=NAME_MIN, max=NAME_MAX)
    abbreviation = clean_text(raw.get("abbreviation")) or None
    if abbreviation and len(abbreviation) > ABBREVIATION_MAX:
        err("abbreviation", N_("At most %(max)d characters."), max=ABBREVIATION_MAX)
    name_en = clean_text(raw.get("name_en")) or None
    if name_en and len(name_en) > NAME_EN_MAX:
        err("name_en", N_("At most %(max)d characters."), max=NAME_EN_MAX)

    level = AssociationLevel._value2member_map_.get(clean_text(raw.get("level")))
    if level is None:
        err("level", N_("Choose a level."))
    region_code = clean_text(raw.get("region_code"))
    problem = check_region(region_code, level)
    if problem is not None:
        errors.setdefault("region_code", []).append(problem)
    decoupled = clean_text(raw.get("decoupled")) in ("1", "on", "true")

    units = {u.code: u for u in session.scalars(select(Unit))}
    found: dict[str, Unit | None] = {}
    for field_name, kind in UNIT_FIELDS.items():
        code = clean_text(raw.get(field_name))
        unit = units.get(code) if code else None
        found[field_name] = unit
        if not code:
            if field_name in REQUIRED_UNITS:
                err(field_name, N_("Choose a unit."))
        elif unit is None or unit.kind is not kind:
            err(field_name, N_("Choose a unit of the right kind."))
        elif not unit.active and unit is not getattr(assoc, field_name):
            err(field_name, N_("This unit is not in use."))

    others: list[Unit] = []
    for code in raw.get("other_industry_departments") or []:
        unit = units.get(clean_text(code))
        if unit is None or unit.kind is not UnitKind.industry_department:
            err("other_industry_departments", N_("Choose industry departments only."))
            break
        if unit is not found["main_industry_department"] and unit not in others:
            others.append(unit)

    if decoupled and found["supervisory_unit"] is not None:
        err("supervisory_unit", N_("A decoupled association has no business supervisory unit."))
    body = found["mediation_body"]
    if body is not None and body.association_id not in (None, assoc.id):
        err("mediation_body", N_("This mediation body belongs to another association."))

    member_count = None
    raw_count = clean_text(raw.get("member_count")).replace(",", "")
    if raw_count:
        if not re.fullmatch(r"[0-9]{1,9}", raw_count) or int(raw_count) > MEMBER_COUNT_MAX:
            err("member_count", N_("A whole number from 0 to %(max)d, or leave it empty if not known."),
                max=MEMBER_COUNT_MAX)
        else:
            member_count = int(raw_count)

    if errors:
        return None, errors
    assert level is not None
    return AssociationValues(
        name=name, abbreviation=abbreviation, name_en=name_en, level=level, region_code=region_code,
        decoupled=decoupled, registration_authority=found["registration_authority"],  # type: ignore[arg-type]
        main_industry_department=found["main_industry_department"],  # type: ignore[arg-type]
        other_industry_departments=others, supervisory_unit=found["supervisory_unit"],
        mediation_body=body, party_work_department=found["party_work_department"], member_count=member_count,
    ), {}


def form_values(assoc: Association) -> dict[str, Any]:
    """The edit form filled from the association."""
    snap = association_snapshot(assoc)
    values = {k: ("" if v is None else v) for k, v in snap.items()}
    values["decoupled"] = "1" if assoc.decoupled else ""
    values["member_count"] = "" if assoc.member_count is None else str(assoc.member_count)
    values["other_industry_departments"] = sorted(u.code for u in assoc.other_industry_departments)
    return values


def update_association(session: Session, actor: Actor, assoc: Association, values: AssociationValues) -> Change:
    before = association_snapshot(assoc)
    assoc.name, assoc.abbreviation, assoc.name_en = values.name, values.abbreviation, values.name_en
    assoc.level, assoc.region_code, assoc.decoupled = values.level, values.region_code, values.decoupled
    assoc.registration_authority = values.registration_authority
    assoc.main_industry_department = values.main_industry_department
    assoc.other_industry_departments = list(values.other_industry_departments)
    assoc.supervisory_unit = values.supervisory_unit
    assoc.mediation_body = values.mediation_body
    assoc.party_work_department = values.party_work_department
    assoc.member_count = values.member_count
    index_terms(assoc)
    session.flush()
    change = Change("association", "updated", assoc.credit_code, before, association_snapshot(assoc))
    record(session, actor, change)
    return change


def _set_status(session: Session, actor: Actor, assoc: Association, status: AssociationStatus,
                action: str) -> Change:
    before = association_snapshot(assoc)
    assoc.status = status
    session.flush()
    change = Change("association", action, assoc.credit_code, before, association_snapshot(assoc))
    record(session, actor, change)  # nothing when it already had that status
    return change


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
